"""The company that issues the documents (the seller): read and change it, and what an e-invoice still lacks.

The settings page and ``GET/PATCH /api/v1/company`` both go through ``update_company``, so both refuse the same
values with the same words.
"""
from __future__ import annotations

import re

from core import audit
from core.errors import DomainError, ValidationError
from core.extensions import db
from core.models import Company, company

# The seller's identity as docs/api.md lists it; the settings page adds the invoicing settings below.
IDENTITY = ("name", "email", "vat_id", "siren", "street", "zip", "city", "country", "currency", "iban")
SETTINGS = ("payment_terms_days", "document_date_window_days", "auto_apply_credit")



def get_company() -> Company:
    return company()


def _clean(values: dict) -> dict:
    from core.partners import country_error
    data: dict = {}
    errors: dict[str, list[str]] = {}
    for key, value in values.items():
        if key in SETTINGS:
            data[key] = value
        elif key in IDENTITY:
            data[key] = "" if value is None else str(value).strip()
    if "name" in data and not data["name"]:
        errors["name"] = ["The company needs a name: it is the seller on every document."]
    if data.get("email") and "@" not in data["email"]:
        errors["email"] = ["Not a valid email address."]
    if "country" in data:
        data["country"] = data["country"].upper()
        message = country_error(data["country"])
        if message:
            errors["country"] = [message]
    if "currency" in data:
        data["currency"] = data["currency"].upper()
        if not _known_currency(data["currency"]):
            errors["currency"] = ["The currency is a three-letter ISO 4217 code, such as EUR or CHF."]
    if "vat_id" in data:
        data["vat_id"] = re.sub(r"[\s.\-]", "", data["vat_id"]).upper()
        if data["vat_id"] and not re.fullmatch(r"[A-Z]{2}[0-9A-Z+*]{2,13}", data["vat_id"]):
            errors["vat_id"] = ["A VAT ID starts with its country's two letters, such as FR40303265045."]
    if "siren" in data:
        data["siren"] = re.sub(r"\s", "", data["siren"])
        if data["siren"] and not re.fullmatch(r"\d{9}", data["siren"]):
            errors["siren"] = ["A SIREN is 9 digits, such as 303 265 045."]
    if "iban" in data:
        data["iban"] = re.sub(r"\s", "", data["iban"]).upper()
        if data["iban"] and not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}", data["iban"]):
            errors["iban"] = ["An IBAN starts with two letters and two digits, such as FR76 3000 6000 0112..."]
    if errors:
        raise ValidationError("Some company settings are not valid: " + ", ".join(errors) + ".", fields=errors)
    return data


def _known_currency(code: str) -> bool:
    import iso4217
    try:
        iso4217.Currency(code)
    except (ValueError, KeyError):
        return False
    return len(code) == 3


def posted_documents() -> int:
    """How many documents the installed addons have posted (invoices, credit notes, journal entries)."""
    from flask import current_app
    kernel = current_app.extensions["kontor"]
    return sum(int(n or 0) for n in kernel.hook.kontor_posted_documents())


def update_company(**values) -> Company:
    """Change the company's identity and settings; one transaction with the caller's commit.

    The currency is the one every posted amount is in: once a document is posted it cannot change (409)."""
    row = company()
    data = _clean(values)
    if "currency" in data and data["currency"] != row.currency and posted_documents():
        raise DomainError(f"The currency cannot change from {row.currency} to {data['currency']}: documents "
                          "are already posted in it.", code="currency_locked",
                          fields={"currency": [f"Documents are posted in {row.currency}."]})
    changed = [key for key, value in data.items() if getattr(row, key) != value]
    for key in changed:
        setattr(row, key, data[key])
    if changed:
        db.session.flush()
        audit.record(row, "updated", ", ".join(sorted(changed)))
    return row


def missing_seller_identifiers(row: Company | None = None) -> dict[str, list[str]]:
    """The seller identifiers an EN 16931 e-invoice needs and the company lacks, by field, with the reason.

    - VAT ID: every VAT category Kontor uses (S standard, Z zero rated) needs the seller's VAT identifier
      (BR-S-02, BR-Z-02).
    - SIREN, for a French company: its legal registration identifier (BT-30, scheme 0002), which French law wants
      on every invoice; without it and a VAT ID the seller is not identified at all (BR-CO-26)."""
    row = row or company()
    missing: dict[str, list[str]] = {}
    if not (row.vat_id or "").strip():
        missing["vat_id"] = ["The company's VAT ID is required on an e-invoice (EN 16931 BR-S-02)."]
    if (row.country or "FR").upper() == "FR" and not (row.siren or "").strip():
        missing["siren"] = ["The company's SIREN is required on a French e-invoice (EN 16931 BT-30, BR-CO-26)."]
    return missing


FIELD_LABELS = {"vat_id": "VAT ID", "siren": "SIREN"}


def require_seller_identifiers() -> None:
    """Refuse (409 ``seller_identifiers_missing``) what EN 16931 would reject for want of a seller identifier."""
    missing = missing_seller_identifiers()
    if missing:
        names = " and ".join(FIELD_LABELS[k] for k in missing)
        raise DomainError(f"This e-invoice cannot be made: the company's {names} "
                          f"{'is' if len(missing) == 1 else 'are'} missing, and EN 16931 rejects an invoice "
                          f"without {'it' if len(missing) == 1 else 'them'}. Set "
                          f"{'it' if len(missing) == 1 else 'them'} in Settings.",
                          code="seller_identifiers_missing", fields=missing)
