"""The kernel's tables: company, partners, users and tokens, addon state, sequences, audit, idempotency."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

from flask_login import UserMixin
from sqlalchemy import (Boolean, Date, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import Base
from core.money import MONEY  # noqa: F401  (re-exported: addons write `from core.models import MONEY`)

ROLES = ("admin", "back_office", "bookkeeper", "technician")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Company(Base):
    """The one company that issues the documents (id 1), with its settings."""
    __tablename__ = "core_company"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(200), default="")
    vat_id: Mapped[str] = mapped_column(String(40), default="")
    siren: Mapped[str] = mapped_column(String(20), default="")
    street: Mapped[str] = mapped_column(String(200), default="")
    zip: Mapped[str] = mapped_column(String(20), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    country: Mapped[str] = mapped_column(String(2), default="FR")
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    iban: Mapped[str] = mapped_column(String(40), default="")
    payment_terms_days: Mapped[int] = mapped_column(Integer, default=30)
    auto_apply_credit: Mapped[bool] = mapped_column(Boolean, default=True)
    max_payment_days_ahead: Mapped[int] = mapped_column(Integer, default=0)
    # invoicing.services.date_window: documents are dated within this many days of today, either side
    document_date_window_days: Mapped[int] = mapped_column(Integer, default=365, server_default="365")
    lock_date: Mapped[date | None] = mapped_column(Date, nullable=True)


class Partner(Base):
    """A customer."""
    __tablename__ = "core_partners"
    __table_args__ = (Index("ix_core_partners_city", "city", "name"),)  # the customers list sorts by city
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    email: Mapped[str] = mapped_column(String(200), default="")
    vat_id: Mapped[str] = mapped_column(String(40), default="")
    street: Mapped[str] = mapped_column(String(200), default="")
    zip: Mapped[str] = mapped_column(String(20), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    country: Mapped[str] = mapped_column(String(2), default="FR")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class User(UserMixin, Base):
    __tablename__ = "core_users"
    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(300), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped at logout and password change: a session made before is no longer accepted.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("core_partners.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored. Revoked tokens are kept (``revoked_at``) as a record of what
    existed; an expired or revoked one is refused (core.security.user_for_token)."""
    __tablename__ = "core_api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Written at most once a minute per token (core.security.touch_token), not on every request.
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    user: Mapped[User] = relationship()

    def state_at(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        expires = self.expires_at
        if expires is not None and (expires if expires.tzinfo else expires.replace(tzinfo=timezone.utc)) <= now:
            return "expired"  # (SQLite gives back naive UTC)
        return "valid"


class AddonState(Base):
    """Which addons are installed, at which version."""
    __tablename__ = "core_addons"
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    version: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(20), default="installed")
    installed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Sequence(Base):
    """One gapless counter per (code, year). ``last_date`` keeps numbering chronological."""
    __tablename__ = "core_sequences"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    next_number: Mapped[int] = mapped_column(Integer, default=1)
    last_date: Mapped[date | None] = mapped_column(Date, nullable=True)


class AuditLog(Base):
    """Who did what to which document, and when."""
    __tablename__ = "core_audit_log"
    __table_args__ = (Index("ix_core_audit_doc", "document_type", "document_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("core_users.id"), nullable=True)
    document_type: Mapped[str] = mapped_column(String(40))
    document_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(40))
    details: Mapped[str] = mapped_column(Text, default="")
    user: Mapped[User | None] = relationship()


class IdempotencyKey(Base):
    """A POST's Idempotency-Key, per user: the request's fingerprint and, once done, its response."""
    __tablename__ = "core_idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_core_idempotency_user_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(10), default="in_flight")
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class LoginThrottle(Base):
    """Failed-login counters shared by every worker and node (core.throttle): one row per client address and one per
    (login, address), each changed only by single atomic statements."""
    __tablename__ = "core_login_throttle"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


def company() -> Company:
    """The company row (created at install)."""
    from core.extensions import db
    row = db.session.get(Company, 1)
    if row is None:
        row = Company(id=1, name="My Company")
        db.session.add(row)
        db.session.flush()
    return row


__all__ = ["Base", "Company", "Partner", "User", "ApiToken", "AddonState", "Sequence", "AuditLog",
           "IdempotencyKey", "LoginThrottle", "ROLES", "utcnow", "company", "Decimal"]
