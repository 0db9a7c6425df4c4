"""Posted entries never change: the ORM refuses, database triggers refuse raw SQL; tampering breaks the chain."""
import pytest
from click.testing import CliRunner
from sqlalchemy import text

from core.extensions import db


def _posted_invoice_entry(books):
    inv = books.invoice()
    return inv["journal_entry_id"]


def test_orm_refuses_changing_or_deleting_posted_entries(books, ctx):
    from addons.accounting.guards import PostedEntryChanged
    from addons.accounting.models import JournalEntry, JournalLine
    entry_id = _posted_invoice_entry(books)
    entry = db.session.get(JournalEntry, entry_id)
    entry.lines[0].debit = entry.lines[0].debit + 1
    with pytest.raises(PostedEntryChanged):
        db.session.flush()
    db.session.rollback()
    entry = db.session.get(JournalEntry, entry_id)
    entry.ref = "changed"
    with pytest.raises(PostedEntryChanged):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(JournalEntry, entry_id))
    with pytest.raises(PostedEntryChanged):
        db.session.flush()
    db.session.rollback()
    entry = db.session.get(JournalEntry, entry_id)
    entry.lines.append(JournalLine(account_id=entry.lines[0].account_id, debit=1, credit=0, label="x"))
    with pytest.raises(PostedEntryChanged):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("statement", [
    "UPDATE accounting_lines SET debit = debit + 1 WHERE entry_id = :id",
    "DELETE FROM accounting_lines WHERE entry_id = :id",
    "UPDATE accounting_entries SET ref = 'x' WHERE id = :id",
    "DELETE FROM accounting_entries WHERE id = :id",
    "INSERT INTO accounting_lines (entry_id, account_id, label, debit, credit) VALUES (:id, 1, 'x', 1, 0)",
])
def test_database_triggers_refuse_raw_sql(books, ctx, statement):
    entry_id = _posted_invoice_entry(books)
    with pytest.raises(Exception) as caught:
        db.session.execute(text(statement), {"id": entry_id})
        db.session.commit()
    assert "accounting" in str(caught.value) or "posted" in str(caught.value)
    db.session.rollback()
    count = db.session.scalar(text("SELECT COUNT(*) FROM accounting_lines WHERE entry_id = :id"), {"id": entry_id})
    assert count == 3


def test_draft_entries_can_change(books, ctx):
    r = books.books.post("/journal-entries", json={"date": "2026-03-05", "lines": [
        {"account_code": "512000", "debit": "5.00"}, {"account_code": "101000", "credit": "5.00"}]})
    entry_id = r.json["id"]
    db.session.execute(text("UPDATE accounting_lines SET label = 'ok' WHERE entry_id = :id"), {"id": entry_id})
    db.session.commit()
    assert books.books.delete(f"/journal-entries/{entry_id}").status_code == 204


def _drop_triggers():
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ALTER TABLE accounting_lines DISABLE TRIGGER accounting_lines_immutable"))
    else:
        db.session.execute(text("DROP TRIGGER accounting_lines_no_update"))


def test_tampering_breaks_the_chain_and_verify_names_the_entry(books, ctx, app):
    first = books.invoice()
    second = books.invoice(on="2026-03-03")
    books.pay(second, "10.00")
    assert books.books.get("/ledger/verify").json == {
        "ok": True, "entries_checked": 3, "keyed": True, "first_broken": None,
        "documents": {"ok": True, "documents_checked": 3, "problem_count": 0, "problems": []}}
    runner = CliRunner()
    from core.cli import build_cli
    result = runner.invoke(build_cli(app), ["ledger", "verify"])
    assert result.exit_code == 0 and "3 posted entries" in result.output
    # a superuser bypasses the triggers and changes an amount
    _drop_triggers()
    db.session.execute(text("UPDATE accounting_lines SET debit = debit + 1 WHERE entry_id = :id AND debit > 0"),
                       {"id": second["journal_entry_id"]})
    db.session.commit()
    report = books.books.get("/ledger/verify").json
    assert report["ok"] is False and report["entries_checked"] == 1
    assert report["first_broken"]["entry_id"] == second["journal_entry_id"]
    assert report["first_broken"]["number"] == "INV/2026/00002"
    result = runner.invoke(build_cli(app), ["ledger", "verify"])
    assert result.exit_code == 1 and "INV/2026/00002" in result.output
    assert first["number"] not in result.output.replace("INV/2026/00002", "")


def test_verify_roles(books, api):
    assert books.office.get("/ledger/verify").status_code == 403
    assert api("technician").get("/journal-entries").status_code == 403
    assert books.books.get("/ledger/verify").json["ok"] is True


def test_chain_links_each_entry_to_the_previous(books, ctx):
    from addons.accounting.models import JournalEntry
    books.invoice()
    books.invoice(on="2026-03-04")
    rows = db.session.query(JournalEntry).order_by(JournalEntry.chain_index).all()
    assert [e.chain_index for e in rows] == [1, 2]
    assert rows[0].prev_hash is None and rows[1].prev_hash == rows[0].hash and len(rows[1].hash) == 64
