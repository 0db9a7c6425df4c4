"""Reports a bookkeeper reads: trial balance, general and partner ledgers, aged receivables, FEC export."""
import csv
import io
import re
from decimal import Decimal

import pytest

from sqlalchemy import func, select

from core.extensions import db

D = Decimal


def _activity(books):
    first = books.invoice(on="2026-01-10")                                         # 144.00, due 2026-02-09
    second = books.invoice([{"product_id": books.part["id"], "quantity": "2"}], on="2026-03-01")  # 60.00
    books.pay(first, "100.00", on="2026-02-01")
    books.office.post(f"/invoices/{second['id']}/credit-notes", json={"mode": "cancel", "date": "2026-03-05"})
    return first, second


def test_trial_balance_equals_the_entries(books, ctx):
    from addons.accounting.models import JournalLine
    _activity(books)
    tb = books.books.get("/reports/trial-balance").json
    assert tb["total_debit"] == tb["total_credit"]
    total = db.session.scalar(select(func.sum(JournalLine.debit)))
    assert D(tb["total_debit"]) == total
    rows = {r["account_code"]: r for r in tb["rows"]}
    assert rows["411000"]["debit"] == "204.00" and rows["411000"]["credit"] == "160.00"
    assert rows["411000"]["balance"] == "44.00"
    assert rows["512000"]["balance"] == "100.00"
    assert rows["706100"]["balance"] == "-120.00" and rows["707000"]["balance"] == "0.00"
    for r in tb["rows"]:
        assert D(r["balance"]) == D(r["debit"]) - D(r["credit"])
    # period filter
    tb = books.books.get("/reports/trial-balance?date_from=2026-03-01&date_to=2026-03-31").json
    assert {r["account_code"] for r in tb["rows"]} == {"411000", "707000", "445710"}
    assert books.books.get("/reports/trial-balance?date_from=x").status_code == 422
    assert books.office.get("/reports/trial-balance").status_code == 403


def test_general_ledger_running_balance_and_pages(books):
    _activity(books)
    gl = books.books.get("/reports/general-ledger?account=411000").json
    assert [r["balance"] for r in gl["items"]] == ["144.00", "44.00", "104.00", "44.00"]
    assert gl["total"] == 4
    page2 = books.books.get("/reports/general-ledger?account=411000&limit=2&offset=2").json
    assert [r["balance"] for r in page2["items"]] == ["104.00", "44.00"]
    later = books.books.get("/reports/general-ledger?account=411000&date_from=2026-02-15").json
    assert later["opening"] == {"411000": "44.00"} and later["items"][0]["balance"] == "104.00"
    assert books.books.get("/reports/general-ledger?account=999").status_code == 404


def test_partner_ledger_and_aged_receivables(books):
    first, _ = _activity(books)
    pl = books.books.get(f"/reports/partner-ledger?partner_id={books.partner['id']}").json
    assert pl["items"][-1]["balance"] == "44.00" and pl["total"] == 4
    aged = books.books.get("/reports/aged-receivables?as_of=2026-03-20").json
    assert len(aged["items"]) == 1
    row = aged["items"][0]
    # 44.00 left on the first invoice, due 2026-02-09: 39 days late on 2026-03-20
    assert row["partner_id"] == books.partner["id"] and row["d31_60"] == "44.00" and row["total"] == "44.00"
    assert row["current"] == "0.00" and row["over_90"] == "0.00"
    aged = books.books.get("/reports/aged-receivables?as_of=2026-01-20").json
    assert aged["items"][0]["current"] == "144.00"
    assert books.books.get("/reports/aged-receivables?as_of=bad").status_code == 422


def test_fec_export(books, ctx):
    from core.models import company
    company().siren = "123456789"
    db.session.commit()
    _activity(books)
    r = books.books.get("/exports/fec?year=2026")
    assert r.status_code == 200
    assert 'filename="123456789FEC20261231.txt"' in r.headers["Content-Disposition"]
    lines = r.get_data(as_text=True).split("\r\n")
    header = lines[0].split("\t")
    assert header == ["JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum", "CompteLib",
                      "CompAuxNum", "CompAuxLib", "PieceRef", "PieceDate", "EcritureLib", "Debit", "Credit",
                      "EcritureLet", "DateLet", "ValidDate", "Montantdevise", "Idevise"]
    rows = [l.split("\t") for l in lines[1:] if l]
    assert all(len(row) == 18 for row in rows)
    first = rows[0]
    assert first[0] == "INV" and first[2] == "INV/2026/00001" and first[3] == "20260110" and first[4] == "411000"
    assert first[11] == "144,00" and first[12] == "0,00"
    assert first[13] != "" and first[14] == "20260201"   # lettered with the payment
    payment_line = next(row for row in rows if row[0] == "BNK" and row[4] == "411000")
    assert payment_line[13] == first[13]
    assert books.books.get("/exports/fec?year=2025").get_data(as_text=True).count("\r\n") == 1
    assert books.books.get("/exports/fec").status_code == 422
    assert books.books.get("/exports/fec?year=abc").status_code == 422
    assert books.office.get("/exports/fec?year=2026").status_code == 403


