"""Forms of the service order pages (Flask-WTF: each carries its CSRF token)."""
from flask_wtf import FlaskForm
from wtforms import DateField, DateTimeLocalField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


def _int_or_none(value):
    return int(value) if value not in (None, "", "None") else None


class OrderForm(FlaskForm):
    partner_id = SelectField("Customer", coerce=_int_or_none, validators=[DataRequired(message="Choose a customer.")])
    site_address = StringField("Site address", validators=[Optional(), Length(max=1000)])
    description = TextAreaField("What to do", validators=[Optional(), Length(max=5000)])
    technician_id = SelectField("Technician", coerce=_int_or_none, validators=[Optional()])
    scheduled_at = DateTimeLocalField("Scheduled at", format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
                                      validators=[Optional()])


class ReportForm(FlaskForm):
    report = TextAreaField("Intervention report", validators=[Optional(), Length(max=20000)])


class TimeEntryForm(FlaskForm):
    # Numbers are checked by the service (one message for pages and API), so these stay strings here.
    hours = StringField("Hours", validators=[DataRequired(message="How many hours?")])
    product_id = SelectField("Rate", coerce=_int_or_none)
    date = DateField("Date", validators=[Optional()])
    description = StringField("What was done", validators=[Optional(), Length(max=2000)])
    technician_id = SelectField("Technician", coerce=_int_or_none, validators=[Optional()])


class PartForm(FlaskForm):
    product_id = SelectField("Part", coerce=_int_or_none)
    quantity = StringField("Quantity", default="1", validators=[DataRequired(message="How many?")])
    unit_price = StringField("Unit price (empty: the product's price)", validators=[Optional()])
    description = StringField("Note", validators=[Optional(), Length(max=2000)])
