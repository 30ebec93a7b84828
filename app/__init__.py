"""The application factory: a short list of init_app() calls."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

from flask import Flask

from app.config import Config

# The packages that own tables, each in its `models` module or package.
MODEL_PACKAGES = ("stores", "records", "inbox", "loyalty", "reviews", "referrals", "compliance", "messaging")


def create_app(config: Config | None = None) -> Flask:
    config = config or Config()
    app = Flask(__name__, instance_path=config.INSTANCE_PATH)
    app.config.from_object(config)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    from app import admin, cli, database, health, inbox, messaging, referrals, reviews, security, storefront, stores
    from app.extensions import db, migrate
    from app.loyalty import balance_invalidation
    from app.platform import jobs, queue

    for package in MODEL_PACKAGES:  # every table in the metadata (migrations, relationships between packages)
        importlib.import_module(f"app.{package}.models")

    database.init_app(app)
    balance_invalidation.install()  # every session's commits keep the storefront's balance copies exact
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    security.init_app(app)
    queue.init_app(app)
    inbox.init_app(app)
    stores.init_app(app)
    admin.init_app(app)
    storefront.init_app(app)
    health.init_app(app)
    messaging.init_app(app)
    referrals.init_app(app)
    reviews.init_app(app)
    jobs.init_app(app)
    cli.init_app(app)
    return app
