"""Organiser accounts (participants never have one)."""

from __future__ import annotations

from flask_login import UserMixin
from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..offload import run_blocking
from .base import Timestamped


class Organizer(UserMixin, Timestamped, db.Model):
    __tablename__ = "organizer"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(300))
    # An instance administrator sees and may do everything (granted by the command line).
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    # Part of the id Flask-Login signs into the session and remember-me cookies: logging out
    # or changing the password moves it on, and every cookie issued before stops working.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    def get_id(self) -> str:
        return f"{self.id}:{self.session_epoch or 0}"

    # Hashing costs tens of ms of CPU: off the gevent loop, so voters' greenlets keep running.
    def set_password(self, password: str) -> None:
        self.password_hash = run_blocking(generate_password_hash, password)

    def check_password(self, password: str) -> bool:
        return run_blocking(check_password_hash, self.password_hash, password)
