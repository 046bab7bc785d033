"""Blueprint placeholder: filled by its owner."""

from flask import Blueprint

bp = Blueprint("facilitate", __name__)
