"""Who did what to which document, and when: ``record(invoice, "posted")``; ``history(invoice)``."""
from __future__ import annotations

from flask import has_request_context
from sqlalchemy import select

from core.bulk import insert_rows
from core.extensions import db
from core.models import AuditLog, utcnow


def _actor_id() -> int | None:
    if not has_request_context():
        return None
    from core.security import current_actor
    user = current_actor()
    return user.id if user is not None else None


def document_type(document) -> str:
    return getattr(document, "audit_type", None) or document.__tablename__


def record(document, action: str, details: str = "", user_id: int | None = None) -> None:
    record_id(document_type(document), document.id, action, details, user_id)


def record_id(doc_type: str, document_id: int, action: str, details: str = "", user_id: int | None = None) -> None:
    """``record`` for a document written without an ORM object (accounting's document entries). Added to the
    session like any other: the rows of one flush go out in one INSERT."""
    db.session.add(AuditLog(document_type=doc_type, document_id=document_id, action=action, details=details,
                            user_id=user_id if user_id is not None else _actor_id()))


def record_many(doc_type: str, ids: list[int], action: str, details: str = "", user_id: int | None = None) -> None:
    """One INSERT for a batch of documents."""
    if not ids:
        return
    who = user_id if user_id is not None else _actor_id()
    now = utcnow()
    insert_rows(AuditLog.__table__, [
        {"document_type": doc_type, "document_id": i, "action": action, "details": details, "user_id": who, "at": now}
        for i in ids])


def history(document) -> list[AuditLog]:
    return list(db.session.scalars(
        select(AuditLog).where(AuditLog.document_type == document_type(document),
                               AuditLog.document_id == document.id).order_by(AuditLog.id)))
