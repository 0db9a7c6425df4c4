"""Money is exact on both databases and refused beyond what the ledger keeps (issue 16, item 1).

Before: SQLite got floats (SQLAlchemy's Numeric hands it REAL), so a line of 999999999999 × 999999999999.99 was
stored as 1.2e24 and broke the chain and the trial balance; sums were float sums. Now core.money.ExactDecimal
stores scaled integers on SQLite and every computed amount is checked against core.money.MAX_AMOUNT first."""
from __future__ import annotations

from decimal import Decimal

import pytest
from alembic import command
from sqlalchemy import Column, Integer, MetaData, Table, func, insert, select, text
from sqlalchemy.exc import DataError

from core.extensions import db
from core.install import alembic_config
from core.money import MAX_AMOUNT, MONEY, QUANTITY, ValueOutOfRange

HUGE_QUANTITY, HUGE_PRICE = "999999999999", "999999999999.99"


@pytest.fixture
def office(api):
    office = api("back_office")
    office.partner = office.post("/partners", json={"name": "Dupont SARL"}).json
    office.tax = office.get("/taxes").json["items"][0]
    return office


def _counts(app) -> tuple[int, int]:
    with app.app_context():
        return (db.session.scalar(text("SELECT count(*) FROM invoicing_invoices")),
                db.session.scalar(text("SELECT count(*) FROM invoicing_invoice_lines")))


def test_a_line_beyond_the_limit_is_refused_before_anything_is_written(app, office):
    before = _counts(app)
    r = office.post("/invoices", json={"partner_id": office.partner["id"], "lines": [
        {"description": "Too much", "quantity": HUGE_QUANTITY, "unit_price": HUGE_PRICE}]})
    assert r.status_code == 422, r.json
    assert r.json["error"]["code"] == "value_out_of_range" and "lines" in r.json["error"]["fields"]
    assert "999 999 999 999.99" in r.json["error"]["message"]
    assert _counts(app) == before


def test_lines_each_within_the_limit_whose_total_is_not_are_refused(app, office):
    line = {"description": "Big job", "quantity": "1", "unit_price": "900000000000.00"}
    before = _counts(app)
    r = office.post("/invoices", json={"partner_id": office.partner["id"], "lines": [line, line]})
    assert r.status_code == 422 and r.json["error"]["code"] == "value_out_of_range", r.json
    assert _counts(app) == before
    # at the limit exactly it is kept, to the cent
    r = office.post("/invoices", json={"partner_id": office.partner["id"], "lines": [
        {"description": "At the limit", "quantity": "1", "unit_price": str(MAX_AMOUNT)}]})
    assert r.status_code == 201 and r.json["amount_total"] == str(MAX_AMOUNT), r.json
    posted = office.post(f"/invoices/{r.json['id']}/post")
    assert posted.status_code == 200 and posted.json["amount_due"] == str(MAX_AMOUNT), posted.json


def test_editing_a_draft_past_the_limit_changes_nothing(app, office):
    draft = office.post("/invoices", json={"partner_id": office.partner["id"], "lines": [
        {"description": "Repair", "quantity": "2", "unit_price": "60.00"}]}).json
    r = office.patch(f"/invoices/{draft['id']}", json={"lines": [
        {"id": draft["lines"][0]["id"], "quantity": HUGE_QUANTITY, "unit_price": HUGE_PRICE}]})
    assert r.status_code == 422, r.json
    again = office.get(f"/invoices/{draft['id']}").json
    assert again["amount_untaxed"] == "120.00" and again["lines"][0]["quantity"] in ("2", "2.0000")


def test_the_page_shows_the_message_and_keeps_nothing(app, office, login):
    browser = login("back_office")
    before = _counts(app)
    r = browser.post("/invoices/new", data={
        "partner_id": str(office.partner["id"]), "invoice_date": "2026-03-01", "payment_terms_days": "15",
        "notes": "", "line_id": [""], "product_id": [""], "description": ["Too much"],
        "quantity": [HUGE_QUANTITY], "unit_price": [HUGE_PRICE], "tax_id": [""]})
    assert r.status_code == 200
    assert "beyond the largest amount" in r.get_data(as_text=True)
    assert _counts(app) == before


def test_a_payment_beyond_the_limit_is_refused(app, office):
    r = office.post("/payments", json={"partner_id": office.partner["id"], "amount": "1000000000000.00",
                                       "date": "2026-03-01", "method": "bank_transfer"})
    assert r.status_code == 422, r.json
    with app.app_context():
        assert db.session.scalar(text("SELECT count(*) FROM payments_payments")) == 0


def test_an_order_whose_parts_are_worth_too_much_is_refused_alone_in_a_batch(app, api):
    office = api("back_office")
    tech = api("technician")
    partner = office.post("/partners", json={"name": "Martin"}).json
    part = office.post("/products", json={"code": "GOLD", "name": "Gold part", "type": "part",
                                          "unit_price": "900000000.00"}).json
    ids = []
    for quantity in ("1", "5000"):  # 900 million, then 4.5 million million: beyond
        order = office.post("/service-orders", json={"partner_id": partner["id"], "description": "Fit",
                                                      "technician_id": tech.user_id,
                                                      "scheduled_at": "2026-11-25T09:00:00+00:00"}).json
        for step in ("schedule", "start"):
            assert office.post(f"/service-orders/{order['id']}/{step}").status_code == 200
        assert office.post(f"/service-orders/{order['id']}/parts",
                           json={"product_id": part["id"], "quantity": quantity}).status_code == 201
        assert office.patch(f"/service-orders/{order['id']}", json={"report": "Fitted."}).status_code == 200
        assert office.post(f"/service-orders/{order['id']}/done").status_code == 200
        ids.append(order["id"])
    single = office.post(f"/service-orders/{ids[1]}/invoice")
    assert single.status_code in (409, 422) and "beyond the largest amount" in single.json["error"]["message"]
    r = office.post("/service-orders/invoice", json={"ids": ids, "post": True})
    assert r.status_code == 200, r.json
    assert [x["order_id"] for x in r.json["refused"]] == [ids[1]]
    assert "beyond the largest amount" in r.json["refused"][0]["message"]
    assert len(r.json["invoices"]) == 1
    assert office.get(f"/service-orders/{ids[1]}").json["state"] == "done"


