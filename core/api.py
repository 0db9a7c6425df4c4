"""The /api/v1 base: the Api object, the error shape, bearer auth, Idempotency-Key replay, pagination, Money.

Error shape (docs/api.md, "Errors"): ``{"error": {"code": "snake_case", "message": "sentence", "fields": {...}}}``.
"""
from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from decimal import Decimal

import marshmallow as ma
from flask import Response, g, request
from flask.json.provider import DefaultJSONProvider
from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint as SmorestBlueprint
from webargs.flaskparser import FlaskParser, abort, is_json_request
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from core.extensions import db
from core.models import IdempotencyKey, utcnow
from core.money import MAX_AMOUNT

API_PREFIX = "/api/v1"
IDEMPOTENCY_TTL = timedelta(hours=24)
MAX_MONEY = MAX_AMOUNT  # one limit for what the API takes and what the services compute
MAX_BATCH = 1000  # ids in one batch call (POST /invoices/post, /service-orders/invoice)


class ErrorBody(ma.Schema):
    code = ma.fields.String()
    message = ma.fields.String()
    fields = ma.fields.Dict()


class ErrorSchema(ma.Schema):
    error = ma.fields.Nested(ErrorBody)


class Api(SmorestApi):
    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        """core.app registers one handler for pages and API alike."""


def error_response(status: int, code: str, message: str, fields: dict | None = None) -> Response:
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    return Response(json.dumps(body), status=status, mimetype="application/json")


HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type",
              422: "validation_error", 429: "too_many_requests", 500: "server_error"}


def webargs_fields(error) -> dict:
    """webargs puts messages under the location (``{"json": {"amount": [...]}}``): flatten to field names."""
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") or data.get("errors") or {}
    fields: dict = {}
    for location, content in messages.items():
        if isinstance(content, dict):
            for name, msgs in content.items():
                fields[str(name)] = msgs
        else:
            fields[location] = content
    return fields


# -- Reading JSON ------------------------------------------------------------------------------------------------
MAX_JSON_DEPTH = 32       # the deepest body Kontor takes is 3 levels (an invoice, its lines, a line)
MAX_JSON_INT_DIGITS = 40  # an id or a count has at most 19 digits; Python refuses 4,300 with a ValueError (a 500)


class RefusedJSON(ValueError):
    """A body that is JSON but that no field of Kontor's can hold: ``field`` names where (a dotted path)."""

    def __init__(self, message: str, field: str = "json"):
        super().__init__(message)
        self.message, self.field = message, field


def _refuse_constant(name: str):
    raise RefusedJSON(f"{name} is not a JSON number; send a decimal string.")


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_JSON_INT_DIGITS:
        raise RefusedJSON(f"An integer of {len(text.lstrip('-')):,} digits is not a value any field takes.")
    return int(text)


def loads_strict(data: str | bytes):
    """``json.loads`` for request bodies, refusing what would otherwise fail deep inside (a 500) or be stored
    wrong: nesting deeper than MAX_JSON_DEPTH (Python's parser recurses: 1,000 levels raised RecursionError), huge
    integers, NaN and Infinity, strings with a NUL character (PostgreSQL refuses them, SQLite kept them) or a lone
    UTF-16 surrogate such as ``"\\ud800"`` (valid JSON escapes, but no UTF-8 text: the database driver failed)."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:  # malformed JSON (400), as JSON text is UTF-8
            raise ValueError(f"The body is not UTF-8 text (byte {exc.start}).") from None
    try:
        value = json.loads(data, parse_int=_int, parse_constant=_refuse_constant)
    except RecursionError:
        raise RefusedJSON(f"The body is nested more than {MAX_JSON_DEPTH} levels deep.") from None
    _check_json(value)
    return value


def _check_json(value) -> None:
    stack = [(value, "", 1)]
    while stack:
        item, path, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise RefusedJSON(f"The body is nested more than {MAX_JSON_DEPTH} levels deep.")
        if isinstance(item, str):
            _check_text(item, path)
        elif isinstance(item, dict):
            for key, inner in item.items():
                name = key.encode("utf-8", "backslashreplace").decode("utf-8")  # "\\ud800" cannot be sent back
                where = f"{path}.{name}" if path else name
                _check_text(key, where)
                stack.append((inner, where, depth + 1))
        elif isinstance(item, list):
            stack.extend((inner, f"{path}.{n}" if path else str(n), depth + 1) for n, inner in enumerate(item))


def _check_text(text: str, path: str) -> None:
    if "\x00" in text:
        raise RefusedJSON("A text contains a NUL character, which no field can hold.", path or "json")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise RefusedJSON("A text contains a lone UTF-16 surrogate (such as \\ud800), which is not a character.",
                          path or "json") from None


class StrictJSONProvider(DefaultJSONProvider):
    """app.json: request.get_json() reads bodies through loads_strict too (a RefusedJSON is a ValueError, which
    Flask answers with 400)."""

    def loads(self, s, **kwargs):
        return loads_strict(s)


class _StrictParser(FlaskParser):
    def _raw_load_json(self, req):
        if not is_json_request(req):
            return ma.missing
        try:
            return loads_strict(req.get_data(cache=True))
        except RefusedJSON as exc:
            abort(422, messages={"json": {exc.field: [exc.message]}})
        except ValueError:
            abort(400, messages={"json": ["Invalid JSON body."]})


class Blueprint(SmorestBlueprint):
    """flask_smorest's Blueprint reading bodies with loads_strict; every addon's API uses this one."""
    ARGUMENTS_PARSER = _StrictParser()


# -- Money and decimals ------------------------------------------------------------------------------------------
class DecimalString(ma.fields.Decimal):
    """A decimal as a JSON string; accepts strings and integers (floats are refused: they are not exact)."""

    def __init__(self, *args, places: int | None = None, **kwargs):
        kwargs.setdefault("as_string", True)
        super().__init__(places, *args, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or isinstance(value, float):
            raise ma.ValidationError("Send a decimal string such as \"12.50\" (or an integer), not a float.")
        result = super()._deserialize(value, attr, data, **kwargs)
        if result is not None and (abs(result) > MAX_MONEY or result.as_tuple().exponent < -6):
            raise ma.ValidationError("Out of range.")
        return result


class Money(DecimalString):
    """An amount in the currency's minor units: more decimals are refused, never silently rounded."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, places=2, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            try:
                exponent = Decimal(value.strip()).as_tuple().exponent
            except ArithmeticError:
                exponent = 0  # the parent says "Not a valid number."
            if isinstance(exponent, int) and exponent < -2:
                raise ma.ValidationError("At most 2 decimals.")
        return super()._deserialize(value, attr, data, **kwargs)


