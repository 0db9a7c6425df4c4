"""Importing customers from CSV: the page (upload, preview with per-row errors, confirm without re-upload) and
``python run.py import partners FILE.csv``; encodings, delimiters, unknown columns, empty and huge files."""
from __future__ import annotations

import io
import re

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from core import imports
from core.cli import build_cli
from core.extensions import db
from core.models import Partner

GOOD = "name;email;city;country\nDupont SARL;compta@dupont.example;Lyon;FR\nMüller GmbH;;Berlin;de\n"
MIXED = "name,email,country\nGood One,a@b.example,FR\n,missing@name.example,FR\nBad Mail,not-an-email,FR\n" \
        "Bad Country,,France\nGood Two,,BE\n"


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Partner))


def _names(app) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(select(Partner.name)))


@pytest.fixture
def run(app, tmp_path):
    def _run(content: bytes | str, *options):
        path = tmp_path / "partners.csv"
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return CliRunner().invoke(build_cli(app), ["import", "partners", str(path), *options], prog_name="run.py")
    return _run


# -- the command line ------------------------------------------------------------------------------------------------
def test_cli_imports_a_semicolon_file_with_a_bom(app, run):
    result = run("\ufeff" + GOOD)
    assert result.exit_code == 0, result.output
    assert "2 customers imported, 0 invalid rows skipped." in result.output
    assert _names(app) == {"Dupont SARL", "Müller GmbH"}
    with app.app_context():
        muller = db.session.scalar(select(Partner).where(Partner.name == "Müller GmbH"))
        assert muller.country == "DE" and muller.city == "Berlin"


def test_cli_refuses_a_file_with_invalid_rows_and_writes_nothing(app, run):
    before = _count(app)
    result = run(MIXED)
    assert result.exit_code != 0
    assert "3 of 5 rows are not valid; nothing was imported" in result.output
    assert "line 3: A customer needs a name." in result.output
    assert "line 4:" in result.output and "not an email address" in result.output
    assert "line 5:" in result.output and "two-letter" in result.output
    assert _count(app) == before


def test_cli_skip_invalid_imports_the_good_rows(app, run):
    result = run(MIXED, "--skip-invalid")
    assert result.exit_code == 0, result.output
    assert "2 customers imported, 3 invalid rows skipped." in result.output
    assert {"Good One", "Good Two"} <= _names(app) and "Bad Mail" not in _names(app)


@pytest.mark.parametrize("content, message", [
    ("", "The file is empty"),
    ("\n\n", "The file is empty"),
    ("name;email\n", "no rows"),
    ("name;colour;size\nA;red;XL\n", "Unknown columns: colour, size"),
    ("email\na@b.example\n", "Missing column: name"),
    ("name;name\nA;B\n", "given twice: name"),
    ("name\nCaf\xe9\n".encode("latin-1"), "not UTF-8"),
])
def test_cli_refuses_unreadable_files_clearly(app, run, content, message):
    result = run(content)
    assert result.exit_code != 0 and message in result.output, result.output
    assert _count(app) == 0


def test_too_many_rows_are_refused_before_anything_is_checked(app, run, monkeypatch):
    monkeypatch.setattr(imports, "MAX_ROWS", 3)
    monkeypatch.setattr(imports.parse, "__defaults__", (3,))
    result = run("name\nA\nB\nC\nD\n")
    assert result.exit_code != 0 and "more than 3 rows" in result.output
    assert _count(app) == 0


def test_the_real_limit_is_10000_rows(ctx):
    data = ("name\n" + "".join(f"Customer {i}\n" for i in range(10_001))).encode()
    with pytest.raises(imports.ValidationError) as refused:
        imports.parse(data, imports.PARTNERS)
    assert "more than 10,000 rows" in refused.value.message
    assert len(imports.parse(("name\n" + "x\n" * 10_000).encode(), imports.PARTNERS)) == 10_000


