"""Every query the journal-entries list (page and API, each filter and sort) and the reports run reads the big
tables (accounting_lines, accounting_entries) through an index, checked with the database's own EXPLAIN.

The statements are the ones the code really sends: captured with a cursor listener while the pages, the API and
the report functions run, then explained with their parameters.

SQLite: EXPLAIN QUERY PLAN; a step "SCAN accounting_lines" or "SCAN accounting_entries" without "USING ... INDEX"
is a full table scan and fails the test.
PostgreSQL: EXPLAIN with ``enable_seqscan = off``. A test database holds a few rows, where a sequential scan is
always the cheapest plan, so without it the planner would hide whether an index could serve the query; with it off,
the planner still falls back to a "Seq Scan" when no index can serve the query, and that is what fails the test.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from core.extensions import db

BIG = ("accounting_lines", "accounting_entries")
# q, the free-text search (number or ref contains the text), goes through its trigram index (core.search: pg_trgm on
# PostgreSQL, an FTS5 trigram table on SQLite) from 3 characters on.
FILTERS = ["", "q=INV/2026", "q=draft", "q=INV&journal=INV", "journal=INV", "date_from=2026-03-01&date_to=2026-03-31", "state=posted", "state=draft",
           "account=411000", "partner_id={partner}", "origin_type=invoice&origin_id={invoice}",
           "journal=INV&date_from=2026-01-01&date_to=2026-12-31&account=411000&partner_id={partner}&state=posted"]
SORTS = ["", "date", "-date", "number", "-number", "journal", "-journal", "ref", "-ref", "state", "-state"]


class Captured:
    def __init__(self):
        self.statements: list[tuple[str, object]] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if not executemany and statement.lstrip().upper().startswith(("SELECT", "WITH")) and \
                any(t in statement for t in BIG):
            self.statements.append((statement, parameters))


@pytest.fixture
def captured(app):
    listener = Captured()
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", listener)
    yield listener
    event.remove(engine, "before_cursor_execute", listener)


def _full_scans(app, statements) -> list[str]:
    """The statements whose plan reads a big table without an index, with that plan."""
    bad = []
    with app.app_context():
        conn = db.session.connection()
        dialect = conn.dialect.name
        raw = conn.connection.dbapi_connection
        cursor = raw.cursor()
        if dialect == "postgresql":
            cursor.execute("SET enable_seqscan = off")
        for statement, parameters in statements:
            if dialect == "sqlite":
                cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
                plan = [row[-1] for row in cursor.fetchall()]
                scans = [p for p in plan if re.match(rf"SCAN ({'|'.join(BIG)})\b(?!.*USING)", p)]
            else:
                cursor.execute("EXPLAIN " + statement, parameters)
                plan = [row[0] for row in cursor.fetchall()]
                scans = [p for p in plan if re.search(rf"Seq Scan on ({'|'.join(BIG)})\b", p)]
            if scans:
                bad.append(f"{statement}\n  params {parameters}\n  plan: {plan}")
        cursor.close()
        db.session.rollback()
    return bad


@pytest.fixture
def ledger(books, api):
    """A few posted invoices, a payment, a credit note and a draft manual entry: every filter finds something."""
    first = books.invoice(on="2026-01-10")
    books.invoice([{"product_id": books.part["id"], "quantity": "2"}], on="2026-03-01")
    third = books.invoice(on="2026-03-15")
    books.pay(first, "100.00", on="2026-02-01")
    books.office.post(f"/invoices/{third['id']}/credit-notes", json={"mode": "cancel", "date": "2026-03-20"})
    r = books.books.post("/journal-entries", json={"date": "2026-03-25", "ref": "Draft", "lines": [
        {"account_code": "512000", "debit": "10.00"}, {"account_code": "471000", "credit": "10.00"}]})
    assert r.status_code == 201, r.json
    return {"partner": books.partner["id"], "invoice": first["id"]}


def test_the_journal_entries_list_uses_an_index_for_every_filter_and_sort(app, ledger, books, login, captured):
    browser = login("bookkeeper")
    for filters in FILTERS:
        for sort in SORTS:
            query = "&".join(p for p in (filters.format(**ledger), f"sort={sort}" if sort else "") if p)
            assert browser.get(f"/accounting/entries?{query}").status_code == 200, query
            r = books.books.get(f"/journal-entries?{query}")
            assert r.status_code == 200, (query, r.json)
        assert browser.get(f"/accounting/entries?{filters.format(**ledger)}&page=2").status_code == 200
        assert books.books.get(f"/journal-entries?{filters.format(**ledger)}&offset=50").status_code == 200
        # A deep page: its ids from an index, then its rows by primary key (core.listing.fetch_page).
        assert browser.get(f"/accounting/entries?{filters.format(**ledger)}&page=1001").status_code == 200
        assert books.books.get(f"/journal-entries?{filters.format(**ledger)}&offset=50000").status_code == 200
    assert len(captured.statements) >= 4 * len(FILTERS) * len(SORTS)
    bad = _full_scans(app, captured.statements)
    assert not bad, "full scans of a big table:\n" + "\n\n".join(bad[:5])


def test_the_search_finds_entries_by_number_and_reference(app, ledger, books):
    everything = books.books.get("/journal-entries?limit=500").json["items"]
    numbers = [e["number"] for e in everything if e["number"]]
    assert numbers
    for q in (numbers[0], numbers[0].lower()[2:], "Draft", "raf", "%", "zzz-none"):
        found = {e["id"] for e in books.books.get("/journal-entries", query_string={"q": q, "limit": 500}).json["items"]}
        assert found == {e["id"] for e in everything if q.strip().lower() in ((e["number"] or "") + "\0" + e["ref"]).lower()}, q


def test_the_reports_use_an_index(app, ledger, books, captured):
    partner = ledger["partner"]
    urls = ["/reports/trial-balance", "/reports/trial-balance?date_from=2026-03-01&date_to=2026-03-31",
            "/reports/general-ledger", "/reports/general-ledger?account=411000",
            "/reports/general-ledger?account=411000&date_from=2026-02-01&date_to=2026-12-31&limit=2&offset=2",
            "/reports/partner-ledger", f"/reports/partner-ledger?partner_id={partner}&date_from=2026-02-01",
            f"/reports/partner-ledger?partner_id={partner}&limit=1&offset=2",
            # a page in the account's second half: read from its end (reports._rows, _before)
            "/reports/general-ledger?account=411000&limit=1&offset=4",
            "/reports/aged-receivables?as_of=2026-04-30", "/ledger/verify"]
    for url in urls:
        r = books.books.get(url)
        assert r.status_code == 200, (url, r.json)
    assert len(captured.statements) >= len(urls)
    bad = _full_scans(app, captured.statements)
    assert not bad, "full scans of a big table:\n" + "\n\n".join(bad[:5])


def test_the_check_itself_fails_on_a_full_scan(app, ledger, captured):
    """The test above can fail: a filter on a column without an index is reported."""
    with app.app_context():
        db.session.execute(db.text("SELECT count(*) FROM accounting_lines WHERE label = 'x'")).scalar()
        db.session.rollback()
    assert _full_scans(app, captured.statements)


def _plans(app, statements) -> list[str]:
    """Each statement's plan as one text. SQLite: EXPLAIN QUERY PLAN. PostgreSQL: EXPLAIN with sequential scans,
    sorts and hash aggregates off: over a few rows sorting is the cheapest, so only with it off does the plan show
    whether an index can give the order (a "Sort" is left when none can)."""
    plans = []
    with app.app_context():
        conn = db.session.connection()
        cursor = conn.connection.dbapi_connection.cursor()
        if conn.dialect.name == "postgresql":
            for setting in ("enable_seqscan", "enable_sort", "enable_hashagg"):
                cursor.execute(f"SET {setting} = off")
        for statement, parameters in statements:
            prefix = "EXPLAIN QUERY PLAN " if conn.dialect.name == "sqlite" else "EXPLAIN "
            cursor.execute(prefix + statement, parameters)
            plans.append(" / ".join(str(row[-1] if conn.dialect.name == "sqlite" else row[0])
                                    for row in cursor.fetchall()))
        cursor.close()
        db.session.rollback()
    return plans


def test_the_account_filter_counts_from_the_lines_index_without_a_sort(app, ledger, books, captured):
    """Filtered by account alone, the total is (SQLite) the distinct entry ids of the account's lines, read in order
    from the (account_id, entry_id) index: no probe per entry, no sort or hash to de-duplicate them; (PostgreSQL)
    the number the lines' triggers keep, read by account from accounting_account_entries, no line read."""
    assert books.books.get("/journal-entries?account=411000").status_code == 200
    with app.app_context():
        dialect = db.engine.dialect.name
    if dialect == "postgresql":
        assert not [s for s, _ in captured.statements if "count(" in s.lower()]  # no count over lines or entries
        from addons.accounting.queries import entry_count
        with app.app_context():
            compiled = entry_count({"account": "411000"}).compile(db.engine)
        assert "accounting_account_entries" in str(compiled) and "accounting_lines" not in str(compiled)
        plan = _plans(app, [(str(compiled), compiled.params)])[0]
        assert "ix_accounting_account_entries_account_id" in plan, plan
        return
    counts = [(s, p) for s, p in captured.statements if "count(" in s.lower()]
    assert len(counts) == 1 and "DISTINCT" in counts[0][0] and "accounting_entries" not in counts[0][0]
    plan = _plans(app, counts)[0]
    assert "ix_accounting_lines_account" in plan, plan
    assert "TEMP B-TREE" not in plan and "HashAggregate" not in plan and "Sort" not in plan, plan


def test_sorted_by_journal_each_journal_is_read_in_id_order_from_its_index(app, ledger, books, captured):
    """sort=journal: no statement sorts the entries; each journal's page comes from (journal_id, id) in order."""
    for sort in ("journal", "-journal"):
        assert books.books.get(f"/journal-entries?sort={sort}").status_code == 200
    pages = [(s, p) for s, p in captured.statements
             if "count(" not in s.lower() and "accounting_entries.journal_id =" in s]
    assert len(pages) >= 2
    for plan in _plans(app, pages):
        assert "ix_accounting_entries_journal_id" in plan, plan
        assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan
