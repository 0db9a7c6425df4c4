"""Money as Decimal: rounding per currency (ISO 4217 minor units) and display (Babel)."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

import iso4217
from babel.numbers import format_currency
from sqlalchemy import Numeric

# Stored money: 18 digits, 2 decimals covers the currencies we invoice in; amounts are rounded before storing.
MONEY = Numeric(18, 2, asdecimal=True)
QUANTITY = Numeric(18, 4, asdecimal=True)
RATE = Numeric(7, 4, asdecimal=True)
ZERO = Decimal("0")


@lru_cache(maxsize=64)
def minor_units(currency: str) -> int:
    """Decimal places of ``currency`` per ISO 4217 (Babel's CLDR data differs for some)."""
    try:
        exponent = iso4217.Currency(currency.upper()).exponent
    except (ValueError, KeyError):
        return 2
    return 2 if exponent is None else int(exponent)


@lru_cache(maxsize=64)
def _quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def round_money(amount, currency: str = "EUR") -> Decimal:
    """Round half up to the currency's minor unit."""
    return to_decimal(amount).quantize(_quantum(currency), rounding=ROUND_HALF_UP)


def to_decimal(value) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):  # never trust a float's binary value; go through its shortest repr
        value = repr(value)
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"{value!r} is not a number") from exc


def money_str(amount, currency: str = "EUR") -> str:
    """The API's form: a decimal string with the currency's minor units."""
    return str(round_money(amount if amount is not None else 0, currency))


def format_money(amount, currency: str = "EUR", locale: str = "en_US") -> str:
    """For people: currency symbol and grouping from Babel."""
    if amount is None:
        return ""
    return format_currency(round_money(amount, currency), currency, locale=locale,
                           format_type="standard", currency_digits=False,
                           decimal_quantization=False)
