"""Core forms (Flask-WTF: every form carries its CSRF token)."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, EmailField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional, Regexp, ValidationError

from core.partners import country_error


# A plain check (WTForms' Email() needs the email_validator package, which we do not ship): one @, a dot after it.
EMAIL = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="Not a valid email address.")


class CountryCode:
    """A country's ISO 3166-1 code (core.partners.country_error: the rule the API and imports use)."""

    def __call__(self, form, field):
        field.data = (field.data or "").strip().upper()
        message = country_error(field.data)
        if message:
            raise ValidationError(message)


class LoginForm(FlaskForm):
    login = StringField("Login", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("Password", validators=[DataRequired()])


class PartnerForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    email = EmailField("Email", validators=[Optional(), EMAIL, Length(max=200)])
    vat_id = StringField("VAT ID", validators=[Optional(), Length(max=40)])
    street = StringField("Street", validators=[Optional(), Length(max=200)])
    zip = StringField("ZIP", validators=[Optional(), Length(max=20)])
    city = StringField("City", validators=[Optional(), Length(max=100)])
    country = StringField("Country (ISO code)", default="FR", validators=[DataRequired(), Length(min=2, max=2),
                                                                         CountryCode()])


class CompanyForm(FlaskForm):
    name = StringField("Company name", validators=[DataRequired(), Length(max=200)])
    email = EmailField("Email", validators=[Optional(), EMAIL])
    vat_id = StringField("VAT ID", validators=[Optional(), Length(max=40)])
    siren = StringField("SIREN", validators=[Optional(), Length(max=20)])
    street = StringField("Street", validators=[Optional()])
    zip = StringField("ZIP", validators=[Optional()])
    city = StringField("City", validators=[Optional()])
    country = StringField("Country", validators=[DataRequired(), Length(min=2, max=2), CountryCode()])
    currency = StringField("Currency (ISO code)", validators=[DataRequired(), Length(min=3, max=3)],
                           description="Every amount is in it; it cannot change once a document is posted.")
    iban = StringField("IBAN", validators=[Optional(), Length(max=40)])
    payment_terms_days = IntegerField("Payment terms (days)", validators=[NumberRange(min=0, max=365)])
    document_date_window_days = IntegerField(
        "Documents dated within (days of today)", validators=[NumberRange(min=1, max=3650)],
        description="An invoice, credit note or payment dated further back or ahead is refused (a typo in the "
                    "year, most often).")
    auto_apply_credit = BooleanField("Apply customer credit automatically to the next posted invoice")


class UserForm(FlaskForm):
    login = StringField("Login", validators=[DataRequired(), Length(max=80)])
    name = StringField("Name", validators=[Optional(), Length(max=200)])
    role = SelectField("Role", choices=[])
    # choices set by the view: "none" (0) and every customer; a customer login needs one (core.security)
    partner_id = SelectField("Customer (for a customer login)", coerce=int, choices=[], default=0)
    password = PasswordField("Password", validators=[DataRequired(), Length(max=128)])


class UserEditForm(FlaskForm):
    name = StringField("Name", validators=[Optional(), Length(max=200)])
    role = SelectField("Role", choices=[])
    active = BooleanField("Active (may log in and use API tokens)")


class PasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired(), Length(max=128)])
    confirm = PasswordField("Repeat it", validators=[DataRequired(), EqualTo("password", message="Not the same.")])


class TokenForm(FlaskForm):
    name = StringField("What it is for", validators=[Optional(), Length(max=100)])
    expires_on = DateField("Expires after (leave empty: never)", validators=[Optional()])


class ConfirmForm(FlaskForm):
    """A button that changes something: only its CSRF token."""
