"""A posted invoice, its lines, its journal entry and the entry's lines never change: not through the pages, the
API, the ORM or raw SQL (database triggers: invoicing_0002, accounting_0001). Only the settlement columns of the
invoice move. (What a superuser changes after disabling a trigger, ``ledger verify`` names:
tests/addons/accounting/test_posted_entries_are_immutable.py::test_tampering_breaks_the_chain_and_verify_names_the_entry.)"""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import Boolean, Date, DateTime, Integer, Numeric, String, Text, TypeDecorator, inspect, select, text
from sqlalchemy.exc import DBAPIError

from addons.accounting.models import JournalEntry, JournalLine
from addons.invoicing.guards import IMMUTABLE
from addons.invoicing.models import Invoice, InvoiceLine
from core.errors import DomainError
from core.extensions import db

SETTLEMENT = ("amount_paid", "amount_credited", "amount_due", "payment_state", "credit_applied",
              "journal_entry_id", "sent_at")


def _rows(invoice_id: int) -> dict:
    """Everything stored about the invoice, its lines, its entry and the entry's lines."""
    def fetch(sql, **params):
        return [tuple(r) for r in db.session.execute(text(sql), params)]
    invoice = fetch("SELECT * FROM invoicing_invoices WHERE id = :i", i=invoice_id)
    entry_id = db.session.scalar(text("SELECT journal_entry_id FROM invoicing_invoices WHERE id = :i"),
                                 {"i": invoice_id})
    return {"invoice": invoice,
            "lines": fetch("SELECT * FROM invoicing_invoice_lines WHERE invoice_id = :i ORDER BY id", i=invoice_id),
            "entry": fetch("SELECT * FROM accounting_entries WHERE id = :e", e=entry_id),
            "entry_lines": fetch("SELECT * FROM accounting_lines WHERE entry_id = :e ORDER BY id", e=entry_id)}


def _snapshot(app, invoice_id):
    with app.app_context():
        rows = _rows(invoice_id)
        db.session.rollback()
        return rows


def _bind(value):
    return str(value) if isinstance(value, Decimal) else value


def _other_value(column, current):
    """A value of the column's type that differs from ``current``."""
    kind = column.type.impl if isinstance(column.type, TypeDecorator) else column.type  # money: ExactDecimal
    if isinstance(kind, Boolean):
        return not current
    if isinstance(kind, Integer):
        return (current or 0) + 7
    if isinstance(kind, Numeric):
        return (current or Decimal(0)) + Decimal("1.5")
    if isinstance(kind, DateTime):
        return datetime(2020, 1, 2, tzinfo=timezone.utc)
    if isinstance(kind, Date):
        return date(2020, 1, 2)
    if isinstance(kind, (String, Text)):
        limit = getattr(kind, "length", None) or 10
        return ("Z" if (current or "")[:1] != "Z" else "Y") * min(limit, 3)
    raise AssertionError(f"no test value for {column}")


@pytest.fixture
def posted(shop, app):
    """A posted invoice with two lines, partly paid (so it has settlement rows too), and a draft beside it."""
    inv = shop.invoice(lines=[{"description": "Labour", "quantity": "2", "unit_price": "60.00", "tax_id": shop.vat20},
                              {"description": "Valve", "quantity": "4", "unit_price": "25.00",
                               "tax_id": shop.no_tax}])
    shop.pay(inv["id"], "50.00")
    draft = shop.invoice(post=False)
    return {"id": inv["id"], "draft_id": draft["id"], "entry_id": shop.a.get(f"/invoices/{inv['id']}").json[
        "journal_entry_id"], "other_partner": shop.customer("Martin SA")}


