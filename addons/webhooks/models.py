"""webhooks tables: the endpoints admins registered and the outbox of deliveries."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import Base
from core.models import utcnow


class Endpoint(Base):
    """A URL that receives the events it subscribed to, signed with its secret."""
    __tablename__ = "webhooks_endpoints"
    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    events: Mapped[str] = mapped_column(String(500))  # comma separated event names
    description: Mapped[str] = mapped_column(String(200), default="")
    # The HMAC key: kept as is because signing needs it; shown once, when the endpoint is made.
    secret: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    @property
    def event_list(self) -> list[str]:
        return [e for e in self.events.split(",") if e]


class Delivery(Base):
    """One event for one endpoint (the outbox row): pending until delivered, retried with backoff, or failed."""
    __tablename__ = "webhooks_deliveries"
    __table_args__ = (Index("ix_webhooks_deliveries_due", "state", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhooks_endpoints.id"), index=True)
    event_id: Mapped[str] = mapped_column(String(40))  # the payload's id: the same for every endpoint
    event: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)  # the JSON body, exactly as sent
    state: Mapped[str] = mapped_column(String(12), default="pending")  # pending | delivered | failed | cancelled
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    response_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    endpoint: Mapped[Endpoint] = relationship(lazy="joined")
