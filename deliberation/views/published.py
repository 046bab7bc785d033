"""Blueprint placeholder: filled by its owner."""

from flask import Blueprint

bp = Blueprint("published", __name__)
