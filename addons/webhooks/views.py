"""webhooks pages: endpoints (register, secret shown once, delete) and the delivery log with Redeliver."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from core.errors import DomainError
from core.listing import paginate
from core.security import require
from core.views import form_failed

from . import services
from .forms import EndpointForm
from .models import Delivery, Endpoint
from core.extensions import db

bp = Blueprint("webhooks", __name__)
STATES = ("pending", "delivered", "failed", "cancelled")


@bp.route("/webhooks", methods=["GET", "POST"])
@require("webhooks.manage")
def endpoints():
    form = EndpointForm()
    created = secret = None
    if form.validate_on_submit():
        try:
            created, secret = services.create_endpoint(form.url.data, form.events.data, form.description.data)
            flash(f"Endpoint {created.url} registered. Copy its secret now: it is shown only once.", "success")
            form = EndpointForm(formdata=None)
        except DomainError as exc:
            form_failed(form, exc)
    rows = list(db.session.scalars(services.endpoints_query().order_by(Endpoint.id)))
    return render_template("webhooks/endpoints.html", form=form, endpoints=rows, created=created, secret=secret,
                           events=services.EVENTS)


@bp.route("/webhooks/<int:endpoint_id>/delete", methods=["POST"])
@require("webhooks.manage")
def delete(endpoint_id: int):
    endpoint = services.get_endpoint(endpoint_id)
    services.delete_endpoint(endpoint)
    flash(f"Endpoint {endpoint.url} deleted: nothing more is sent to it.", "success")
    return redirect(url_for("webhooks.endpoints"))


def _filters() -> dict:
    out = {}
    state = request.args.get("state", "")
    if state in STATES:
        out["state"] = state
    event = request.args.get("event", "")
    if event in services.EVENTS:
        out["event"] = event
    endpoint = request.args.get("endpoint_id", "")
    if endpoint.isdigit():
        out["endpoint_id"] = int(endpoint)
    return out


@bp.route("/webhooks/deliveries")
@require("webhooks.manage")
def deliveries():
    filters = _filters()
    page = paginate(services.deliveries_query(filters).order_by(Delivery.id.desc()))
    return render_template("webhooks/deliveries.html", page=page, filters=filters, states=STATES,
                           events=services.EVENTS)


@bp.route("/webhooks/deliveries/<int:delivery_id>/redeliver", methods=["POST"])
@require("webhooks.manage")
def redeliver(delivery_id: int):
    delivery = services.redeliver(services.get_delivery(delivery_id))
    flash(f"Delivery #{delivery.id} ({delivery.event}) queued again: the worker sends it on its next pass.",
          "success")
    return redirect(request.referrer or url_for("webhooks.deliveries"))
