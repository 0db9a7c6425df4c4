"""Reports and the journal-entries list over a large, valid ledger (bench/reports_data.py builds it once).

    .venv/bin/python bench/bench_reports.py [LINES ...]        default 1000000; e.g. 200000 1000000
    KONTOR_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench   for PostgreSQL

Before timing anything it proves the data valid: ``ledger verify`` passes, no posted entry is unbalanced, the
trial balance's debits equal its credits, and there are open invoices. Then each figure is p50/p95/max/stdev
over repeats (a warm-up call first, not counted).
"""
from __future__ import annotations

import os
import sys
import time
from datetime import date, timedelta

from common import analyze_tables, api_token, logged_in_client, print_rows, row, summary_ms
from reports_data import ledger_app

REPEATS = int(os.environ.get("KONTOR_BENCH_REPEATS", "20"))
ONLY = os.environ.get("KONTOR_BENCH_ONLY", "")  # time only the figures whose name contains this


def _times(fn, repeats: int = REPEATS) -> list[float]:
    fn()  # warm-up: caches, first compile
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples






def _check_valid(app) -> str:
    from addons.accounting import chain, reports, services
    with app.app_context():
        start = time.perf_counter()
        result = chain.verify()
        seconds = time.perf_counter() - start
        assert result["ok"], f"ledger verify failed: {result}"
        assert services.unbalanced_entry_count() == 0, "unbalanced posted entries"
        tb = reports.trial_balance()
        assert tb["total_debit"] == tb["total_credit"], "trial balance not balanced"
        aged = reports.aged_receivables()
        assert aged["totals"]["total"] > 0, "no open receivable"
    return (f"verify ok ({result['entries_checked']} entries, {seconds:.1f} s cold), no unbalanced entry, "
            f"trial balance {tb['total_debit']} = {tb['total_credit']}")