def test_cli_unknown_kind(run, app, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("name\nA\n")
    result = CliRunner().invoke(build_cli(app), ["import", "planets", str(path)], prog_name="run.py")
    assert result.exit_code != 0 and "Unknown import 'planets'" in result.output and "partners" in result.output


def test_a_quoted_value_with_the_delimiter_and_a_row_with_too_many_values(app, run):
    result = run('name,city\n"Dupont, Fils et Cie",Lyon\nToo,Many,Values\n', "--skip-invalid")
    assert result.exit_code == 0, result.output
    assert "line 3: 3 values for 2 columns" in result.output
    assert _names(app) == {"Dupont, Fils et Cie"}


# -- the page ------------------------------------------------------------------------------------------------------
def _upload(browser, content: bytes | str, name="customers.csv"):
    data = content.encode() if isinstance(content, str) else content
    return browser.post("/partners/import", data={"file": (io.BytesIO(data), name)},
                        content_type="multipart/form-data")


def _token(html: str) -> str:
    match = re.search(r'name="token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def test_page_previews_then_imports_what_was_previewed(app, login):
    office = login("back_office")
    assert "Import customers" in office.get("/partners/import").get_data(as_text=True)
    r = _upload(office, GOOD)
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "2 valid" in page and "Dupont SARL" in page and "Import 2 customers" in page
    assert _count(app) == 0  # a preview writes nothing
    r = office.post("/partners/import", data={"token": _token(page)}, follow_redirects=True)
    assert "2 customers imported." in r.get_data(as_text=True)
    assert _names(app) == {"Dupont SARL", "Müller GmbH"}
    # the same preview cannot be imported twice
    r = office.post("/partners/import", data={"token": _token(page)}, follow_redirects=True)
    assert "expired or was already imported" in r.get_data(as_text=True)
    assert _count(app) == 2


def test_page_shows_row_errors_and_imports_nothing_unless_skipping(app, login):
    office = login("back_office")
    page = _upload(office, MIXED).get_data(as_text=True)
    assert "2 valid" in page and "3 with errors" in page
    assert "A customer needs a name." in page and "not an email address" in page and "two-letter" in page
    assert "Import the 2 valid rows, skip 3" in page and "Import 2 customers" not in page
    token = _token(page)
    r = office.post("/partners/import", data={"token": token}, follow_redirects=True)
    assert "nothing was imported" in r.get_data(as_text=True) and _count(app) == 0
    r = office.post("/partners/import", data={"token": token, "skip_invalid": "1"}, follow_redirects=True)
    assert "2 customers imported. 3 invalid rows skipped." in r.get_data(as_text=True)
    assert _names(app) == {"Good One", "Good Two"}


def test_page_refuses_bad_files_and_forged_tokens(app, login):
    office = login("back_office")
    r = _upload(office, "name;planet\nA;Mars\n")
    assert r.status_code == 422 and "Unknown column: planet" in r.get_data(as_text=True)
    r = _upload(office, "")
    assert r.status_code == 422 and "The file is empty" in r.get_data(as_text=True)
    r = office.post("/partners/import", data={})
    assert r.status_code == 422 and "Choose a CSV file" in r.get_data(as_text=True)
    r = office.post("/partners/import", data={"token": "forged"}, follow_redirects=True)
    assert "not valid; upload the file again" in r.get_data(as_text=True)
    # another user's preview is not theirs to confirm
    page = _upload(office, GOOD).get_data(as_text=True)
    other = login("admin")
    r = other.post("/partners/import", data={"token": _token(page)}, follow_redirects=True)
    assert "not valid" in r.get_data(as_text=True) and _count(app) == 0


@pytest.mark.parametrize("role", ["bookkeeper", "technician"])
def test_only_who_may_create_customers_imports_them(login, role):
    browser = login(role)
    assert browser.get("/partners/import").status_code == 403
    assert _upload(browser, GOOD).status_code == 403
