"""Importing products from CSV (page and ``python run.py import products``) through catalog.save_product."""
from __future__ import annotations

import io
import re

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from addons.invoicing.models import Product
from core.cli import build_cli
from core.extensions import db

GOOD = ("code;name;type;unit;unit_price;tax\n"
        "LAB-STD;Labour;labour;h;65.00;VAT 20%\n"
        "PRT-VALVE;Thermostatic valve;part;unit;38,50;10\n"
        "SRV-TRIP;Travel;service;;25;\n")
BAD = ("code,name,type,unit_price,tax\n"
       "OK-1,Fine,part,10.00,20\n"
       "OK-1,Same code twice,part,1.00,\n"
       ",No code,part,1.00,\n"
       "X-2,Bad type,gadget,1.00,\n"
       "X-3,Bad price,part,abc,\n"
       "X-4,Negative,part,-5,\n"
       "X-5,Unknown tax,part,5,VAT 99%\n"
       "OK-2,Also fine,labour,12,\n")


def _products(app) -> dict[str, Product]:
    with app.app_context():
        rows = {p.code: p for p in db.session.scalars(select(Product))}
        for p in rows.values():
            p.tax_name = p.tax.name if p.tax else None
        db.session.expunge_all()
        return rows


def _run(app, tmp_path, content: str, *options):
    path = tmp_path / "products.csv"
    path.write_text(content, encoding="utf-8")
    return CliRunner().invoke(build_cli(app), ["import", "products", str(path), *options], prog_name="run.py")


def test_cli_imports_products_with_taxes_by_name_or_rate(app, tmp_path):
    result = _run(app, tmp_path, GOOD)
    assert result.exit_code == 0, result.output
    assert "3 products imported, 0 invalid rows skipped." in result.output
    products = _products(app)
    assert str(products["LAB-STD"].unit_price) == "65.00" and products["LAB-STD"].tax_name == "VAT 20%"
    assert products["LAB-STD"].type == "labour" and products["LAB-STD"].unit == "h"
    assert str(products["PRT-VALVE"].unit_price) == "38.50" and products["PRT-VALVE"].tax_name == "VAT 10%"
    assert products["SRV-TRIP"].tax_name is None and products["SRV-TRIP"].unit == "unit"
    # importing the same file again: every code is taken, nothing changes
    result = _run(app, tmp_path, GOOD)
    assert result.exit_code != 0 and "3 of 3 rows are not valid" in result.output
    assert "already used" in result.output


def test_cli_reports_each_bad_row_and_skips_them_on_request(app, tmp_path):
    result = _run(app, tmp_path, BAD)
    assert result.exit_code != 0 and "6 of 8 rows are not valid; nothing was imported" in result.output
    for line, text in [(3, "already used"), (4, "needs a code"), (5, "The type is one of"),
                       (6, "must be a number"), (7, "at least 0"), (8, "No tax named or rated 'VAT 99%'")]:
        assert re.search(rf"line {line}: .*{re.escape(text)}", result.output), (line, result.output)
    assert _products(app) == {}
    result = _run(app, tmp_path, BAD, "--skip-invalid")
    assert result.exit_code == 0 and "2 products imported, 6 invalid rows skipped." in result.output
    assert set(_products(app)) == {"OK-1", "OK-2"}
    assert _products(app)["OK-1"].name == "Fine"  # the first row with the code won, as in the preview


def test_unknown_columns_are_named(app, tmp_path):
    result = _run(app, tmp_path, "code;name;colour\nA;B;red\n")
    assert result.exit_code != 0 and "Unknown column: colour" in result.output


def test_page_preview_then_import(app, login):
    office = login("back_office")
    r = office.post("/products/import", data={"file": (io.BytesIO(("\ufeff" + BAD).encode()), "p.csv")},
                    content_type="multipart/form-data")
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "2 valid" in page and "6 with errors" in page and "Bad type" in page
    assert _products(app) == {}
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    r = office.post("/products/import", data={"token": token, "skip_invalid": "1"}, follow_redirects=True)
    assert "2 products imported. 6 invalid rows skipped." in r.get_data(as_text=True)
    assert set(_products(app)) == {"OK-1", "OK-2"}
    # a preview token of the customers import does not import products
    r = office.post("/partners/import", data={"file": (io.BytesIO(b"name\nA\n"), "c.csv")},
                    content_type="multipart/form-data")
    partner_token = re.search(r'name="token" value="([^"]+)"', r.get_data(as_text=True)).group(1)
    r = office.post("/products/import", data={"token": partner_token}, follow_redirects=True)
    assert "not valid" in r.get_data(as_text=True)


@pytest.mark.parametrize("role", ["bookkeeper", "technician"])
def test_only_who_may_write_products_imports_them(login, role):
    assert login(role).get("/products/import").status_code == 403