def register_fields(api: Api) -> None:
    api.register_field(DecimalString, "string", "decimal")
    api.register_field(Money, "string", "decimal")


# -- Lists ---------------------------------------------------------------------------------------------------------
class ListArgs(ma.Schema):
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=500))
    offset = ma.fields.Integer(load_default=0, validate=ma.validate.Range(min=0, max=2**31 - 1))  # beyond: 422, not a 500


def page(query, args, order_by=None) -> dict:
    """``{"items": [...], "total": N}`` for a select() statement; items are the ORM rows."""
    from core.listing import count_statement, fetch_page
    total = db.session.scalar(count_statement(query))
    if order_by is not None:
        query = query.order_by(*order_by) if isinstance(order_by, (list, tuple)) else query.order_by(order_by)
    items = fetch_page(query, args["limit"], args["offset"], total)
    return {"items": items, "total": total}


def list_schema(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    # Nested(many=True): the item schema dumps a whole page in one call, so it can read related rows once per page.
    return type(name, (ma.Schema,), {"items": ma.fields.Nested(item_schema, many=True),
                                     "total": ma.fields.Integer()})


# -- Idempotency-Key -------------------------------------------------------------------------------------------
def _fingerprint() -> str:
    h = hashlib.sha256()
    h.update(request.method.encode())
    h.update(request.path.encode())
    h.update(b"\0")
    h.update(request.get_data(cache=True))
    return h.hexdigest()


def idempotency_begin(user_id: int) -> Response | None:
    """Before a POST with Idempotency-Key: replay a finished twin, refuse a reused key, or claim the key.

    The claim is its own committed transaction so a concurrent twin sees it at once (unique per user and key).
    """
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key:
        return None
    if len(key) > 200:
        return error_response(422, "validation_error", "Idempotency-Key is at most 200 characters.",
                              {"Idempotency-Key": ["Too long."]})
    fingerprint = _fingerprint()
    cutoff = utcnow() - IDEMPOTENCY_TTL
    with db.engine.begin() as conn:
        conn.execute(delete(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key,
                                                  IdempotencyKey.created_at < cutoff))
    try:
        with db.engine.begin() as conn:
            conn.execute(IdempotencyKey.__table__.insert().values(
                user_id=user_id, key=key, fingerprint=fingerprint, state="in_flight", created_at=utcnow()))
    except IntegrityError:
        with db.engine.connect() as conn:
            row = conn.execute(select(IdempotencyKey.__table__).where(
                IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)).first()
        if row is None:  # expired and removed in between: treat as in flight, the client retries
            return error_response(409, "idempotency_in_flight", "A request with this Idempotency-Key is in progress.")
        if row.fingerprint != fingerprint:
            return error_response(422, "idempotency_key_reused",
                                  "This Idempotency-Key was used with a different request body; use a new key.",
                                  {"Idempotency-Key": ["Reused with a different body."]})
        if row.state != "done":
            return error_response(409, "idempotency_in_flight",
                                  "A request with this Idempotency-Key is still in progress; retry in a moment.")
        replay = Response(row.response_body, status=row.status_code, mimetype="application/json")
        replay.headers["Idempotent-Replayed"] = "true"
        return replay
    g.idempotency = (user_id, key)
    return None


def idempotency_store(response: Response) -> None:
    """Inside the request's own transaction: the key's response is kept together with the work it did."""
    claim = g.pop("idempotency", None)
    if claim is None:
        return
    user_id, key = claim
    db.session.execute(IdempotencyKey.__table__.update()
                       .where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
                       .values(state="done", status_code=response.status_code, response_body=response.get_data()))


def idempotency_release() -> None:
    """The request failed without an answer worth replaying (a crash): free the key so a retry can run."""
    claim = g.pop("idempotency", None)
    if claim is None:
        return
    user_id, key = claim
    with db.engine.begin() as conn:
        conn.execute(delete(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key))
