"""Partner (customer) rules: create, update, search. Views, API and imports call these."""
from __future__ import annotations

from sqlalchemy import or_

from core import audit
from core.errors import NotFound, ValidationError
from core.extensions import db
from core.models import Partner

FIELDS = ("name", "email", "vat_id", "street", "zip", "city", "country")


def _countries() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes in use (Babel's CLDR territories): two letters, without the retired codes CLDR
    maps to others, the groupings (EU, UN, ...), the unknown region ZZ, the pseudo-regions and the codes ISO only
    reserves (Ascension AC, Canaries IC, ...). XK (Kosovo) stays: it is what invoices use."""
    from babel import Locale
    from babel.core import get_global
    retired = get_global("territory_aliases")
    not_countries = {"ZZ", "EU", "EZ", "UN", "QO", "XA", "XB", "AC", "CP", "CQ", "DG", "EA", "IC", "TA"}
    return frozenset(code for code in Locale("en").territories
                     if len(code) == 2 and code.isalpha() and code not in retired and code not in not_countries)


COUNTRIES = _countries()


def country_error(code: str) -> str | None:
    """None for a known country code (upper case), else the message to show."""
    if len(code) != 2 or not code.isalpha():
        return "The country is a two-letter ISO code, such as FR or DE."
    if code not in COUNTRIES:
        return f"{code} is not a country's ISO code; use one such as FR, DE or BE."
    return None


def get_partner(partner_id: int) -> Partner:
    partner = db.session.get(Partner, partner_id)
    if partner is None:
        raise NotFound(f"There is no customer {partner_id}.")
    return partner


def _clean(values: dict) -> dict:
    data = {k: (str(v).strip() if v is not None else "") for k, v in values.items() if k in FIELDS}
    if "name" in data and not data["name"]:
        raise ValidationError("A customer needs a name.", fields={"name": ["Required."]})
    if "country" in data:
        data["country"] = data["country"].upper() or "FR"
        message = country_error(data["country"])
        if message:
            raise ValidationError(message, fields={"country": ["Unknown country code."]})
    return data


def create_partner(**values) -> Partner:
    data = _clean(values)
    if "name" not in data:
        raise ValidationError("A customer needs a name.", fields={"name": ["Required."]})
    partner = Partner(**data)
    db.session.add(partner)
    db.session.flush()
    audit.record(partner, "created")
    return partner


def update_partner(partner: Partner, **values) -> Partner:
    data = _clean(values)
    changed = [k for k, v in data.items() if getattr(partner, k) != v]
    for key in changed:
        setattr(partner, key, data[key])
    db.session.flush()
    if changed:
        audit.record(partner, "changed", ", ".join(changed))
    return partner


def search_partners(query, text: str | None):
    if text:
        like = "%" + text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(Partner.name.ilike(like, "\\"), Partner.email.ilike(like, "\\"),
                                Partner.city.ilike(like, "\\"),
                                Partner.vat_id.ilike(like, "\\")))
    return query