def test_the_pages_refuse_every_change(posted, login, app):
    before = _snapshot(app, posted["id"])
    admin = login("admin")
    inv, line_ids = posted["id"], [r[0] for r in before["lines"]]
    edit = {"partner_id": posted["other_partner"], "invoice_date": "2020-01-02", "payment_terms_days": "3",
            "notes": "changed", "line-0-id": str(line_ids[0]), "line-0-description": "X", "line-0-quantity": "99",
            "line-0-unit_price": "1.00"}
    for url, data in [(f"/invoices/{inv}/edit", edit), (f"/invoices/{inv}/delete", {}),
                      (f"/invoices/{inv}/delete", {"cancel_origin": "y"}), (f"/invoices/{inv}/post", {}),
                      (f"/invoices/{inv}/invoice-externally", {}),
                      (f"/entries/{posted['entry_id']}/delete", {}), (f"/entries/{posted['entry_id']}/post", {})]:
        r = admin.post(url, data=data)
        assert r.status_code in (302, 303, 404, 409), (url, r.status_code)
        assert _snapshot(app, inv) == before, url


@pytest.mark.parametrize("field,value", [
    ("partner_id", None), ("invoice_date", "2020-01-02"), ("due_date", "2020-02-02"), ("payment_terms_days", 3),
    ("notes", "changed"), ("lines", []), ("lines", "one"), ("lines", "add")])
def test_the_api_refuses_every_change(posted, shop, app, field, value):
    before = _snapshot(app, posted["id"])
    if field == "partner_id":
        value = posted["other_partner"]
    if field == "lines" and value == "one":
        value = [{"id": before["lines"][0][0], "quantity": "99", "unit_price": "1.00", "description": "X"}]
    elif field == "lines" and value == "add":
        value = [{"id": r[0]} for r in before["lines"]] + [{"description": "more", "quantity": "1",
                                                            "unit_price": "5.00"}]
    r = shop.a.patch(f"/invoices/{posted['id']}", json={field: value})
    assert r.status_code == 409 and r.json["error"]["code"], r.json
    assert _snapshot(app, posted["id"]) == before


def test_the_api_refuses_delete_repost_and_entry_changes(posted, shop, app):
    before = _snapshot(app, posted["id"])
    for method, url in [("delete", f"/invoices/{posted['id']}"),
                        ("delete", f"/invoices/{posted['id']}?cancel_origin=true"),
                        ("post", f"/invoices/{posted['id']}/post"),
                        ("post", f"/invoices/{posted['id']}/invoice-externally"),
                        ("delete", f"/journal-entries/{posted['entry_id']}"),
                        ("post", f"/journal-entries/{posted['entry_id']}/post")]:
        r = getattr(shop.a, method)(url)
        assert r.status_code == 409, (url, r.status_code, r.json)
    assert _snapshot(app, posted["id"]) == before


def _orm_targets(invoice_id):
    invoice = db.session.get(Invoice, invoice_id)
    entry = db.session.get(JournalEntry, invoice.journal_entry_id)
    yield from ((invoice, name) for name in IMMUTABLE)
    for line in invoice.lines:
        yield from ((line, c.key) for c in inspect(InvoiceLine).column_attrs if c.key != "id")
    yield from ((entry, c.key) for c in inspect(JournalEntry).column_attrs if c.key != "id")
    for line in entry.lines:
        yield from ((line, c.key) for c in inspect(JournalLine).column_attrs if c.key != "id")


def test_the_orm_refuses_every_field(posted, app):
    before = _snapshot(app, posted["id"])
    with app.app_context():
        targets = [(type(obj), obj.id, name) for obj, name in _orm_targets(posted["id"])]
        db.session.rollback()
        assert len(targets) > 40
        for model, obj_id, name in targets:
            obj = db.session.get(model, obj_id)
            column = inspect(model).column_attrs[name].columns[0]
            setattr(obj, name, _other_value(column, getattr(obj, name)))
            with pytest.raises(DomainError):
                db.session.flush()
            db.session.rollback()
        for model, obj_id in {(m, i) for m, i, _ in targets}:
            db.session.delete(db.session.get(model, obj_id))
            with pytest.raises(DomainError):
                db.session.flush()
            db.session.rollback()
        invoice = db.session.get(Invoice, posted["id"])
        invoice.lines.append(InvoiceLine(description="sneaked in", quantity=1, unit_price=1))
        with pytest.raises(DomainError):
            db.session.flush()
        db.session.rollback()
    assert _snapshot(app, posted["id"]) == before


