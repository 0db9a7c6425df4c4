"""CSV imports (customers here; other addons add theirs through the ``kontor_importers`` hook).

A file is read whole (UTF-8, with or without BOM; ``,`` or ``;`` between values), checked row by row with the
same service functions the forms use — each row inside a savepoint, all of them rolled back — and shown as a
preview. The upload is kept server-side (a temporary file named by a signed, expiring token), so the confirm
step imports exactly what was previewed, never a re-upload. Nothing is written unless every row is valid or the
user chose to skip the invalid ones.
"""
from __future__ import annotations

import csv
import io
import os
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from flask import Blueprint, current_app, flash, redirect, render_template, request
from flask_login import current_user
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from core import partners as partner_rules
from core.errors import DomainError, ValidationError
from core.extensions import db
from core.security import require

MAX_ROWS = 10_000
TOKEN_SALT = "kontor.imports.preview"
TOKEN_MAX_AGE = 3600
PREVIEW_VALID_ROWS = 100


@dataclass(frozen=True)
class Importer:
    """What one kind of import needs: its columns and the service call that creates one record from a row."""
    kind: str                       # "partners": the CLI argument and the URL part
    label: str                      # "customers"
    columns: tuple[str, ...]        # accepted columns (header names, case and spaces ignored)
    required: tuple[str, ...]
    create: Callable[[dict], Any]   # raises DomainError (ValidationError with fields) for a bad row
    describe: Callable[[Any], str] = str
    endpoint: str = ""              # the page (for links back)
    example: str = ""               # a header line and a row, shown on the page


@dataclass
class Row:
    line: int                       # the line in the file (the header is line 1)
    values: dict
    error: str = ""
    fields: dict = field(default_factory=dict)


@dataclass
class Checked:
    rows: list[Row]

    @property
    def valid(self) -> list[Row]:
        return [r for r in self.rows if not r.error]

    @property
    def invalid(self) -> list[Row]:
        return [r for r in self.rows if r.error]


# -- importers -------------------------------------------------------------------------------------------------------
def _create_partner(values: dict):
    from core.forms import EMAIL
    email = (values.get("email") or "").strip()
    if email and not EMAIL.regex.match(email):
        raise ValidationError(f"{email!r} is not an email address.", fields={"email": ["Not a valid email address."]})
    return partner_rules.create_partner(**{k: v for k, v in values.items() if v != "" or k == "name"})


PARTNERS = Importer(kind="partners", label="customers", columns=partner_rules.FIELDS, required=("name",),
                    create=_create_partner, describe=lambda p: p.name, endpoint="imports.partners",
                    example="name;email;vat_id;street;zip;city;country\nDupont SARL;compta@dupont.example;"
                            "FR12345678901;12 rue Pasteur;69003;Lyon;FR")


def importers() -> dict[str, Importer]:
    kernel = current_app.extensions["kontor"]
    found = {PARTNERS.kind: PARTNERS}
    for group in kernel.hook.kontor_importers():
        for importer in group or []:
            found[importer.kind] = importer
    return found


def get_importer(kind: str) -> Importer:
    found = importers()
    if kind not in found:
        raise ValidationError(f"Unknown import {kind!r}; choose one of {', '.join(found)}.",
                              fields={"kind": ["Unknown."]})
    return found[kind]


