"""The loyalty programme: the points ledger, tiers, redemptions, the balance write-back and the storefront balance.

Other features call `app.loyalty.api`.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    from app import scheduler
    from app.inbox import pipeline
    from app.loyalty import (  # noqa: F401  (their views, before registration)
        admin,
        admin_redemptions,
        balance_invalidation,
        redemption_tasks,
        redemptions,
        storefront,
        tasks,
    )
    from app.loyalty.cli import loyalty_cli
    from app.loyalty.follower import LoyaltyFollower
    from app.loyalty.orders import on_customer_changed
    from app.records import followers
    from connectors.events import CustomerChanged, OrderChanged, OrderDeleted

    balance_invalidation.install()  # every session's commits keep the storefront's balance copies exact
    followers.register(LoyaltyFollower())
    # After the followers: a redemption's code seen on an order (used), that order cancelled (points back).
    pipeline.on(OrderChanged, redemptions.on_order_event, stage="after")
    pipeline.on(OrderDeleted, redemptions.on_order_event, stage="after")
    pipeline.on(CustomerChanged, on_customer_changed, stage="after")  # the signup reward, once per account
    scheduler.register_step(tasks.tick, phase="programmes")  # points becoming spendable, expiring; tiers
    scheduler.register_step(redemption_tasks.tick, phase="programmes")  # codes to create, balances to write back
    app.cli.add_command(loyalty_cli)
