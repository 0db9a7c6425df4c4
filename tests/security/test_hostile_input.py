"""No 500 for hostile input, and values no field can hold are refused (issue 16, item 7), on both databases.

Each case answered 500 (or was stored, or was silently changed) before: a lone surrogate, 1,000 levels of JSON,
a 5,000-digit integer, partner_id=0 on the partner ledger, 70,000 ids in one batch call, a CSV value over 128 KB
(page and command line), a document dated 0001-01-01, an unknown country, a NUL in a name sent from a form, an
unterminated CSV quote that merged rows, 10.005 imported as 10.01."""
from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from core.cli import build_cli
from core.extensions import db


def _raw(client, path: str, body: str):
    return client.client.post("/api/v1" + path, data=body.encode("utf-8", "surrogatepass"),
                              headers={"Authorization": f"Bearer {client.token}", "Content-Type": "application/json"})


def _partners(app) -> int:
    with app.app_context():
        return db.session.scalar(text("SELECT count(*) FROM core_partners"))


@pytest.fixture
def office(api):
    return api("back_office")


@pytest.mark.parametrize("body, field", [
    ('{"name": "Dupont \\ud800 SARL"}', "name"),        # a lone surrogate, as a JSON escape
    ('{"name": "Dupont \\udfff"}', "name"),
    ('{"name": "Dupont \\u0000 SARL"}', "name"),        # NUL: PostgreSQL refused it, SQLite kept it
    ('{"name": "Dupont", "city": "\\u0000"}', "city"),
    ('{"name": "Dupont", "\\ud800": 1}', "\\ud800"),  # the field named as the escape it came as
])
def test_texts_no_field_can_hold_are_refused_with_the_field(app, office, body, field):
    before = _partners(app)
    r = _raw(office, "/partners", body)
    assert r.status_code == 422, r.get_data(as_text=True)
    error = r.json["error"]
    assert error["code"] == "validation_error" and list(error["fields"]) == [field]
    assert "NUL" in str(error["fields"]) or "surrogate" in str(error["fields"])
    assert _partners(app) == before


@pytest.mark.parametrize("body", [
    "[" * 1000 + "]" * 1000,
    '{"name": "x", "lines": ' + "[" * 100_000 + "]" * 100_000 + "}",
    '{"name": "Dupont", "lines": ' + "[" * 40 + "]" * 40 + "}",   # parsed, but deeper than any body Kontor takes
    '{"name": "Dupont", "payment_terms": ' + "9" * 5000 + "}",
    '{"partner_id": ' + "1" * 50 + ', "lines": []}',
    '{"name": "Dupont", "zip": NaN}',
])
def test_bodies_that_broke_the_parser_are_refused(app, office, body):
    for path in ("/partners", "/invoices"):
        r = _raw(office, path, body)
        assert r.status_code in (400, 422), (path, r.status_code, r.get_data(as_text=True)[:300])
        assert r.json["error"]["code"] in ("bad_request", "validation_error")
        assert "error" in r.json and r.json["error"]["message"]
    assert _partners(app) == 0


def test_the_strict_reader_takes_ordinary_bodies(app, office):
    r = _raw(office, "/partners", '{"name": "Café Ünïcode 🎉", "city": "Zürich", "country": "CH"}')
    assert r.status_code == 201 and r.json["name"] == "Café Ünïcode 🎉", r.json


def test_partner_ledger_with_an_unknown_customer(app, api, login):
    bookkeeper = api("bookkeeper")
    for partner_id in ("0", "999999", "-1"):
        r = bookkeeper.get(f"/reports/partner-ledger?partner_id={partner_id}")
        assert r.status_code == 422, (partner_id, r.get_data(as_text=True))
        assert "partner_id" in r.json["error"]["fields"] and "no customer" in r.json["error"]["message"]
    page = login("bookkeeper")
    r = page.get("/accounting/reports/partner-ledger?partner_id=0", follow_redirects=True)
    assert r.status_code == 200 and "There is no customer 0" in r.get_data(as_text=True)
    assert bookkeeper.get("/reports/partner-ledger").status_code == 200  # no filter: every customer


def test_a_batch_call_takes_at_most_a_thousand_ids(app, office):
    r = office.post("/service-orders/invoice", json={"ids": list(range(1, 70_001))})
    assert r.status_code == 422, r.get_data(as_text=True)[:300]
    assert "At most 1,000" in str(r.json["error"]["fields"]["ids"])
    r = office.post("/invoices/post", json={"ids": list(range(1, 1_002))})
    assert r.status_code == 422
    r = office.post("/service-orders/invoice", json={"ids": [2**40]})
    assert r.status_code == 422


# -- CSV ---------------------------------------------------------------------------------------------------------
def _upload(browser, content: bytes, path="/partners/import"):
    return browser.post(path, data={"file": (io.BytesIO(content), "customers.csv")},
                        content_type="multipart/form-data")


