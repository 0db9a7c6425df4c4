"""Backups and upgrades: `run.py backup` / `restore` round-trip a ledger of posted invoices and payments with
`ledger verify` still passing; the invoicing_0002 triggers upgrade a database that already holds data.

(Partners round-trip: tests/core/test_backup_restore.py.)"""
from __future__ import annotations

import os
from datetime import date
from decimal import Decimal

import pytest
from alembic import command
from click.testing import CliRunner
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from addons.accounting.services import unbalanced_entry_count
from addons.invoicing import services
from addons.invoicing.models import Invoice
from addons.payments import services as payments
from core.cli import build_cli
from core.extensions import db
from core.install import alembic_config
from core.models import Partner

# 10,000 makes the round trip take minutes; the suite uses 2,000 (KONTOR_BACKUP_INVOICES=10000 for the full size).
INVOICES = int(os.environ.get("KONTOR_BACKUP_INVOICES", "2000"))


def _make_ledger(count: int) -> None:
    tax = services.create_tax("VAT 20 (backup)", "20")
    partners = [Partner(name=f"Customer {i}") for i in range(20)]
    db.session.add_all(partners)
    db.session.flush()
    today = date.today()
    for start in range(0, count, 250):
        drafts = [services.create_invoice(partners[i % 20].id, invoice_date=today, lines=[
            {"description": f"Job {i}", "quantity": "1", "unit_price": str(50 + i % 70), "tax_id": tax.id}])
            for i in range(start, min(count, start + 250))]
        posted, refused = services.post_many(drafts)
        assert not refused and len(posted) == len(drafts)
        for invoice in posted[::10]:  # every tenth is paid
            payments.pay_invoice(invoice.id, invoice.amount_total, on=today, method="bank_transfer")
        db.session.commit()


def _fingerprint() -> tuple:
    totals = db.session.execute(select(func.count(Invoice.id), func.sum(Invoice.amount_total),
                                       func.sum(Invoice.amount_due)).where(Invoice.state == "posted")).one()
    entries = db.session.scalar(text("SELECT count(*) FROM accounting_entries WHERE state = 'posted'"))
    last_hash = db.session.scalar(text("SELECT hash FROM accounting_entries WHERE state = 'posted' "
                                       "ORDER BY chain_index DESC LIMIT 1"))
    return tuple(totals), entries, last_hash


def test_backup_and_restore_keep_a_verified_ledger(app, tmp_path):
    with app.app_context():
        _make_ledger(INVOICES)
        before = _fingerprint()
        db.session.remove()
    assert before[0][0] == INVOICES
    runner = CliRunner()
    cli = build_cli(app)
    result = runner.invoke(cli, ["backup", str(tmp_path / "ledger.backup")])
    assert result.exit_code == 0, result.output
    with app.app_context():  # something done after the backup is gone after the restore
        services.post_invoice(services.create_invoice(db.session.scalar(select(Partner.id).limit(1)),
                                                      invoice_date=date.today(), lines=[
            {"description": "After", "quantity": "1", "unit_price": "10"}]))
        db.session.commit()
        assert _fingerprint() != before
        db.session.remove()
    result = runner.invoke(cli, ["restore", str(tmp_path / "ledger.backup"), "--yes"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert _fingerprint() == before
        assert unbalanced_entry_count() == 0
        db.session.remove()
    result = runner.invoke(cli, ["ledger", "verify"])
    assert result.exit_code == 0, result.output
    assert "Ledger intact" in result.output and f"{before[1]} posted entries" in result.output, result.output


def test_the_trigger_migration_upgrades_a_database_with_data(app):
    with app.app_context():
        with db.engine.begin() as connection:
            command.downgrade(alembic_config(app, connection), "invoicing_0001")
        with db.engine.connect() as connection:
            heads = {r[0] for r in connection.execute(text("SELECT version_num FROM alembic_version"))}
        assert "invoicing_0002" not in heads
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
            command.upgrade(alembic_config(app, connection), "heads")
        row = db.session.execute(text("SELECT number, amount_total, state, notes FROM invoicing_invoices "
                                      "WHERE id = :i"), {"i": invoice_id}).one()
        assert (row[0], Decimal(str(row[1])), row[2], row[3]) == (number, Decimal("80.00"), "posted", "old schema")
        with pytest.raises(DBAPIError, match="posted"):
            db.session.execute(text("UPDATE invoicing_invoices SET amount_total = 1 WHERE id = :i"), {"i": invoice_id})
        db.session.rollback()
        # and the upgraded database keeps working
        assert payments.pay_invoice(invoice_id, "80.00", on=date.today(), method="cash").amount == Decimal("80.00")
        db.session.commit()
        assert db.session.get(Invoice, invoice_id).payment_state == "paid"
