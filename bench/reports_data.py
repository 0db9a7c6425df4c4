"""A valid ledger of about N journal lines for the report benchmarks, made through the services' own paths.

    demo data (core.install.load_demo, as ``run.py demo --orders K``)
    -> field-service batch invoicing, posted (billing.invoice_orders, as ``run.py service-orders invoice
       --all-done --post``), one chunk per day over the last year, dates increasing (invoices are chronological)
    -> payments (payments.services.pay_invoice: entry, chain, reconciliation as the app makes them) of part of the
       invoices about 30 days after their date, so receivables are partly paid, partly open and of every age.

Built once and cached: SQLite ``bench/out/reports_<lines>.db``; PostgreSQL ``bench_reports_<lines>`` (under
KONTOR_BENCH_DATABASE_URL). A sidecar ``bench/out/reports_<backend>_<lines>.json`` marks a finished build and
holds its sizes; without it the database is built again from scratch.
"""
from __future__ import annotations

import json
import os
import sys
import time
from datetime import date, timedelta

from common import OUT, database_url

LINES_PER_INVOICE = 4  # receivable, labour income, parts income, VAT
PAY_EVERY = 20         # of every 20 invoices, PAID of them are paid (each payment runs the full service path: ~25 ms)
PAID = 1
PAY_AFTER = 30         # ... this many days after their date (invoices of the last 30 days are all open)
DAYS = 365


def plan(lines: int) -> dict:
    """How many invoices give about ``lines`` journal lines, with the payments' 2 lines each."""
    per_invoice = LINES_PER_INVOICE - 0.02  # measured: 4.00 lines an invoice (payments add few); aim just above N
    return {"invoices": int(lines / per_invoice)}


def _backend() -> str:
    return "pg" if os.environ.get("KONTOR_BENCH_DATABASE_URL") else "sqlite"


def _marker(lines: int):
    return OUT / f"reports_{_backend()}_{lines}.json"


def _url_if_built(lines: int) -> str | None:
    marker = _marker(lines)
    if not marker.exists():
        return None
    info = json.loads(marker.read_text())
    return info["url"]


def _app(url: str):
    from core.app import create_app
    from core.config import Config
    os.environ["KONTOR_DATABASE_URL"] = url
    config = Config()
    config.SQLALCHEMY_DATABASE_URI = url
    return create_app(config)


def ledger_app(lines: int, log=print):
    """``(app, info)`` for a finished ledger of about ``lines`` lines, built now if not cached."""
    url = _url_if_built(lines)
    if url:
        return _app(url), json.loads(_marker(lines).read_text())
    return build(lines, log)


def build(lines: int, log=print):
    from sqlalchemy import select

    from core.extensions import db
    from core.install import install, load_demo
    from core.security import create_user

    OUT.mkdir(parents=True, exist_ok=True)
    _marker(lines).unlink(missing_ok=True)
    url = database_url(f"reports_{lines}")
    app = _app(url)
    install(app)
    n = plan(lines)["invoices"]
    started = time.perf_counter()
    with app.app_context():
        create_user("bench", "admin", "orchard-quietly-41")
        load_demo(app, n)
        from addons.field_service.billing import done_order_ids, invoice_orders
        order_ids = done_order_ids()
        db.session.commit()
    log(f"  demo: {n} done orders in {time.perf_counter() - started:.0f} s")

    from addons.invoicing.models import Invoice
    from addons.payments import services as payments
    first_day = date.today() - timedelta(days=DAYS)
    per_day = -(-len(order_ids) // DAYS)
    invoiced_on: dict[date, list[int]] = {}
    t0 = time.perf_counter()
    paid = 0
    for d in range(DAYS):
        day = first_day + timedelta(days=d)
        chunk = order_ids[d * per_day:(d + 1) * per_day]
        with app.app_context():
            if chunk:
                result = invoice_orders(chunk, post=True, invoice_date=day, light=True)
                if result.refused:
                    raise SystemExit(f"invoicing refused: {result.refused[:3]}")
                invoiced_on[day] = [i.id for i in result.invoices]
            # Once a week, each customer pays PAID of every PAY_EVERY of its invoices of PAY_AFTER+ days ago, with
            # one payment allocated to them (register_payment with allocations, as POST /payments does).
            if d % 7 == 6:
                due = [i for past in sorted(invoiced_on) if past <= day - timedelta(days=PAY_AFTER)
                       for i in invoiced_on.pop(past)]
                chosen = [i for position, i in enumerate(due) if position % PAY_EVERY < PAID]
                by_partner: dict[int, list] = {}
                for invoice_id, partner_id, amount in db.session.execute(
                        select(Invoice.id, Invoice.partner_id, Invoice.amount_due)
                        .where(Invoice.id.in_(chosen)).order_by(Invoice.id)) if chosen else []:
                    by_partner.setdefault(partner_id, []).append({"invoice_id": invoice_id, "amount": amount})
                for partner_id, allocations in sorted(by_partner.items()):
                    total = sum(a["amount"] for a in allocations)
                    payments.register_payment(partner_id, total, on=day, method="bank_transfer",
                                              reference=f"BANK-{d}-{partner_id}", allocations=allocations)
                    paid += len(allocations)
            db.session.commit()
            db.session.expunge_all()
        if d % 30 == 29:
            log(f"  day {d + 1}/{DAYS}: {(d + 1) * per_day} invoices, {paid} payments, "
                f"{time.perf_counter() - t0:.0f} s")
    info = {"url": url, "lines_asked": lines, "build_seconds": round(time.perf_counter() - started)}
    with app.app_context():
        info.update(sizes())
    _marker(lines).write_text(json.dumps(info, indent=1, default=str))
    log(f"  built in {info['build_seconds']} s: {info}")
    return app, info


def sizes() -> dict:
    """Row counts of what the reports read (in an app context)."""
    from sqlalchemy import func, select

    from addons.accounting.models import JournalEntry, JournalLine, Reconciliation
    from addons.invoicing.models import Invoice
    from core.extensions import db
    from core.models import Partner
    count = lambda q: db.session.scalar(q) or 0  # noqa: E731
    return {
        "journal_lines": count(select(func.count()).select_from(JournalLine)),
        "journal_entries": count(select(func.count()).select_from(JournalEntry)),
        "reconciliations": count(select(func.count()).select_from(Reconciliation)),
        "posted_invoices": count(select(func.count()).select_from(Invoice).where(Invoice.state == "posted")),
        "open_invoices": count(select(func.count()).select_from(Invoice).where(Invoice.state == "posted",
                                                                               Invoice.amount_due > 0)),
        "partners": count(select(func.count()).select_from(Partner)),
    }


if __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    build(size)
