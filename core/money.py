"""Money as Decimal: rounding per currency (ISO 4217 minor units) and display (Babel)."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

import iso4217
from babel.numbers import format_currency
from sqlalchemy import Numeric
from sqlalchemy.types import TypeDecorator

from core.errors import ValidationError

ZERO = Decimal("0")


class ValueOutOfRange(ValidationError):
    """A decimal beyond what its column stores; raised before anything is written, on every database."""
    code = "value_out_of_range"


class ExactDecimal(TypeDecorator):
    """``NUMERIC(precision, scale)`` whose values are exact on every database, and refused beyond its range.

    PostgreSQL stores and sums NUMERIC exactly. SQLite has no decimal type: SQLAlchemy's Numeric hands it floats,
    which it stores as REAL and sums as floats (and an out-of-range product was stored as 1.2e24, breaking the
    ledger). So on SQLite the value is stored as an integer count of the smallest unit (cents for money: 12.34 is
    1234), which SQLite keeps in 64 bits and sums exactly; the column stays declared NUMERIC(p, s) (its affinity
    keeps integers as integers), so the schema is the same on both. Comparisons, SUM, MIN/MAX, CASE and + / -
    between columns of the same scale work unchanged on the scaled integers; a product or quotient of two such
    columns, or a raw-SQL literal, would be off by the scale: compute those in Python (none is done in SQL).

    Values with more decimals than ``scale`` are rounded half up, as PostgreSQL's NUMERIC rounds them; values
    beyond ``precision`` digits raise ValueOutOfRange on SQLite, and PostgreSQL refuses them itself (both a 422
    naming no field: services check their own amounts first and name the field; this is the guard that nothing
    escapes)."""

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int, scale: int):
        super().__init__(precision, scale, asdecimal=True)
        self.precision, self.scale = precision, scale
        self.limit = Decimal(10) ** (precision - scale) - Decimal(1).scaleb(-scale)  # 18, 2: 9999999999999999.99

    def bind_processor(self, dialect):
        limit, scale = self.limit, self.scale
        if dialect.name == "sqlite":
            most = int(limit.scaleb(scale))  # the limit in the stored unit: compared as ints (a batch binds ~40 a row)

            def scaled(value):
                if value is None:
                    return None
                if type(value) is not Decimal:
                    value = to_decimal(value)
                units = value.scaleb(scale)
                try:
                    stored = int(units)  # exact when the value has no more decimals than the column (the usual case)
                    if stored != units:
                        stored = int(units.to_integral_value(ROUND_HALF_UP))
                except (OverflowError, ValueError):  # Infinity, NaN
                    raise ValueOutOfRange(_too_large(value, limit)) from None
                if -most <= stored <= most:
                    return stored
                raise ValueOutOfRange(_too_large(value, limit))
            return scaled
        # PostgreSQL: NUMERIC(p, s) is exact, rounds to its scale half away from zero (as ROUND_HALF_UP) and refuses
        # what is beyond its precision itself (a DataError: 422 invalid_value), so values go to the driver untouched.
        return super().bind_processor(dialect)

    def result_processor(self, dialect, coltype):
        if dialect.name == "sqlite":
            scale = -self.scale

            def unscaled(value):
                if value is None:
                    return None
                if type(value) is int:
                    return Decimal(value).scaleb(scale)
                # a float only comes from an expression SQLite computed in floating point (AVG, a division)
                return to_decimal(value).scaleb(scale).quantize(Decimal(1).scaleb(scale), rounding=ROUND_HALF_UP)
            return unscaled
        return super().result_processor(dialect, coltype)

    def coerce_compared_value(self, op, value):
        return _ComparedWith(self.precision, self.scale)  # a Python literal compared with the column


class _ComparedWith(ExactDecimal):
    """A literal compared with an ExactDecimal column (``amount > Decimal("0.005")``): scaled like the column on
    SQLite but neither rounded nor range-checked, so the comparison means what it means on PostgreSQL (0.01 is
    more than 0.005; rounded to cents the literal would be 0.01 and it would not be)."""

    cache_ok = True

    def bind_processor(self, dialect):
        if dialect.name != "sqlite":
            return super(ExactDecimal, self).bind_processor(dialect)
        scale = self.scale

        def scaled(value):
            if value is None:
                return None
            value = to_decimal(value).scaleb(scale)
            return int(value) if value == value.to_integral_value() else float(value)
        return scaled


def _too_large(value: Decimal, limit: Decimal) -> str:
    return (f"{value} is beyond what can be stored (at most {limit:,} in absolute value); "
            "nothing was changed.").replace(",", " ")


# Stored money: 18 digits with 2 decimals; amounts are rounded per currency before storing.
MONEY = ExactDecimal(18, 2)
QUANTITY = ExactDecimal(18, 4)
RATE = ExactDecimal(7, 4)
# A quantity times a price, summed in SQL (an estimate over many rows): its result has 4 + 2 decimals.
QUANTITY_TIMES_MONEY = ExactDecimal(36, 6)

# The largest amount of one line, document, payment or credit: a thousand billion less a cent. The columns hold
# 10,000 times more, so that the sums a ledger keeps (a customer's balance, an account's) stay exact in SQLite's
# 64 bits (about 92 billion billion cents) over ~90,000 documents at this limit, and without limit on PostgreSQL.
MAX_AMOUNT = Decimal("999999999999.99")


def check_amount(amount: Decimal, field: str, what: str = "An amount") -> Decimal:
    """``amount`` if it is within MAX_AMOUNT either way, else ValueOutOfRange naming ``field``; called by the
    services on every amount they compute (a line's quantity times its price, a document's total), before
    anything is written."""
    if abs(amount) > MAX_AMOUNT:
        limit = f"{MAX_AMOUNT:,}".replace(",", " ")
        raise ValueOutOfRange(f"{what} of {amount:f} is beyond the largest amount Kontor keeps ({limit}); "
                              "nothing was changed.", fields={field: [f"At most {limit} in absolute value."]})
    return amount


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


def exact_money(amount: Decimal, field: str, currency: str = "EUR") -> Decimal:
    """``amount`` if it has no more decimals than ``currency`` allows (10.005 EUR is refused, never rounded to
    10.01 behind the user's back: a price typed or imported is what will be invoiced), else ValidationError
    naming ``field``. The API's Money field refuses the same; this is the rule for pages, imports and services."""
    if round_money(amount, currency) != amount:
        places = minor_units(currency)
        raise ValidationError(f"{amount} has more decimals than {currency.upper()} allows ({places}).",
                              fields={field: [f"At most {places} decimals."]})
    return round_money(amount, currency)


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
    """The API's and the e-invoices' form: a decimal string with the currency's minor units."""
    return str(round_money(amount if amount is not None else 0, currency))


def format_money(amount, currency: str = "EUR", locale: str = "en_US") -> str:
    """For people: currency symbol and grouping from Babel."""
    if amount is None:
        return ""
    return format_currency(round_money(amount, currency), currency, locale=locale,
                           format_type="standard", currency_digits=False,
                           decimal_quantization=False)
