"""Blueprint placeholder: filled by its owner."""

from flask import Blueprint

bp = Blueprint("exports", __name__)
