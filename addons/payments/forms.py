"""Payment forms (Flask-WTF). Amounts stay text here: services parse and check them (one set of messages)."""
from __future__ import annotations

import secrets
from datetime import date

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional


class PaymentForm(FlaskForm):
    amount = StringField("Amount", validators=[DataRequired(message="Enter the amount received.")])
    date = DateField("Date", default=date.today, validators=[DataRequired(message="Enter the date, YYYY-MM-DD.")])
    method = SelectField("Method", choices=[], validate_choice=False)
    reference = StringField("Reference", validators=[Optional(), Length(max=200)])
    nonce = HiddenField(validators=[DataRequired(message="This form has expired; open it again.")])

    def __init__(self, *args, methods=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.method.choices = [(m.code, m.name) for m in methods]
        if not self.nonce.data:
            self.nonce.data = secrets.token_urlsafe(24)


class PartnerPaymentForm(PaymentForm):
    """A payment for a customer's open invoices, oldest due first (several invoices at once)."""
    partner_id = SelectField("Customer", choices=[], coerce=int, validate_choice=False)


class MethodForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(), Length(max=40)])
    name = StringField("Name", validators=[DataRequired(), Length(max=100)])
    journal = SelectField("Journal", choices=[("BNK", "Bank (BNK)"), ("CSH", "Cash (CSH)")])