# -- reading the file --------------------------------------------------------------------------------------------------
def _column(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def parse(data: bytes, importer: Importer, max_rows: int = MAX_ROWS) -> list[Row]:
    """The file's rows as dicts of the importer's columns; ValidationError (``fields={"file": ...}``) when the
    file as a whole cannot be read: not UTF-8, empty, unknown or missing columns, too many rows."""
    def refuse(message: str):
        raise ValidationError(message, code="invalid_file", fields={"file": [message]})

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        refuse("The file is not UTF-8 text. In your spreadsheet, save it as \"CSV UTF-8\" and upload it again.")
    if "\x00" in text:
        refuse("The file is not a CSV text file.")
    lines = text.splitlines()
    header_line = next((line for line in lines if line.strip()), "")
    if not header_line:
        refuse("The file is empty: it needs a header line (" + ", ".join(importer.columns) + ") and rows.")
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    # strict: a quote opened and never closed is an error, not the rest of the file merged into one value
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    rows: list[Row] = []
    while True:
        start = reader.line_num + 1
        try:
            raw = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            refuse(_unreadable(start, str(exc)))
        if not any(cell.strip() for cell in raw):
            continue
        if header is None:
            header = [_column(c) for c in raw]
            unknown = [c for c in header if c not in importer.columns]
            if unknown:
                refuse(f"Unknown column{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}. "
                       f"The columns are: {', '.join(importer.columns)}.")
            missing = [c for c in importer.required if c not in header]
            if missing:
                refuse(f"Missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}.")
            twice = sorted({c for c in header if header.count(c) > 1})
            if twice:
                refuse(f"Column{'s' if len(twice) > 1 else ''} given twice: {', '.join(twice)}.")
            continue
        if len(rows) >= max_rows:
            refuse(f"The file has more than {max_rows:,} rows; split it into smaller files.")
        row = Row(line=reader.line_num, values={})
        if len(raw) > len(header):
            row.error = f"{len(raw)} values for {len(header)} columns (a {delimiter!r} too many?)."
        row.values = {name: (raw[i].strip() if i < len(raw) else "") for i, name in enumerate(header)}
        rows.append(row)
    if not rows:
        refuse("The file has a header but no rows to import.")
    return rows


def _unreadable(line: int, reason: str) -> str:
    if "field larger than field limit" in reason:
        return (f"Line {line}: a value is longer than {csv.field_size_limit():,} characters; no field takes that "
                "much. Is the right file chosen?")
    if "unexpected end of data" in reason:
        return (f"Line {line}: a quote (\") opens a value that is never closed, so every row after it would be "
                "read as part of that value. Close the quote, or remove it.")
    return f"Line {line} cannot be read as CSV ({reason}). Check the quotes (\") on that line."


def _fail(row: Row, exc: DomainError) -> None:
    row.error = exc.message
    row.fields = dict(exc.fields or {})


def check(importer: Importer, rows: list[Row]) -> Checked:
    """Run each row through the service inside a savepoint; roll everything back. Rows see the earlier valid
    rows (a code given twice in the file is caught), as they would on import."""
    outer = db.session.begin_nested()
    try:
        for row in rows:
            if row.error:
                continue
            inner = db.session.begin_nested()
            try:
                importer.create(dict(row.values))
                inner.commit()
            except DomainError as exc:
                inner.rollback()
                _fail(row, exc)
    finally:
        outer.rollback()
    return Checked(rows)


def apply(importer: Importer, rows: list[Row], skip_invalid: bool = False) -> dict:
    """Create the rows (flush, never commit: the request or the command commits). With invalid rows and no
    ``skip_invalid`` nothing is created (ValidationError). Returns {created, skipped, errors: [Row]}."""
    checked = check(importer, rows)
    if checked.invalid and not skip_invalid:
        raise ValidationError(f"{len(checked.invalid)} of {len(rows)} rows are not valid; nothing was imported. "
                              "Fix them, or choose to skip the invalid rows.", code="invalid_rows",
                              fields={"rows": [f"line {r.line}: {r.error}" for r in checked.invalid[:50]]})
    created = 0
    for row in checked.valid:
        inner = db.session.begin_nested()
        try:
            importer.create(dict(row.values))
            inner.commit()
            created += 1
        except DomainError as exc:  # only if the data changed between the check and now
            inner.rollback()
            _fail(row, exc)
    errors = [r for r in rows if r.error]
    return {"created": created, "skipped": len(errors), "errors": errors}


# -- the stored preview -------------------------------------------------------------------------------------------------
def _folder() -> Path:
    folder = Path(current_app.config.get("IMPORT_DIR") or Path(tempfile.gettempdir()) / "kontor-imports")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def store(data: bytes, kind: str, user_id: int) -> str:
    """Keep the uploaded file until the confirm; returns the signed token naming it (for this user and kind)."""
    name = secrets.token_hex(16)
    path = _folder() / f"{name}.csv"
    path.write_bytes(data)
    os.chmod(path, 0o600)
    return _serializer().dumps({"f": name, "k": kind, "u": user_id})


def load(token: str, kind: str, user_id: int) -> tuple[bytes, Path]:
    expired = "This preview has expired or was already imported; upload the file again."
    try:
        data = _serializer().loads(token, max_age=TOKEN_MAX_AGE)
    except SignatureExpired:
        raise ValidationError(expired, code="preview_expired", fields={"token": [expired]}) from None
    except BadSignature:
        raise ValidationError("This preview is not valid; upload the file again.", code="preview_invalid",
                              fields={"token": ["Not valid."]}) from None
    if not isinstance(data, dict) or data.get("k") != kind or data.get("u") != user_id \
            or not str(data.get("f", "")).isalnum():
        raise ValidationError("This preview is not valid; upload the file again.", code="preview_invalid",
                              fields={"token": ["Not valid."]})
    path = _folder() / f"{data['f']}.csv"
    if not path.is_file():
        raise ValidationError(expired, code="preview_expired", fields={"token": [expired]})
    return path.read_bytes(), path


# -- the page (shared by every importer) ---------------------------------------------------------------------------------
def import_page(kind: str):
    """GET: the upload form. POST with a file: the preview. POST with a token: the import."""
    importer = get_importer(kind)
    back = request.path
    if request.method == "POST" and request.form.get("token"):
        try:
            data, path = load(request.form["token"], kind, current_user.id)
            result = apply(importer, parse(data, importer), skip_invalid=request.form.get("skip_invalid") == "1")
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return redirect(back)
        path.unlink(missing_ok=True)
        message = f"{result['created']} {importer.label} imported."
        if result["skipped"]:
            message += f" {result['skipped']} invalid row{'s' if result['skipped'] > 1 else ''} skipped."
        flash(message, "success")
        return redirect(back)
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash("Choose a CSV file to upload.", "error")
            return render_template("core/import.html", importer=importer, checked=None), 422
        data = upload.read()
        try:
            checked = check(importer, parse(data, importer))
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return render_template("core/import.html", importer=importer, checked=None), 422
        token = store(data, kind, current_user.id)
        return render_template("core/import.html", importer=importer, checked=checked, token=token,
                               filename=upload.filename, preview_limit=PREVIEW_VALID_ROWS)
    return render_template("core/import.html", importer=importer, checked=None)


bp = Blueprint("imports", __name__)


@bp.route("/partners/import", methods=["GET", "POST"])
@require("partners.write")
def partners():
    return import_page("partners")
