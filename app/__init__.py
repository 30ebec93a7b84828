"""The application factory: a short list of init_app() calls."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

from flask import Flask

from app.config import Config

#: The programmes and the channels they share, in the order their followers run after an order changes
#: (records/followers.py): loyalty before referrals (a reward's due date reads the points' delivery dates),
#: reviews after, then recovery (a refund takes a coupon back) and the delivery journey. Each package's init_app
#: registers its routes, commands, followers, pipeline handlers and
#: scheduler steps; a new programme is a package and a line here.
FEATURES = (
    "messaging",
    "loyalty",
    "support",
    "referrals",
    "reviews",
    "recovery",
    "journeys",
    "surveys",
    "compliance",
    "segments",
    "inserts",
    "order_rewards",
    "campaigns",
    "surprises",
)

#: The packages below the features that own tables (each in its `models` module or package).
CORE_MODELS = ("stores", "records", "inbox", "admin")


def create_app(config: Config | None = None) -> Flask:
    config = config or Config()
    app = Flask(__name__, instance_path=config.INSTANCE_PATH)
    app.config.from_object(config)

    from app import admin, cli, dashboard, database, health, inbox, metrics, security, storefront, stores
    from app.extensions import db, migrate
    from app.platform import jobs, logs, queue

    logs.configure(app)

    for package in (*CORE_MODELS, *FEATURES):  # every table in the metadata (migrations, relationships)
        if importlib.util.find_spec(f"app.{package}.models") is not None:
            importlib.import_module(f"app.{package}.models")

    database.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    security.init_app(app)
    queue.init_app(app)
    for feature in FEATURES:  # before the surfaces: their views go on the admin and storefront blueprints
        importlib.import_module(f"app.{feature}").init_app(app)
    inbox.init_app(app)
    stores.init_app(app)
    admin.init_app(app)
    dashboard.init_app(app)
    storefront.init_app(app)
    health.init_app(app)
    metrics.init_app(app)
    jobs.init_app(app)
    cli.init_app(app)
    return app
