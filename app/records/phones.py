"""Phone numbers as E.164 strings ("+" and 8 to 15 digits, no leading zero: ITU-T E.164, the form Twilio and the
WhatsApp Cloud API take: https://www.twilio.com/docs/glossary/what-e164).

Platforms send what the shopper typed ("601 234 567", "+48 601-234-567", "0048601234567"). A number with its
country code ("+..." or the international prefix "00...") is kept as those digits. A national number is turned
into E.164 only when we know the country (the order's address) and its calling code is in CALLING_CODES (the
countries we ship catalogues for and their neighbours); its trunk prefix "0" is dropped (ITU-T E.164 national
significant number; Hungary's is "06", Kazakhstan's "8"). Anything else is None: we never guess a country,
since a wrong guess texts a stranger.
"""

from __future__ import annotations

import re

_E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
_SEPARATORS = re.compile(r"[\s().\-/]")
#: ISO 3166-1 alpha-2 -> country calling code (ITU-T E.164 assignments).
CALLING_CODES = {
    "US": "1",
    "CA": "1",
    "GB": "44",
    "IE": "353",
    "DE": "49",
    "AT": "43",
    "CH": "41",
    "FR": "33",
    "NL": "31",
    "BE": "32",
    "PL": "48",
    "CZ": "420",
    "SK": "421",
    "HU": "36",
    "RO": "40",
    "LT": "370",
    "LV": "371",
    "EE": "372",
    "FI": "358",
    "SE": "46",
    "NO": "47",
    "DK": "45",
    "UA": "380",
    "KZ": "7",
    "RU": "7",
    "TH": "66",
    "ES": "34",
    "PT": "351",
    "AU": "61",
    "NZ": "64",
}
#: National trunk prefixes other than "0" (ITU-T Operational Bulletin list of national numbering plans).
TRUNK_PREFIXES = {"HU": "06", "KZ": "8", "RU": "8"}


def is_e164(value: str | None) -> bool:
    return bool(value) and bool(_E164.match(value or ""))


def to_e164(raw: str | None, country: str | None = None) -> str | None:
    """The number as E.164, or None when it is not one we can be sure of."""
    if not raw or not isinstance(raw, str) or len(raw) > 40:
        return None
    number = _SEPARATORS.sub("", raw.strip())
    if number.startswith("00"):
        number = "+" + number[2:]
    if number.startswith("+"):
        return number if _E164.match(number) else None
    if not number.isdigit():
        return None
    code = CALLING_CODES.get((country or "").upper())
    if code is None:
        return None
    if code in ("1",):  # NANP numbers have no trunk 0; "1" before the ten digits is the country code itself
        number = number[1:] if len(number) == 11 and number.startswith("1") else number
    else:
        trunk = TRUNK_PREFIXES.get(country.upper() if country else "", "0")
        number = number.removeprefix(trunk)
    candidate = f"+{code}{number}"
    return candidate if _E164.match(candidate) else None
