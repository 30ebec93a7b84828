"""flask commands: stores, customers, inbox, serve, worker, scheduler, demo, webhooks, config, keys (features add
their own)."""

from flask import Flask


def init_app(app: Flask) -> None:
    from app.admin import cli as admin  # noqa: F401  (add `stores admin-token`, `stores storefront-secret`)
    from app.cli.config import config_cli, keys_cli
    from app.cli.run import scheduler_command, serve_command, worker_command
    from app.cli.samples import demo_command, webhooks_cli
    from app.inbox.cli import inbox_cli
    from app.records.cli import customers_cli, stores_cli
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
        config_cli,
        keys_cli,
    ):
        app.cli.add_command(command)
