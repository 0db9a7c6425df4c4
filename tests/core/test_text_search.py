"""The lists' text search (core.search) through its trigram index finds exactly what the substring search
(``ILIKE '%text%'``, wildcards literal) finds: case, accents, short texts, %, _, \\ and quotes; and rows created,
edited or deleted afterwards are found or not (SQLite: the triggers keep the FTS5 table in step)."""
from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import or_, select, text

from addons.field_service.models import ServiceOrder
from addons.field_service.queries import TEXT_SEARCH, order_query
from core.extensions import db
from core.install import alembic_config
from core.models import Partner
from core.search import MIN_TRIGRAM, like_pattern

TEXTS = [
    ("SO/2026/00001", "Fuite sous l'évier", "12 rue de la Paix, Lyon"),
    ("SO/2026/00002", "ÉVIER bouché", "3 Place Bellecour"),
    ("SO/2026/00003", "evier neuf", "Straße 5, Berlin"),
    ("SO/2026/00004", "Remise à 100% faite", "a_b road"),
    ("SO/2026/00005", "a%b et aXb", "back\\slash street"),
    ("SO/2026/00006", 'le "grand" chauffe-eau', "Chemin d'en Haut"),
    ("SO/2026/00007", "Chaudière", "ZONE INDUSTRIELLE nord"),
    ("SO/2026/00008", "", ""),
]
QUERIES = ["au", "évier", "ÉVIER", "Évier", "evier", "EVIER", "vier", "ier b", "é", "év", "ab", "a", "%", "_", "\\", "a_b",
           "a%b", "100%", "00%", "% f", "aXb", "axb", "slash", "k\\s", '"grand"', 'e "g', "'", "l'é", "straße",
           "STRASSE", "strasse", "SO/2026", "so/2026/0000", "2026/00007", "industrielle", "nord", "Paix, L",
           "zzz-no-such", "  évier  ", "chaud", "CHAUDI", "ère"]


def _reference(query: str) -> set[int]:
    """Today's semantics, by definition: a plain ILIKE over each searched column (no index can serve it)."""
    like = like_pattern(query.strip())
    return set(db.session.scalars(select(ServiceOrder.id).where(
        or_(*(c.ilike(like, escape="\\") for c in TEXT_SEARCH.columns)))))


def _found(query: str) -> set[int]:
    return set(db.session.scalars(select(ServiceOrder.id).where(TEXT_SEARCH.contains(query.strip()))))


@pytest.fixture
def orders(ctx):
    partner = Partner(name="Zeta Plomberie")
    db.session.add(partner)
    db.session.flush()
    rows = [ServiceOrder(number=n, partner_id=partner.id, description=d, site_address=s) for n, d, s in TEXTS]
    db.session.add_all(rows)
    db.session.flush()
    ids = {n: r.id for (n, _, _), r in zip(TEXTS, rows)}
    db.session.commit()  # and no transaction left open: the requests of a test write too (SQLite: one writer)
    return ids


def test_the_search_finds_exactly_what_the_substring_search_finds(orders):
    for query in QUERIES:
        assert _found(query) == _reference(query), query
    ids = {i: n for n, i in orders.items()}
    names = lambda q: sorted(ids[i][-1] for i in _found(q))  # noqa: E731
    # What that means, spelled out: ASCII case folds, wildcards are characters, a short text still searches.
    assert names("EVIER") == ["3"] and names("ab") == [] and names("au") == ["6", "7"]
    assert names("a%b") == ["5"] and names("a_b") == ["4"] and names("100%") == ["4"] and names("axb") == ["5"]
    assert names("\\") == ["5"] and names('"grand"') == ["6"] and names("so/2026/0000") == sorted("12345678")
    assert names("zzz-no-such") == []


def test_the_search_goes_through_the_trigram_index_from_three_characters(orders):
    dialect = db.session.get_bind().dialect.name
    for query, indexed in (("évier", True), ("abc", True), ("ab", False)):
        statement = str(select(ServiceOrder.id).where(TEXT_SEARCH.contains(query))
                        .compile(dialect=db.session.get_bind().dialect))
        if dialect == "sqlite":
            assert ("MATCH" in statement) is indexed, (query, statement)
            assert (len(query) >= MIN_TRIGRAM) is indexed
    # The FTS table (SQLite) or the GIN indexes (PostgreSQL) are there.
    if dialect == "sqlite":
        assert db.session.scalar(text("SELECT count(*) FROM sqlite_master WHERE name = 'field_service_orders_search'"))
    else:
        names = set(db.session.scalars(text("SELECT indexname FROM pg_indexes WHERE indexname LIKE '%_trgm'")))
        assert {"ix_field_service_orders_description_trgm", "ix_invoicing_invoices_number_trgm",
                "ix_payments_payments_reference_trgm", "ix_accounting_entries_ref_trgm"} <= names


