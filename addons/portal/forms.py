"""portal's forms (Flask-WTF, with CSRF)."""
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length, Optional


class ApplyCreditForm(FlaskForm):
    amount = StringField("Amount (empty: as much as your credit covers)", validators=[Optional(), Length(max=20)])
