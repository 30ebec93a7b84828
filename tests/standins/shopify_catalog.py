"""The stand-in Shopify's products, answered through `nodes(ids:)` (the only product read we make).

`add_product` keeps a product as Shopify would hold it; `nodes` answers null for ids it does not know (as
Shopify does for deleted products) and refuses more than 250 ids (https://shopify.dev/docs/api/usage/limits).
The image URL honours `url(transform: {maxWidth})` the way Shopify's CDN does (a `width` parameter), so a
test sees the transform we asked for. Every call's ids are kept in `asked`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError

MAX_IDS = 250


@dataclass
class CatalogState:
    products: dict[str, dict[str, Any]] = field(default_factory=dict)  # numeric id -> {title, image, url}
    asked: list[list[str]] = field(default_factory=list)

    def add_product(self, product_id: str, title: str, image: str | None, url: str | None = None) -> None:
        self.products[product_id] = {"title": title, "image": image, "url": url}


def _image_url(src: str):
    def resolve(info: Any, transform: dict[str, Any] | None = None) -> str:
        width = (transform or {}).get("maxWidth")
        return f"{src}?width={width}" if width else src

    return resolve


def _node(product_id: str, held: dict[str, Any]) -> dict[str, Any]:
    media = None
    if held["image"]:
        media = {"__typename": "MediaImage", "preview": {"image": {"url": _image_url(held["image"])}}}
    return {
        "__typename": "Product",
        "id": f"gid://shopify/Product/{product_id}",
        "title": held["title"],
        "onlineStoreUrl": held["url"],
        "featuredMedia": media,
    }


def catalog_roots(state: CatalogState) -> dict[str, Any]:
    def nodes(info: Any, ids: list[str]) -> list[dict[str, Any] | None]:
        if len(ids) > MAX_IDS:
            raise GraphQLError(
                f"The input array size of {len(ids)} is greater than the maximum allowed of {MAX_IDS}.",
                extensions={"code": "MAX_INPUT_SIZE_EXCEEDED"},
            )
        state.asked.append(list(ids))
        answer: list[dict[str, Any] | None] = []
        for value in ids:
            kind, _, number = value.removeprefix("gid://shopify/").partition("/")
            held = state.products.get(number) if kind == "Product" else None
            answer.append(_node(number, held) if held else None)
        return answer

    return {"nodes": nodes}
