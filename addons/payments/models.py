"""Payment tables: methods, payments (received and refunded), their allocations to invoices, form nonces."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import Base
from core.models import Partner, utcnow
from core.money import MONEY, ZERO

DIRECTIONS = ("inbound", "outbound")
JOURNALS = ("BNK", "CSH")


class PaymentMethod(Base):
    """How money moves: its journal (``BNK`` bank, ``CSH`` cash) tells accounting which account it hits."""
    __tablename__ = "payments_methods"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    journal_code: Mapped[str] = mapped_column(String(10), default="BNK")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Payment(Base):
    """Money received from (inbound) or paid back to (outbound: a refund of credit) a customer."""
    __tablename__ = "payments_payments"
    # A customer's payments (the customer filter, a search by customer) in the default sort's order, the id
    # included: PostgreSQL counts and pages them from the index alone.
    __table_args__ = (Index("ix_payments_partner_date_id", "partner_id", "date", "id"),
                      # The list (queries.py): each filter with the default sort (date), and each sort with the id,
                      # its tie-break (the index walks the page's exact order; a deep page's ids come from it).
                      Index("ix_payments_date_id", "date", "id"),
                      Index("ix_payments_method_date", "method_code", "date"),
                      Index("ix_payments_method_id", "method_code", "id"),
                      Index("ix_payments_direction_date", "direction", "date"),
                      Index("ix_payments_amount_id", "amount", "id"),
                      Index("ix_payments_reference_id", "reference", "id"))
    audit_type = "payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("core_partners.id"))
    direction: Mapped[str] = mapped_column(String(10), default="inbound")
    amount: Mapped[Decimal] = mapped_column(MONEY)
    date: Mapped[date] = mapped_column(Date)
    method_code: Mapped[str] = mapped_column(ForeignKey("payments_methods.code"))
    reference: Mapped[str] = mapped_column(String(200), default="")
    # Inbound: what no invoice took, which became customer credit. Outbound: always zero.
    unallocated: Mapped[Decimal] = mapped_column(MONEY, default=ZERO)
    journal_entry_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    partner: Mapped[Partner] = relationship(lazy="joined")
    method: Mapped[PaymentMethod] = relationship(lazy="joined")
    allocations: Mapped[list["PaymentAllocation"]] = relationship(back_populates="payment",
                                                                  order_by="PaymentAllocation.id",
                                                                  cascade="all, delete-orphan")


class PaymentAllocation(Base):
    """The part of a payment that settled one invoice (what invoicing.services.settle() applied)."""
    __tablename__ = "payments_allocations"
    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments_payments.id", ondelete="CASCADE"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoicing_invoices.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)

    payment: Mapped[Payment] = relationship(back_populates="allocations")


class FormNonce(Base):
    """A one-time token carried by an HTML payment form: inserted with the payment, so a second submit of the
    same form (a double click, a reload) is recognised by the UNIQUE key and registers nothing."""
    __tablename__ = "payments_form_nonces"
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    payment_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
