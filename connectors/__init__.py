"""Platform connectors behind one interface (see base.Connector).

A registry in the style of social-core's backends: `get_connector(name)`
returns the singleton for a platform or raises UnknownPlatform.
"""

from __future__ import annotations

from .base import Connector, WebhookMeta
from .exceptions import UnknownPlatform
from .shopify import ShopifyConnector
from .woocommerce import WooCommerceConnector

_REGISTRY: dict[str, Connector] = {}


def register(connector: Connector) -> None:
    _REGISTRY[connector.platform] = connector


def get_connector(platform: str) -> Connector:
    try:
        return _REGISTRY[platform]
    except KeyError:
        raise UnknownPlatform(platform) from None


def platforms() -> list[str]:
    return sorted(_REGISTRY)


register(ShopifyConnector())
register(WooCommerceConnector())

__all__ = ["Connector", "WebhookMeta", "get_connector", "platforms", "register"]
