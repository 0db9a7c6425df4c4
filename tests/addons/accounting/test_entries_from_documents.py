"""Posting an invoice, a credit note, a payment or a refund writes its balanced entry on the right accounts."""
from decimal import Decimal

D = Decimal


def test_invoice_entry_hits_receivable_income_per_type_and_vat(books):
    inv = books.invoice([{"product_id": books.labour["id"], "quantity": "2"},      # 120 + 24
                         {"product_id": books.part["id"], "quantity": "4"},        # 100 + 20
                         {"product_id": books.service["id"], "quantity": "1"},     # 100 + 10
                         {"product_id": books.labour["id"], "quantity": "1"}])     # 60 + 12
    assert inv["journal_entry_id"]
    entry = books.entry(inv["journal_entry_id"])
    assert entry["state"] == "posted" and entry["journal"] == "INV" and entry["ref"] == inv["number"]
    assert entry["number"] == "INV/2026/00001"
    assert entry["origin"] == {"type": "invoice", "id": inv["id"]}
    assert books.balanced(entry)
    by = books.lines_by_account(entry)
    assert by["411000"] == (D(inv["amount_total"]), D(0)) == (D("446.00"), D(0))
    assert by["706100"] == (D(0), D("180.00"))   # labour lines grouped on one line
    assert by["707000"] == (D(0), D("100.00"))
    assert by["706000"] == (D(0), D("100.00"))
    assert by["445710"] == (D(0), D("66.00"))
    assert len([l for l in entry["lines"] if l["account_code"] == "706100"]) == 1
    receivable = next(l for l in entry["lines"] if l["account_code"] == "411000")
    assert receivable["partner_id"] == books.partner["id"]


def test_credit_note_is_the_reverse_and_reconciles_the_invoice(books, ctx):
    inv = books.invoice()
    r = books.office.post(f"/invoices/{inv['id']}/credit-notes", json={"mode": "cancel"})
    assert r.status_code == 201, r.json
    note = books.office.get(f"/invoices/{r.json['id']}").json
    entry = books.entry(note["journal_entry_id"])
    assert entry["journal"] == "CN" and entry["number"] == "CN/2026/00001" and books.balanced(entry)
    by = books.lines_by_account(entry)
    assert by["411000"] == (D(0), D("144.00"))
    assert by["706100"] == (D("120.00"), D(0)) and by["445710"] == (D("24.00"), D(0))
    from addons.accounting.services import receivable_open_amount
    assert receivable_open_amount("invoice", inv["id"]) == D(0)
    assert receivable_open_amount("credit_note", note["id"]) == D(0)
    assert books.office.get(f"/invoices/{inv['id']}").json["amount_due"] == "0.00"


def test_payment_entry_bank_and_cash_and_reconciliation(books, ctx):
    from addons.accounting.services import receivable_open_amount
    inv = books.invoice()
    bank = books.pay(inv, "100.00")
    entry = books.entry(bank["journal_entry_id"])
    assert entry["journal"] == "BNK" and entry["number"] == "BNK/2026/00001" and books.balanced(entry)
    assert entry["origin"] == {"type": "payment", "id": bank["id"]}
    assert books.lines_by_account(entry) == {"512000": (D("100.00"), D(0)), "411000": (D(0), D("100.00"))}
    assert receivable_open_amount("invoice", inv["id"]) == D("44.00")
    cash = books.pay(inv, "44.00", method="cash")
    entry = books.entry(cash["journal_entry_id"])
    assert entry["journal"] == "CSH" and entry["number"] == "CSH/2026/00001"
    assert books.lines_by_account(entry) == {"530000": (D("44.00"), D(0)), "411000": (D(0), D("44.00"))}
    assert receivable_open_amount("invoice", inv["id"]) == D(0)
    assert books.office.get(f"/invoices/{inv['id']}").json["amount_due"] == "0.00"


def test_overpayment_then_refund(books, ctx):
    from addons.accounting.services import receivable_open_amount
    inv = books.invoice()
    payment = books.pay(inv, "200.00")
    assert receivable_open_amount("payment", payment["id"]) == D("56.00")
    r = books.office.post(f"/partners/{books.partner['id']}/refunds",
                          json={"amount": "56.00", "date": "2026-03-12", "method": "bank_transfer"})
    assert r.status_code == 201, r.json
    refund = r.json
    entry = books.entry(refund["journal_entry_id"])
    assert books.lines_by_account(entry) == {"411000": (D("56.00"), D(0)), "512000": (D(0), D("56.00"))}
    assert receivable_open_amount("payment", payment["id"]) == D(0)
    assert receivable_open_amount("payment", refund["id"]) == D(0)


def test_entries_link_back_from_documents_and_filters(books):
    inv = books.invoice()
    books.pay(inv, "44.00")
    r = books.books.get("/journal-entries", query_string={"journal": "BNK"})
    assert r.json["total"] == 1 and r.json["items"][0]["journal"] == "BNK"
    r = books.books.get("/journal-entries", query_string={"account": "706100"})
    assert [e["id"] for e in r.json["items"]] == [inv["journal_entry_id"]]
    r = books.books.get("/journal-entries", query_string={"partner_id": books.partner["id"]})
    assert r.json["total"] == 2
    r = books.books.get("/journal-entries", query_string={"date_from": "2026-03-05", "date_to": "2026-03-31"})
    assert r.json["total"] == 1
    assert books.books.get("/journal-entries", query_string={"date_from": "nope"}).status_code == 422
    assert books.books.get("/journal-entries/999999").status_code == 404
    # back office may read entries, technicians may not
    assert books.office.get(f"/journal-entries/{inv['journal_entry_id']}").status_code == 200