# -- storage ---------------------------------------------------------------------------------------------------
def test_sqlite_keeps_cents_as_integers_and_postgresql_as_numeric(app, office):
    r = office.post("/invoices", json={"partner_id": office.partner["id"], "lines": [
        {"description": "Part", "quantity": "3", "unit_price": "0.10"}]})
    assert r.status_code == 201 and r.json["amount_total"] == "0.30"
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            kind, raw = db.session.execute(text("SELECT typeof(amount_total), amount_total FROM invoicing_invoices "
                                                "WHERE id = :id"), {"id": r.json["id"]}).one()
            assert (kind, raw) == ("integer", 30)
            kind, raw = db.session.execute(text("SELECT typeof(quantity), quantity FROM invoicing_invoice_lines "
                                                "WHERE invoice_id = :id"), {"id": r.json["id"]}).one()
            assert (kind, raw) == ("integer", 30000)
        else:
            assert db.session.scalar(text("SELECT pg_typeof(amount_total)::text FROM invoicing_invoices "
                                          "WHERE id = :id"), {"id": r.json["id"]}) == "numeric"


def test_sums_are_exact_where_floats_are_not(ctx):
    """80 × 999 999 999 999.99 + 0.01 × 7 summed in SQL: 79 999 999 999 999.27 exactly (as floats, the sum
    needs 16 significant digits and loses the cents)."""
    table = Table("test_exact_money", MetaData(), Column("id", Integer, primary_key=True),
                  Column("amount", MONEY), Column("quantity", QUANTITY))
    connection = db.session.connection()
    table.create(connection)
    try:
        values = [MAX_AMOUNT] * 80 + [Decimal("0.01")] * 7
        db.session.execute(insert(table), [{"amount": v, "quantity": Decimal("0.0001")} for v in values])
        total, quantity, largest = db.session.execute(
            select(func.sum(table.c.amount), func.sum(table.c.quantity), func.max(table.c.amount))).one()
        assert total == Decimal("79999999999999.27") == sum(values)
        assert quantity == Decimal("0.0087") and largest == MAX_AMOUNT
        assert db.session.scalar(select(func.count()).where(table.c.amount > Decimal("0.005"))) == 87
        # the column's own range is the last guard: nothing beyond NUMERIC(18, 2) reaches the database
        with pytest.raises(Exception) as refused:
            db.session.execute(insert(table), [{"amount": Decimal("1e16"), "quantity": 0}])
        if db.engine.dialect.name == "sqlite":
            assert isinstance(getattr(refused.value, "orig", refused.value), ValueOutOfRange)
        else:  # PostgreSQL's NUMERIC refuses it (numeric field overflow), answered 422 like the SQLite guard
            assert isinstance(refused.value, DataError)
    finally:
        db.session.rollback()
        table.drop(db.session.connection(), checkfirst=True)
        db.session.commit()


def test_the_migration_turns_stored_floats_into_exact_integers(app, office):
    """Down to core_0002 (the floats SQLite held before), then up again: the same amounts, exact, and the guards
    that refuse changes to posted rows still in place. PostgreSQL: NUMERIC already, nothing changes."""
    inv = office.post("/invoices", json={"partner_id": office.partner["id"], "lines": [
        {"description": "Part", "quantity": "3", "unit_price": "0.29"},
        {"description": "Labour", "quantity": "1.5", "unit_price": "65.00"}]}).json
    assert office.post(f"/invoices/{inv['id']}/post").status_code == 200
    with app.app_context():
        with db.engine.begin() as connection:
            triggers = set(connection.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))) \
                if connection.dialect.name == "sqlite" else set()
            command.downgrade(alembic_config(app, connection), "core_0002")
            if connection.dialect.name == "sqlite":
                assert connection.scalar(text("SELECT amount_total FROM invoicing_invoices WHERE id = :id"),
                                         {"id": inv["id"]}) == pytest.approx(98.37)
            command.upgrade(alembic_config(app, connection), "heads")
            if connection.dialect.name == "sqlite":
                assert connection.execute(text("SELECT typeof(amount_total), amount_total FROM invoicing_invoices "
                                               "WHERE id = :id"), {"id": inv["id"]}).one() == ("integer", 9837)
                assert set(connection.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))) \
                    == triggers
    again = office.get(f"/invoices/{inv['id']}").json
    assert again["amount_total"] == "98.37" and again["lines"][0]["unit_price"] == "0.29"
    from addons.accounting import chain
    with app.app_context():
        assert chain.verify()["ok"]
        with pytest.raises(Exception):  # posted lines are still guarded
            db.session.execute(text("UPDATE accounting_lines SET debit = 0"))
            db.session.flush()
        db.session.rollback()
