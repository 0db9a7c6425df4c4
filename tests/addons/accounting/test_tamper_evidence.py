"""Tamper evidence against someone holding the database (issue 16, item 6).

The chain is keyed with the ledger key, which is not in the database: a changed line with every hash after it
recomputed (as SHA-256, or under a guessed key) no longer verifies. ``ledger anchor`` prints a signed chain head;
``ledger verify --anchor`` finds a chain cut short or rewritten after it. ``ledger verify`` checks each posted
document against its entry and its balance against what settled it. Every tamper here first disables the triggers,
as a superuser or anyone with the SQLite file can.
"""
from __future__ import annotations

import hashlib
import hmac

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from core.extensions import db


def _drop_triggers(*tables: str) -> None:
    for table in tables:
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        else:
            for (name,) in db.session.execute(text(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"), {"t": table}).all():
                db.session.execute(text(f'DROP TRIGGER "{name}"'))


def _rehash_from(first_index: int, make_hash) -> None:
    """What the attacker does after changing a line: every link from ``first_index`` on recomputed and stored."""
    from addons.accounting import chain
    from addons.accounting.models import Account, Journal, JournalEntry, JournalLine
    entries = db.session.execute(
        select(JournalEntry.id, JournalEntry.number, JournalEntry.date, JournalEntry.chain_index, Journal.code)
        .join(Journal, Journal.id == JournalEntry.journal_id)
        .where(JournalEntry.chain_index >= first_index).order_by(JournalEntry.chain_index)).all()
    prev = db.session.scalar(select(JournalEntry.hash).where(JournalEntry.chain_index == first_index - 1))
    for entry in entries:
        lines = db.session.execute(
            select(Account.code, JournalLine.partner_id, JournalLine.label, JournalLine.debit, JournalLine.credit)
            .join(Account, Account.id == JournalLine.account_id)
            .where(JournalLine.entry_id == entry.id).order_by(JournalLine.id)).all()
        new = make_hash(prev, chain.canonical(entry.number, entry.code, entry.date, [tuple(l) for l in lines]))
        db.session.execute(text("UPDATE accounting_entries SET prev_hash = :p, hash = :h WHERE id = :id"),
                           {"p": prev, "h": new, "id": entry.id})
        prev = new


def _plain(prev, body):
    return hashlib.sha256(((prev or "") + "\n" + body).encode()).hexdigest()


def _guessed_key(prev, body):
    return hmac.new(b"test-secret-key", ((prev or "") + "\n" + body).encode(), hashlib.sha256).hexdigest()


@pytest.fixture
def ledger(books, ctx):
    """Four invoices and a payment, posted and committed; their entries by chain index."""
    from addons.accounting.models import JournalEntry
    invoices = [books.invoice(on=f"2026-03-0{day}") for day in (2, 3, 4, 5)]
    books.pay(invoices[1], "10.00")
    db.session.commit()
    entries = db.session.execute(select(JournalEntry.id, JournalEntry.number, JournalEntry.chain_index)
                                 .order_by(JournalEntry.chain_index)).all()
    assert [e.chain_index for e in entries] == [1, 2, 3, 4, 5]
    db.session.rollback()  # no read left open (on SQLite it would hold off other sessions' commits)
    return invoices, entries


def _cli(app, *args):
    from core.cli import build_cli
    db.session.rollback()  # end this session's read (on SQLite a lock) before the command's own session works
    return CliRunner().invoke(build_cli(app), list(args))


def test_a_fresh_ledger_is_keyed_and_its_hashes_need_the_key(ledger, app):
    from addons.accounting import chain
    from addons.accounting.models import ChainAnchor, JournalEntry
    anchor = db.session.scalars(select(ChainAnchor)).one()
    assert (anchor.chain_index, anchor.hash) == (0, "")
    first = db.session.scalars(select(JournalEntry).where(JournalEntry.chain_index == 1)).one()
    # the stored hash is an HMAC under the app's ledger key, not a plain SHA-256 anyone can compute
    lines = [(l.account.code, l.partner_id, l.label, l.debit, l.credit) for l in first.lines]
    body = chain.canonical(first.number, first.journal.code, first.date, lines)
    assert first.hash == hmac.new(b"test-ledger-key", ("\n" + body).encode(), hashlib.sha256).hexdigest()
    assert first.hash != _plain(None, body)
    assert chain.verify() == {"ok": True, "entries_checked": 5, "keyed": True, "first_broken": None}


@pytest.mark.parametrize("make_hash", [_plain, _guessed_key], ids=["sha256", "another-key"])
@pytest.mark.parametrize("drop_anchor", [False, True], ids=["anchor-kept", "anchor-removed"])
def test_a_changed_line_with_a_recomputed_chain_fails(ledger, app, make_hash, drop_anchor):
    from addons.accounting import chain
    _, entries = ledger
    _drop_triggers("accounting_lines", "accounting_entries")
    db.session.execute(text("UPDATE accounting_lines SET label = 'changed' WHERE entry_id = :id"),
                       {"id": entries[2].id})
    if drop_anchor:  # the whole chain rewritten, as if it had never been keyed
        _rehash_from(1, make_hash)
        db.session.execute(text("DELETE FROM accounting_chain_anchors"))
    else:
        _rehash_from(3, make_hash)
    db.session.commit()
    result = chain.verify()
    assert result["ok"] is False and result["keyed"] is not drop_anchor
    if drop_anchor and make_hash is _plain:
        assert "not keyed" in result["first_broken"]["reason"] and result["entries_checked"] == 5
    elif drop_anchor:  # HMACs under a key that is not the ledger's are no SHA-256 links either
        assert result["first_broken"]["entry_id"] == entries[0].id and result["entries_checked"] == 0
    else:
        assert result["first_broken"]["entry_id"] == entries[2].id and result["entries_checked"] == 2
        assert result["first_broken"]["reason"] == "its content does not match its hash"
    out = _cli(app, "ledger", "verify", "--jobs", "1")
    assert out.exit_code == 1 and "BROKEN" in out.stderr


def test_posting_refuses_a_key_other_than_the_chains(ledger, app, books):
    from addons.accounting import chain
    app.config["LEDGER_KEY"] = "another-key"
    try:
        draft = books.draft(on="2026-03-06")
        r = books.office.post(f"/invoices/{draft['id']}/post")
        assert r.status_code == 409 and r.json["error"]["code"] == "ledger_key", r.json
        assert "not the one" in r.json["error"]["message"]
        assert chain.verify()["ok"] is False  # verify under the wrong key says so too
    finally:
        app.config["LEDGER_KEY"] = "test-ledger-key"
    db.session.rollback()
    assert chain.verify()["ok"] is True


def test_an_unkeyed_ledger_is_anchored_at_its_last_entry_by_the_migration(books, ctx, app):
    """An upgraded ledger: entries posted before the key keep their SHA-256 hashes (nothing is re-hashed); the
    migration anchors the chain at the last of them and later entries are keyed; changing an old entry and
    recomputing the unkeyed links fails at the anchor."""
    from addons.accounting import chain
    from addons.accounting.models import ChainAnchor, JournalEntry
    from core.install import migrate
    # the ledger as it was before accounting_0006: no anchor table, entries hashed with plain SHA-256
    db.session.execute(text("DROP TABLE accounting_chain_anchors"))
    db.session.execute(text("UPDATE alembic_version SET version_num = 'accounting_0005_entries' "
                            "WHERE version_num = 'accounting_0006_ledger_key'"))
    db.session.commit()
    db.session.execute(text("CREATE TABLE accounting_chain_anchors (id INTEGER PRIMARY KEY, chain_index INTEGER, "
                            "hash VARCHAR(64), mac VARCHAR(64), created_at TIMESTAMP)"))
    app.config["LEDGER_KEY"] = ""  # posting as the old code did
    try:
        old = [books.invoice(on="2026-03-02"), books.invoice(on="2026-03-03")]
    finally:
        app.config["LEDGER_KEY"] = "test-ledger-key"
    db.session.execute(text("DROP TABLE accounting_chain_anchors"))
    db.session.commit()
    before = dict(db.session.execute(select(JournalEntry.chain_index, JournalEntry.hash)).all())
    db.session.remove()
    migrate(app)
    anchor = db.session.scalars(select(ChainAnchor)).one()
    assert (anchor.chain_index, anchor.hash) == (2, before[2])
    books.invoice(on="2026-03-04")
    db.session.commit()
    after = dict(db.session.execute(select(JournalEntry.chain_index, JournalEntry.hash)).all())
    assert {i: after[i] for i in (1, 2)} == before  # nothing posted was re-hashed
    assert chain.verify() == {"ok": True, "entries_checked": 3, "keyed": True, "first_broken": None}
    # an old (unkeyed) entry changed, its unkeyed successors recomputed: the anchor no longer matches
    _drop_triggers("accounting_lines", "accounting_entries")
    db.session.execute(text("UPDATE accounting_lines SET label = 'changed' WHERE entry_id = :id"),
                       {"id": old[0]["journal_entry_id"]})
    _rehash_from(1, _plain)
    db.session.commit()
    result = chain.verify()
    assert result["ok"] is False and result["entries_checked"] == 1
    assert "anchor" in result["first_broken"]["reason"]


def test_the_signed_head_round_trips(ledger, app, books):
    head = _cli(app, "ledger", "anchor")
    assert head.exit_code == 0, head.stderr
    line = head.stdout.strip()
    assert line.startswith("kontor-ledger-head index=5 hash=")
    ok = _cli(app, "ledger", "verify", "--jobs", "1", "--anchor", line)
    assert ok.exit_code == 0 and "kept head found" in ok.stdout, ok.stderr
    books.invoice(on="2026-03-06")  # the chain grows: the kept head is still in it
    db.session.commit()
    assert _cli(app, "ledger", "verify", "--jobs", "1", "--anchor", line).exit_code == 0
    # a head line changed by hand (a later index) does not carry a valid HMAC
    forged = line.replace("index=5 ", "index=6 ")
    out = _cli(app, "ledger", "verify", "--jobs", "1", "--anchor", forged)
    assert out.exit_code == 1 and "HMAC" in out.stderr
    out = _cli(app, "ledger", "verify", "--anchor", "not a head")
    assert out.exit_code == 2 and "kontor-ledger-head" in out.stderr and "Traceback" not in out.stderr


def test_the_signed_head_finds_a_truncated_chain(ledger, app):
    _, entries = ledger
    line = _cli(app, "ledger", "anchor").stdout.strip()
    # the last two entries removed, and the chain counter put back so the rest looks whole
    _drop_triggers("accounting_lines", "accounting_entries")
    ids = [entries[3].id, entries[4].id]
    for table, column in (("accounting_reconciliations", "debit_line_id"),
                          ("accounting_reconciliations", "credit_line_id")):
        db.session.execute(text(f"DELETE FROM {table} WHERE {column} IN "
                                "(SELECT id FROM accounting_lines WHERE entry_id IN (:a, :b))"),
                           {"a": ids[0], "b": ids[1]})
    db.session.execute(text("DELETE FROM accounting_lines WHERE entry_id IN (:a, :b)"), {"a": ids[0], "b": ids[1]})
    db.session.execute(text("DELETE FROM accounting_entries WHERE id IN (:a, :b)"), {"a": ids[0], "b": ids[1]})
    db.session.execute(text("UPDATE core_sequences SET next_number = 4 WHERE code = 'accounting.chain'"))
    db.session.commit()
    from addons.accounting import chain
    assert chain.verify()["ok"] is True  # the chain alone cannot tell a shorter chain from one never longer
    out = _cli(app, "ledger", "verify", "--jobs", "1", "--anchor", line)
    assert out.exit_code == 1 and "no longer reaches chain index 5" in out.stderr


def test_the_signed_head_finds_a_chain_rewritten_with_the_key(ledger, app):
    """Even whoever has the key cannot rewrite what a kept head vouches for."""
    from addons.accounting import chain
    _, entries = ledger
    line = _cli(app, "ledger", "anchor").stdout.strip()
    _drop_triggers("accounting_lines", "accounting_entries")
    db.session.execute(text("UPDATE accounting_lines SET label = 'changed' WHERE entry_id = :id"),
                       {"id": entries[1].id})
    _rehash_from(2, lambda prev, body: chain.digest(prev, body, b"test-ledger-key"))
    db.session.commit()
    assert chain.verify()["ok"] is True
    out = _cli(app, "ledger", "verify", "--jobs", "1", "--anchor", line)
    assert out.exit_code == 1 and "rewritten" in out.stderr


def _problems(books):
    report = books.books.get("/ledger/verify").json
    return report, {(p["document_type"], p["document_id"]): p["reason"] for p in report["documents"]["problems"]}


def test_an_invoice_marked_paid_without_a_payment_is_reported(ledger, app, books):
    invoices, _ = ledger
    unpaid = invoices[2]
    db.session.execute(text("UPDATE invoicing_invoices SET amount_due = 0, payment_state = 'paid' WHERE id = :id"),
                       {"id": unpaid["id"]})
    db.session.commit()
    report, problems = _problems(books)
    assert report["ok"] is False and report["first_broken"] is None  # the chain itself is intact
    reason = problems[("invoice", unpaid["id"])]
    assert "amount due 0.00" in reason and "payment state paid" in reason
    assert len(problems) == 1
    out = _cli(app, "ledger", "verify", "--jobs", "1")
    assert out.exit_code == 1 and unpaid["number"] in out.stderr and "amount due" in out.stderr


@pytest.mark.parametrize("statement, target, expected", [
    ("UPDATE invoicing_invoices SET amount_total = amount_total + 100, amount_untaxed = amount_untaxed + 100, "
     "amount_due = amount_due + 100 WHERE id = :invoice", "invoice", "its total"),
    ("UPDATE invoicing_invoices SET amount_tax = amount_tax - 1, amount_untaxed = amount_untaxed + 1 "
     "WHERE id = :invoice", "invoice", "its tax"),
    ("UPDATE invoicing_invoices SET partner_id = :other WHERE id = :invoice", "invoice", "customer"),
    ("UPDATE payments_payments SET amount = amount + 5, unallocated = unallocated + 5 WHERE id = :payment",
     "payment", "its amount"),
    ("UPDATE payments_payments SET partner_id = :other WHERE id = :payment", "payment", "customer"),
    ("UPDATE invoicing_settlements SET amount = amount + 1 WHERE invoice_id = :paid", "paid", "allocations"),
], ids=["total", "tax", "invoice-customer", "payment-amount", "payment-customer", "settlement"])
def test_a_document_that_differs_from_its_entry_is_reported(ledger, books, statement, target, expected):
    from addons.payments.models import Payment
    invoices, _ = ledger
    other = books.office.post("/partners", json={"name": "Other SARL"}).json
    ids = {"invoice": invoices[0]["id"], "payment": db.session.scalar(select(Payment.id)), "paid": invoices[1]["id"]}
    _drop_triggers("invoicing_invoices", "payments_payments", "invoicing_settlements")
    db.session.execute(text(statement), dict(ids, other=other["id"]))
    db.session.commit()
    report, problems = _problems(books)
    assert report["ok"] is False and report["first_broken"] is None
    kind = "payment" if target == "payment" else "invoice"
    assert expected in problems[(kind, ids[target])], problems
    assert len(problems) == 1, problems


def test_clean_documents_verify(books, ctx, app):
    """Invoices paid in part, overpaid, credited whole and in part, credit applied, a refund: nothing reported."""
    first, second, third = (books.invoice(on=f"2026-03-0{day}") for day in (2, 3, 4))
    books.pay(first, "10.00")
    books.pay(second, "500.00")  # more than due: customer credit
    r = books.office.post(f"/invoices/{third['id']}/credit-notes", json={"mode": "cancel"})
    assert r.status_code in (200, 201), r.json
    r = books.office.post(f"/partners/{books.partner['id']}/refunds",
                          json={"amount": "20.00", "method": "bank_transfer", "date": "2026-03-12"})
    assert r.status_code == 201, r.json
    db.session.commit()
    report, problems = _problems(books)
    assert problems == {} and report["ok"] is True, problems
    assert report["documents"]["documents_checked"] >= 6
    out = _cli(app, "ledger", "verify", "--jobs", "1")
    assert out.exit_code == 0 and "Documents match their entries" in out.stdout, out.stderr


def test_the_period_close_page_and_the_dashboard_show_an_intact_keyed_ledger(ledger, login):
    browser = login("bookkeeper")
    page = browser.get("/accounting/close").get_data(as_text=True)
    assert "keyed with the ledger key" in page and "match their entries and settlements" in page
    home = browser.get("/").get_data(as_text=True)
    assert "Intact" in home and "NOT keyed" not in home


def test_the_period_close_page_and_the_dashboard_show_what_verify_finds(ledger, login):
    invoices, _ = ledger
    db.session.execute(text("UPDATE invoicing_invoices SET amount_due = 0, payment_state = 'paid' WHERE id = :id"),
                       {"id": invoices[2]["id"]})
    db.session.execute(text("DELETE FROM accounting_chain_anchors"))
    db.session.commit()
    browser = login("bookkeeper")
    page = browser.get("/accounting/close").get_data(as_text=True)
    assert "1 documents do not match the ledger" in page and invoices[2]["number"] in page
    chain_card = page[page.index("Ledger chain"):page.index("Documents against")]
    # without its anchor the keyed hashes read as SHA-256 links that do not match: broken at the first entry
    assert "Broken at entry" in chain_card and "INV/2026/00001" in chain_card, chain_card
    home = browser.get("/").get_data(as_text=True)
    assert "Broken" in home and "NOT keyed" in home


def test_a_chain_without_anchor_is_keyed_only_on_purpose(books, ctx, app):
    """Entries posted without a key (KONTOR_LEDGER_KEY empty) and no anchor: posting with a key is refused, and
    `ledger anchor` keys the chain only when told it was unkeyed on purpose (a removed anchor looks the same)."""
    from addons.accounting import chain
    db.session.execute(text("DELETE FROM accounting_chain_anchors"))
    db.session.commit()
    app.config["LEDGER_KEY"] = ""
    try:
        books.invoice(on="2026-03-02")
        assert chain.verify() == {"ok": True, "entries_checked": 1, "keyed": False, "first_broken": None}
        assert "NOT keyed" in _cli(app, "ledger", "verify", "--jobs", "1").stdout
    finally:
        app.config["LEDGER_KEY"] = "test-ledger-key"
    draft = books.draft(on="2026-03-03")
    r = books.office.post(f"/invoices/{draft['id']}/post")
    assert r.status_code == 409 and r.json["error"]["code"] == "ledger_key", r.json
    assert chain.verify()["ok"] is False  # with a key, a chain with entries and no anchor is not ok
    refused = _cli(app, "ledger", "anchor")
    assert refused.exit_code == 1 and "--key-unkeyed-chain" in refused.stderr and refused.stdout == ""
    keyed = _cli(app, "ledger", "anchor", "--key-unkeyed-chain")
    assert keyed.exit_code == 0 and keyed.stdout.startswith("kontor-ledger-head index=1 "), keyed.stderr
    assert books.office.post(f"/invoices/{draft['id']}/post").status_code == 200
    db.session.commit()
    assert chain.verify() == {"ok": True, "entries_checked": 2, "keyed": True, "first_broken": None}
    assert _cli(app, "ledger", "verify", "--jobs", "1", "--anchor", keyed.stdout.strip()).exit_code == 0
