"""Backups and upgrades: `run.py backup` / `restore` round-trip a ledger of 10,000 posted invoices, with payments
and credit notes among them, and `ledger verify` still passes; the invoicing_0002 triggers upgrade a database that
already holds data.

The invoices are made the way a company makes thousands: `run.py demo --orders 10000` (done service orders) and
`run.py service-orders invoice --all-done --post` (field_service's set-based batch path), then payments (whole,
part, over) and credit notes (whole, part) through the services the pages and API call.

(Partners round-trip: tests/core/test_backup_restore.py.)"""
from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal

import pytest
from alembic import command
from click.testing import CliRunner
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import DBAPIError

from addons.accounting.services import unbalanced_entry_count
from addons.invoicing import credit_notes, services
from addons.invoicing.models import Invoice
from addons.payments import services as payments
from addons.payments.models import Payment
from core.cli import build_cli
from core.extensions import db
from core.install import alembic_config
from core.models import Partner
from core.money import MONEY

INVOICES = 10_000


def _invoke(runner, cli, *args: str) -> str:
    result = runner.invoke(cli, list(args))
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.output


def _make_ledger(runner, cli, app, count: int) -> dict:
    """``count`` posted invoices through the batch path, then payments and credit notes on some of them."""
    _invoke(runner, cli, "demo", "--orders", str(count))
    output = _invoke(runner, cli, "service-orders", "invoice", "--all-done", "--post")
    assert f"{count} invoices ({count} posted)" in output and " 0 refused" in output, output
    made = {"paid": 0, "part_paid": 0, "over_paid": 0, "credited": 0, "part_credited": 0}
    today = date.today()
    with app.app_context():
        ids = list(db.session.scalars(select(Invoice.id).where(Invoice.type == "invoice", Invoice.state == "posted")
                                      .order_by(Invoice.id)))
        for n, invoice_id in enumerate(ids[::50]):  # 200 invoices (1 in 50) get some money or a credit note
            invoice = db.session.get(Invoice, invoice_id)
            kind = ("paid", "part_paid", "over_paid", "credited", "part_credited")[n % 5]
            if kind == "paid":
                payments.pay_invoice(invoice.id, invoice.amount_due, on=today, method="bank_transfer")
            elif kind == "part_paid":
                payments.pay_invoice(invoice.id, (invoice.amount_due / 3).quantize(Decimal("0.01")), on=today,
                                     method="cash")
            elif kind == "over_paid":  # the surplus becomes customer credit
                payments.pay_invoice(invoice.id, invoice.amount_due + Decimal("10.00"), on=today, method="card")
            elif kind == "credited":
                credit_notes.create_credit_note(invoice, mode="cancel", reason="Backup test")
            else:
                note, _ = credit_notes.create_credit_note(invoice, lines=[
                    {"line_id": invoice.lines[0].id, "amount": Decimal("5.00")}], reason="Goodwill")
                services.post_invoice(note)
            made[kind] += 1
            if n % 50 == 49:  # commit as the pages would, without one transaction per document
                db.session.commit()
        db.session.commit()
        db.session.remove()
    return made


def _fingerprint() -> dict:
    """What must come back exactly: counts and sums by document type and state, every number, the chain's hashes,
    payments; and, to leave nothing out, a digest of every row of every table."""
    invoices = db.session.execute(
        select(Invoice.type, Invoice.state, Invoice.payment_state, func.count(Invoice.id),
               func.sum(Invoice.amount_total), func.sum(Invoice.amount_paid), func.sum(Invoice.amount_credited),
               func.sum(Invoice.amount_due))
        .group_by(Invoice.type, Invoice.state, Invoice.payment_state)
        .order_by(Invoice.type, Invoice.state, Invoice.payment_state)).all()
    numbers = hashlib.sha256("\n".join(db.session.scalars(
        select(Invoice.number).where(Invoice.number.is_not(None)).order_by(Invoice.id))).encode()).hexdigest()
    chain = db.session.execute(text("SELECT count(*), max(chain_index) FROM accounting_entries "
                                    "WHERE state = 'posted'")).one()
    hashes = hashlib.sha256("\n".join(db.session.scalars(text(
        "SELECT hash FROM accounting_entries WHERE state = 'posted' ORDER BY chain_index"))).encode()).hexdigest()
    last_hash = db.session.scalar(text("SELECT hash FROM accounting_entries WHERE state = 'posted' "
                                       "ORDER BY chain_index DESC LIMIT 1"))
    money = db.session.execute(select(func.count(Payment.id), func.sum(Payment.amount))).one()
    tables = {}
    for table in db.metadata.sorted_tables:
        digest = hashlib.sha256()
        rows = 0
        for row in db.session.execute(table.select().order_by(*table.primary_key.columns)):
            digest.update(repr(tuple(row)).encode())
            rows += 1
        tables[table.name] = (rows, digest.hexdigest())
    return {"invoices": [tuple(r) for r in invoices], "numbers": numbers, "posted_entries": tuple(chain),
            "entry_hashes": hashes, "last_hash": last_hash, "payments": tuple(money), "tables": tables}


