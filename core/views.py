"""The kernel's pages: log in and out, the dashboard, customers, company settings, users, addons."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import delete, func, select

from core import company as company_rules
from core import partners as partner_rules
from core.errors import DomainError
from core.extensions import db
from core.forms import CompanyForm, LoginForm, PartnerForm, UserForm
from core.listing import ListSpec, order_by, paginate, register_list, sorted_query
from core.models import AddonState, LoginAttempt, Partner, User, company, utcnow
from core.security import can, check_password, create_user, current_roles, require, safe_next

bp = Blueprint("core", __name__)


def form_failed(form, exc: DomainError) -> None:
    """A service refused: undo its flushes, show its message, and put field messages on the form's fields."""
    db.session.rollback()
    flash(exc.message, "error")
    for name, messages in exc.fields.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = list(field.errors) + list(messages if isinstance(messages, list) else [messages])


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        name = form.login.data.strip()
        window = utcnow() - timedelta(seconds=current_app.config["LOGIN_THROTTLE_SECONDS"])
        failures = db.session.scalar(select(func.count()).select_from(LoginAttempt)
                                     .where(LoginAttempt.login == name, LoginAttempt.at >= window))
        if failures >= current_app.config["LOGIN_THROTTLE_ATTEMPTS"]:
            flash("Too many failed attempts for this login. Wait a few minutes, then try again.", "error")
            return render_template("core/login.html", form=form), 429
        user = db.session.scalar(select(User).where(User.login == name))
        if not check_password(user, form.password.data) or not user.active:
            db.session.add(LoginAttempt(login=name, remote_addr=request.remote_addr or ""))
            db.session.commit()  # kept even though the response is an error: it is the throttle's memory
            form.password.errors = ["Wrong login or password."]
            return render_template("core/login.html", form=form), 401
        db.session.execute(delete(LoginAttempt).where(LoginAttempt.login == name))
        session.clear()  # a fresh session at login: nothing from before the login survives (no fixation)
        login_user(user)
        return redirect(safe_next(request.args.get("next")) or url_for("core.dashboard"))
    return render_template("core/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        user = db.session.get(User, current_user.id)
        user.session_version += 1  # every copy of this session cookie is void from now on
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("core.login"))


@bp.route("/")
@require("dashboard.view")
def dashboard():
    kernel = current_app.extensions["kontor"]
    tiles = [t for group in kernel.hook.kontor_dashboard_tiles(user=current_user) for t in (group or [])]
    tiles.sort(key=lambda t: t.order)
    # Those who make or read invoices learn before the first e-invoice goes out that it would be refused.
    missing = company_rules.missing_seller_identifiers() if can(current_user, "invoicing.read") or \
        can(current_user, "settings.read") else {}
    return render_template("core/dashboard.html", tiles=tiles, missing_identifiers=missing)


# -- customers ---------------------------------------------------------------------------------------------------
PARTNER_SORTS = {"name": Partner.name, "city": Partner.city, "created": Partner.id}


def _partner_filters():
    from core.api_views import PartnerListArgs
    return PartnerListArgs


register_list(ListSpec(name="partners", table=Partner.__tablename__,
                       query=lambda filters, sort=None: partner_rules.search_partners(select(Partner), filters.get("q")),
                       order=lambda key: order_by(PARTNER_SORTS, key, "name"), filters=_partner_filters,
                       sorts=lambda: PARTNER_SORTS, substring=("q",)))


@bp.route("/partners")
@require("partners.read")
def partners():
    query = partner_rules.search_partners(select(Partner), request.args.get("q"))
    page = paginate(sorted_query(query, PARTNER_SORTS, "name"))
    return render_template("core/partners.html", page=page)


@bp.route("/partners/new", methods=["GET", "POST"])
@bp.route("/partners/<int:partner_id>/edit", methods=["GET", "POST"])
@require("partners.write")
def partner_form(partner_id: int | None = None):
    partner = partner_rules.get_partner(partner_id) if partner_id else None
    form = PartnerForm(obj=partner)
    if form.validate_on_submit():
        try:
            values = {f: getattr(form, f).data for f in partner_rules.FIELDS}
            if partner:
                partner_rules.update_partner(partner, **values)
            else:
                partner = partner_rules.create_partner(**values)
            flash(f"Customer {partner.name} saved.", "success")
            return redirect(url_for("core.partner", partner_id=partner.id))
        except DomainError as exc:
            form_failed(form, exc)
    return render_template("core/partner_form.html", form=form, partner=partner)


@bp.route("/partners/<int:partner_id>")
@require("partners.read")
def partner(partner_id: int):
    record = partner_rules.get_partner(partner_id)
    return render_template("core/partner.html", partner=record)


# -- settings, users, addons -------------------------------------------------------------------------------------
@bp.route("/settings", methods=["GET", "POST"])
@require("settings.read", POST="settings.write")
def settings():
    row = company()
    form = CompanyForm(obj=row)
    if request.method == "POST":
        if form.validate_on_submit():
            names = [n for n in company_rules.IDENTITY + company_rules.SETTINGS if n in form]
            try:
                company_rules.update_company(**{n: form[n].data for n in names})
            except DomainError as exc:
                form_failed(form, exc)
            else:
                flash("Settings saved.", "success")
                return redirect(url_for("core.settings"))
    return render_template("core/settings.html", form=form, company=row,
                           missing_identifiers=company_rules.missing_seller_identifiers(row))


@bp.route("/users", methods=["GET", "POST"])
@require("users.manage")
def users():
    form = UserForm()
    form.role.choices = [(r, r.replace("_", " ").title()) for r in current_roles()]
    form.partner_id.choices = [(0, "— none —")] + [
        (p.id, p.name) for p in db.session.execute(select(Partner.id, Partner.name).order_by(Partner.name))]
    if form.validate_on_submit():
        try:
            user = create_user(form.login.data, form.role.data, form.password.data, name=form.name.data,
                               partner_id=form.partner_id.data or None)
            flash(f"User {user.login} created.", "success")
            return redirect(url_for("core.users"))
        except DomainError as exc:
            form_failed(form, exc)
    rows = db.session.scalars(select(User).order_by(User.login)).all()
    return render_template("core/users.html", users=rows, form=form)


@bp.route("/addons")
@require("addons.read")
def addons():
    kernel = current_app.extensions["kontor"]
    states = {s.name: s for s in db.session.scalars(select(AddonState))}
    return render_template("core/addons.html", addons=kernel.addons, states=states)
