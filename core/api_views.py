"""The kernel's API: partners, the caller, users and their tokens (admin), installed addons."""
from __future__ import annotations

from datetime import timezone

import marshmallow as ma
from flask import current_app
from flask.views import MethodView
from sqlalchemy import select

from core import accounts
from core import company as company_rules
from core import partners as partner_rules
from core.api import Blueprint, ListArgs, list_schema, page
from core.extensions import db
from core.models import AddonState, Partner, User, utcnow
from core.security import create_user, current_actor, require

blp = Blueprint("core_api", __name__, description="Customers, the caller, addons")


class PartnerSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    email = ma.fields.String(load_default="", validate=ma.validate.Length(max=200))
    vat_id = ma.fields.String(load_default="", validate=ma.validate.Length(max=40))
    street = ma.fields.String(load_default="", validate=ma.validate.Length(max=200))
    zip = ma.fields.String(load_default="", validate=ma.validate.Length(max=20))
    city = ma.fields.String(load_default="", validate=ma.validate.Length(max=100))
    country = ma.fields.String(load_default="FR", validate=ma.validate.Length(equal=2))

    @ma.validates("email")
    def _email(self, value, **_):
        if value and "@" not in value:
            raise ma.ValidationError("Not a valid email address.")


class PartnerPatchSchema(PartnerSchema):
    class Meta:
        partial = True


class PartnerListArgs(ListArgs):
    q = ma.fields.String(load_default=None, metadata={"description": "search name, email, city, VAT ID"})


PartnerList = list_schema(PartnerSchema, "PartnerList")


@blp.route("/partners")
class Partners(MethodView):
    @require("partners.read")
    @blp.arguments(PartnerListArgs, location="query")
    @blp.response(200, PartnerList)
    def get(self, args):
        query = partner_rules.search_partners(select(Partner), args.get("q"))
        return page(query, args, order_by=[Partner.name, Partner.id])

    @require("partners.write")
    @blp.arguments(PartnerSchema)
    @blp.response(201, PartnerSchema)
    def post(self, data):
        return partner_rules.create_partner(**data)


@blp.route("/partners/<int:partner_id>")
class PartnerItem(MethodView):
    @require("partners.read")
    @blp.response(200, PartnerSchema)
    def get(self, partner_id):
        return partner_rules.get_partner(partner_id)

    @require("partners.write")
    @blp.arguments(PartnerPatchSchema(partial=True))
    @blp.response(200, PartnerSchema)
    def patch(self, data, partner_id):
        return partner_rules.update_partner(partner_rules.get_partner(partner_id), **data)


class CompanySchema(ma.Schema):
    """The seller on every document (docs/api.md); ``missing_for_einvoice`` names what a Factur-X still lacks."""
    name = ma.fields.String(validate=ma.validate.Length(min=1, max=200))
    email = ma.fields.String(validate=ma.validate.Length(max=200))
    vat_id = ma.fields.String(validate=ma.validate.Length(max=40))
    siren = ma.fields.String(validate=ma.validate.Length(max=20))
    street = ma.fields.String(validate=ma.validate.Length(max=200))
    zip = ma.fields.String(validate=ma.validate.Length(max=20))
    city = ma.fields.String(validate=ma.validate.Length(max=100))
    country = ma.fields.String(validate=ma.validate.Length(equal=2))
    currency = ma.fields.String(validate=ma.validate.Length(equal=3))
    iban = ma.fields.String(validate=ma.validate.Length(max=40))
    missing_for_einvoice = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()),
                                          dump_only=True)


class CompanyPatchSchema(CompanySchema):
    class Meta:
        partial = True


@blp.route("/company")
class CompanyItem(MethodView):
    @require("settings.read")
    @blp.response(200, CompanySchema)
    def get(self):
        return _company_out(company_rules.get_company())

    @require("settings.write")
    @blp.arguments(CompanyPatchSchema(partial=True))
    @blp.response(200, CompanySchema)
    def patch(self, data):
        return _company_out(company_rules.update_company(**data))


def _company_out(row) -> dict:
    out = {key: getattr(row, key) for key in company_rules.IDENTITY}
    out["missing_for_einvoice"] = company_rules.missing_seller_identifiers(row)
    return out


class MeSchema(ma.Schema):
    id = ma.fields.Integer()
    login = ma.fields.String()
    name = ma.fields.String()
    role = ma.fields.String()


@blp.route("/me")
class Me(MethodView):
    @require("dashboard.view")
    @blp.response(200, MeSchema)
    def get(self):
        return current_actor()


