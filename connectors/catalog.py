"""Product details for messages (title, image, storefront link), fetched in batches by product id.

Neither order webhook carries product images, so the review request job asks the store for the products of
an order. Both platforms answer a batch of ids in one call; ids the store does not know are simply absent
from the answer (deleted products), which the caller records as "not found" rather than asking again.

- Shopify: `nodes(ids: [...])` with `... on Product`, at most 250 ids per call (every input array is capped at
  250: https://shopify.dev/docs/api/usage/limits#input-limits); the image is the featured media's preview
  image, resized by Shopify's CDN (`url(transform: {maxWidth: 600})`):
  https://shopify.dev/docs/api/admin-graphql/2026-10/queries/nodes,
  https://shopify.dev/docs/api/admin-graphql/2026-10/objects/Product#field-Product.fields.featuredMedia,
  https://shopify.dev/docs/api/admin-graphql/2026-10/objects/Image#field-Image.fields.url.
  `onlineStoreUrl` is null for a product not published on the online store. Needs the read_products scope.
- WooCommerce: `GET /products?include=1,2,3&per_page=100` (images[0] is the featured image; `permalink`):
  https://woocommerce.github.io/woocommerce-rest-api-docs/#list-all-products (include, per_page max 100),
  https://woocommerce.github.io/woocommerce-rest-api-docs/#product-properties.
Only https images are kept: a mail client blocks or warns about plain-http images in an https world, and an
image URL is shown to customers, so anything else (javascript:, data:) is dropped here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from .shopify_graphql import gid, gid_id

SHOPIFY_BATCH = 250
WOO_BATCH = 100
PRODUCTS_QUERY = """
query ProductsForMessages($ids: [ID!]!) {
  nodes(ids: $ids) {
    __typename
    ... on Product {
      id
      title
      onlineStoreUrl
      featuredMedia { preview { image { url(transform: {maxWidth: 600}) } } }
    }
  }
}
"""


@dataclass(frozen=True)
class ProductInfo:
    product_id: str  # the platform's numeric id, as order line items carry it
    title: str | None
    image_url: str | None  # https only
    url: str | None  # http(s) only


class GraphQLExecutor(Protocol):
    def execute(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]: ...


def https_url(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) > 2048:
        return None
    parts = urlsplit(value.strip())
    return value.strip() if parts.scheme == "https" and parts.netloc else None


def web_url(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) > 2048:
        return None
    parts = urlsplit(value.strip())
    return value.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def chunks(ids: Iterable[str], size: int) -> Iterator[list[str]]:
    unique = list(dict.fromkeys(i for i in ids if i and i.isdigit()))
    for start in range(0, len(unique), size):
        yield unique[start : start + size]


def shopify_products(client: GraphQLExecutor, product_ids: Iterable[str]) -> dict[str, ProductInfo]:
    """Products by numeric id; ids Shopify does not know are absent. Raises the client's ConnectorErrors."""
    found: dict[str, ProductInfo] = {}
    for batch in chunks(product_ids, SHOPIFY_BATCH):
        data = client.execute(PRODUCTS_QUERY, {"ids": [gid("Product", i) for i in batch]})
        for node in data.get("nodes") or []:
            if not isinstance(node, dict) or node.get("__typename") != "Product":
                continue  # null: deleted, or not a product
            product_id = gid_id(str(node.get("id", "")))
            image = (((node.get("featuredMedia") or {}).get("preview") or {}).get("image") or {}).get("url")
            found[product_id] = ProductInfo(
                product_id, _title(node.get("title")), https_url(image), web_url(node.get("onlineStoreUrl"))
            )
    return found


def woo_product_info(item: dict[str, Any]) -> ProductInfo:
    images = item.get("images") or []
    first = images[0] if images and isinstance(images[0], dict) else {}
    return ProductInfo(
        str(item["id"]), _title(item.get("name")), https_url(first.get("src")), web_url(item.get("permalink"))
    )


def _title(value: Any) -> str | None:
    return value.strip()[:512] or None if isinstance(value, str) else None
