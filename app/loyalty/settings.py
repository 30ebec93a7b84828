"""Per-store loyalty programme settings, kept in Store.settings["loyalty"] and validated on every write: stored as
plain JSON (decimals as strings, never floats), read back as frozen dataclasses. Unknown keys are rejected so a
typo in a patch fails loudly instead of silently doing nothing."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session

from app.errors import Refused
from app.platform.settings import memoized
from app.platform.settings import merge as _merge
from app.stores.cache import StoreRef
from app.stores.models import Store

ACTIONS = ("signup", "review", "birthday")
REWARD_TYPES = ("fixed_amount", "percentage", "free_shipping")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")  # a shopper language as Shopify names it: "pl", "pt-BR"
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
MAX_PENDING_TEXT = 200
#: The storefront's `?locale=` for pending_wording (OpenAPI parameter; a value not of this shape reads as none).
LOCALE_QUERY = {"name": "locale", "in": "query", "required": False,
                "schema": {"type": "string", "pattern": _LANGUAGE.pattern}}  # fmt: skip

DEFAULTS: dict[str, Any] = {
    "enabled": True,
    # points per one unit of the order's currency; "default" for currencies not listed
    "points_per_unit": {"default": "1"},
    "basis": "subtotal",  # subtotal after discounts, without shipping and tax (OrderSnapshot.subtotal), or "total"
    "rounding": "floor",
    "return_window_days": 14,
    "fulfilled_fallback_days": 30,
    "actions": {"signup": 50, "review": 25, "birthday": 100},
    "expiry": {"inactive_months": 12, "reminder_days": 14},
    "rewards": [],
    "tiers": [],
    "code_expiry_days": 90,  # a redeemed discount code expires this many days after redemption (0 = never)
    # The store's own words for points waiting out the return window, per shopper language ({"pl": "..."}),
    # shown by the Shopify Thank-you and Order status blocks; "{days}" is replaced with return_window_days. A
    # language without one (or null, to remove it) shows the extension's translated default.
    "pending_text": {},
}


class SettingsError(Refused, ValueError):
    code = "invalid"  # the admin API's code for it since the first release

    def __init__(self, message: str, field: str) -> None:
        super().__init__(f"{field}: {message}", field=field)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Reward:
    id: str
    type: str
    points: int
    value: Decimal | None
    currency: str | None


@dataclass(frozen=True)
class Tier:
    name: str
    threshold: Decimal
    basis: str
    window: str
    multiplier: Decimal
    reward_points: int = 0  # bonus points once on reaching the tier (loyalty/tiers.py)


@dataclass(frozen=True)
class LoyaltySettings:
    enabled: bool
    points_per_unit: dict[str, Decimal]
    basis: str
    rounding: str
    return_window_days: int
    fulfilled_fallback_days: int
    actions: dict[str, int]
    inactive_months: int
    reminder_days: int
    rewards: tuple[Reward, ...] = ()
    tiers: tuple[Tier, ...] = ()
    code_expiry_days: int = 90
    pending_text: dict[str, str] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def rate(self, currency: str) -> Decimal:
        return self.points_per_unit.get(currency, self.points_per_unit["default"])

    def tier_multiplier(self, tier: str | None) -> Decimal:
        return next((t.multiplier for t in self.tiers if t.name == tier), Decimal("1"))

    def reward(self, reward_id: str) -> Reward | None:
        return next((r for r in self.rewards if r.id == reward_id), None)

    def pending_wording(self, language: str | None) -> str | None:
        """The store's words for pending points in the shopper's language ("pt-BR", else "pt"), the return window
        filled in; None when the store wrote none for it (the caller shows its translated default)."""
        if not language or not _LANGUAGE.match(language):
            return None
        text = self.pending_text.get(language) or self.pending_text.get(language.split("-")[0].lower())
        return text.replace("{days}", str(self.return_window_days)) if text else None


def _keys(raw: Any, allowed: tuple[str, ...] | set[str], where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise SettingsError("must be an object", where)
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        raise SettingsError(f"unknown key(s) {', '.join(unknown)}", where)
    return raw


def _int(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SettingsError("must be an integer", where)
    if not low <= value <= high:
        raise SettingsError(f"must be between {low} and {high}", where)
    return value


def _decimal(value: Any, where: str, low: Decimal, high: Decimal, *, positive: bool = False) -> Decimal:
    if isinstance(value, float):
        raise SettingsError('give decimals as strings (e.g. "0.01"), never floats', where)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise SettingsError("must be a decimal string", where)
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise SettingsError("not a decimal number", where) from None
    if not number.is_finite() or not low <= number <= high or (positive and number <= 0):
        raise SettingsError(f"must be {'above' if positive else 'at least'} {low} and at most {high}", where)
    return number


def _choice(value: Any, where: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise SettingsError(f"must be one of {', '.join(choices)}", where)
    return value


def _reward(raw: Any, where: str) -> Reward:
    item = _keys(raw, ("id", "type", "points", "value", "currency"), where)
    if not isinstance(item.get("id"), str) or not item["id"].strip() or len(item["id"]) > 64:
        raise SettingsError("must be a non-empty string of at most 64 characters", f"{where}.id")
    kind = _choice(item.get("type"), f"{where}.type", REWARD_TYPES)
    points = _int(item.get("points"), f"{where}.points", 1, 10_000_000)
    value = None
    if kind != "free_shipping" or "value" in item:
        high = Decimal("100") if kind == "percentage" else Decimal("1000000")
        value = _decimal(item.get("value"), f"{where}.value", Decimal("0"), high, positive=kind != "free_shipping")
    currency = item.get("currency")
    if kind == "fixed_amount":
        if not isinstance(currency, str) or not _CURRENCY.match(currency):
            raise SettingsError("a fixed_amount reward needs a currency code like EUR", f"{where}.currency")
    elif currency is not None:
        raise SettingsError("only fixed_amount rewards have a currency", f"{where}.currency")
    return Reward(item["id"], kind, points, value, currency)


def _tier(raw: Any, where: str) -> Tier:
    item = _keys(raw, ("name", "threshold", "basis", "window", "multiplier", "reward_points"), where)
    if not isinstance(item.get("name"), str) or not item["name"].strip() or len(item["name"]) > 64:
        raise SettingsError("must be a non-empty string of at most 64 characters", f"{where}.name")
    return Tier(
        name=item["name"],
        threshold=_decimal(item.get("threshold"), f"{where}.threshold", Decimal("0"), Decimal("1000000000")),
        basis=_choice(item.get("basis"), f"{where}.basis", ("points_earned", "amount_spent")),
        window=_choice(item.get("window"), f"{where}.window", ("lifetime", "rolling_12m")),
        multiplier=_decimal(item.get("multiplier"), f"{where}.multiplier", Decimal("0"), Decimal("10"), positive=True),
        reward_points=_int(item.get("reward_points", 0), f"{where}.reward_points", 0, 1_000_000),
    )


def _pending_text(raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise SettingsError("must be an object", "pending_text")
    cleaned: dict[str, str] = {}
    for language, text in raw.items():
        where = f"pending_text.{language}"
        if not isinstance(language, str) or not _LANGUAGE.match(language):
            raise SettingsError('keys are shopper languages like "en", "pl" or "pt-BR"', "pending_text")
        if text is None or (isinstance(text, str) and not text.strip()):
            continue  # removed: the extension's translated default
        if not isinstance(text, str) or len(text) > MAX_PENDING_TEXT:
            raise SettingsError(f"must be text of at most {MAX_PENDING_TEXT} characters", where)
        if any(ord(c) < 32 for c in text) or any(m != "{days}" for m in _PLACEHOLDER.findall(text)):
            raise SettingsError("plain text on one line; the only placeholder is {days}", where)
        cleaned[language] = text.strip()
    return cleaned


def _merged(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """The patch merged in; a rate of null is removed, not kept (a currency's orders earn at "default" again)."""
    merged = _merge(current, patch)
    if isinstance(merged.get("points_per_unit"), dict):
        merged["points_per_unit"] = {cur: rate for cur, rate in merged["points_per_unit"].items() if rate is not None}
    return merged


def validate_settings(raw: dict[str, Any]) -> LoyaltySettings:
    """Check a complete settings object (defaults filled in) and return it typed; SettingsError names the field."""
    data = _keys(raw, tuple(DEFAULTS), "loyalty")
    data = _merge(copy.deepcopy(DEFAULTS), data)
    if not isinstance(data["enabled"], bool):
        raise SettingsError("must be true or false", "enabled")
    rates = data["points_per_unit"]
    if not isinstance(rates, dict):
        raise SettingsError("must be an object", "points_per_unit")
    bad = sorted(str(k) for k in rates if k != "default" and not _CURRENCY.match(str(k)))
    if bad:
        raise SettingsError(f'keys are "default" or currency codes like EUR, not {", ".join(bad)}', "points_per_unit")
    if "default" not in rates:
        raise SettingsError('needs a "default" rate', "points_per_unit")
    parsed_rates = {
        cur: _decimal(v, f"points_per_unit.{cur}", Decimal("0"), Decimal("1000")) for cur, v in rates.items()
    }
    actions = _keys(data["actions"], ACTIONS, "actions")
    expiry = _keys(data["expiry"], ("inactive_months", "reminder_days"), "expiry")
    for name in ("rewards", "tiers"):
        if not isinstance(data[name], list):
            raise SettingsError("must be a list", name)
    rewards = tuple(_reward(r, f"rewards[{i}]") for i, r in enumerate(data["rewards"]))
    if len({r.id for r in rewards}) != len(rewards):
        raise SettingsError("reward ids must be unique", "rewards")
    tiers = tuple(_tier(t, f"tiers[{i}]") for i, t in enumerate(data["tiers"]))
    if len({t.name for t in tiers}) != len(tiers):
        raise SettingsError("tier names must be unique", "tiers")
    return LoyaltySettings(
        enabled=data["enabled"],
        points_per_unit=parsed_rates,
        basis=_choice(data["basis"], "basis", ("subtotal", "total")),
        rounding=_choice(data["rounding"], "rounding", ("floor", "half_up")),
        return_window_days=_int(data["return_window_days"], "return_window_days", 0, 365),
        fulfilled_fallback_days=_int(data["fulfilled_fallback_days"], "fulfilled_fallback_days", 0, 365),
        actions={a: _int(actions.get(a, DEFAULTS["actions"][a]), f"actions.{a}", 0, 1_000_000) for a in ACTIONS},
        inactive_months=_int(expiry.get("inactive_months", 12), "expiry.inactive_months", 0, 120),
        reminder_days=_int(expiry.get("reminder_days", 14), "expiry.reminder_days", 0, 365),
        rewards=rewards,
        tiers=tiers,
        code_expiry_days=_int(data["code_expiry_days"], "code_expiry_days", 0, 3650),
        pending_text=_pending_text(data["pending_text"]),
        raw=data,
    )


_validated = memoized(validate_settings)


#: Called by update_settings after a change is saved (not committed): (session, store, before or None when the
#: stored settings were invalid, after). loyalty/tier_sweep registers the sweep of stored tiers (init_app).
CHANGE_HOOKS: list[Callable[[Session, Store, LoyaltySettings | None, LoyaltySettings], None]] = []


def get_settings(store: Store) -> LoyaltySettings:
    return _validated((store.settings or {}).get("loyalty", {}))


def check_update(store: Store, patch: dict[str, Any]) -> LoyaltySettings:
    """What update_settings would save, validated, with nothing written (the dashboard's preview)."""
    if not isinstance(patch, dict):
        raise SettingsError("must be an object", "loyalty")
    return validate_settings(_merged((store.settings or {}).get("loyalty", {}), patch))


def update_settings(session: Session, store: Store, patch: dict[str, Any]) -> LoyaltySettings:
    """Merge the patch into the stored settings, validate the result, save it (the caller commits)."""
    current = (store.settings or {}).get("loyalty", {})
    settings = check_update(store, patch)
    try:
        before: LoyaltySettings | None = validate_settings(current)
    except SettingsError:  # stored before a rule existed: sweep whatever changed
        before = None
    # A new dict, so the JSON column sees the change.
    store.settings = {**(store.settings or {}), "loyalty": _merged(current, patch)}
    session.flush()
    for hook in CHANGE_HOOKS:
        hook(session, store, before, settings)
    return settings


def as_json(settings: LoyaltySettings) -> dict[str, Any]:
    """The effective settings (defaults included), as stored: decimals as strings."""
    return copy.deepcopy(settings.raw)


def snapshot_settings(ref: StoreRef) -> LoyaltySettings:
    """The loyalty settings of a storefront request's store snapshot, validated once per snapshot."""
    return ref.memo("loyalty.settings", lambda: validate_settings(ref.settings.get("loyalty", {})))
