"""Service order rules: create, schedule, start, log hours and parts, write the report, mark done, cancel.

Invoicing an order lives in billing.py. Every function flushes and never commits (the request or CLI commits).
Technicians see and work only on the orders assigned to them: ``get_order(id, user)`` answers 404 for another's.
"""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from core import audit, sequences
from core.errors import DomainError, NotFound, ValidationError, transition
from core.extensions import db
from core.models import Partner, User, utcnow
from core.money import ZERO, round_money, to_decimal

from addons.invoicing.models import Product

from .models import Part, ServiceOrder, TimeEntry

SEQUENCE = "field_service.order"
PREFIX = "SO"
TRANSITIONS = {
    "draft": {"scheduled", "cancelled"},
    "scheduled": {"in_progress", "cancelled"},
    "in_progress": {"done", "cancelled"},
    "done": {"invoiced", "cancelled"},
    # Back to done when a credit note gave everything back or the draft was deleted (see billing.py).
    "invoiced": {"done", "cancelled"},  # cancelled: a credit note of the whole invoice with work "cancel_order"
    "cancelled": set(),
}
WORK_STATES = ("in_progress", "done")  # hours and parts may be logged or corrected
EDITABLE_STATES = ("draft", "scheduled", "in_progress", "done")
MAX_HOURS = Decimal(24)


def hook():
    return current_app.extensions["kontor"].hook


def is_technician(user) -> bool:
    return user is not None and getattr(user, "role", None) == "technician"


# -- reading -----------------------------------------------------------------------------------------------------
def visible_orders(query, user):
    """Restrict a select(ServiceOrder) to what ``user`` may see: a technician only their own orders."""
    if is_technician(user):
        query = query.where(ServiceOrder.technician_id == user.id)
    return query


def get_order(order_id: int, user=None, lock: bool = False) -> ServiceOrder:
    """The order, or 404 (also for a technician asking for another technician's order)."""
    if lock:
        stmt = select(ServiceOrder).where(ServiceOrder.id == order_id).with_for_update(of=ServiceOrder)
        db.session.execute(stmt.execution_options(populate_existing=True))
    order = db.session.get(ServiceOrder, order_id)
    if order is None or (is_technician(user) and order.technician_id != user.id):
        raise NotFound(f"There is no service order {order_id}.")
    return order


def technicians() -> list[User]:
    return list(db.session.scalars(select(User).where(User.role == "technician", User.active.is_(True))
                                   .order_by(User.name, User.login)))


def products_of(kind: str) -> list[Product]:
    """Active labour products (``kind="labour"``) or products usable as parts (anything but labour)."""
    query = select(Product).where(Product.active.is_(True)).order_by(Product.code)
    query = query.where(Product.type == "labour") if kind == "labour" else query.where(Product.type != "labour")
    return list(db.session.scalars(query))


# -- checking values ---------------------------------------------------------------------------------------------
def _decimal(value, field: str, label: str) -> Decimal:
    try:
        result = to_decimal(value)
    except (ValueError, TypeError):
        raise ValidationError(f"{label} must be a number, such as 1.5.", fields={field: ["Not a number."]}) from None
    if not result.is_finite():
        raise ValidationError(f"{label} must be a number, such as 1.5.", fields={field: ["Not a number."]})
    return result


def _positive(value, field: str, label: str, maximum: Decimal = Decimal("1e9")) -> Decimal:
    result = _decimal(value, field, label)
    if result <= 0:
        raise ValidationError(f"{label} must be more than zero.", fields={field: ["Must be more than zero."]})
    if result > maximum:
        raise ValidationError(f"{label} must be at most {maximum}.", fields={field: [f"At most {maximum}."]})
    if result.as_tuple().exponent < -4:
        raise ValidationError(f"{label} has at most 4 decimals.", fields={field: ["At most 4 decimals."]})
    return result


def _partner(partner_id) -> Partner:
    partner = db.session.get(Partner, partner_id) if partner_id is not None else None
    if partner is None:
        raise ValidationError("Choose an existing customer.", fields={"partner_id": ["Unknown customer."]})
    return partner


def _technician(user_id, field: str = "technician_id") -> User | None:
    if user_id in (None, ""):
        return None
    user = db.session.get(User, user_id)
    if user is None or user.role != "technician" or not user.active:
        raise ValidationError("Choose a technician (a user with the technician role).",
                              fields={field: ["Not a technician."]})
    return user


def _product(product_id, kind: str) -> Product:
    product = db.session.get(Product, product_id) if product_id is not None else None
    if product is None or not product.active:
        raise ValidationError(f"There is no product {product_id}; choose one from the list.",
                              fields={"product_id": ["Unknown product."]})
    if kind == "labour" and product.type != "labour":
        raise ValidationError(f"{product.code} is not a labour product; hours are logged with a labour product "
                              "(such as LAB-STD).", fields={"product_id": ["Not a labour product."]})
    if kind == "part" and product.type == "labour":
        raise ValidationError(f"{product.code} is a labour product: log it as hours, not as a part.",
                              fields={"product_id": ["A labour product is logged as hours."]})
    return product


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value