def test_rows_created_edited_and_deleted_afterwards_are_found_or_not(orders):
    partner_id = db.session.scalar(select(Partner.id).where(Partner.name == "Zeta Plomberie"))
    new = ServiceOrder(number="SO/2026/00100", partner_id=partner_id, description="Radiateur froid",
                       site_address="8 impasse Vermeil")
    db.session.add(new)
    db.session.commit()
    assert _found("radiateur") == {new.id} and _found("vermeil") == {new.id}

    edited = db.session.get(ServiceOrder, orders["SO/2026/00007"])
    edited.description = "Pompe à chaleur"
    db.session.commit()
    assert _found("chaudière") == set() and _found("pompe à") == {edited.id}
    assert _found("industrielle") == {edited.id}  # the column not edited is still found

    # An update that does not touch a searched column leaves the index alone (and right).
    db.session.execute(text("UPDATE field_service_orders SET state = 'done' WHERE id = :i"), {"i": edited.id})
    db.session.commit()
    assert _found("pompe à") == {edited.id}

    db.session.delete(db.session.get(ServiceOrder, orders["SO/2026/00002"]))
    db.session.delete(new)
    db.session.commit()
    assert _found("bouché") == set() and _found("radiateur") == set()
    for query in QUERIES + ["pompe", "radiateur"]:
        assert _found(query) == _reference(query), query
    if db.session.get_bind().dialect.name == "sqlite":
        # FTS5's own consistency check of the index against the rows (raises if they differ).
        db.session.execute(text("INSERT INTO field_service_orders_search(field_service_orders_search) "
                                "VALUES ('integrity-check')"))


def test_the_lists_search_by_text_through_the_api(orders, api):
    client = api("admin")
    expected = _reference("ÉVIER")
    db.session.rollback()
    body = client.get("/service-orders", query_string={"q": "ÉVIER"}).get_json()
    assert {o["id"] for o in body["items"]} == expected and body["total"] == len(expected)
    body = client.get("/service-orders", query_string={"q": "a%b"}).get_json()
    assert [o["number"] for o in body["items"]] == ["SO/2026/00005"] and body["total"] == 1
    # The customer's name is searched too (the partners' small table, then their orders by index).
    assert client.get("/service-orders?q=plomberie").get_json()["total"] == len(TEXTS)
    assert set(db.session.scalars(order_query({"q": "Zeta"}).with_only_columns(ServiceOrder.id))) == set(orders.values())


def test_a_search_holding_a_nul_character_is_refused_not_a_server_error(orders, api, login):
    """Found by schemathesis (GET /payments?q=...%00...: FTS5's parser failed, a 500). Refused the same way on
    both databases, API (422, the field named) and pages (the message shown, no list of wrong rows)."""
    client = api("admin")
    for path in ("/service-orders", "/invoices", "/payments", "/journal-entries"):
        for q in ("év\x00ier", "\x00", "SO/2026\x00"):
            response = client.get(path, query_string={"q": q})
            assert response.status_code == 422, (path, q, response.status_code)
            body = response.get_json()["error"]
            assert "NUL" in body["message"] and "q" in body["fields"], (path, q, body)
    db.session.rollback()
    page = login("admin")
    response = page.get("/service-orders", query_string={"q": "év\x00ier"}, follow_redirects=True)
    assert response.status_code == 200 and "cannot contain a NUL character" in response.get_data(as_text=True)


def test_the_migration_goes_down_and_up_and_indexes_the_rows_already_there(orders, app):
    db.session.remove()
    with app.app_context():
        with db.engine.begin() as connection:
            config = alembic_config(app, connection)
            command.downgrade(config, "field_service_0002")
        if db.session.get_bind().dialect.name == "sqlite":
            assert not db.session.scalar(text("SELECT count(*) FROM sqlite_master WHERE name LIKE '%orders_search%'"))
        else:
            assert not db.session.scalar(text("SELECT count(*) FROM pg_indexes WHERE indexname LIKE "
                                              "'ix_field_service_orders_%_trgm'"))
        db.session.remove()
        with db.engine.begin() as connection:
            command.upgrade(alembic_config(app, connection), "heads")
        assert _found("paix, l") == {orders["SO/2026/00001"]}  # the existing rows were indexed
        for query in QUERIES:
            assert _found(query) == _reference(query), query
