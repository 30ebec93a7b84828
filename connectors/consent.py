"""Per-channel consent as the platforms send it.

Shopify: a customer's `email_marketing_consent` and `sms_marketing_consent` are {state, opt_in_level,
consent_updated_at[, consent_collected_from]}, state one of subscribed, not_subscribed, unsubscribed, pending,
redacted (https://shopify.dev/docs/api/admin-rest/latest/resources/customer, CustomerSmsMarketingState). Only
"subscribed" is a yes and only "unsubscribed" a no; not_subscribed (never asked), pending (double opt-in not
confirmed) and redacted say nothing. That is marketing consent; transactional SMS (delivery updates) rests on the
phone the shopper gave with the order.
WooCommerce has no consent fields of its own: a store collects opt-ins with a checkout field plugin, which saves
them as order (and customer) meta. We read these keys (a value "yes", "1", "true", "on" is a yes; "no", "0",
"false", "off" a no): `_ppe_sms_opt_in` (transactional SMS), `_ppe_sms_marketing_opt_in`, `_ppe_whatsapp_opt_in`,
`_ppe_whatsapp_marketing_opt_in`, `_ppe_preferred_channel` (email | sms | whatsapp). docs/messaging.md says how a
merchant names the plugin's field so it saves under these keys.
"""

from __future__ import annotations

from typing import Any

_YES = {"yes", "1", "true", "on", "subscribed"}
_NO = {"no", "0", "false", "off", "unsubscribed"}
WOO_META = {
    "_ppe_sms_opt_in": "sms_consent",
    "_ppe_sms_marketing_opt_in": "sms_marketing_consent",
    "_ppe_whatsapp_opt_in": "whatsapp_consent",
    "_ppe_whatsapp_marketing_opt_in": "whatsapp_marketing_consent",
}
CHANNELS = ("email", "sms", "whatsapp")


def marketing_state(state: Any) -> bool | None:
    if not isinstance(state, str):
        return None
    value = state.strip().lower()
    return True if value == "subscribed" else False if value == "unsubscribed" else None


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if isinstance(value, (str, int)) else ""
    return True if text in _YES else False if text in _NO else None


def woo_opt_ins(meta_data: Any) -> dict[str, Any]:
    """The CustomerSnapshot consent fields found in a WooCommerce meta_data list [{id, key, value}]."""
    found: dict[str, Any] = {}
    for item in meta_data if isinstance(meta_data, list) else []:
        if not isinstance(item, dict):
            continue
        key, value = item.get("key"), item.get("value")
        if key in WOO_META and (flag := _flag(value)) is not None:
            found[WOO_META[key]] = flag
        elif key == "_ppe_preferred_channel" and isinstance(value, str) and value.strip().lower() in CHANNELS:
            found["preferred_channel"] = value.strip().lower()
    return found
