"""A card's sentences in the customer's language, from the project's catalogues (extracted by scripts/i18n: the
gettext calls below are what babel.cfg's python section finds)."""

from __future__ import annotations

from dataclasses import dataclass

from app.inserts.cards import Card
from app.messaging.api import translations


@dataclass(frozen=True)
class Wording:
    greeting: str
    hope: str
    scan: str
    share: str | None


def wording(card: Card) -> Wording:
    t = translations(card.locale)
    if card.first_name:
        greeting = t.gettext("Thank you, %(name)s!") % {"name": card.first_name}
    else:
        greeting = t.gettext("Thank you!")
    hope = t.gettext("We hope you love your order %(order)s from %(store)s.") % {
        "order": card.order_name,
        "store": card.store_name,
    }
    scan = t.gettext("Scan to tell us how it went")
    share = t.gettext("Give a friend a welcome discount: share your link") if card.referral_code else None
    return Wording(greeting=greeting, hope=hope, scan=scan, share=share)
