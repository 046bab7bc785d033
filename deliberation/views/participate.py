"""Blueprint placeholder: filled by its owner."""

from flask import Blueprint

bp = Blueprint("participate", __name__)
