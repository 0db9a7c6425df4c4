"""Forms for the accounting pages (Flask-WTF: each carries its CSRF token)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, FieldList, Form, FormField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from .models import ACCOUNT_TYPES

LINE_ROWS = 6


class LineForm(Form):
    """One row of a manual entry (a plain Form: the outer form carries the CSRF token)."""
    account_code = SelectField("Account", choices=[], validate_choice=False)
    partner_id = IntegerField("Customer #", validators=[Optional(), NumberRange(min=1)])
    label = StringField("Label", validators=[Optional(), Length(max=500)])
    debit = StringField("Debit", validators=[Optional(), Length(max=20)])
    credit = StringField("Credit", validators=[Optional(), Length(max=20)])


class EntryForm(FlaskForm):
    date = DateField("Date", validators=[DataRequired(message="Give the entry's date.")])
    journal = SelectField("Journal", choices=[], default="GEN")
    ref = StringField("Reference", validators=[Optional(), Length(max=200)])
    lines = FieldList(FormField(LineForm), min_entries=LINE_ROWS, max_entries=50)

    def line_values(self) -> list[dict]:
        """The rows filled in (an account and an amount), as the service takes them."""
        rows = []
        for row in self.lines:
            data = row.data
            if not data["account_code"] and not (data["debit"] or data["credit"]):
                continue
            rows.append({"account_code": data["account_code"], "partner_id": data["partner_id"],
                         "label": data["label"], "debit": (data["debit"] or "").strip() or None,
                         "credit": (data["credit"] or "").strip() or None})
        return rows


class ReverseForm(FlaskForm):
    date = DateField("Reversal date", validators=[Optional()])


class LockDateForm(FlaskForm):
    lock_date = DateField("Lock date", validators=[Optional()])


class AccountForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(), Length(max=20)])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    type = SelectField("Type", choices=[(t, t.capitalize()) for t in ACCOUNT_TYPES])