class Timestamp(ma.fields.AwareDateTime):
    """ISO 8601 with its offset (docs/api.md), also for SQLite, which gives timestamps back without one (they are UTC)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return super()._serialize(value, attr, obj, **kwargs)


class UserSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    login = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=80))
    name = ma.fields.String(load_default="", validate=ma.validate.Length(max=200))
    role = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=20))
    active = ma.fields.Boolean(dump_only=True)
    partner_id = ma.fields.Integer(load_default=None, allow_none=True,
                                   validate=ma.validate.Range(min=1, max=2**31 - 1))
    password = ma.fields.String(load_only=True, load_default=None, validate=ma.validate.Length(max=128),
                                metadata={"description": "left out: a random one (set it later with PATCH)"})
    created_at = Timestamp(dump_only=True)
    last_login_at = Timestamp(dump_only=True, allow_none=True)


class UserPatchSchema(ma.Schema):
    name = ma.fields.String(validate=ma.validate.Length(max=200))
    role = ma.fields.String(validate=ma.validate.Length(min=1, max=20))
    active = ma.fields.Boolean()
    password = ma.fields.String(load_only=True, validate=ma.validate.Length(max=128))


UserList = list_schema(UserSchema, "UserList")


class TokenSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    name = ma.fields.String(load_default="", validate=ma.validate.Length(max=100))
    expires_at = Timestamp(load_default=None, allow_none=True,
                                         metadata={"description": "ISO 8601 with offset; null: never expires"})
    created_at = Timestamp(dump_only=True)
    last_used_at = Timestamp(dump_only=True, allow_none=True)
    revoked_at = Timestamp(dump_only=True, allow_none=True)
    state = ma.fields.Function(lambda t: t.state_at(utcnow()), dump_only=True,
                               metadata={"description": "valid, expired or revoked"})


class NewTokenSchema(TokenSchema):
    token = ma.fields.String(dump_only=True, metadata={"description": "shown once; only its hash is stored"})


class RevokedSchema(ma.Schema):
    revoked = ma.fields.Integer()


@blp.route("/users")
class Users(MethodView):
    @require("users.manage")
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, UserList)
    def get(self, args):
        return page(select(User), args, order_by=[User.login, User.id])

    @require("users.manage")
    @blp.arguments(UserSchema)
    @blp.response(201, UserSchema)
    def post(self, data):
        if data["partner_id"] is not None:
            partner_rules.get_partner(data["partner_id"])
        return create_user(data["login"], data["role"], data["password"], name=data["name"],
                           partner_id=data["partner_id"])


@blp.route("/users/<int:user_id>")
class UserItem(MethodView):
    @require("users.manage")
    @blp.response(200, UserSchema)
    def get(self, user_id):
        return accounts.get_user(user_id)

    @require("users.manage")
    @blp.arguments(UserPatchSchema)
    @blp.response(200, UserSchema)
    def patch(self, data, user_id):
        """Role, active, name, password: all the given fields or none (one transaction)."""
        user = accounts.get_user(user_id)
        if "role" in data:
            accounts.set_role(user, data["role"])
        if "active" in data:
            accounts.set_active(user, data["active"])
        if "name" in data:
            accounts.set_name(user, data["name"])
        if "password" in data:
            accounts.change_password(user, data["password"])
        return user


@blp.route("/users/<int:user_id>/tokens")
class UserTokens(MethodView):
    @require("users.manage")
    @blp.response(200, TokenSchema(many=True))
    def get(self, user_id):
        return accounts.tokens_of(accounts.get_user(user_id))

    @require("users.manage")
    @blp.arguments(TokenSchema)
    @blp.response(201, NewTokenSchema)
    def post(self, data, user_id):
        user = accounts.get_user(user_id)
        value = accounts.issue_token(user, name=data["name"], expires_at=data["expires_at"])
        row = accounts.tokens_of(user)[-1]
        row.token = value  # for this response only; the table holds its hash
        return row


@blp.route("/users/<int:user_id>/revoke-tokens")
class UserRevokeTokens(MethodView):
    @require("users.manage")
    @blp.response(200, RevokedSchema)
    def post(self, user_id):
        return {"revoked": accounts.revoke_tokens(accounts.get_user(user_id))}


class AddonSchema(ma.Schema):
    name = ma.fields.String()
    version = ma.fields.String()
    state = ma.fields.String()
    depends = ma.fields.List(ma.fields.String())


@blp.route("/addons")
class Addons(MethodView):
    @require("addons.read")
    @blp.response(200, AddonSchema(many=True))
    def get(self):
        kernel = current_app.extensions["kontor"]
        states = {s.name: s.state for s in db.session.scalars(select(AddonState))}
        return [{"name": a.name, "version": a.manifest.version, "state": states.get(a.name, "uninstalled"),
                 "depends": list(a.manifest.depends)} for a in kernel.addons]
