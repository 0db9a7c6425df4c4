"""The kernel's pages: log in and out, the dashboard, customers, company settings, users, addons."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from core import accounts, audit, throttle
from core import company as company_rules
from core import partners as partner_rules
from core.errors import DomainError
from core.extensions import db
from core.forms import (CompanyForm, ConfirmForm, LoginForm, PartnerForm, PasswordForm, TokenForm, UserEditForm,
                        UserForm)
from core.listing import ListSpec, order_by, paginate, register_list, sorted_query
from core.models import AddonState, Partner, User, company, utcnow
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
        address = request.remote_addr or "unknown"
        try:
            throttle.reserve(name, address)  # committed before the password is checked (core/throttle.py)
        except throttle.Throttled as exc:
            flash(f"Too many failed attempts. Try again in {exc.retry_after} seconds.", "error")
            response = make_response(render_template("core/login.html", form=form), 429)
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        user = db.session.scalar(select(User).where(User.login == name))
        if not check_password(user, form.password.data) or not user.active:
            form.password.errors = ["Wrong login or password."]
            return render_template("core/login.html", form=form), 401  # the reservation stays: a failure
        throttle.succeeded(name, address)
        user.last_login_at = utcnow()
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


def _role_choices():
    return [(r, r.replace("_", " ").title()) for r in current_roles()]


@bp.route("/users", methods=["GET", "POST"])
@require("users.manage")
def users():
    form = UserForm()
    form.role.choices = _role_choices()
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
    return render_template("core/users.html", users=rows, form=form, tokens=accounts.live_token_counts())


def _user_page(user: User, status: int = 200, edit=None, password=None, token_form=None, new_token=None):
    if edit is None:
        edit = UserEditForm(obj=user)
        edit.role.choices = _role_choices()
    return render_template("core/user.html", user=user, edit=edit, password=password or PasswordForm(),
                           token_form=token_form or TokenForm(), revoke=ConfirmForm(), new_token=new_token,
                           tokens=accounts.tokens_of(user), history=audit.history(user), now=utcnow()), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@require("users.manage")
def user_edit(user_id: int):
    """Role, name, active: one form, one transaction (all or nothing)."""
    user = accounts.get_user(user_id)
    form = UserEditForm(obj=user)
    form.role.choices = _role_choices()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                accounts.set_role(user, form.role.data)
                accounts.set_active(user, form.active.data)
                accounts.set_name(user, form.name.data)
                flash(f"User {user.login} saved.", "success")
                return redirect(url_for("core.user_edit", user_id=user.id))
            except DomainError as exc:
                form_failed(form, exc)
                user = accounts.get_user(user_id)
        return _user_page(user, 422, edit=form)
    return _user_page(user)


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@require("users.manage")
def user_password(user_id: int):
    user = accounts.get_user(user_id)
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(user, form.password.data)
            if user.id == current_user.id:
                login_user(user)  # their own password: this session carries on with the new version
            flash(f"Password of {user.login} changed; their other sessions have ended.", "success")
            return redirect(url_for("core.user_edit", user_id=user.id))
        except DomainError as exc:
            form_failed(form, exc)
            user = accounts.get_user(user_id)
    return _user_page(user, 422, password=form)


@bp.route("/users/<int:user_id>/revoke-tokens", methods=["POST"])
@require("users.manage")
def user_revoke_tokens(user_id: int):
    user = accounts.get_user(user_id)
    if not ConfirmForm().validate_on_submit():
        return _user_page(user, 400)
    count = accounts.revoke_tokens(user)
    flash(f"{count} token(s) of {user.login} revoked.", "success")
    return redirect(url_for("core.user_edit", user_id=user.id))


@bp.route("/users/<int:user_id>/tokens", methods=["POST"])
@require("users.manage")
def user_token(user_id: int):
    """The new token is shown on this response only (never put in the session cookie or a flash message)."""
    user = accounts.get_user(user_id)
    form = TokenForm()
    if form.validate_on_submit():
        expires_at = None
        if form.expires_on.data:  # works through that day (UTC)
            expires_at = datetime.combine(form.expires_on.data + timedelta(days=1), time(0), tzinfo=timezone.utc)
        try:
            value = accounts.issue_token(user, name=(form.name.data or "").strip(), expires_at=expires_at)
            db.session.commit()
            return _user_page(user, new_token=value)
        except DomainError as exc:
            form_failed(form, exc)
            user = accounts.get_user(user_id)
    return _user_page(user, 422, token_form=form)


@bp.route("/addons")
@require("addons.read")
def addons():
    kernel = current_app.extensions["kontor"]
    states = {s.name: s for s in db.session.scalars(select(AddonState))}
    return render_template("core/addons.html", addons=kernel.addons, states=states)