# -- orders ------------------------------------------------------------------------------------------------------
ORDER_FIELDS = ("partner_id", "description", "site_address", "technician_id", "scheduled_at")


def create_order(partner_id, description: str = "", site_address: str = "", technician_id=None,
                 scheduled_at: datetime | None = None) -> ServiceOrder:
    """A new draft order, numbered SO/<year>/<n> by its creation date."""
    partner = _partner(partner_id)
    technician = _technician(technician_id)
    created = utcnow()
    number = sequences.take(SEQUENCE, created.date())
    order = ServiceOrder(number=sequences.format_number(PREFIX, created.year, number), partner_id=partner.id,
                         description=(description or "").strip(),
                         site_address=(site_address or "").strip() or _address(partner),
                         technician_id=technician.id if technician else None, scheduled_at=_aware(scheduled_at),
                         state="draft", report="", created_at=created)
    db.session.add(order)
    db.session.flush()
    audit.record(order, "created", order.number)
    return order


def _address(partner: Partner) -> str:
    return ", ".join(p for p in (partner.street, f"{partner.zip} {partner.city}".strip()) if p)


def update_order(order: ServiceOrder, user=None, **values) -> ServiceOrder:
    """Change an order's fields (a technician: only the report). Refused once invoiced or cancelled."""
    if order.state not in EDITABLE_STATES:
        raise DomainError(f"Service order {order.number} is {order.state}; it can no longer be changed.",
                          code="order_locked")
    if is_technician(user) and set(values) - {"report"}:
        raise DomainError("A technician may only write the report of an order.", code="forbidden_fields")
    changed = []
    if "partner_id" in values and values["partner_id"] != order.partner_id:
        order.partner_id = _partner(values["partner_id"]).id
        changed.append("customer")
    if "technician_id" in values and values["technician_id"] != order.technician_id:
        technician = _technician(values["technician_id"])
        order.technician_id = technician.id if technician else None
        changed.append("technician")
    if "scheduled_at" in values:
        order.scheduled_at = _aware(values["scheduled_at"])
        changed.append("schedule")
    for key in ("description", "site_address", "report"):
        if key in values and values[key] is not None and values[key].strip() != getattr(order, key):
            setattr(order, key, values[key].strip())
            changed.append(key.replace("_", " "))
    if order.state in ("scheduled", "in_progress") and (order.technician_id is None or order.scheduled_at is None):
        raise ValidationError("A scheduled order needs a technician and a date.",
                              fields={"technician_id" if order.technician_id is None else "scheduled_at": ["Required."]})
    db.session.flush()
    if changed:
        audit.record(order, "changed", ", ".join(changed))
    return order


def schedule(order: ServiceOrder, technician_id=None, scheduled_at: datetime | None = None) -> ServiceOrder:
    if technician_id is not None:
        order.technician_id = _technician(technician_id).id
    if scheduled_at is not None:
        order.scheduled_at = _aware(scheduled_at)
    missing = [label for label, value in (("a technician", order.technician_id), ("a date", order.scheduled_at))
               if value is None]
    if missing and order.state == "draft":
        raise DomainError(f"Give the order {' and '.join(missing)} before scheduling it.", code="not_schedulable")
    transition(order, "scheduled", TRANSITIONS, "service order")
    db.session.flush()
    audit.record(order, "scheduled")
    return order


def start(order: ServiceOrder) -> ServiceOrder:
    transition(order, "in_progress", TRANSITIONS, "service order")
    db.session.flush()
    audit.record(order, "started")
    return order


def mark_done(order: ServiceOrder) -> ServiceOrder:
    """In progress -> done: needs the intervention report and at least one time entry or part."""
    if order.state == "in_progress":
        missing = []
        if not (order.report or "").strip():
            missing.append("write the intervention report")
        if not order.time_entries and not order.parts:
            missing.append("log hours or add a part")
        if missing:
            raise DomainError(f"Before marking {order.number} done, {' and '.join(missing)}.",
                              code="order_incomplete")
    transition(order, "done", TRANSITIONS, "service order")
    order.done_at = utcnow()
    db.session.flush()
    audit.record(order, "done")
    hook().field_service_order_done(order=order)
    return order


def cancel(order: ServiceOrder) -> ServiceOrder:
    if order.state == "done" and order.invoice_id is not None:
        raise DomainError(f"Service order {order.number} has a draft invoice; delete it with "
                          "\"Cancel the service order too\" instead.", code="has_invoice")
    if order.state == "invoiced":
        raise DomainError(f"Service order {order.number} is invoiced; add a credit note instead of cancelling.",
                          code="already_invoiced")
    transition(order, "cancelled", TRANSITIONS, "service order")
    db.session.flush()
    audit.record(order, "cancelled")
    return order


# -- hours and parts ---------------------------------------------------------------------------------------------
def _ensure_workable(order: ServiceOrder) -> None:
    if order.state not in WORK_STATES:
        hint = " Start it first." if order.state in ("draft", "scheduled") else ""
        raise DomainError(f"Service order {order.number} is {order.state.replace('_', ' ')}; hours and parts can "
                          f"be logged only while it is in progress or done.{hint}", code="order_not_in_progress")
    if order.invoice_id is not None:
        raise DomainError(f"Service order {order.number} has a draft invoice; change the draft, or delete it "
                          "first.", code="has_invoice")


