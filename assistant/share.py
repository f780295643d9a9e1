"""Share links, QR codes, the clinician handout and FHIR export."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("share", __name__)
