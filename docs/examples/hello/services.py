"""hello's rules. Views, hooks and the command call these; they flush, never commit."""
from __future__ import annotations

from sqlalchemy import func, select

from core.extensions import db
from core.models import Partner


def customer_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Partner)) or 0


def greeting(name: str) -> str:
    count = customer_count()
    return f"Hello, {name}! Kontor knows {count} customer{'' if count == 1 else 's'}."
