"""core.bulk: the bulk writes of batch jobs (COPY and UPDATE ... FROM unnest on PostgreSQL, SQLAlchemy
executemany on SQLite) write exactly what row-by-row INSERTs and UPDATEs would, defaults included, inside the
caller's transaction, and fail as SQLAlchemy would."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.bulk import insert_returning_ids, insert_rows, update_rows
from core.extensions import db
from core.models import AuditLog, Partner

AUDIT = AuditLog.__table__
AT = datetime(2026, 3, 1, 9, 30, tzinfo=timezone.utc)


def _rows(ids=None):
    query = select(AuditLog.id, AuditLog.document_id, AuditLog.action, AuditLog.details, AuditLog.at)
    if ids is not None:
        query = query.where(AuditLog.id.in_(ids))
    return {r.id: r for r in db.session.execute(query.order_by(AuditLog.id))}


def test_insert_returning_ids_gives_the_ids_in_the_order_of_the_rows(ctx):
    rows = [{"document_type": "bulk", "document_id": n, "action": f"a{n}", "at": AT} for n in (5, 3, 9, 1, 7)]
    ids = insert_returning_ids(AUDIT, rows)
    stored = _rows(ids)
    assert [stored[i].document_id for i in ids] == [5, 3, 9, 1, 7]
    assert [stored[i].action for i in ids] == ["a5", "a3", "a9", "a1", "a7"]
    # details was left out: the model's default (""), as an ORM or Core INSERT would write it
    assert {stored[i].details for i in ids} == {""}


def test_columns_left_out_get_the_model_default_even_a_callable_one(ctx):
    insert_rows(AUDIT, [{"document_type": "bulk", "document_id": 1, "action": "x"}])
    row = db.session.execute(select(AuditLog).where(AuditLog.document_type == "bulk")).scalar_one()
    assert row.at is not None and row.details == ""  # at: utcnow(), a callable default


def test_every_row_needs_the_same_columns(ctx):
    with pytest.raises(ValueError, match="same columns"):
        insert_rows(AUDIT, [{"document_type": "bulk", "document_id": 1, "action": "x"},
                            {"document_type": "bulk", "document_id": 2}])


def test_update_rows_sets_each_rows_own_values_and_only_if_keeps_the_others(ctx):
    ids = insert_returning_ids(AUDIT, [{"document_type": "bulk", "document_id": n, "action": "open", "at": AT}
                                       for n in range(4)])
    db.session.execute(AuditLog.__table__.update().where(AuditLog.id == ids[3]).values(action="closed"))
    update_rows(AUDIT, [{"id": i, "action": "done", "details": f"row {n}"} for n, i in enumerate(ids)],
                only_if="action = 'open'")
    stored = _rows(ids)
    assert [(stored[i].action, stored[i].details) for i in ids] == [
        ("done", "row 0"), ("done", "row 1"), ("done", "row 2"), ("closed", "")]


def test_a_refused_row_raises_sqlalchemy_errors_and_the_savepoint_keeps_nothing(ctx):
    partner = Partner(name="Bulk SA")
    db.session.add(partner)
    db.session.flush()
    before = _rows()
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            insert_rows(AUDIT, [{"document_type": "bulk", "document_id": 1, "action": "x", "at": AT, "user_id": None},
                                {"document_type": "bulk", "document_id": 2, "action": "x", "at": AT,
                                 "user_id": 999_999}])  # no such user
    assert _rows() == before
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            insert_returning_ids(AUDIT, [{"document_type": "bulk", "document_id": 1, "action": "x", "at": AT,
                                          "user_id": 999_999}])
    assert _rows() == before
    assert db.session.get(Partner, partner.id).name == "Bulk SA"  # the outer transaction goes on


def test_nothing_to_write_writes_nothing(ctx):
    assert insert_returning_ids(AUDIT, []) == []
    insert_rows(AUDIT, [])
    update_rows(AUDIT, [])
    assert _rows() == {}