def test_report_pages_and_csv(books, login):
    _activity(books)
    browser = login("bookkeeper")
    for url, expect in [("/accounting/reports", "Trial balance"),
                        ("/accounting/reports/trial-balance", "Labour income"),
                        ("/accounting/reports/general-ledger?account=411000", "INV/2026/00001"),
                        ("/accounting/reports/partner-ledger", "Dupont SARL"),
                        ("/accounting/reports/aged-receivables?as_of=2026-03-20", "Dupont SARL"),
                        ("/accounting/close", "Numbering per journal"),
                        ("/accounting/accounts", "411000"),
                        ("/accounting/mapping", "Income account per product type")]:
        r = browser.get(url)
        assert r.status_code == 200, url
        assert expect in r.get_data(as_text=True), url
    csv = browser.get("/accounting/reports/trial-balance?format=csv").get_data(as_text=True)
    assert csv.splitlines()[0] == "account_code,account_name,debit,credit,balance" and "411000" in csv
    assert "balance" in browser.get("/accounting/reports/general-ledger?format=csv").get_data(as_text=True)
    assert "d31_60" in browser.get("/accounting/reports/aged-receivables?format=csv").get_data(as_text=True)
    r = browser.get("/accounting/exports/fec?year=2026")
    assert r.status_code == 200 and r.get_data(as_text=True).startswith("JournalCode\t")
    assert browser.get("/accounting/exports/fec?year=x").status_code == 302
    r = browser.get("/accounting/reports/trial-balance?date_from=bad")
    assert r.status_code == 302
    assert login("back_office").get("/accounting/reports/trial-balance").status_code == 403


@pytest.mark.parametrize("report", ["general-ledger?account=411000", "general-ledger",
                                    "general-ledger?account=411000&date_from=2026-02-15", "partner-ledger",
                                    "partner-ledger?date_from=2026-02-15&date_to=2026-12-31"])
def test_ledger_pages_read_from_either_end_give_the_same_lines_and_balances(books, report):
    """A page in a group's second half is found from the group's end and its carried balance is the group's total
    less the lines after it: every page of every size must still be the matching slice of the whole ledger."""
    _activity(books)
    books.invoice([{"product_id": books.part["id"], "quantity": "3"}], on="2026-03-05")
    books.invoice(on="2026-03-06")
    sep = "&" if "?" in report else "?"
    whole = books.books.get(f"/reports/{report}{sep}limit=1000").json
    assert whole["total"] == len(whole["items"]) >= 4
    for limit in (1, 2, 3, 5):
        for offset in range(0, whole["total"] + 1):
            page = books.books.get(f"/reports/{report}{sep}limit={limit}&offset={offset}").json
            assert page["total"] == whole["total"]
            assert page["items"] == whole["items"][offset:offset + limit], (limit, offset)


FORMULA_NAME = '=HYPERLINK("http://evil.example","x")'


def test_the_fec_neutralises_formula_text_and_keeps_its_amounts(books, ctx):
    """A customer or a label typed like a spreadsheet formula is text in the FEC (leading apostrophe, OWASP's CSV
    injection advice); amounts keep the FEC's form (comma decimals, no apostrophe)."""
    evil = books.office.post("/partners", json={"name": FORMULA_NAME}).json
    books.invoice(partner=evil, on="2026-01-10")
    labels = ["@SUM(A1)", "\t=cmd|' /C calc'!A0", "-2+3", "+1", "Plain label"]
    lines = [{"account_code": "512000", "label": label, "debit": "10.00"} for label in labels] + \
        [{"account_code": "101000", "label": "Capital", "credit": "50.00"}]
    r = books.books.post("/journal-entries", json={"date": "2026-02-01", "ref": "=1+1", "lines": lines})
    assert r.status_code == 201, r.json
    assert books.books.post(f"/journal-entries/{r.json['id']}/post").status_code == 200
    text = books.books.get("/exports/fec?year=2026").get_data(as_text=True)
    rows = [line.split("\t") for line in text.split("\r\n")[1:] if line]
    assert all(len(row) == 18 for row in rows)
    customer = next(row for row in rows if row[0] == "INV" and row[4] == "411000")
    assert customer[7] == "'" + FORMULA_NAME and customer[11] == "144,00" and customer[12] == "0,00"
    manual = [row for row in rows if row[0] == "GEN"]
    assert [row[10] for row in manual] == ["'@SUM(A1)", "'=cmd|' /C calc'!A0", "'-2+3", "'+1", "Plain label",
                                           "Capital"]
    assert {row[8] for row in manual} == {"'=1+1"}
    for row in rows:  # no cell anywhere starts a formula; amounts are FEC amounts
        assert not any(cell.lstrip(" ").startswith(("=", "+", "-", "@")) for cell in row), row
        assert all(re.fullmatch(r"[0-9]+,[0-9]{2}", amount) for amount in row[11:13]), row


def test_csv_exports_keep_negative_numbers_numeric_and_neutralise_text(books, login):
    """-120.00 stays a number a spreadsheet sums; a formula-like name gets its apostrophe (core.listing.safe_cell)."""
    _activity(books)
    evil = books.office.post("/partners", json={"name": FORMULA_NAME}).json
    books.invoice(partner=evil, on="2026-03-02")
    browser = login("bookkeeper")

    def rows(url):
        r = browser.get(url)
        assert r.status_code == 200 and r.mimetype == "text/csv", url
        return list(csv.reader(io.StringIO(r.get_data(as_text=True))))

    trial = {row[0]: row for row in rows("/accounting/reports/trial-balance?format=csv")[1:]}
    assert trial["706100"][4] == "-240.00" and trial["411000"][4] != "" and not trial["411000"][4].startswith("'")
    ledger = rows("/accounting/reports/general-ledger?account=706100&format=csv")[1:]
    assert ledger and all(re.fullmatch(r"-?[0-9]+\.[0-9]{2}", row[8]) for row in ledger)
    assert any(row[8].startswith("-") for row in ledger)
    partners = rows("/accounting/reports/partner-ledger?format=csv")[1:]
    assert "'" + FORMULA_NAME in {row[4] for row in partners}
    aged = rows("/accounting/reports/aged-receivables?as_of=2026-03-20&format=csv")[1:]
    assert "'" + FORMULA_NAME in {row[1] for row in aged}
