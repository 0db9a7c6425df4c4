"""Template filters and globals: money, dates, the menu, permissions, statuses."""
from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

from babel.dates import format_date
from urllib.parse import urlsplit

from flask import Flask, current_app, request, url_for
from markupsafe import Markup, escape

from core.kernel import Kernel, MenuItem
from core.money import format_money
from core.security import can, current_actor

STATUS_LABELS = {
    "draft": "Draft", "posted": "Posted", "cancelled": "Cancelled", "paid": "Paid", "partial": "Partially paid",
    "not_paid": "Not paid", "credited": "Credited", "scheduled": "Scheduled", "in_progress": "In progress",
    "done": "Done", "invoiced": "Invoiced", "in_payment": "In payment",
}


def status_label(state: str | None) -> str:
    return STATUS_LABELS.get(state or "", (state or "").replace("_", " ").capitalize())


def sort_link(column: str, label: str) -> Markup:
    """A column header that sorts the list by ``column`` (toggling direction), keeping the filters."""
    args = request.args.to_dict()
    current = args.get("sort", "")
    descending = current == column
    args["sort"] = f"-{column}" if descending else column
    args.pop("page", None)
    arrow = " ▲" if current == column else (" ▼" if current == f"-{column}" else "")
    return Markup(f'<a href="{escape(url_for(request.endpoint, **(request.view_args or {}), **args))}">'
                  f'{escape(label)}{arrow}</a>')


def external_url(endpoint: str, **values) -> str:
    """An absolute link for a message read outside the app (an e-mail), built on the configured BASE_URL
    (KONTOR_BASE_URL) and never on the request's Host header, which whoever sends the request chooses."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "http")
    return adapter.build(endpoint, values, force_external=True)


def page_url(number: int) -> str:
    args = request.args.to_dict()
    args["page"] = str(number)
    return url_for(request.endpoint, **(request.view_args or {}), **args)


# A list page formats a hundred amounts and dates; Babel parses the locale and the pattern on every call
# (~0.1-0.3 ms each). The same value always gives the same text, so the texts are kept (bounded caches).
@lru_cache(maxsize=16384)
def _money(amount, currency: str) -> str:
    return format_money(amount, currency)


@lru_cache(maxsize=16384)
def _day(d) -> str:
    return format_date(d, format="medium", locale="en")


def install(app: Flask, kernel: Kernel) -> None:
    env = app.jinja_env
    env.filters["money"] = lambda amount, currency="EUR": _money(amount, currency)
    env.filters["day"] = lambda d: _day(d) if isinstance(d, (date, datetime)) else ""
    env.filters["status"] = status_label
    env.filters["badge"] = lambda state: Markup(f'<span class="badge badge-{escape(state)}">{escape(status_label(state))}</span>')

    @app.context_processor
    def globals_():
        user = current_actor()

        def menu() -> list[MenuItem]:
            if user is None:
                return []
            items = [i for group in kernel.hook.kontor_menu_items(user=user) for i in (group or [])]
            return sorted(items, key=lambda i: (i.order, i.label))

        return {"menu": menu, "can": lambda p: can(user, p), "actor": user, "kernel": kernel,
                "theme": app.config.get("THEME")}

    # Globals, not context: macros imported without context (core/macros.html's pager) can call them too.
    env.globals["sort_link"] = sort_link
    env.globals["page_url"] = page_url
