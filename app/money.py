"""Formatting Decimal amounts in their currency's minor unit (ISO 4217 exponent)."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

# Currencies whose minor unit is not 2 digits (ISO 4217); everything else uses 2.
_EXPONENTS = {
    **dict.fromkeys(
        (
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}


def exponent(currency: str | None) -> int:
    return _EXPONENTS.get((currency or "").upper(), 2)


def format_money(amount: Decimal, currency: str | None) -> str:
    """ "388.00" for USD, "1200" for JPY, "1.250" for KWD: exact, never via float."""
    quantum = Decimal(1).scaleb(-exponent(currency))
    return str(amount.quantize(quantum, rounding=ROUND_HALF_EVEN))