def test_a_csv_value_over_128_kb_is_refused_on_the_page_and_the_command_line(app, login, tmp_path):
    content = ("name;city\nDupont;Lyon\n\"" + "x" * 140_000 + "\";Paris\n").encode()
    r = _upload(login("back_office"), content)
    assert r.status_code == 422 and "longer than 131,072 characters" in r.get_data(as_text=True)
    path = tmp_path / "big.csv"
    path.write_bytes(content)
    result = CliRunner().invoke(build_cli(app), ["import", "partners", str(path)])
    assert result.exit_code == 1, result.output
    assert "Line 3: a value is longer than 131,072 characters" in result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    assert _partners(app) == 0


def test_an_unterminated_quote_is_refused_not_merged(app, login):
    content = b'name;city\n"Dupont;Lyon\nMartin;Paris\nDurand;Nice\n'
    r = _upload(login("back_office"), content)
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and "Line 2: a quote" in body and "never closed" in body
    assert _partners(app) == 0


def test_a_price_with_more_decimals_than_the_currency_is_refused_on_import(app, login):
    r = _upload(login("back_office"), b"code;name;unit_price\nLAB;Labour;10.005\nPRT;Part;10.50\n",
                path="/products/import")
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "10.005 has more decimals than EUR allows (2)" in body
    with app.app_context():
        assert db.session.scalar(text("SELECT count(*) FROM invoicing_products WHERE code = 'LAB'")) == 0


# -- dates and countries -----------------------------------------------------------------------------------------
def test_documents_dated_outside_the_window_are_refused(app, office, login):
    partner = office.post("/partners", json={"name": "Dupont"}).json
    line = [{"description": "Repair", "quantity": "1", "unit_price": "10.00"}]
    today = date.today()
    for on in ("0001-01-01", (today + timedelta(days=366)).isoformat(), (today - timedelta(days=366)).isoformat()):
        r = office.post("/invoices", json={"partner_id": partner["id"], "invoice_date": on, "lines": line})
        assert r.status_code == 422 and r.json["error"]["code"] == "date_out_of_window", r.json
        assert "invoice_date" in r.json["error"]["fields"]
    ok = office.post("/invoices", json={"partner_id": partner["id"], "lines": line,
                                        "invoice_date": (today - timedelta(days=365)).isoformat()})
    assert ok.status_code == 201, ok.json
    r = office.patch(f"/invoices/{ok.json['id']}", json={"invoice_date": "9999-12-31"})
    assert r.status_code == 422
    # a draft made long ago (or dated by another path) is refused at posting, alone in a batch
    other = office.post("/invoices", json={"partner_id": partner["id"], "lines": line}).json
    with app.app_context():
        db.session.execute(text("UPDATE invoicing_invoices SET invoice_date = :d WHERE id = :id"),
                           {"d": date(2001, 1, 1), "id": ok.json["id"]})
        db.session.commit()
    r = office.post(f"/invoices/{ok.json['id']}/post")
    assert r.status_code == 422 and r.json["error"]["code"] == "date_out_of_window"
    r = office.post("/invoices/post", json={"ids": [ok.json["id"], other["id"]]})
    assert r.status_code == 200, r.json
    assert [x["id"] for x in r.json["refused"]] == [ok.json["id"]] and len(r.json["posted"]) == 1
    # the window is a setting
    admin = login("admin")
    page = admin.get("/settings").get_data(as_text=True)
    assert 'name="document_date_window_days"' in page and 'value="365"' in page
    # payments keep it too
    r = office.post("/payments", json={"partner_id": partner["id"], "amount": "5.00", "date": "1900-01-01",
                                       "method": "cash"})
    assert r.status_code == 422 and "date" in r.json["error"]["fields"]


@pytest.mark.parametrize("code", ["XX", "ZZ", "UK", "EU", "QQ", "12"])
def test_unknown_country_codes_are_refused(app, office, login, code):
    r = office.post("/partners", json={"name": "Dupont", "country": code})
    assert r.status_code == 422 and "country" in r.json["error"]["fields"], r.json
    browser = login("back_office")
    r = browser.post("/partners/new", data={"name": "Dupont", "country": code})
    assert r.status_code == 200 and "country" in r.get_data(as_text=True).lower()
    assert "ISO code" in r.get_data(as_text=True)
    assert _partners(app) == 0
    assert office.post("/partners", json={"name": "Kosovo Ltd", "country": "xk"}).json["country"] == "XK"


def test_a_nul_in_a_name_sent_from_a_form_is_refused(app, login):
    browser = login("back_office")
    r = browser.post("/partners/new", data={"name": "Dupont\x00SARL", "country": "FR"})
    assert r.status_code == 422 and "NUL character" in r.get_data(as_text=True)
    assert _partners(app) == 0
