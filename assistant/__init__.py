"""Muscle-pain intake assistant: an educational, phone-first conversation. `create_app` builds the Flask app."""
from __future__ import annotations

import os
from typing import Any

from flask import Flask


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    from assistant import cli, config
    from assistant.content import wording
    from assistant.store import db
    from assistant.web import (api, chat, checkin, delivery, errors, fhir_definitions, i18n, openapi, security,
                               share, share_api)
    from assistant.engine.machine import Engines
    from assistant.content.flows import load_flows
    from assistant.content.translations import Languages

    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(config.defaults(app))
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        config.from_environment(app)
    else:
        app.config.update(test_config)
    config.check(app)
    os.makedirs(app.instance_path, exist_ok=True)

    flows = load_flows(app.config["FLOWS_DIR"])
    app.extensions["engines"] = Engines(flows, Languages(flows, app.config["FLOWS_DIR"]))
    db.init_app(app)
    delivery.init_app(app)  # first: its compression hook runs last
    security.init_app(app)
    security.csrf.exempt(api.bp)  # JSON only (415 otherwise), and the conversation id is the bearer key
    security.csrf.exempt(share_api.bp)  # same rules as api.bp
    i18n.init_app(app)
    errors.register(app)
    cli.init_app(app)
    app.jinja_env.globals.update(wording.TEMPLATE_GLOBALS)
    app.register_blueprint(api.bp)
    app.register_blueprint(chat.bp)
    app.register_blueprint(checkin.bp)
    app.register_blueprint(share.bp)
    app.register_blueprint(share_api.bp)
    app.register_blueprint(fhir_definitions.bp)
    app.register_blueprint(openapi.bp)
    security.limit_routes(app)
    return app
