"""portal's hook implementations: the menu entry, the link in invoice emails, the links panel on an invoice."""
from __future__ import annotations

from flask import render_template
from markupsafe import Markup

from core.hookspecs import hookimpl
from core.kernel import MenuItem
from core.security import can
from core.templating import external_url


@hookimpl
def kontor_menu_items(user):
    if user.role == "customer":
        return [MenuItem("My invoices", "portal.home", order=5)]
    return []


@hookimpl
def invoicing_email_links(invoice):
    if invoice.state != "posted":
        return []
    from . import services
    token = services.issue_link(invoice)
    return [("View it online (no login needed, valid for 30 days)", external_url("portal.shared", token=token))]


@hookimpl
def invoicing_invoice_panels(invoice, user):
    if invoice.state != "posted" or not can(user, "portal.links.revoke"):
        return []
    from . import services
    links = services.links_of(invoice.id)
    if not links:
        return []
    return [Markup(render_template("portal/_links_panel.html", invoice=invoice, links=links,
                                   active=sum(1 for link in links if link.revoked_at is None)))]
