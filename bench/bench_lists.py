"""Lists over many invoices: the invoice, payment and service-order lists (page and API), every filter and sort,
first page and a deep page — p50/p95/max/stdev per request.

    .venv/bin/python bench/bench_lists.py [N ...]       default 100000 (invoices); e.g. 20000 100000
    KONTOR_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench  for PostgreSQL
    KONTOR_BENCH_REPEAT=15                              requests per case (default 15)

The data is built once per size and kept (SQLite: bench/out/lists_N.db; PostgreSQL: database bench_lists_N), so
a second run only measures. It is made through the service paths: Done service orders (as ``run.py demo`` makes
them, but dated over four years) invoiced and posted by field_service's batch path, day by day in date order;
payments registered by payments.services (full, partial, several invoices at once), credit notes by
invoicing.credit_notes, drafts invoiced externally (cancelled), and some drafts left. Customers: N / 40.
"""
from __future__ import annotations

import os
import random
import statistics
import sys
import time
from collections import defaultdict
from datetime import date, datetime, time as dtime, timedelta, timezone
from decimal import Decimal

from common import OUT, analyze_tables, api_token, logged_in_client, percentile, print_rows, row

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

TARGET = "p95 < 50 ms"
PASSWORD = "bench-lists-password"
YEARS = 4
SERVICE_PAYMENTS = 300


def _pay_set_based(plan, partner_of, rng, methods) -> None:
    """What payments.services.pay_invoice writes for a payment of one invoice, for many at once."""
    from sqlalchemy import bindparam, insert, select, update

    from core.bulk import insert_returning_ids
    from addons.invoicing.models import Invoice, Settlement
    from addons.payments.models import Payment, PaymentAllocation
    from core.extensions import db
    from core.models import utcnow
    now = utcnow()
    ids = insert_returning_ids(Payment.__table__, [
        {"partner_id": partner_of[i], "direction": "inbound", "amount": amount, "date": day,
         "method_code": rng.choice(methods), "reference": f"VIR {i}", "unallocated": Decimal(0),
         "journal_entry_id": None, "created_at": now} for day, i, amount in plan])
    db.session.execute(insert(PaymentAllocation.__table__), [
        {"payment_id": p, "invoice_id": i, "amount": amount} for p, (_, i, amount) in zip(ids, plan)])
    db.session.execute(insert(Settlement.__table__), [
        {"invoice_id": i, "kind": "payment", "amount": amount, "date": day, "source_type": "payment", "source_id": p,
         "credit_id": None, "created_at": now} for p, (day, i, amount) in zip(ids, plan)])
    totals = dict(db.session.execute(select(Invoice.id, Invoice.amount_total)
                                     .where(Invoice.id.in_([i for _, i, _ in plan]))).all())
    t = Invoice.__table__
    db.session.execute(update(t).where(t.c.id == bindparam("b_id")).values(
        amount_paid=bindparam("b_paid"), amount_due=bindparam("b_due"), payment_state=bindparam("b_state")), [
        {"b_id": i, "b_paid": amount, "b_due": totals[i] - amount, "b_state": "paid" if amount >= totals[i] else "partial"}
        for _, i, amount in plan])


# -- the database, kept between runs ---------------------------------------------------------------------------
def _url(n: int) -> tuple[str, bool]:
    """(url, exists): the kept database for size ``n``."""
    pg = os.environ.get("KONTOR_BENCH_DATABASE_URL")
    name = f"lists_{n}"
    if pg:
        url = make_url(pg)
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": f"bench_{name}"})
        admin.dispose()
        return url.set(database=f"bench_{name}").render_as_string(hide_password=False), bool(exists)
    OUT.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{OUT / f'{name}.db'}", (OUT / f"{name}.db").exists()


