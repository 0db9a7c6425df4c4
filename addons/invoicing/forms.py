"""invoicing's HTML forms (Flask-WTF: each carries its CSRF token). Values are checked again by the services."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, EmailField, IntegerField, RadioField, SelectField, StringField,
                     TextAreaField)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from .models import PRODUCT_TYPES

EMAIL = r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$"  # a plain check; the mail server has the last word


def _text(value):
    """A Decimal from the edited record stays in the field when a POST leaves the field out; as text, Length can
    measure it (else the form crashed with a TypeError, a 500, instead of saying what is missing)."""
    return value if value is None or isinstance(value, str) else str(value)


class TaxForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=100)])
    rate = StringField("Rate (%)", filters=[_text], validators=[DataRequired(), Length(max=12)])
    vat_category = SelectField("VAT category (e-invoices)", default="",
                               choices=[("", "From the rate (standard above 0 %, zero rated at 0 %)"),
                                        ("S", "S: standard rate"), ("Z", "Z: zero rated"),
                                        ("E", "E: exempt from VAT (give the reason)")])
    exemption_reason = StringField("Exemption reason (exempt only)", filters=[_text],
                                   validators=[Optional(), Length(max=300)],
                                   description="Printed on the invoice, e.g. \"TVA non applicable, art. 293 B du CGI\".")


class ProductForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(), Length(max=40)])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    type = SelectField("Type", choices=[(t, t.capitalize()) for t in PRODUCT_TYPES])
    unit = StringField("Unit", default="unit", validators=[Optional(), Length(max=20)])
    unit_price = StringField("Unit price", default="0.00", filters=[_text],
                             validators=[DataRequired(), Length(max=20)])
    tax_id = SelectField("Tax", coerce=int, choices=[])


class InvoiceForm(FlaskForm):
    """The draft's header; its lines come as parallel lists (line_id, product_id, description, ...)."""
    partner_id = SelectField("Customer", coerce=int, choices=[], validators=[DataRequired("Choose a customer.")])
    invoice_date = DateField("Invoice date", validators=[DataRequired()])
    payment_terms_days = IntegerField("Payment terms (days)", validators=[NumberRange(min=0, max=3650)])
    notes = TextAreaField("Notes (printed on the invoice)", validators=[Optional(), Length(max=5000)])


class DeleteDraftForm(FlaskForm):
    cancel_origin = BooleanField("Cancel the service order too")


class CreditNoteForm(FlaskForm):
    """Quantities per line come as ``qty_<line id>``; an amount off as ``amount_line`` + ``amount``."""
    kind = RadioField("What to credit", default="full",
                      choices=[("full", "The whole invoice (everything left to credit)"),
                               ("lines", "Some lines, or part of their quantity"),
                               ("amount", "An amount off one line (untaxed)")])
    reason = TextAreaField("Reason (printed on the credit note)", validators=[Optional(), Length(max=2000)])
    # Asked only for invoices made from service orders (the page shows it then); the words are credit_notes.WORK's.
    work = RadioField("The hours and parts credited", default="billed",
                      choices=[("billed", "Stay billed"), ("bill_again", "Go back to the order"),
                               ("cancel_order", "Cancel the order")])
    post_now = BooleanField("Post the credit note at once")


class SendForm(FlaskForm):
    to = EmailField("Send to", validators=[DataRequired("Give an email address."),
                                           Regexp(EMAIL, message="Give a valid email address."),
                                           Length(max=200)])


class ApplyCreditForm(FlaskForm):
    amount = StringField("Amount (empty: as much as possible)", validators=[Optional(), Length(max=20)])