def measure(lines: int) -> list[dict]:
    app, info = ledger_app(lines)
    from core.install import install
    install(app)  # a cached database gets this branch's migrations (indexes) too
    analyze_tables(app, vacuum=True)  # statistics (and PostgreSQL's visibility map) as a running ledger has them
    backend = "PostgreSQL" if os.environ.get("KONTOR_BENCH_DATABASE_URL") else "SQLite"
    tag = f"[{backend}, {info['journal_lines']:,} lines]"
    rows = [row(f"ledger data {tag}",
                f"{info['journal_lines']:,} lines, {info['journal_entries']:,} entries, "
                f"{info['posted_invoices']:,} posted invoices ({info['open_invoices']:,} open), "
                f"{info['reconciliations']:,} reconciliations, {info['partners']} customers; "
                f"built in {info['build_seconds']} s; statistics: {'VACUUM ' if backend == 'PostgreSQL' else ''}"
                "ANALYZE", "~1,000,000 lines, >= 100,000 open invoices"),
            row(f"ledger valid {tag}", _check_valid(app), "verify ok, balanced")]

    from sqlalchemy import func, select

    from addons.accounting import chain, reports
    from addons.accounting.models import Account, JournalEntry, JournalLine
    from core.extensions import db
    today = date.today()
    year_from, year_to = date(today.year, 1, 1), date(today.year, 12, 31)
    month_from = today - timedelta(days=120)
    month_to = month_from + timedelta(days=30)

    def timed(name: str, fn, target: str, repeats: int = REPEATS) -> None:
        if ONLY not in name:
            return
        with app.app_context():
            samples = _times(lambda: (fn(), db.session.rollback()), repeats)
        rows.append(row(f"{name} {tag}", summary_ms(samples), target))

    with app.app_context():
        busiest = db.session.execute(
            select(Account.code, func.count()).join(JournalLine, JournalLine.account_id == Account.id)
            .group_by(Account.code).order_by(func.count().desc()).limit(1)).one()
        partner_id = db.session.scalar(select(JournalLine.partner_id).where(JournalLine.partner_id.is_not(None))
                                       .order_by(JournalLine.id.desc()).limit(1))
        account_ids = dict(db.session.execute(select(Account.code, Account.id)).all())
        some_ref = db.session.scalar(select(JournalEntry.ref).order_by(JournalEntry.id.desc()).limit(1))
        origin_id = db.session.scalar(select(JournalEntry.origin_id).where(JournalEntry.origin_type == "invoice")
                                      .order_by(JournalEntry.id.desc()).limit(1))
    code, count = busiest
    last_offset = max(0, (count - 1) // 100 * 100)

    timed("trial balance, all dates", lambda: reports.trial_balance(), "< 0.5 s", 10)
    timed(f"trial balance, year {today.year}", lambda: reports.trial_balance(year_from, year_to), "< 0.5 s", 10)
    timed("trial balance, 31 days", lambda: reports.trial_balance(month_from, month_to), "< 0.5 s", 10)
    timed("aged receivables", lambda: reports.aged_receivables(), "< 1 s", 10)
    timed(f"general ledger {code} ({count:,} lines), first page", lambda: reports.general_ledger(code), "< 100 ms")
    timed(f"general ledger {code}, last page (offset {last_offset:,})",
          lambda: reports.general_ledger(code, offset=last_offset), "< 100 ms")
    timed(f"general ledger {code}, 31 days, first page",
          lambda: reports.general_ledger(code, month_from, month_to), "< 100 ms")
    timed(f"partner ledger, customer {partner_id}, first page", lambda: reports.partner_ledger(partner_id),
          "< 100 ms")
    timed("partner ledger, all customers, first page", lambda: reports.partner_ledger(), "< 100 ms")
    timed(f"ledger verify ({os.cpu_count()} processes, as run.py ledger verify)",
          lambda: chain.verify(jobs=os.cpu_count() or 1), "< 10 s", 3)

    # The journal-entries list: the page (HTML, logged in) and the API, with each filter and sort.
    browser = logged_in_client(app, "bench", "orchard-quietly-41")
    api = app.test_client()
    headers = {"Authorization": f"Bearer {api_token(app, 'bench')}"}
    from core.app import freeze_startup_objects
    freeze_startup_objects()  # as a serving process does (run.py serve, gunicorn.conf.py)
    cases = {
        "no filter": "", "journal=INV": "journal=INV", "journal=BNK": "journal=BNK",
        "date range 31 days": f"date_from={month_from}&date_to={month_to}", "state=posted": "state=posted",
        "account=512000": "account=512000", "account=411000": "account=411000",
        f"partner_id={partner_id}": f"partner_id={partner_id}",
        "origin invoice id": f"origin_type=invoice&origin_id={origin_id}", "q=ref": f"q={some_ref}",
        "sort=number": "sort=number", "sort=-number": "sort=-number", "sort=date": "sort=date",
        "sort=journal": "sort=journal", "sort=ref": "sort=ref", "sort=state": "sort=state",
        "journal+dates+sort=number": f"journal=INV&date_from={month_from}&date_to={month_to}&sort=number",
        "page 50": "page=50", "offset 2,500": "offset=2500",
    }
    del account_ids
    for label, query in cases.items():
        html_query = query.replace("offset=2500", "page=51")
        api_query = query.replace("page=50", "offset=2450")

        def page(q=html_query):
            response = browser.get(f"/accounting/entries?{q}")
            assert response.status_code == 200, response.status_code

        def listing(q=api_query):
            response = api.get(f"/api/v1/journal-entries?{q}", headers=headers)
            assert response.status_code == 200, response.get_data(as_text=True)[:300]

        if ONLY not in f"entries {label}":
            continue
        samples = _times(page)
        rows.append(row(f"entries page, {label} {tag}", summary_ms(samples), "p95 < 50 ms"))
        samples = _times(listing)
        rows.append(row(f"entries API, {label} {tag}", summary_ms(samples), "p95 < 50 ms"))
    return rows


def main(sizes: list[int] | None = None) -> list[dict]:
    rows = []
    for lines in sizes or [1_000_000]:
        rows += measure(lines)
    load = os.getloadavg()
    rows.append(row("load average at the end", f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (2 cores)", "idle"))
    return rows


if __name__ == "__main__":
    print_rows(main([int(a) for a in sys.argv[1:]] or None))
