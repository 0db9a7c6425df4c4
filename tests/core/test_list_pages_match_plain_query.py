"""The lists' faster paths return exactly the rows of the plain query, in the same order, with the same total.

core.listing reads a page in ways that differ from ``query.limit(n).offset(k)``: the page's ids first, a deep
page of a list sorted by customer name from per-customer counts (ParentSort), the count without the customer
join; and the search ``q`` finds invoices through the customers matching it. Each is compared here with the plain
statement, on every page (a tiny page size, so offsets cross customers and customers sharing a name), for the
invoice, payment and service-order lists, with and without filters, on SQLite and PostgreSQL.
"""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core import listing
from core.extensions import db
from core.listing import LISTS, count_statement, fetch_page
from core.models import Partner

# Two customers share a name (their rows interleave by id under sort=customer); several names hold "cabinet" in
# another case or position; one matches nothing.
NAMES = ["Cabinet Martin", "Cabinet Martin", "cabinet Durand", "Atelier du Cabinet", "Zola & Fils", "Élise Roux",
         "Bernard", "Cabinetry Ltd", "Martin SARL", "Aubert"]
LIMIT = 7


@pytest.fixture
def rows(ctx):
    from addons.field_service.models import ServiceOrder
    from addons.invoicing.models import Invoice
    from addons.payments.models import Payment, PaymentMethod
    rng = random.Random(8)
    partners = [Partner(name=name) for name in NAMES]
    db.session.add_all(partners)
    db.session.flush()
    methods = list(db.session.scalars(select(PaymentMethod.code)))
    start = date(2025, 1, 1)
    for k in range(150):
        # Few customers hold most rows (as in life); the dates repeat, so the sorts' tie-break matters.
        partner = partners[min(int(rng.expovariate(0.4)), len(partners) - 1)]
        state = rng.choice(["draft", "posted", "posted", "posted", "cancelled"])
        if k % 37 == 0:  # a number holding the search word, of a customer whose name has it or not
            partner, state = partners[4 if k % 74 else 0], "posted"
        day = start + timedelta(days=rng.randint(0, 40))
        total = Decimal(rng.randint(1, 500))
        due = rng.choice([total, Decimal(0), total / 2])
        # Some numbers contain the search word: the number half of q, once for a customer that matches too.
        number = None if state == "draft" else (f"CABINET-{k}" if k % 37 == 0 else f"INV/2025/{k:05d}")
        db.session.add(Invoice(partner_id=partner.id, state=state, number=number, invoice_date=day,
                               due_date=day + timedelta(days=30), amount_total=total, amount_due=due,
                               type=rng.choice(["invoice"] * 9 + ["credit_note"]),
                               payment_state="paid" if due == 0 else "not_paid" if due == total else "partial"))
        db.session.add(Payment(partner_id=partner.id, amount=total, date=day, method_code=rng.choice(methods),
                               reference="cabinet ref" if k % 41 == 0 else f"VIR {k}"))
        db.session.add(ServiceOrder(number=f"SO-{k:05d}", partner_id=partner.id, state=rng.choice(["done", "draft"]),
                                    description="Cabinet repair" if k % 43 == 0 else "Boiler service",
                                    scheduled_at=datetime(2025, 1, 1, tzinfo=timezone.utc) + timedelta(hours=rng.randint(0, 500))))
    db.session.flush()


CASES = [
    ("invoices", {}), ("invoices", {"q": "cabinet"}), ("invoices", {"q": "Cabinet Martin"}),
    ("invoices", {"q": "zzz-none"}), ("invoices", {"q": "martin"}), ("invoices", {"q": "martin", "status": "open"}), ("invoices", {"state": "posted"}), ("invoices", {"status": "open"}),
    ("invoices", {"q": "cabinet", "state": "posted"}), ("invoices", {"q": "cabinet", "status": "open"}),
    ("invoices", {"q": "cab", "date_from": date(2025, 1, 20)}), ("invoices", {"q": "INV/2025/0001"}),
    ("payments", {}), ("payments", {"q": "cabinet"}), ("payments", {"q": "martin"}), ("payments", {"method": "bank_transfer"}),
    ("service_orders", {}), ("service_orders", {"q": "cabinet"}), ("service_orders", {"q": "martin"}), ("service_orders", {"state": "done"}),
]


@pytest.mark.parametrize("name,filters", CASES, ids=[f"{n} {f}" for n, f in CASES])
def test_every_page_and_total_match_the_plain_query(rows, monkeypatch, name, filters):
    monkeypatch.setattr(listing, "skip_parents_pays", lambda *args: True)  # the deep-page path on every page
    spec = LISTS[name]
    for sort in [None, "customer", "-customer", *spec.sorts()]:
        query = spec.query(filters, sort).order_by(*spec.order(sort))
        plain = [row.id for row in db.session.scalars(query)]
        assert db.session.scalar(count_statement(spec.query(filters, sort))) == len(plain), (sort, "total")
        for offset in range(0, len(plain) + LIMIT, LIMIT):
            assert [row.id for row in fetch_page(query, LIMIT, offset)] == plain[offset:offset + LIMIT], (sort, offset)
        assert fetch_page(query, LIMIT, 10_000) == []


def test_the_search_finds_customers_by_name_and_documents_by_number(rows):
    """The plain query's own answer is what it should be (so the comparison above compares with something right)."""
    from addons.invoicing.models import Invoice
    query = LISTS["invoices"].query({"q": "cabinet"}, None)
    found = set(db.session.scalars(query.with_only_columns(Invoice.id)))
    by_name = select(Invoice.id).join(Partner, Partner.id == Invoice.partner_id).where(
        func.lower(Partner.name).contains("cabinet"))
    by_number = select(Invoice.id).where(func.lower(Invoice.number).contains("cabinet"))
    assert found == set(db.session.scalars(by_name)) | set(db.session.scalars(by_number))
    assert set(db.session.scalars(by_number)) - set(db.session.scalars(by_name))  # the number half adds rows
    assert set(db.session.scalars(by_number)) & set(db.session.scalars(by_name))  # ... and overlaps the other


def test_the_cases_cover_both_forms_of_the_search(rows):
    """contains_or_parent's two answers: "cabinet" is in a number outside the matching customers (the trigram
    index and the customers), "martin" only in customers' names (partner_id IN (...) alone)."""
    from addons.invoicing.models import Invoice
    from addons.invoicing.queries import NUMBER_SEARCH
    customers = lambda text: select(Partner.id).where(Partner.name.ilike(f"%{text}%"))  # noqa: E731
    assert NUMBER_SEARCH.found_outside("cabinet", Invoice.partner_id, customers("cabinet"))
    assert not NUMBER_SEARCH.found_outside("martin", Invoice.partner_id, customers("martin"))


def test_the_count_of_a_list_sorted_by_customer_reads_the_list_alone(ctx):
    """Every row has one customer: the join that sorts by name changes no count, so the count leaves it out
    (100,000 rows counted from an index instead of joined), unless a filter reads the customer."""
    from addons.invoicing.models import Invoice
    spec = LISTS["invoices"]
    assert "JOIN core_partners" in str(spec.query({"q": "x"}, "customer"))
    assert "JOIN core_partners" not in str(count_statement(spec.query({"q": "x"}, "customer")))
    filtered = spec.query({}, "customer").where(Partner.city == "Lyon")  # a filter on the customer: joined
    assert "JOIN core_partners" in str(count_statement(filtered))
    assert db.session.scalar(count_statement(filtered)) == db.session.scalar(
        select(func.count()).select_from(Invoice).join(Partner).where(Partner.city == "Lyon"))