def test_backup_and_restore_keep_a_verified_ledger(app, tmp_path):
    runner = CliRunner()
    cli = build_cli(app)
    made = _make_ledger(runner, cli, app, INVOICES)
    assert made == {"paid": 40, "part_paid": 40, "over_paid": 40, "credited": 40, "part_credited": 40}
    with app.app_context():
        before = _fingerprint()
        db.session.remove()
    posted = {}
    for kind, state, _payment_state, count, *_ in before["invoices"]:
        posted[kind, state] = posted.get((kind, state), 0) + count
    assert posted == {("invoice", "posted"): INVOICES, ("credit_note", "posted"): 80}, before["invoices"]
    assert before["payments"][0] == 120

    _invoke(runner, cli, "backup", str(tmp_path / "ledger.backup"))
    with app.app_context():  # something done after the backup is gone after the restore
        services.post_invoice(services.create_invoice(db.session.scalar(select(Partner.id).limit(1)),
                                                      invoice_date=date.today(), lines=[
            {"description": "After", "quantity": "1", "unit_price": "10"}]))
        db.session.commit()
        assert db.session.scalar(select(func.count(Invoice.id)).where(Invoice.state == "posted")) == INVOICES + 81
        db.session.remove()

    _invoke(runner, cli, "restore", str(tmp_path / "ledger.backup"), "--yes")
    with app.app_context():
        after = _fingerprint()
        changed = sorted(name for name in before["tables"] if before["tables"][name] != after["tables"].get(name))
        assert not changed, f"tables that differ after the restore: {changed}"
        assert after == before
        assert unbalanced_entry_count() == 0
        db.session.remove()
    output = _invoke(runner, cli, "ledger", "verify")
    assert "Ledger intact" in output and f"{before['posted_entries'][0]} posted entries" in output, output


def test_the_trigger_migration_upgrades_a_database_with_data(app):
    with app.app_context():
        with db.engine.begin() as connection:
            command.downgrade(alembic_config(app, connection), "invoicing_0001")
        with db.engine.connect() as connection:
            heads = {r[0] for r in connection.execute(text("SELECT version_num FROM alembic_version"))}
        assert "invoicing_0002" not in heads
        # Today's model writes the columns later migrations add (invoicing_0007's credit-note work): the old schema
        # gets them for the write below, and loses them again before the upgrade adds them back.
        later_columns = ("work VARCHAR(20)",)
        with db.engine.begin() as connection:
            for column in later_columns:
                connection.exec_driver_sql(f"ALTER TABLE invoicing_invoices ADD COLUMN {column}")
        # data written under the old schema: a posted invoice that raw SQL may still change
        partner = Partner(name="Old customer")
        db.session.add(partner)
        db.session.flush()
        invoice = services.post_invoice(services.create_invoice(partner.id, invoice_date=date.today(), lines=[
            {"description": "Before the upgrade", "quantity": "2", "unit_price": "40"}]))
        invoice_id, number = invoice.id, invoice.number
        db.session.execute(text("UPDATE invoicing_invoices SET notes = 'old schema' WHERE id = :i"), {"i": invoice_id})
        db.session.commit()
        db.session.remove()
        with db.engine.begin() as connection:
            for column in later_columns:
                connection.exec_driver_sql(f"ALTER TABLE invoicing_invoices DROP COLUMN {column.split()[0]}")
            command.upgrade(alembic_config(app, connection), "heads")
        row = db.session.execute(text("SELECT number, amount_total, state, notes FROM invoicing_invoices "
                                      "WHERE id = :i").columns(amount_total=MONEY),  # cents on SQLite
                                 {"i": invoice_id}).one()
        assert (row[0], Decimal(str(row[1])), row[2], row[3]) == (number, Decimal("80.00"), "posted", "old schema")
        with pytest.raises(DBAPIError, match="posted"):
            db.session.execute(text("UPDATE invoicing_invoices SET amount_total = 1 WHERE id = :i"), {"i": invoice_id})
        db.session.rollback()
        # and the upgraded database keeps working
        assert payments.pay_invoice(invoice_id, "80.00", on=date.today(), method="cash").amount == Decimal("80.00")
        db.session.commit()
        assert db.session.get(Invoice, invoice_id).payment_state == "paid"


def test_the_report_columns_migration_upgrades_a_ledger_with_data(app):
    """accounting_0002 copies each posted line's date and due date onto the line (the reports' covering indexes):
    a ledger made before it must come out of the upgrade with exactly the values posting writes today, the same
    reports, its triggers still refusing changes, and a chain that verifies."""
    from addons.accounting import chain, reports
    from addons.accounting.models import JournalLine
    with app.app_context():
        partner = Partner(name="Ledger before the upgrade")
        db.session.add(partner)
        db.session.flush()
        invoice = services.post_invoice(services.create_invoice(
            partner.id, invoice_date=date(2026, 3, 2), payment_terms_days=45,
            lines=[{"description": "Service", "quantity": "3", "unit_price": "50", "tax_id": None}]))
        payments.pay_invoice(invoice.id, "60.00", on=date(2026, 3, 20), method="bank_transfer")
        db.session.commit()
        dates = lambda: sorted(db.session.execute(  # noqa: E731
            select(JournalLine.id, JournalLine.posted_date, JournalLine.due_date)).all())
        before = dates()
        assert any(row.due_date == date(2026, 4, 16) for row in before)  # the invoice's due date, not its date
        balance, aged = reports.trial_balance(), reports.aged_receivables(date(2026, 6, 1))
        db.session.remove()

        with db.engine.begin() as connection:
            command.downgrade(alembic_config(app, connection), "accounting_0001")
        with db.engine.connect() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("accounting_lines")}
        assert "posted_date" not in columns
        with db.engine.begin() as connection:
            command.upgrade(alembic_config(app, connection), "heads")

        assert dates() == before
        assert reports.trial_balance() == balance
        assert reports.aged_receivables(date(2026, 6, 1)) == aged
        assert chain.verify()["ok"]
        with pytest.raises(DBAPIError, match="posted"):  # the trigger came back with the table
            db.session.execute(text("UPDATE accounting_lines SET debit = 1 WHERE id = :i"), {"i": before[0].id})
        db.session.rollback()
