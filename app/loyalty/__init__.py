"""The loyalty programme: the points ledger, tiers, redemptions, the balance write-back and the storefront balance.

Other features call `app.loyalty.api`.
"""

import importlib
from pathlib import Path

from flask import Flask


def init_app(app: Flask) -> None:
    from app import scheduler
    from app.inbox import history_bulk_customers, history_bulk_past, pipeline
    from app.loyalty import (
        balance_invalidation,
        imported,
        imported_orders,
        points_days,
        preload,
        redemption_tasks,
        redemptions,
        refresh,
        tasks,
        tier_sweep,
        tiers,
        writeback_tasks,
    )
    from app.loyalty.cli import loyalty_cli
    from app.loyalty.follower import LoyaltyFollower
    from app.loyalty.ledger import MERGE_HOOK
    from app.loyalty.models import LoyaltyWriteback, Redemption
    from app.loyalty.orders import on_customer_changed
    from app.loyalty.settings import CHANGE_HOOKS
    from app.messaging.api import register_templates
    from app.platform.metrics import register_outbox
    from app.records import followers
    from app.records.customers import register_merge_hook
    from connectors.events import CustomerChanged, OrderChanged, OrderDeleted

    # Its messages' templates (app/loyalty/templates/), rendered by messaging in the recipient's language.
    register_templates(Path(__file__).resolve().parent / "templates", ("points_expiring",))

    # Its views first: they go on the admin and storefront blueprints, which register after the features.
    for views in ("admin", "admin_redemptions", "storefront", "storefront_preview", "dashboard", "dashboard_customer"):
        importlib.import_module(f"app.loyalty.{views}")
    importlib.import_module("app.loyalty.dashboard_programme").register()  # its section of the Programmes page
    balance_invalidation.install()  # every session's commits keep the storefront's balance copies exact
    points_days.install()  # every ledger row written recounts its day of the Overview's rollup at commit
    preload.install()  # signup rewards and redemptions in the inbox batch's lookups
    followers.register(LoyaltyFollower())
    register_merge_hook("loyalty", MERGE_HOOK)  # a guest's points follow them into their new account
    # After the followers: a redemption's code seen on an order (used), that order cancelled (points back).
    pipeline.on(OrderChanged, redemptions.on_order_event, stage="after")
    pipeline.on(OrderDeleted, redemptions.on_order_event, stage="after")
    pipeline.on(CustomerChanged, on_customer_changed, stage="after")  # the signup reward, once per account
    # The same for a history import's chunk of accounts, set-based (loyalty/imported.py).
    history_bulk_customers.register_accounts_hook(on_customer_changed, imported.accounts_imported)
    # And the points of its chunk of past orders, set-based, in place of the follower (loyalty/imported_orders.py).
    history_bulk_past.register(LoyaltyFollower.name, imported_orders.orders_imported)
    scheduler.register_step(tasks.tick, phase="programmes")  # points becoming spendable, expiring; tiers
    scheduler.register_step(redemption_tasks.tick, phase="programmes")  # codes to create, balances to write back
    refresh.TierRule.apply = tiers.apply_tiers  # every account refresh decides the tier first
    if tier_sweep.schedule not in CHANGE_HOOKS:  # create_app runs more than once in tests
        CHANGE_HOOKS.append(tier_sweep.schedule)  # a change of tiers or expiry reaches every account at once
    app.cli.add_command(loyalty_cli)
    # ppe_outbox_depth at each scrape: codes to create, balances to write back (every row is a pending change).
    register_outbox("redemption", Redemption, Redemption.status == "pending")
    register_outbox(writeback_tasks.KIND, LoyaltyWriteback, LoyaltyWriteback.id.isnot(None))
