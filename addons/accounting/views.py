from flask import Blueprint
bp = Blueprint("accounting", __name__)
