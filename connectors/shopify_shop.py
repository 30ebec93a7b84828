"""A Shopify shop's details from the Admin GraphQL `shop` object
(https://shopify.dev/docs/api/admin-graphql/latest/objects/Shop): `name`, `currencyCode` (ISO 4217),
`ianaTimezone`, `contactEmail` (the public address customers use to reach the shop: where shoppers' messages go)
and `email` (the owner's address, Shopify's own channel to the merchant), used when there is no contact address.
"""

from __future__ import annotations

from .shopify_admin import AdminClient
from .store_details import StoreDetails, clean_currency, clean_email, clean_name, clean_timezone

SHOP_DETAILS = "query StoreDetails { shop { name currencyCode ianaTimezone email contactEmail } }"


def shop_details(client: AdminClient) -> StoreDetails:
    shop = client.execute(SHOP_DETAILS).get("shop") or {}
    return StoreDetails(
        name=clean_name(shop.get("name")),
        currency=clean_currency(shop.get("currencyCode")),
        timezone=clean_timezone(shop.get("ianaTimezone")),
        contact_email=clean_email(shop.get("contactEmail")) or clean_email(shop.get("email")),
    )
