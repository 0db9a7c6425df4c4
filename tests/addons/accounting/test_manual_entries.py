"""A bookkeeper writes a manual entry (general journal), posts it, and corrects it by reversal."""
import re

LINES = [{"account_code": "512000", "label": "Capital paid in", "debit": "1000.00"},
         {"account_code": "101000", "label": "Capital", "credit": "1000.00"}]


def test_create_post_reverse(books):
    a = books.books
    r = a.post("/journal-entries", json={"date": "2026-02-01", "ref": "Capital", "lines": LINES})
    assert r.status_code == 201, r.json
    draft = r.json
    assert draft["state"] == "draft" and draft["number"] is None and draft["journal"] == "GEN"
    r = a.post(f"/journal-entries/{draft['id']}/post")
    assert r.status_code == 200 and r.json["number"] == "GEN/2026/00001" and r.json["hash"]
    assert a.post(f"/journal-entries/{draft['id']}/post").status_code == 409
    assert a.delete(f"/journal-entries/{draft['id']}").status_code == 409
    r = a.post(f"/journal-entries/{draft['id']}/reverse", json={})
    assert r.status_code == 201, r.json
    reversal = r.json
    assert reversal["state"] == "posted" and reversal["reversed_entry_id"] == draft["id"]
    assert reversal["number"] == "GEN/2026/00002"
    assert {(l["account_code"], l["debit"], l["credit"]) for l in reversal["lines"]} == {
        ("512000", "0.00", "1000.00"), ("101000", "1000.00", "0.00")}
    r = a.post(f"/journal-entries/{draft['id']}/reverse", json={})
    assert r.status_code == 409 and r.json["error"]["code"] == "already_reversed"
    tb = a.get("/reports/trial-balance").json
    assert all(row["balance"] == "0.00" for row in tb["rows"])


def test_bad_manual_entries(books, api):
    a = books.books
    unbalanced = [{"account_code": "512000", "debit": "10.00"}, {"account_code": "101000", "credit": "9.00"}]
    draft = a.post("/journal-entries", json={"date": "2026-02-01", "lines": unbalanced}).json
    r = a.post(f"/journal-entries/{draft['id']}/post")
    assert r.status_code == 422 and r.json["error"]["code"] == "unbalanced"
    assert books.entry(draft["id"])["state"] == "draft"
    cases = [
        {"date": "2026-02-01", "lines": [LINES[0]]},                                               # one line
        {"date": "2026-02-01", "lines": [{"account_code": "999999", "debit": "1"}, LINES[1]]},     # unknown account
        {"date": "2026-02-01", "lines": [{"account_code": "512000", "debit": "-5"}, LINES[1]]},    # negative
        {"date": "2026-02-01", "lines": [{"account_code": "512000", "debit": 1.5}, LINES[1]]},     # float
        {"date": "2026-02-01", "lines": [{"account_code": "512000", "debit": "abc"}, LINES[1]]},   # not a number
        {"date": "2026-02-01", "lines": [{"account_code": "512000", "debit": "0"}, LINES[1]]},     # zero
        {"date": "2026-02-01", "lines": [{"account_code": "512000", "debit": "5", "credit": "5"}, LINES[1]]},
        {"date": "2026-02-01", "lines": [{"account_code": "512000", "debit": "5", "partner_id": 99999}, LINES[1]]},
        {"date": "2026-02-01", "journal": "XYZ", "lines": LINES},                                 # unknown journal
        {"date": "nope", "lines": LINES},
        {"lines": LINES},
    ]
    for body in cases:
        r = a.post("/journal-entries", json=body)
        assert r.status_code == 422, (body, r.json)
    assert a.get("/journal-entries").json["total"] == 1
    assert books.office.post("/journal-entries", json={"date": "2026-02-01", "lines": LINES}).status_code == 403
    assert api("technician").post("/journal-entries", json={"date": "2026-02-01", "lines": LINES}).status_code == 403
    assert a.post("/journal-entries/99999/post").status_code == 404
    assert a.post("/journal-entries/99999/reverse", json={}).status_code == 404


def test_document_entries_are_not_reversed_by_hand(books):
    inv = books.invoice()
    r = books.books.post(f"/journal-entries/{inv['journal_entry_id']}/reverse", json={})
    assert r.status_code == 409 and r.json["error"]["code"] == "document_entry"


def test_manual_entry_through_the_pages(books, login):
    browser = login("bookkeeper")
    page = browser.get("/accounting/entries/new")
    assert page.status_code == 200 and "Save draft" in page.get_data(as_text=True)
    data = {"date": "2026-02-03", "journal": "GEN", "ref": "Opening cash",
            "lines-0-account_code": "530000", "lines-0-debit": "200.00", "lines-0-label": "Cash",
            "lines-1-account_code": "101000", "lines-1-credit": "200.00"}
    r = browser.post("/accounting/entries/new", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)
    entry_url = r.headers["Location"]
    page = browser.get(entry_url).get_data(as_text=True)
    assert "Draft entry" in page and "530000" in page and "Opening cash" in page
    entry_id = int(re.search(r"/entries/(\d+)", entry_url).group(1))
    r = browser.post(f"/accounting/entries/{entry_id}/post")
    assert r.status_code == 302
    page = browser.get(entry_url).get_data(as_text=True)
    assert "GEN/2026/00001" in page and "Reverse" in page
    r = browser.post(f"/accounting/entries/{entry_id}/reverse", data={"date": "2026-02-04"})
    assert r.status_code == 302
    assert "Reverses" in browser.get(r.headers["Location"]).get_data(as_text=True)
    # unbalanced by the page: saved as draft, posting refused with a message
    bad = dict(data, **{"lines-1-credit": "150.00"})
    r = browser.post("/accounting/entries/new", data=bad)
    bad_id = int(re.search(r"/entries/(\d+)", r.headers["Location"]).group(1))
    r = browser.post(f"/accounting/entries/{bad_id}/post", headers={"Referer": f"/accounting/entries/{bad_id}"})
    assert r.status_code == 302
    assert "not balanced" in browser.get(f"/accounting/entries/{bad_id}").get_data(as_text=True)
    # unknown account in the form: the form again with the message
    r = browser.post("/accounting/entries/new", data=dict(data, **{"lines-0-account_code": "999"}))
    assert r.status_code == 422 and "no account 999" in r.get_data(as_text=True)
    # the list, filtered
    listing = browser.get("/accounting/entries?journal=GEN&q=Opening").get_data(as_text=True)
    assert "GEN/2026/00001" in listing
    assert browser.get("/accounting/entries?date_from=bad").status_code == 302
    csv = browser.get("/accounting/entries?format=csv&journal=GEN").get_data(as_text=True)
    assert csv.startswith("number,journal") and "530000" in csv
    office = login("back_office")
    assert office.get("/accounting/entries").status_code == 200
    assert office.get("/accounting/entries/new").status_code == 403
    assert office.post(f"/accounting/entries/{entry_id}/reverse", data={}).status_code == 403
    assert login("technician").get("/accounting/entries").status_code == 403
