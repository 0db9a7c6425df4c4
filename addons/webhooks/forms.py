"""webhooks forms."""
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField, widgets
from wtforms.validators import DataRequired, Length, Optional

from .services import EVENTS


class EndpointForm(FlaskForm):
    url = StringField("URL (http:// or https://)", validators=[DataRequired("Give the URL to send to."),
                                                              Length(max=500)])
    events = SelectMultipleField("Events", choices=[(e, f"{e} — {label}") for e, label in EVENTS.items()],
                                 validators=[DataRequired("Choose at least one event.")],
                                 option_widget=widgets.CheckboxInput(), widget=widgets.ListWidget(prefix_label=False))
    description = StringField("Description", validators=[Optional(), Length(max=200)])
