"""flask commands: stores, customers, inbox, compliance, loyalty, serve, worker, scheduler, demo, webhooks."""

from flask import Flask


def init_app(app: Flask) -> None:
    from app.admin import cli as admin  # noqa: F401  (add `stores admin-token`, `stores storefront-secret`)
    from app.cli.run import scheduler_command, serve_command, worker_command
    from app.cli.samples import demo_command, webhooks_cli
    from app.compliance.cli import compliance_cli
    from app.inbox.cli import inbox_cli
    from app.loyalty.cli import loyalty_cli
    from app.records.cli import customers_cli, stores_cli
    from app.referrals.cli import referrals_cli
    from app.storefront import cli as storefront  # noqa: F401

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
