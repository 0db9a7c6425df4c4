"""Invoicing tables: taxes, products, invoices (and credit notes), lines, settlements, customer credit."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import Base
from core.models import Partner, utcnow
from core.money import MONEY, QUANTITY, RATE, ZERO

PRODUCT_TYPES = ("labour", "part", "service")
# Posted invoices with something due (the list's open/overdue filters and its totals: queries.OPEN matches it).
OPEN_WHERE = "state = 'posted' AND type = 'invoice' AND amount_due > 0"


class Tax(Base):
    __tablename__ = "invoicing_taxes"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    rate: Mapped[Decimal] = mapped_column(RATE)  # percent: 20 means 20 %
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # EN 16931 VAT category (catalog.VAT_CATEGORIES); "" for a tax made before it: S above 0 %, Z at 0 %.
    # Deferred (group "einvoice"): only the e-invoices, the PDF and the tax pages read them, so the invoice paths'
    # statements stay as they were, and so does their running on a database an upgrade test took back to an
    # older invoicing schema (tests/reliability/test_backup_and_upgrade.py). Lists undefer the group.
    vat_category: Mapped[str] = mapped_column(String(2), default="", server_default="", deferred=True,
                                              deferred_group="einvoice")
    # the legal reason printed on the invoice and sent in the e-invoice for an exempt tax (BR-E-10), e.g.
    # "TVA non applicable, art. 293 B du CGI"
    exemption_reason: Mapped[str] = mapped_column(String(300), default="", server_default="", deferred=True,
                                                  deferred_group="einvoice")


class Product(Base):
    __tablename__ = "invoicing_products"
    # The products list: filter by type, sort by price (code and name have theirs).
    __table_args__ = (Index("ix_invoicing_products_active", "active", "code"),
                      Index("ix_invoicing_products_type", "type", "code"),
                      Index("ix_invoicing_products_price", "unit_price"))
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    type: Mapped[str] = mapped_column(String(10), default="service")
    unit: Mapped[str] = mapped_column(String(20), default="unit")
    unit_price: Mapped[Decimal] = mapped_column(MONEY, default=ZERO)
    tax_id: Mapped[int | None] = mapped_column(ForeignKey("invoicing_taxes.id"), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    tax: Mapped[Tax | None] = relationship()


class Invoice(Base):
    """An invoice or a credit note (``type``). Amounts are kept by services.recompute() and services.settle()."""
    __tablename__ = "invoicing_invoices"
    __table_args__ = (
        UniqueConstraint("number", name="uq_invoicing_invoice_number"),
        Index("ix_invoicing_invoices_state_date", "state", "invoice_date"),
        Index("ix_invoicing_invoices_partner", "partner_id", "state"),
        Index("ix_invoicing_invoices_due", "payment_state", "due_date"),
        Index("ix_invoicing_invoices_origin", "origin_type", "origin_id"),
        # The list (queries.py): each filter with the default sort (date), and each sort.
        Index("ix_invoicing_invoices_type_date", "type", "invoice_date"),
        # A customer's invoices (the customer filter, and a search whose word is in customers' names: queries.py)
        # in the default sort's order, the id included: PostgreSQL counts and pages them from the index alone.
        Index("ix_invoicing_invoices_partner_date_id", "partner_id", "invoice_date", "id"),
        # Payment states are listed for posted invoices only: the three equalities, then the date to sort by
        # (the count reads this index alone).
        Index("ix_invoicing_invoices_payment_date", "payment_state", "state", "type", "invoice_date"),
        # Each sort key with the id, the list's tie-break (sort_clause): PostgreSQL then walks the index in the
        # page's exact order (no incremental sort of the ~80,000 invoices with nothing due), and a deep page's ids
        # come from the index alone (an index-only scan). SQLite's indexes end with the rowid anyway.
        Index("ix_invoicing_invoices_date_id", "invoice_date", "id"),
        Index("ix_invoicing_invoices_due_date_id", "due_date", "id"),
        Index("ix_invoicing_invoices_total_id", "amount_total", "id"),
        Index("ix_invoicing_invoices_amount_due_id", "amount_due", "id"),
        # Open invoices only (a fraction of all): the open/overdue lists and the outstanding/overdue totals.
        # They lead with state and type although constant inside: SQLite (no statistics unless ANALYZE ran)
        # prefers the index with the most equality terms, and would otherwise walk ix_..._type_date, an index of
        # all invoices; and it checks those terms again, reading the table unless the index holds them.
        Index("ix_invoicing_invoices_open_date", "state", "type", "invoice_date", "amount_due",
              sqlite_where=text(OPEN_WHERE), postgresql_where=text(OPEN_WHERE)),
        Index("ix_invoicing_invoices_open_due", "state", "type", "due_date", "amount_due",
              sqlite_where=text(OPEN_WHERE), postgresql_where=text(OPEN_WHERE)),
        # ... of some customers (the customer filter, a search by customer): the totals from this index alone.
        Index("ix_invoicing_invoices_open_partner", "state", "type", "partner_id", "due_date", "amount_due",
              sqlite_where=text(OPEN_WHERE), postgresql_where=text(OPEN_WHERE)),
    )
    audit_type = "invoice"

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(12), default="invoice")  # invoice | credit_note
    number: Mapped[str | None] = mapped_column(String(40), nullable=True)
    state: Mapped[str] = mapped_column(String(10), default="draft")  # draft | posted | cancelled
    payment_state: Mapped[str] = mapped_column(String(10), default="not_paid")
    partner_id: Mapped[int] = mapped_column(ForeignKey("core_partners.id"))
    invoice_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    payment_terms_days: Mapped[int] = mapped_column(Integer, default=30)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    amount_untaxed: Mapped[Decimal] = mapped_column(MONEY, default=ZERO)
    amount_tax: Mapped[Decimal] = mapped_column(MONEY, default=ZERO)
    amount_total: Mapped[Decimal] = mapped_column(MONEY, default=ZERO)
    amount_paid: Mapped[Decimal] = mapped_column(MONEY, default=ZERO)
    amount_credited: Mapped[Decimal] = mapped_column(MONEY, default=ZERO)
    amount_due: Mapped[Decimal] = mapped_column(MONEY, default=ZERO)
    # What of amount_paid came from the customer's earlier credit (shown on the invoice and its PDF).
    credit_applied: Mapped[Decimal] = mapped_column(MONEY, default=ZERO)
    origin_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    origin_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    credited_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoicing_invoices.id"), nullable=True,
                                                            index=True)
    redraft_of_id: Mapped[int | None] = mapped_column(ForeignKey("invoicing_invoices.id"), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    # A credit note of an invoice made from service orders: what becomes of the credited work (credit_notes.WORK)
    work: Mapped[str | None] = mapped_column(String(20), nullable=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    journal_entry_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    posted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    partner: Mapped[Partner] = relationship(lazy="joined")
    lines: Mapped[list["InvoiceLine"]] = relationship(back_populates="invoice", order_by="InvoiceLine.sequence",
                                                      cascade="all, delete-orphan")
    credited_invoice: Mapped["Invoice | None"] = relationship(remote_side=[id], foreign_keys=[credited_invoice_id])

    @property
    def is_credit_note(self) -> bool:
        return self.type == "credit_note"

    @property
    def is_overdue(self) -> bool:
        return self.state == "posted" and self.amount_due > 0 and self.due_date < date.today()


class InvoiceLine(Base):
    __tablename__ = "invoicing_invoice_lines"
    __table_args__ = (Index("ix_invoicing_lines_origin", "origin_type", "origin_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoicing_invoices.id", ondelete="CASCADE"), index=True)
    sequence: Mapped[int] = mapped_column(Integer, default=10)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("invoicing_products.id"), nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    quantity: Mapped[Decimal] = mapped_column(QUANTITY, default=Decimal(1))
    unit_price: Mapped[Decimal] = mapped_column(MONEY, default=ZERO)
    tax_id: Mapped[int | None] = mapped_column(ForeignKey("invoicing_taxes.id"), nullable=True)
    tax_rate: Mapped[Decimal] = mapped_column(RATE, default=ZERO)
    amount_untaxed: Mapped[Decimal] = mapped_column(MONEY, default=ZERO)
    amount_tax: Mapped[Decimal] = mapped_column(MONEY, default=ZERO)
    amount_total: Mapped[Decimal] = mapped_column(MONEY, default=ZERO)
    # Where the line came from (a service order's time entry or part), so the origin can track what is billed.
    origin_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    origin_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # On a credit note: the invoice line it gives back.
    credited_line_id: Mapped[int | None] = mapped_column(ForeignKey("invoicing_invoice_lines.id"), nullable=True,
                                                         index=True)
    # On a credit note: an untaxed amount taken off this invoice line (a price correction, not a quantity given
    # back, so credited_line_id stays empty and origins that bill per line are not told about it).
    amount_off_line_id: Mapped[int | None] = mapped_column(ForeignKey("invoicing_invoice_lines.id"), nullable=True)

    invoice: Mapped[Invoice] = relationship(back_populates="lines")
    product: Mapped[Product | None] = relationship(lazy="joined")
    tax: Mapped[Tax | None] = relationship(lazy="joined")

    @property
    def quantity_credited(self) -> Decimal:
        """How much of this invoice line credit notes (not cancelled, drafts included) gave back."""
        if self.id is None or self.invoice is None or self.invoice.type != "invoice":
            return ZERO
        from .credit_notes import quantity_credited
        return quantity_credited(self)


class Settlement(Base):
    """Something that reduced an invoice's amount due: a payment, a credit note, or the customer's credit."""
    __tablename__ = "invoicing_settlements"
    __table_args__ = (Index("ix_invoicing_settlements_source", "source_type", "source_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoicing_invoices.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # payment | credit_note | credit
    amount: Mapped[Decimal] = mapped_column(MONEY)
    date: Mapped[date] = mapped_column(Date)
    source_type: Mapped[str] = mapped_column(String(20))  # payment | credit_note
    source_id: Mapped[int] = mapped_column(Integer)
    credit_id: Mapped[int | None] = mapped_column(ForeignKey("invoicing_customer_credits.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CustomerCredit(Base):
    """Money the customer has with us: a credit note's surplus over what its invoice had due, or an overpayment."""
    __tablename__ = "invoicing_customer_credits"
    __table_args__ = (Index("ix_invoicing_credits_partner", "partner_id", "date"),
                      Index("ix_invoicing_credits_source", "source_type", "source_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("core_partners.id"))
    source_type: Mapped[str] = mapped_column(String(20))  # credit_note | payment
    source_id: Mapped[int] = mapped_column(Integer)
    date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    amount_used: Mapped[Decimal] = mapped_column(MONEY, default=ZERO)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.amount_used


class CreditUse(Base):
    """Where customer credit went: to an invoice (a Settlement) or back to the customer (a refund)."""
    __tablename__ = "invoicing_credit_uses"
    id: Mapped[int] = mapped_column(primary_key=True)
    credit_id: Mapped[int] = mapped_column(ForeignKey("invoicing_customer_credits.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    target_type: Mapped[str] = mapped_column(String(20))  # invoice | refund
    target_id: Mapped[int] = mapped_column(Integer)
    date: Mapped[date] = mapped_column(Date)
