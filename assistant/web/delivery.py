"""How responses travel: static files under content-hashed names, cached for a year and precompressed (WhiteNoise),
and pages and JSON compressed on the fly (Flask-Compress), so that gunicorn alone sends what a phone should get.

- At start-up every file of the static folder is copied into the static build folder (instance/static unless
  STATIC_BUILD_DIR says otherwise) as `name.<hash>.ext`, next to its gzip and Brotli forms. The copies are build
  output: made again when missing, never committed. Content-addressed, so several workers building at once write
  the same bytes (each file is written to a temporary name, then renamed).
- `url_for('static', filename='app.css')` gives the hashed URL, which WhiteNoise serves with
  `Cache-Control: max-age=315360000, public, immutable`: a repeat visit asks for nothing it has. Unhashed URLs
  still work through Flask's own static route (`no-cache`: revalidated each time).
- HTML and JSON responses of 500 bytes or more are sent as Brotli or gzip when the browser accepts them, with
  `Vary: Accept-Encoding`. Their own Cache-Control (no-store for everything personal) is left as it is.
"""
from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path

from flask import Flask
from flask_compress import Compress
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

from assistant.web.security import CSP

log = logging.getLogger(__name__)

# What Flask-Compress compresses: every text type the app sends (pages, JSON, FHIR JSON, the QR code's SVG).
COMPRESSED_TYPES = ["text/html", "text/css", "text/plain", "text/csv", "application/json", "application/fhir+json",
                    "application/javascript", "text/javascript", "image/svg+xml"]
STATIC_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    # An SVG opened on its own is a document: the same policy as the pages keeps script out of it.
    "Content-Security-Policy": "; ".join(f"{key} {value}" for key, value in CSP.items()),
}
HASH_LENGTH = 12
compress = Compress()


def init_app(app: Flask) -> None:
    """Call before the other extensions: Flask-Compress's hook then runs last, on the finished response."""
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", ["br", "gzip"])
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    app.config.setdefault("COMPRESS_BR_LEVEL", 5)
    compress.init_app(app)
    target = Path(app.config.get("STATIC_BUILD_DIR") or Path(app.instance_path) / "static")
    try:
        names = build(Path(app.static_folder or ""), target)
    except OSError as err:  # a read-only disk: the app still works, static files come unhashed from Flask
        log.warning("static files not built in %s (%s): served unhashed and uncompressed", target, err)
        return
    app.extensions["static_names"] = names
    static_url = (app.static_url_path or "/static").rstrip("/") + "/"
    app.wsgi_app = WhiteNoise(app.wsgi_app, root=str(target), prefix=static_url,  # type: ignore[method-assign]
                              immutable_file_test=lambda path, url: True,  # every file there is content-hashed
                              allow_all_origins=False, add_headers_function=_static_headers)

    @app.url_defaults
    def hashed_static_url(endpoint: str, values: dict) -> None:
        if endpoint == "static" and values.get("filename") in names:
            values["filename"] = names[values["filename"]]


def _static_headers(headers, path: str, url: str) -> None:
    for name, value in STATIC_HEADERS.items():
        headers[name] = value


def hashed_name(relative: str, data: bytes) -> str:
    """`css/app.css` -> `css/app.<first 12 hex of sha256>.css`."""
    digest = hashlib.sha256(data).hexdigest()[:HASH_LENGTH]
    folder, _, name = relative.rpartition("/")
    stem, dot, extension = name.rpartition(".")
    hashed = f"{stem}.{digest}.{extension}" if dot else f"{name}.{digest}"
    return f"{folder}/{hashed}" if folder else hashed


def build(source: Path, target: Path) -> dict[str, str]:
    """Every file under `source` as a hashed copy in `target`, with .br and .gz beside it where they are smaller;
    returns {name: hashed name}. Files already there are kept (same name, same bytes), and so are earlier versions'
    copies: pages served by workers that are still running may name them."""
    compressor = Compressor(quiet=True)
    names: dict[str, str] = {}
    for path in sorted(p for p in source.rglob("*") if p.is_file() and not p.name.startswith(".")):
        relative = path.relative_to(source).as_posix()
        data = path.read_bytes()
        names[relative] = hashed_name(relative, data)
        destination = target / names[relative]
        if not destination.exists():
            _write(destination, data)
        if not compressor.should_compress(destination.name):
            continue
        for suffix, squeeze in ((".br", compressor.compress_brotli), (".gz", compressor.compress_gzip)):
            packed = destination.with_name(destination.name + suffix)
            if packed.exists():
                continue
            smaller = squeeze(data)
            if len(smaller) <= 0.95 * len(data):
                _write(packed, smaller)
    return names


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".")
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)