def _sql_targets(invoice_id, entry_id):
    tables = {"invoicing_invoices": ("id = :i", IMMUTABLE),
              "invoicing_invoice_lines": ("invoice_id = :i", None),
              "accounting_entries": ("id = :e", None),
              "accounting_lines": ("entry_id = :e", None)}
    for table, (where, columns) in tables.items():
        model_table = db.metadata.tables[table]
        for column in model_table.columns:
            if column.name == "id" or (columns and column.name not in columns):
                continue
            yield table, where, column


def test_raw_sql_is_refused_by_the_database(posted, app):
    before = _snapshot(app, posted["id"])
    params = {"i": posted["id"], "e": posted["entry_id"]}
    with app.app_context():
        tried = 0
        for table, where, column in _sql_targets(posted["id"], posted["entry_id"]):
            current = db.session.execute(text(f"SELECT {column.name} FROM {table} WHERE {where}"), params).first()[0]
            value = _other_value(column, current)
            with pytest.raises(DBAPIError, match="posted"):
                db.session.execute(text(f"UPDATE {table} SET {column.name} = :v WHERE {where}"),
                                   {**params, "v": _bind(value)})
            db.session.rollback()
            tried += 1
        assert tried > 40
        for table, where in [("invoicing_invoice_lines", "invoice_id = :i"), ("invoicing_invoices", "id = :i"),
                             ("accounting_lines", "entry_id = :e"), ("accounting_entries", "id = :e")]:
            with pytest.raises(DBAPIError, match="posted"):
                db.session.execute(text(f"DELETE FROM {table} WHERE {where}"), params)
            db.session.rollback()
        with pytest.raises(DBAPIError, match="posted"):
            db.session.execute(text("INSERT INTO invoicing_invoice_lines (invoice_id, sequence, description, quantity,"
                                    " unit_price, tax_rate, amount_untaxed, amount_tax, amount_total)"
                                    " VALUES (:i, 99, 'sneaked in', 1, 1, 0, 1, 0, 1)"), params)
        db.session.rollback()
        # a line moved from a draft onto the posted invoice
        with pytest.raises(DBAPIError, match="posted"):
            db.session.execute(text("UPDATE invoicing_invoice_lines SET invoice_id = :i WHERE invoice_id = :d"),
                               {**params, "d": posted["draft_id"]})
        db.session.rollback()
    assert _snapshot(app, posted["id"]) == before


def test_bulk_writes_are_refused_by_the_database_too(posted, app):
    """core.bulk (COPY and UPDATE ... FROM unnest on PostgreSQL, executemany on SQLite) goes through the same
    row triggers: a batch job cannot add lines to a posted invoice or entry, nor change a posted invoice."""
    from addons.accounting.models import JournalLine
    from core.bulk import insert_rows, update_rows
    before = _snapshot(app, posted["id"])
    with app.app_context():
        account_id = db.session.scalar(text("SELECT account_id FROM accounting_lines WHERE entry_id = :e LIMIT 1"),
                                       {"e": posted["entry_id"]})
        attempts = [
            lambda: insert_rows(InvoiceLine.__table__, [{
                "invoice_id": posted["id"], "sequence": 99, "description": "sneaked in", "quantity": Decimal(1),
                "unit_price": Decimal(1), "tax_rate": Decimal(0), "amount_untaxed": Decimal(1),
                "amount_tax": Decimal(0), "amount_total": Decimal(1)}]),
            lambda: insert_rows(JournalLine.__table__, [{
                "entry_id": posted["entry_id"], "account_id": account_id, "label": "sneaked in",
                "debit": Decimal(1), "credit": Decimal(0)}]),
            lambda: update_rows(Invoice.__table__, [{"id": posted["id"], "amount_total": Decimal("1.00")}]),
        ]
        for attempt in attempts:
            with pytest.raises(DBAPIError, match="posted"):
                with db.session.begin_nested():
                    attempt()
            db.session.rollback()
    assert _snapshot(app, posted["id"]) == before


