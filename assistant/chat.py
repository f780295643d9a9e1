"""The phone chat: server-rendered pages that work without JavaScript (form POST -> redirect -> next question)."""
from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("chat", __name__)


@bp.get("/")
def landing():
    return render_template("landing.html")
