"""gunicorn's settings in production: the Procfile runs `gunicorn -c gunicorn.conf.py 'assistant:create_app()'`.

- Listens on $PORT (8000 when unset) with $WEB_CONCURRENCY workers (2 when unset).
- `X-Forwarded-Proto` is believed exactly when the app believes its proxies (TRUSTED_PROXIES > 0; the app's ProxyFix
  then reads the same header, hop by hop), and no other scheme header is: with TRUSTED_PROXIES=0 nobody can claim a
  request came over HTTPS, not even a client on 127.0.0.1.
- Conversation ids and share tokens (bearer keys) are replaced by [redacted] in gunicorn's error and access logs,
  whichever of them a deployment turns on (`--access-logfile`, `--error-logfile`, `--log-level`).
"""
import os

from gunicorn.glogging import Logger

from assistant.config import whole_number
from assistant.web.security import REDACT_FILTER

bind = f"0.0.0.0:{os.environ.get('PORT') or '8000'}"
workers = whole_number("WEB_CONCURRENCY", os.environ.get("WEB_CONCURRENCY"), minimum=1, default=2)

forwarded_allow_ips = "*" if whole_number("TRUSTED_PROXIES", os.environ.get("TRUSTED_PROXIES"), 0, 0) else ""
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}


class RedactingLogger(Logger):
    """gunicorn's logger with the app's redaction on its error and access logs."""

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            log.addFilter(REDACT_FILTER)


logger_class = RedactingLogger