def _ensure_not_billed(row) -> None:
    if (row.invoiced_qty or ZERO) > 0:
        raise DomainError("This line is on an invoice; correct the invoice (or credit it) instead.",
                          code="already_invoiced")


def _entry_date(value) -> date:
    if value in (None, ""):
        return date.today()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError("The date is YYYY-MM-DD.", fields={"date": ["Not a date."]}) from None


def add_time_entry(order: ServiceOrder, hours, product_id, user=None, date_=None, description: str = "",
                   technician_id=None) -> TimeEntry:
    _ensure_workable(order)
    hours = _positive(hours, "hours", "Hours", MAX_HOURS)
    product = _product(product_id, "labour")
    if is_technician(user):
        if technician_id not in (None, user.id):
            raise ValidationError("You can log hours only for yourself.", fields={"technician_id": ["Not you."]})
        technician_id = user.id
    technician = _technician(technician_id) if technician_id not in (None, "") else None
    entry = TimeEntry(order_id=order.id, product_id=product.id, hours=hours, date=_entry_date(date_),
                      description=(description or "").strip(), invoiced_qty=ZERO,
                      technician_id=(technician.id if technician else order.technician_id))
    order.time_entries.append(entry)
    db.session.flush()
    audit.record(order, "hours_logged", f"{hours.normalize()} h {product.code}")
    return entry


def update_time_entry(entry: TimeEntry, **values) -> TimeEntry:
    _ensure_workable(entry.order)
    _ensure_not_billed(entry)
    if "hours" in values:
        entry.hours = _positive(values["hours"], "hours", "Hours", MAX_HOURS)
    if "product_id" in values:
        entry.product_id = _product(values["product_id"], "labour").id
    if "date" in values:
        entry.date = _entry_date(values["date"])
    if "description" in values and values["description"] is not None:
        entry.description = values["description"].strip()
    if "technician_id" in values:
        technician = _technician(values["technician_id"])
        entry.technician_id = technician.id if technician else None
    db.session.flush()
    audit.record(entry.order, "hours_changed", f"entry {entry.id}")
    return entry


def delete_time_entry(entry: TimeEntry) -> None:
    order = entry.order
    _ensure_workable(order)
    _ensure_not_billed(entry)
    order.time_entries.remove(entry)
    db.session.flush()
    audit.record(order, "hours_deleted", f"{entry.hours.normalize()} h on {entry.date.isoformat()}")


def add_part(order: ServiceOrder, product_id, quantity, unit_price=None, description: str = "") -> Part:
    _ensure_workable(order)
    quantity = _positive(quantity, "quantity", "Quantity")
    product = _product(product_id, "part")
    price = product.unit_price if unit_price in (None, "") else _decimal(unit_price, "unit_price", "Unit price")
    if price < 0:
        raise ValidationError("The unit price cannot be negative.", fields={"unit_price": ["Negative."]})
    part = Part(order_id=order.id, product_id=product.id, quantity=quantity, unit_price=round_money(price),
                description=(description or "").strip(), invoiced_qty=ZERO)
    order.parts.append(part)
    db.session.flush()
    audit.record(order, "part_added", f"{quantity.normalize()} × {product.code}")
    return part


def update_part(part: Part, **values) -> Part:
    _ensure_workable(part.order)
    _ensure_not_billed(part)
    if "product_id" in values:
        part.product_id = _product(values["product_id"], "part").id
    if "quantity" in values:
        part.quantity = _positive(values["quantity"], "quantity", "Quantity")
    if values.get("unit_price") not in (None, ""):
        price = _decimal(values["unit_price"], "unit_price", "Unit price")
        if price < 0:
            raise ValidationError("The unit price cannot be negative.", fields={"unit_price": ["Negative."]})
        part.unit_price = round_money(price)
    if "description" in values and values["description"] is not None:
        part.description = values["description"].strip()
    db.session.flush()
    audit.record(part.order, "part_changed", f"part {part.id}")
    return part


def delete_part(part: Part) -> None:
    order = part.order
    _ensure_workable(order)
    _ensure_not_billed(part)
    order.parts.remove(part)
    db.session.flush()
    audit.record(order, "part_deleted", f"part {part.id}")


def get_time_entry(order: ServiceOrder, entry_id: int) -> TimeEntry:
    entry = db.session.get(TimeEntry, entry_id)
    if entry is None or entry.order_id != order.id:
        raise NotFound(f"There is no time entry {entry_id} on {order.number}.")
    return entry


def get_part(order: ServiceOrder, part_id: int) -> Part:
    part = db.session.get(Part, part_id)
    if part is None or part.order_id != order.id:
        raise NotFound(f"There is no part {part_id} on {order.number}.")
    return part


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start_ = datetime.combine(day, time.min, tzinfo=timezone.utc)
    return start_, datetime.combine(day, time.max, tzinfo=timezone.utc)
