"""field_service tables: service orders, their time entries (hours) and parts.

``invoiced_qty`` on a time entry or a part is how much of it is on an invoice (a draft reserves it, a posted or
externally invoiced one keeps it, a credit note that gives the quantity back frees it): what is left is billable.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import Base
from core.models import Partner, User, utcnow
from core.money import MONEY, QUANTITY, ZERO

from addons.invoicing.models import Product

STATES = ("draft", "scheduled", "in_progress", "done", "invoiced", "cancelled")
TIME_ENTRY_ORIGIN = "field_service.time_entry"
PART_ORIGIN = "field_service.part"


class ServiceOrder(Base):
    __tablename__ = "field_service_orders"
    __table_args__ = (
        Index("ix_field_service_orders_state", "state", "partner_id"),
        Index("ix_field_service_orders_tech", "technician_id", "scheduled_at"),
        # The list (queries.py) sorts by number (the id) by default: each filter with it.
        Index("ix_field_service_orders_state_id", "state", "id"),
        Index("ix_field_service_orders_tech_id", "technician_id", "id"),
        Index("ix_field_service_orders_partner_id_id", "partner_id", "id"),
        Index("ix_field_service_orders_scheduled_id", "scheduled_at", "id"),  # sort=scheduled, with its tie-break
    )
    audit_type = "service_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("core_partners.id"), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    site_address: Mapped[str] = mapped_column(Text, default="")
    technician_id: Mapped[int | None] = mapped_column(ForeignKey("core_users.id"), nullable=True)
    scheduled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    state: Mapped[str] = mapped_column(String(12), default="draft")
    report: Mapped[str] = mapped_column(Text, default="")
    # The newest invoice made from this order (a draft, then the posted one). A "credit and re-draft" copy is
    # made by invoicing without telling us: until this order is next touched it may still name the credited original.
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoicing_invoices.id", ondelete="SET NULL"),
                                                   nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    partner: Mapped[Partner] = relationship(lazy="joined")
    technician: Mapped[User | None] = relationship(lazy="joined")
    time_entries: Mapped[list["TimeEntry"]] = relationship(back_populates="order", order_by="TimeEntry.id",
                                                           cascade="all, delete-orphan")
    parts: Mapped[list["Part"]] = relationship(back_populates="order", order_by="Part.id",
                                               cascade="all, delete-orphan")


class TimeEntry(Base):
    """Hours a technician worked on an order, billed at the labour product's price."""
    __tablename__ = "field_service_time_entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("field_service_orders.id", ondelete="CASCADE"), index=True)
    technician_id: Mapped[int | None] = mapped_column(ForeignKey("core_users.id"), nullable=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("invoicing_products.id"))
    date: Mapped[date] = mapped_column(Date)
    hours: Mapped[Decimal] = mapped_column(QUANTITY)
    description: Mapped[str] = mapped_column(Text, default="")
    invoiced_qty: Mapped[Decimal] = mapped_column(QUANTITY, default=ZERO)

    order: Mapped[ServiceOrder] = relationship(back_populates="time_entries")
    technician: Mapped[User | None] = relationship(lazy="joined")
    product: Mapped[Product] = relationship(lazy="joined")

    @property
    def billable(self) -> Decimal:
        return max(ZERO, self.hours - (self.invoiced_qty or ZERO))


class Part(Base):
    """A part (or other material) used on an order, billed at its unit price."""
    __tablename__ = "field_service_parts"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("field_service_orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("invoicing_products.id"))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    unit_price: Mapped[Decimal] = mapped_column(MONEY)
    description: Mapped[str] = mapped_column(Text, default="")
    invoiced_qty: Mapped[Decimal] = mapped_column(QUANTITY, default=ZERO)

    order: Mapped[ServiceOrder] = relationship(back_populates="parts")
    product: Mapped[Product] = relationship(lazy="joined")

    @property
    def billable(self) -> Decimal:
        return max(ZERO, self.quantity - (self.invoiced_qty or ZERO))
