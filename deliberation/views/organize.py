"""Blueprint placeholder: filled by its owner."""

from flask import Blueprint

bp = Blueprint("organize", __name__)
