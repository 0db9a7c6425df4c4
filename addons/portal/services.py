"""The portal's rules: whose documents a customer sees, applying their credit, and the signed invoice links.

A customer user (role ``customer``) is tied to one partner (``User.partner_id``). Every query here is scoped to
that partner: another customer's document is answered as "not found", never "forbidden", so ids reveal nothing.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select, update

from addons.invoicing import services as invoicing
from addons.invoicing.models import Invoice
from core import audit
from core.errors import DomainError, Forbidden, NotFound
from core.extensions import db
from core.models import Partner, utcnow

from .models import PortalLink

LINK_SALT = "kontor.portal.invoice-link"
LINK_DAYS = 30


class LinkRefused(DomainError):
    """A signed link that does not open anything (tampered, expired, revoked): 404 with the reason."""
    status = 404
    code = "link_invalid"


# -- whose documents -----------------------------------------------------------------------------------------------
def portal_partner(user) -> Partner:
    """The customer the user stands for; 403 for a user tied to none (an admin, a misconfigured account)."""
    partner_id = getattr(user, "partner_id", None)
    partner = db.session.get(Partner, partner_id) if partner_id else None
    if partner is None:
        raise Forbidden("The portal is for customer accounts: this login is not tied to a customer. "
                        "Ask an administrator to link it to one.", code="no_customer")
    return partner


def documents_query(partner_id: int, kind: str | None = None, open_only: bool = False):
    """The customer's posted invoices and credit notes (drafts and cancelled ones are not theirs to see yet)."""
    query = select(Invoice).where(Invoice.partner_id == partner_id, Invoice.state == "posted")
    if kind in ("invoice", "credit_note"):
        query = query.where(Invoice.type == kind)
    if open_only:
        query = query.where(Invoice.type == "invoice", Invoice.amount_due > 0)
    return query


def get_document(partner_id: int, invoice_id: int) -> Invoice:
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None or invoice.partner_id != partner_id or invoice.state != "posted":
        raise NotFound(f"You have no invoice or credit note {invoice_id}.")
    return invoice


def apply_credit(partner_id: int, invoice_id: int, amount=None):
    """The customer uses their own credit on one of their open invoices; returns (invoice, applied)."""
    invoice = get_document(partner_id, invoice_id)
    if invoice.type != "invoice":
        raise DomainError("Credit is applied to invoices, not to credit notes.", code="not_an_invoice")
    applied = invoicing.apply_credit_by_hand(invoice, amount if amount not in ("", None) else None)
    audit.record(invoice, "credit_applied_by_customer", str(applied))
    return invoice, applied


def balance(partner_id: int) -> dict:
    return invoicing.partner_balance(partner_id)


# -- signed links ----------------------------------------------------------------------------------------------------
def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=LINK_SALT)


def issue_link(invoice: Invoice, now: datetime | None = None) -> str:
    """A new link to ``invoice`` (one row per link: revocable on its own); returns the token."""
    now = now or utcnow()
    link = PortalLink(invoice_id=invoice.id, nonce=secrets.token_hex(8), created_at=now,
                      expires_at=now + timedelta(days=LINK_DAYS))
    db.session.add(link)
    db.session.flush()
    return _serializer().dumps({"l": link.id, "i": invoice.id, "n": link.nonce})


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


def open_link(token: str, now: datetime | None = None) -> Invoice:
    """The invoice a link opens; LinkRefused saying why it does not (tampered, expired, revoked)."""
    now = now or utcnow()
    try:
        data = _serializer().loads(token, max_age=LINK_DAYS * 86400)
    except SignatureExpired:
        raise LinkRefused("This link has expired. Ask us for a new one, or log in to your portal.",
                          code="link_expired") from None
    except BadSignature:
        raise LinkRefused("This link is not valid. Check that it was copied whole.") from None
    if not isinstance(data, dict) or not isinstance(data.get("l"), int):
        raise LinkRefused("This link is not valid. Check that it was copied whole.")
    link = db.session.get(PortalLink, data["l"])
    if link is None or link.nonce != data.get("n") or link.invoice_id != data.get("i"):
        raise LinkRefused("This link is not valid. Check that it was copied whole.")
    if link.revoked_at is not None:
        raise LinkRefused("This link was withdrawn. Ask us for a new one, or log in to your portal.",
                          code="link_revoked")
    if _aware(link.expires_at) <= now:
        raise LinkRefused("This link has expired. Ask us for a new one, or log in to your portal.",
                          code="link_expired")
    invoice = db.session.get(Invoice, link.invoice_id)
    if invoice is None or invoice.state != "posted":
        raise LinkRefused("This document is no longer available.")
    return invoice


def links_of(invoice_id: int) -> list[PortalLink]:
    return list(db.session.scalars(select(PortalLink).where(PortalLink.invoice_id == invoice_id)
                                   .order_by(PortalLink.id.desc())))


def revoke_links(invoice: Invoice, user, now: datetime | None = None) -> int:
    """Withdraw every active link to ``invoice``; returns how many were active."""
    now = now or utcnow()
    result = db.session.execute(update(PortalLink)
                                .where(PortalLink.invoice_id == invoice.id, PortalLink.revoked_at.is_(None))
                                .values(revoked_at=now, revoked_by=getattr(user, "id", None)))
    count = result.rowcount or 0
    if count:
        audit.record(invoice, "portal_links_revoked", f"{count} link{'s' if count > 1 else ''}")
    db.session.flush()
    db.session.expire_all()
    return count
