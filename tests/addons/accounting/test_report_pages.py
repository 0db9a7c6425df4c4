"""The reports read posted lines from their own copy of the date (posted_date) and page through index ranges; their
figures equal sums made by hand from the entries themselves."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from core.extensions import db

D = Decimal


def _activity(books):
    """Invoices over three months, two payments, a credit note and a posted manual entry; a draft stays out."""
    made = [books.invoice([{"product_id": books.labour["id"], "quantity": str(n % 3 + 1)}],
                          on=f"2026-0{1 + n // 4}-{10 + n:02d}") for n in range(10)]
    books.pay(made[0], "50.00", on="2026-02-01")
    books.pay(made[1], "144.00", on="2026-02-02")
    books.office.post(f"/invoices/{made[2]['id']}/credit-notes", json={"mode": "cancel", "date": "2026-03-25"})
    r = books.books.post("/journal-entries", json={"date": "2026-02-15", "ref": "Manual", "lines": [
        {"account_code": "411000", "partner_id": books.partner["id"], "debit": "7.00"},
        {"account_code": "471000", "credit": "7.00"}]})
    assert books.books.post(f"/journal-entries/{r.json['id']}/post").status_code == 200
    draft = books.books.post("/journal-entries", json={"date": "2026-02-16", "ref": "Draft", "lines": [
        {"account_code": "411000", "partner_id": books.partner["id"], "debit": "1000.00"},
        {"account_code": "471000", "credit": "1000.00"}]})
    assert draft.status_code == 201
    return made


def _hand_lines(date_from=None, date_to=None):
    """Posted lines by the entries' state and date (not the lines' copy), in ledger order."""
    from addons.accounting.models import Account, JournalEntry, JournalLine
    query = (select(Account.code, Account.type, JournalLine.partner_id, JournalEntry.date, JournalEntry.id,
                    JournalLine.id, JournalLine.debit, JournalLine.credit)
             .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
             .join(Account, Account.id == JournalLine.account_id)
             .where(JournalEntry.state == "posted").order_by(JournalEntry.date, JournalEntry.id, JournalLine.id))
    rows = db.session.execute(query).all()
    return [r for r in rows if (not date_from or r[3] >= date_from) and (not date_to or r[3] <= date_to)]


def test_lines_copy_the_posted_date_and_due_date(books, ctx):
    from addons.accounting.models import JournalEntry, JournalLine
    from addons.invoicing.models import Invoice
    _activity(books)
    for line, entry in db.session.execute(select(JournalLine, JournalEntry)
                                          .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)):
        if entry.state == "draft":
            assert line.posted_date is None
            continue
        assert line.posted_date == entry.date
        invoice = db.session.get(Invoice, entry.origin_id) if entry.origin_type in ("invoice", "credit_note") else None
        assert line.due_date == (invoice.due_date if invoice else entry.date)


def test_filtered_trial_balance_equals_the_hand_sum(books, ctx):
    _activity(books)
    for date_from, date_to in ((None, None), ("2026-02-01", "2026-02-28"), ("2026-01-12", None), (None, "2026-02-02")):
        query = "&".join(f"{k}={v}" for k, v in (("date_from", date_from), ("date_to", date_to)) if v)
        tb = books.books.get(f"/reports/trial-balance?{query}").json
        sums: dict[str, list] = {}
        for code, *_, debit, credit in _hand_lines(date_from and date.fromisoformat(date_from),
                                                  date_to and date.fromisoformat(date_to)):
            sums.setdefault(code, [D(0), D(0)])
            sums[code][0] += debit
            sums[code][1] += credit
        assert {r["account_code"]: (D(r["debit"]), D(r["credit"])) for r in tb["rows"]} == \
            {code: (d, c) for code, (d, c) in sums.items()}, query
        assert tb["total_debit"] == tb["total_credit"]


def test_every_general_ledger_page_carries_the_sum_of_the_earlier_lines(books, ctx):
    _activity(books)
    for account, date_from in (("411000", None), ("411000", "2026-02-01"), (None, None), (None, "2026-02-10")):
        args = "&".join(p for p in (f"account={account}" if account else "",
                                    f"date_from={date_from}" if date_from else "") if p)
        whole = books.books.get(f"/reports/general-ledger?{args}&limit=1000").json
        # By hand: opening before date_from, then each line adds debit - credit, per account.
        start = date.fromisoformat(date_from) if date_from else None
        balance: dict[str, Decimal] = {}
        expected = []
        for code, _, _, on, entry_id, line_id, debit, credit in sorted(
                _hand_lines(), key=lambda r: (r[0], r[3], r[4], r[5])):
            if account and code != account:
                continue
            balance[code] = balance.get(code, D(0)) + debit - credit
            if start is None or on >= start:
                expected.append((code, entry_id, debit, credit, balance[code]))
        assert [(i["account_code"], i["entry_id"], D(i["debit"]), D(i["credit"]), D(i["balance"]))
                for i in whole["items"]] == expected, args
        assert whole["total"] == len(expected)
        paged = []
        for offset in range(0, whole["total"], 3):
            page = books.books.get(f"/reports/general-ledger?{args}&limit=3&offset={offset}").json
            assert page["total"] == whole["total"] and page["total_debit"] == whole["total_debit"]
            paged += page["items"]
        assert paged == whole["items"], args


def test_partner_ledger_pages_and_aged_receivables_equal_the_hand_sums(books, ctx):
    from addons.accounting.models import Reconciliation
    from addons.invoicing.models import Invoice
    made = _activity(books)
    other = books.office.post("/partners", json={"name": "Another SA"}).json
    books.invoice(on="2026-03-30", partner=other)
    whole = books.books.get("/reports/partner-ledger?limit=1000").json
    paged = []
    for offset in range(0, whole["total"], 4):
        paged += books.books.get(f"/reports/partner-ledger?limit=4&offset={offset}").json["items"]
    assert paged == whole["items"]
    assert [i["partner_name"] for i in whole["items"]] == sorted(i["partner_name"] for i in whole["items"])
    receivable = [r for r in _hand_lines() if r[1] == "receivable" and r[2] is not None]
    assert whole["total"] == len(receivable)
    owed = sum((r[6] - r[7] for r in receivable if r[2] == books.partner["id"]), D(0))
    mine = [i for i in whole["items"] if i["partner_id"] == books.partner["id"]]
    assert D(mine[-1]["balance"]) == owed

    as_of = date(2026, 4, 30)
    aged = books.books.get(f"/reports/aged-receivables?as_of={as_of}").json
    # By hand: each receivable line's open amount (less what was matched by then), in the bucket of its due date.
    matched: dict[int, Decimal] = {}
    for r in db.session.scalars(select(Reconciliation).where(Reconciliation.date <= as_of)):
        matched[r.debit_line_id] = matched.get(r.debit_line_id, D(0)) - r.amount
        matched[r.credit_line_id] = matched.get(r.credit_line_id, D(0)) + r.amount
    due_of = {i.id: i.due_date for i in db.session.scalars(select(Invoice))}
    from addons.accounting.models import JournalEntry
    entries = {e.id: e for e in db.session.scalars(select(JournalEntry))}
    buckets: dict[int, dict[str, Decimal]] = {}
    for code, _, partner_id, on, entry_id, line_id, debit, credit in receivable:
        entry = entries[entry_id]
        due = due_of.get(entry.origin_id) if entry.origin_type in ("invoice", "credit_note") else None
        due = due or on
        late = (as_of - due).days
        name = ("current" if due >= as_of or credit > 0 else "d1_30" if late <= 30 else "d31_60" if late <= 60
                else "d61_90" if late <= 90 else "over_90")
        row = buckets.setdefault(partner_id, {})
        row[name] = row.get(name, D(0)) + debit - credit + matched.get(line_id, D(0))
    got = {i["partner_id"]: {k: D(i[k]) for k in ("current", "d1_30", "d31_60", "d61_90", "over_90")}
           for i in aged["items"]}
    assert got == {p: {k: row.get(k, D(0)) for k in ("current", "d1_30", "d31_60", "d61_90", "over_90")}
                   for p, row in buckets.items() if sum(row.values()) != 0}
    assert made and other["id"] in got
