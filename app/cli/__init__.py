"""flask commands: stores, customers, inbox, compliance, loyalty, serve, worker, scheduler, demo, webhooks."""

from flask import Flask


def init_app(app: Flask) -> None:
    from . import admin, storefront  # noqa: F401  (add `stores admin-token`, `stores storefront-secret`)
    from .compliance import compliance_cli
    from .inbox import inbox_cli
    from .loyalty import loyalty_cli
    from .records import customers_cli, stores_cli
    from .referrals import referrals_cli
    from .run import scheduler_command, serve_command, worker_command
    from .samples import demo_command, webhooks_cli

    for command in (
        stores_cli,
        customers_cli,
        serve_command,
        worker_command,
        scheduler_command,
        demo_command,
        webhooks_cli,
        inbox_cli,
        compliance_cli,
        loyalty_cli,
        referrals_cli,
    ):
        app.cli.add_command(command)
