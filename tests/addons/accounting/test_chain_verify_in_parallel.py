"""``ledger verify --jobs N`` cuts the chain into ranges walked in separate processes: it must say exactly what
one walk says — intact, or the same first broken entry with the same count of intact entries before it."""
import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from core.extensions import db


@pytest.fixture
def chain_of_twelve(books, ctx, monkeypatch):
    from addons.accounting import chain
    monkeypatch.setattr(chain, "PARALLEL_FROM", 0)  # parallel even for a short chain
    for day in range(1, 9):
        invoice = books.invoice(on=f"2026-03-{day:02d}")
        if day % 2 == 0:
            books.pay(invoice, "10.00")
    from addons.accounting.models import JournalEntry
    entries = db.session.execute(select(JournalEntry.id, JournalEntry.number).where(
        JournalEntry.chain_index.is_not(None)).order_by(JournalEntry.chain_index)).all()
    assert len(entries) == 12
    db.session.commit()  # end this session's transaction (on SQLite a writer's lock) before others read
    return chain, entries


def _drop_triggers(table: str) -> None:
    """What a superuser can do: the immutability triggers out of the way (verify must still see the change)."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
    else:
        for (name,) in db.session.execute(text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"), {"t": table}).all():
            db.session.execute(text(f'DROP TRIGGER "{name}"'))


def _both(chain):
    one = chain.verify(jobs=1)
    db.session.rollback()
    return one, [chain.verify(jobs=jobs) for jobs in (2, 3, 5)]


def test_an_intact_chain_reads_the_same_in_parallel(chain_of_twelve):
    chain, _ = chain_of_twelve
    one, parallel = _both(chain)
    assert one == {"ok": True, "entries_checked": 12, "keyed": True, "first_broken": None}
    assert all(result == one for result in parallel)


@pytest.mark.parametrize("position", [1, 6, 10])  # in the first, a middle and the last range
def test_a_changed_amount_is_found_at_the_same_entry(chain_of_twelve, position):
    chain, entries = chain_of_twelve
    _drop_triggers("accounting_lines")
    db.session.execute(text("UPDATE accounting_lines SET label = 'changed' WHERE entry_id = :id"),
                       {"id": entries[position].id})
    db.session.commit()
    one, parallel = _both(chain)
    assert one["ok"] is False and one["entries_checked"] == position
    assert one["first_broken"]["entry_id"] == entries[position].id
    assert all(result == one for result in parallel)


def test_a_removed_link_is_found_at_the_same_place(chain_of_twelve):
    chain, entries = chain_of_twelve
    _drop_triggers("accounting_entries")
    db.session.execute(text("UPDATE accounting_entries SET chain_index = NULL WHERE id = :id"), {"id": entries[7].id})
    db.session.commit()
    one, parallel = _both(chain)
    assert one["ok"] is False and one["entries_checked"] == 7 and "chain index 8 is missing" in \
        one["first_broken"]["reason"]
    assert all(result == one for result in parallel)


def test_the_command_uses_every_core_and_says_the_same(chain_of_twelve, app):
    from core.cli import build_cli
    result = CliRunner().invoke(build_cli(app), ["ledger", "verify", "--jobs", "2"])
    assert result.exit_code == 0 and "12 posted entries" in result.output, result.output