def test_one_statement_adding_lines_to_a_draft_and_a_posted_document_is_refused_whole(posted, app):
    """The lines' insert guard (a statement trigger on PostgreSQL, row triggers on SQLite) refuses the statement,
    so the draft's line does not stay either."""
    before = _snapshot(app, posted["id"])
    with app.app_context():
        draft_lines = db.session.scalar(text("SELECT count(*) FROM invoicing_invoice_lines WHERE invoice_id = :d"),
                                        {"d": posted["draft_id"]})
        with pytest.raises(DBAPIError, match="posted"):
            db.session.execute(text(
                "INSERT INTO invoicing_invoice_lines (invoice_id, sequence, description, quantity, unit_price, "
                "tax_rate, amount_untaxed, amount_tax, amount_total) "
                "VALUES (:d, 98, 'fine', 1, 1, 0, 1, 0, 1), (:i, 99, 'sneaked in', 1, 1, 0, 1, 0, 1)"),
                {"d": posted["draft_id"], "i": posted["id"]})
        db.session.rollback()
        assert db.session.scalar(text("SELECT count(*) FROM invoicing_invoice_lines WHERE invoice_id = :d"),
                                 {"d": posted["draft_id"]}) == draft_lines
        draft_entry = db.session.scalar(text("SELECT id FROM accounting_entries WHERE state = 'draft' LIMIT 1"))
        account = db.session.scalar(text("SELECT id FROM accounting_accounts WHERE code = '512000'"))
        if draft_entry is None:  # a draft entry of its own beside the posted one
            draft_entry = db.session.scalar(text(
                "INSERT INTO accounting_entries (journal_id, date, state, ref, created_at) "
                "SELECT journal_id, date, 'draft', 'draft', created_at FROM accounting_entries WHERE id = :e "
                "RETURNING id"), {"e": posted["entry_id"]})
            db.session.commit()
        with pytest.raises(DBAPIError, match="posted"):
            db.session.execute(text(
                "INSERT INTO accounting_lines (entry_id, account_id, label, debit, credit) "
                "VALUES (:d, :a, 'fine', 1, 0), (:e, :a, 'sneaked in', 1, 0)"),
                {"d": draft_entry, "e": posted["entry_id"], "a": account})
        db.session.rollback()
        assert not db.session.scalar(text("SELECT count(*) FROM accounting_lines WHERE entry_id = :d"),
                                     {"d": draft_entry})
    assert _snapshot(app, posted["id"]) == before


def test_settlement_columns_still_move_and_drafts_still_post(posted, app, shop):
    with app.app_context():
        for name in SETTLEMENT:
            column = db.metadata.tables["invoicing_invoices"].columns[name]
            current = db.session.execute(text(f"SELECT {name} FROM invoicing_invoices WHERE id = :i"),
                                         {"i": posted["id"]}).first()[0]
            if name == "payment_state":
                value = "paid"
            else:
                value = _other_value(column, current)
            db.session.execute(text(f"UPDATE invoicing_invoices SET {name} = :v WHERE id = :i"),
                               {"v": _bind(value), "i": posted["id"]})
            db.session.rollback()
        # a bulk draft -> posted UPDATE (as a batch would) passes the trigger
        db.session.execute(text("UPDATE invoicing_invoices SET state = 'posted', number = 'BULK/1' WHERE id = :d"),
                           {"d": posted["draft_id"]})
        db.session.rollback()
    # the regular path: the draft posts, is paid in full, then is settled
    assert shop.a.post(f"/invoices/{posted['draft_id']}/post").status_code == 200
    shop.pay(posted["draft_id"], "100.00")
    assert shop.a.get(f"/invoices/{posted['draft_id']}").json["payment_state"] == "paid"
    # and the posted one takes the rest of its payment
    shop.pay(posted["id"], "1000.00")
    with app.app_context():
        invoice = db.session.scalar(select(Invoice).where(Invoice.id == posted["id"]))
        assert invoice.amount_due == 0 and invoice.payment_state == "paid"
