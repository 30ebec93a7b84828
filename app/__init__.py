"""The application factory: a short list of init_app() calls."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

from .config import Config


def create_app(config: Config | None = None) -> Flask:
    config = config or Config()
    app = Flask(__name__, instance_path=config.INSTANCE_PATH)
    app.config.from_object(config)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    from . import (  # noqa: F401  (models: metadata)
        admin,
        cli,
        database,
        health,
        install,
        install_woo,
        messaging,
        models,
        queue,
        referrals,
        reviews,
        security,
        storefront,
        tasks,
        webhooks,
    )
    from .extensions import db, migrate
    from .services import balance_invalidation

    database.init_app(app)
    balance_invalidation.install()  # every session's commits keep the storefront's balance copies exact
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    security.init_app(app)
    queue.init_app(app)
    webhooks.init_app(app)
    install.init_app(app)
    install_woo.init_app(app)
    admin.init_app(app)
    storefront.init_app(app)
    health.init_app(app)
    messaging.init_app(app)
    referrals.init_app(app)
    reviews.init_app(app)
    tasks.init_app(app)
    cli.init_app(app)
    return app
