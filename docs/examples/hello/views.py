"""hello's page. Thin: check the permission, call a service, render."""
from __future__ import annotations

from flask import Blueprint, render_template, request

from core.security import require

from . import services

bp = Blueprint("hello", __name__)


@bp.route("/hello")
@require("hello.view")
def index():
    name = (request.args.get("name") or "world").strip()[:80] or "world"
    return render_template("hello/index.html", greeting=services.greeting(name))