def _drop(n: int) -> None:
    pg = os.environ.get("KONTOR_BENCH_DATABASE_URL")
    if pg:
        admin = create_engine(make_url(pg).set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "bench_lists_{n}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "bench_lists_{n}"'))
        admin.dispose()
    else:
        for suffix in ("", "-wal", "-shm"):
            (OUT / f"lists_{n}.db{suffix}").unlink(missing_ok=True)


def _app(url: str):
    from core.app import create_app
    from core.config import Config
    os.environ["KONTOR_DATABASE_URL"] = url
    config = Config()
    config.SQLALCHEMY_DATABASE_URI = url
    return create_app(config)


def _ready(app) -> bool:
    """The build finished (its last step writes the bench user)."""
    from core.extensions import db
    from core.models import User
    from sqlalchemy import select
    with app.app_context():
        try:
            return db.session.scalar(select(User.id).where(User.login == "bench_lists_bo")) is not None
        except Exception:  # noqa: BLE001  (a half-built database: no tables yet)
            return False


def database(n: int):
    """The app on the kept database of size ``n``, built first if missing or unfinished."""
    url, exists = _url(n)
    if exists:
        app = _app(url)
        if _ready(app):
            from core.install import install
            install(app)  # new migrations (indexes) since it was built
            analyze_tables(app, vacuum=True)  # deep pages' ids from index-only scans (core.listing.fetch_page)
            return app
        with app.app_context():
            app.extensions["sqlalchemy"].engine.dispose()
    _drop(n)
    from core.install import install
    app = _app(url)
    install(app)
    start = time.perf_counter()
    with app.app_context():
        build(n)
    print(f"built {n:,} invoices in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    analyze_tables(app, vacuum=True)  # deep pages' ids from index-only scans (core.listing.fetch_page)
    return app


# -- the data ----------------------------------------------------------------------------------------------------
def _progress(message: str) -> None:
    print(f"  {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def build(n: int) -> None:
    from sqlalchemy import insert, select

    from addons.field_service import billing, demo
    from addons.field_service.models import Part, ServiceOrder, TimeEntry
    from addons.field_service.services import PREFIX, SEQUENCE
    from addons.invoicing import credit_notes, services as invoicing
    from addons.invoicing.models import Invoice
    from addons.payments import services as payments
    from core import sequences
    from core.extensions import db
    from core.models import utcnow
    from core.security import create_token, create_user

    rng = random.Random(8)
    today = date.today()
    users = demo._users()
    labour, parts = demo._products()
    demo._customers(rng, max(10, n // 40))
    customers = list(db.session.execute(select(demo.Partner.id, demo.Partner.street, demo.Partner.zip,
                                               demo.Partner.city)))
    techs = [users[login] for login, _ in demo.TECHNICIANS]
    db.session.commit()

    # Service orders, Done, dated over YEARS years (demo.load's rows, with older dates).
    n_orders = n
    now = utcnow()
    number = sequences.take(SEQUENCE, now.date(), count=n_orders)
    by_day: dict[date, list[int]] = defaultdict(list)
    for start in range(0, n_orders, 2000):
        rows = []
        for _ in range(min(2000, n_orders - start)):
            cid, street, zip_, city = rng.choice(customers)
            day = today - timedelta(days=rng.randint(0, YEARS * 365))
            rows.append({"number": sequences.format_number(PREFIX, now.year, number), "partner_id": cid,
                         "description": rng.choice(demo.JOBS), "site_address": f"{street}, {zip_} {city}",
                         "technician_id": rng.choice(techs), "state": "done", "report": rng.choice(demo.NOTES),
                         "scheduled_at": datetime.combine(day, dtime(rng.choice([8, 10, 14, 16])), tzinfo=timezone.utc),
                         "created_at": now, "done_at": now, "invoice_id": None})
            number += 1
        ids = list(db.session.scalars(insert(ServiceOrder).returning(ServiceOrder.id, sort_by_parameter_order=True),
                                      rows))
        entries, used = [], []
        for order_id, r in zip(ids, rows):
            by_day[r["scheduled_at"].date()].append(order_id)
            entries.append({"order_id": order_id, "technician_id": r["technician_id"],
                            "product_id": rng.choice(labour).id, "date": r["scheduled_at"].date(),
                            "hours": Decimal(rng.choice(["0.5", "1", "1.5", "2", "3"])), "description": "",
                            "invoiced_qty": Decimal(0)})
            product = rng.choice(parts)
            used.append({"order_id": order_id, "product_id": product.id, "quantity": Decimal(rng.choice([1, 1, 2])),
                         "unit_price": product.unit_price, "description": "", "invoiced_qty": Decimal(0)})
        db.session.execute(insert(TimeEntry), entries)
        db.session.execute(insert(Part), used)
        db.session.commit()
    _progress(f"{n_orders:,} service orders")

    # Invoiced day by day in date order (numbers stay chronological); 3 % stay drafts.
    drafts: list[int] = []
    for k, day in enumerate(sorted(by_day)):
        ids = by_day[day]
        keep = [i for i in ids if rng.random() < 0.03]
        post = [i for i in ids if i not in set(keep)]
        if post:
            billing.invoice_orders(post, post=True, invoice_date=day, light=True)
        if keep:
            drafts += [d.id for d in billing.invoice_orders(keep, post=False, invoice_date=day, light=True).invoices]
        db.session.commit()
        db.session.expunge_all()
        if k % 200 == 0:
            _progress(f"invoiced up to {day}")
    # A third of the drafts were invoiced in another system (cancelled).
    for invoice_id in drafts[::3]:
        invoicing.invoice_externally(invoicing.get_invoice(invoice_id))
    db.session.commit()
    _progress("invoices posted")

    # Payments in date order (the bank journal stays chronological): old invoices mostly paid, recent ones open.
    posted = db.session.execute(select(Invoice.id, Invoice.partner_id, Invoice.invoice_date, Invoice.amount_due)
                                .where(Invoice.state == "posted", Invoice.type == "invoice")).all()
    plan = []
    for invoice_id, partner_id, day, due in posted:
        age = (today - day).days
        paid_share = 0.9 if age > 120 else 0.6 if age > 45 else 0.25
        roll = rng.random()
        if roll < paid_share:
            plan.append((min(today, day + timedelta(days=rng.randint(5, 60))), invoice_id, due))
        elif roll < paid_share + 0.06:
            plan.append((min(today, day + timedelta(days=rng.randint(5, 60))), invoice_id,
                         (due / 2).quantize(Decimal("0.01"))))
    plan.sort()
    methods = [m.code for m in payments.methods()]
    # The first SERVICE_PAYMENTS through payments.services (payment, allocation, settlement, journal entry, audit);
    # the service path runs at ~35 payments/s on this machine, so the rest are the same payment, allocation and
    # settlement rows and invoice amounts written set-based (without journal entries: no list reads them).
    for k, (day, invoice_id, amount) in enumerate(plan[:SERVICE_PAYMENTS]):
        payments.pay_invoice(invoice_id, amount, on=day, method=rng.choice(methods), reference=f"VIR {invoice_id}")
    db.session.commit()
    db.session.expunge_all()
    partner_of = {i: p for i, p, _, _ in posted}
    for start in range(SERVICE_PAYMENTS, len(plan), 5000):
        _pay_set_based(plan[start:start + 5000], partner_of, rng, methods)
        db.session.commit()
    _progress(f"{len(plan):,} payments")

    # Credit notes (dated today, after everything): 0.75 % of posted invoices fully, 0.25 % one line.
    sample = rng.sample([p[0] for p in posted], k=len(posted) // 100)
    for k, invoice_id in enumerate(sample):
        invoice = invoicing.get_invoice(invoice_id)
        if k % 4:
            credit_notes.create_credit_note(invoice, reason="Cancelled by the customer", mode="cancel")
        else:
            line = invoice.lines[0]
            note, _ = credit_notes.create_credit_note(invoice, lines=[{"line_id": line.id, "quantity": str(line.quantity)}],
                                                      reason="Returned part")
            invoicing.post_invoice(note)
        if k % 200 == 199:
            db.session.commit()
            db.session.expunge_all()
    db.session.commit()
    _progress(f"{len(sample):,} credit notes")
    create_token(create_user("bench_lists_api", "back_office", PASSWORD), name="bench")
    create_user("bench_lists_bo", "back_office", PASSWORD)
    db.session.commit()


# -- the cases ---------------------------------------------------------------------------------------------------
def cases(app) -> dict[str, list[tuple[str, str]]]:
    """Per list: (label, query string) for every filter, every sort, first and a deep page."""
    from sqlalchemy import func, select

    from addons.field_service.models import ServiceOrder
    from addons.invoicing.models import Invoice
    from addons.payments.models import Payment, PaymentAllocation
    from core.extensions import db
    from core.models import Partner
    with app.app_context():
        # A customer with many invoices, one of their names as search text, an invoice with payments.
        partner_id, partner_name = db.session.execute(
            select(Partner.id, Partner.name).join(Invoice, Invoice.partner_id == Partner.id)
            .group_by(Partner.id, Partner.name).order_by(func.count().desc()).limit(1)).one()
        number = db.session.scalar(select(Invoice.number).where(Invoice.number.is_not(None))
                                   .order_by(Invoice.id.desc()).limit(1))
        invoice_id = db.session.scalar(select(PaymentAllocation.invoice_id).order_by(PaymentAllocation.id.desc())
                                       .limit(1))
        n_invoices = db.session.scalar(select(func.count()).select_from(Invoice))
        n_payments = db.session.scalar(select(func.count()).select_from(Payment))
        n_orders = db.session.scalar(select(func.count()).select_from(ServiceOrder))
        technician = db.session.scalar(select(ServiceOrder.technician_id).where(
            ServiceOrder.technician_id.is_not(None)).limit(1))
    today = date.today()
    month = (today - timedelta(days=400)).replace(day=1)
    month_end = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    word = partner_name.split()[-1] if partner_name.split()[-1].isalpha() else partner_name.split()[0]
    deep_inv, deep_pay, deep_so = n_invoices // 50 // 2, n_payments // 50 // 2, n_orders // 50 // 2

    invoices = [("all", ""), ("deep page", f"page={deep_inv}")]
    for status in ("draft", "posted", "cancelled", "open", "overdue", "not_paid", "partial", "paid", "credited"):
        invoices.append((f"status={status}", f"status={status}"))
    invoices += [("state=posted", "state=posted"), ("payment_state=partial", "payment_state=partial"),
                 ("type=credit_note", "type=credit_note"), ("type=invoice", "type=invoice"),
                 ("customer", f"partner_id={partner_id}"), ("customer, overdue", f"partner_id={partner_id}&status=overdue"),
                 ("one month", f"date_from={month}&date_to={month_end}"), ("since a month", f"date_from={month}"),
                 ("overdue=1", "overdue=1"), ("overdue, deep page", "status=overdue&page=20"),
                 ("search number", f"q={number}"), ("search customer", f"q={word}"),
                 ("search, no match", "q=zzzz-no-such")]
    for key in ("date", "number", "due", "total", "amount_due", "customer"):
        invoices += [(f"sort={key}", f"sort={key}"), (f"sort=-{key}", f"sort=-{key}")]
    invoices += [("sort=customer, deep", f"sort=customer&page={deep_inv}"),
                 ("overdue, sort=-amount_due", "status=overdue&sort=-amount_due")]

    payments = [("all", ""), ("deep page", f"page={deep_pay}"), ("customer", f"partner_id={partner_id}"),
                ("method", "method=bank_transfer"), ("direction=outbound", "direction=outbound"),
                ("one month", f"date_from={month}&date_to={month_end}"), ("invoice", f"invoice_id={invoice_id}"),
                ("search reference", f"q=VIR {invoice_id}"), ("search customer", f"q={word}")]
    for key in ("date", "amount", "customer", "method", "reference", "id"):
        payments += [(f"sort={key}", f"sort={key}"), (f"sort=-{key}", f"sort=-{key}")]

    orders = [("all", ""), ("deep page", f"page={deep_so}")]
    for state in ("done", "invoiced", "scheduled"):
        orders.append((f"state={state}", f"state={state}"))
    orders += [("technician", f"technician_id={technician}"), ("customer", f"partner_id={partner_id}"),
               ("one month", f"date_from={month}&date_to={month_end}"), ("search customer", f"q={word}"),
               ("search, no match", "q=zzzz-no-such")]
    for key in ("number", "scheduled", "customer", "state"):
        orders += [(f"sort={key}", f"sort={key}"), (f"sort=-{key}", f"sort=-{key}")]
    return {"invoices": invoices, "payments": payments, "service-orders": orders,
            "_sizes": [("", f"{n_invoices:,} invoices, {n_payments:,} payments, {n_orders:,} service orders")]}


def _api_query(query: str) -> str:
    """The page's ?page=P becomes the API's offset (50 a page)."""
    parts = [p for p in query.split("&") if p]
    out = []
    for part in parts:
        key, _, value = part.partition("=")
        out.append(f"offset={(int(value) - 1) * 50}" if key == "page" else part)
    return "&".join(out)






def _time(client, url: str, repeat: int, headers=None) -> list[float]:
    response = client.get(url, headers=headers)  # warm: templates compiled, caches filled
    assert response.status_code == 200, (url, response.status_code, response.get_data(as_text=True)[:300])
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200, url
    return samples


def _fmt(samples: list[float]) -> str:
    return (f"p50 {percentile(samples, 50) * 1000:6.1f}  p95 {percentile(samples, 95) * 1000:6.1f}  "
            f"max {max(samples) * 1000:6.1f}  stdev {statistics.pstdev(samples) * 1000:5.1f} ms")


def measure(n: int, repeat: int) -> list[dict]:
    app = database(n)
    backend = "PostgreSQL" if os.environ.get("KONTOR_BENCH_DATABASE_URL") else "SQLite"
    every = cases(app)
    browser, token = logged_in_client(app, "bench_lists_bo", PASSWORD), api_token(app, "bench_lists_api")
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    from core.app import freeze_startup_objects
    freeze_startup_objects()  # as a serving process does (run.py serve, gunicorn.conf.py)
    rows = [row(f"lists, {backend}, size", every.pop("_sizes")[0][1] + ", statistics: ANALYZE", f"{n:,} invoices")]
    worst: list[float] = []
    pages = {"invoices": ("/invoices", "/api/v1/invoices"), "payments": ("/payments", "/api/v1/payments"),
             "service-orders": ("/service-orders", "/api/v1/service-orders")}
    for name, items in every.items():
        page_url, api_url = pages[name]
        for label, query in items:
            page = _time(browser, f"{page_url}?{query}", repeat)
            rows.append(row(f"{name} page  {label}", _fmt(page), TARGET))
            worst += page
            if name == "payments" and "sort=" in query:
                continue  # the payments API has no sort parameter
            api_samples = _time(api, f"{api_url}?{_api_query(query)}", repeat, headers)
            rows.append(row(f"{name} API   {label}", _fmt(api_samples), TARGET))
            worst += api_samples
    over = [r for r in rows[1:] if float(r["figure"].split("p95")[1].split()[0]) >= 50]
    rows.append(row(f"lists, {backend}, {n:,}: all requests", _fmt(worst) + f", {len(over)} cases over 50 ms",
                    TARGET))
    return rows


def main(sizes: list[int] | None = None, repeat: int | None = None) -> list[dict]:
    repeat = repeat or int(os.environ.get("KONTOR_BENCH_REPEAT", "15"))
    rows = []
    for n in sizes or [100000]:
        rows += measure(n, repeat)
    return rows


if __name__ == "__main__":
    print_rows(main([int(a) for a in sys.argv[1:]] or None))
