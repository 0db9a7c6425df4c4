"""DomainError and its family: what a service raises when a business rule refuses a request.

One handler (core.app) maps them to the API's error shape (409/422/404) and, on HTML pages, to a flash message.
"""
from __future__ import annotations


class DomainError(Exception):
    status = 409
    code = "conflict"

    def __init__(self, message: str, code: str | None = None, fields: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}


class ValidationError(DomainError):
    """A field value is not acceptable (422); ``fields`` names the fields."""
    status = 422
    code = "validation_error"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class InvalidTransition(DomainError):
    """A record cannot move from its state to the one asked (409)."""
    code = "invalid_transition"


class PeriodLocked(DomainError):
    code = "period_locked"


class StartupError(RuntimeError):
    """Kontor cannot start (a database it cannot use, an addon refused): the message is one line for whoever
    starts it."""


def transition(record, new_state: str, transitions: dict[str, set[str]], label: str = "record") -> None:
    """Move ``record.state`` to ``new_state`` if the state machine allows it, else raise InvalidTransition."""
    current = record.state
    if new_state not in transitions.get(current, set()):
        raise InvalidTransition(
            f"This {label} is {current.replace('_', ' ')}; it cannot become {new_state.replace('_', ' ')}.",
        )
    record.state = new_state
