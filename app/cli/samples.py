"""Placeholder, replaced by the demo work: `flask webhooks send` and `flask demo`."""

import click


@click.group("webhooks", help="Send signed sample webhooks.")
def webhooks_cli() -> None:
    pass


@click.command("demo", help="Replay a realistic store as signed webhooks.")
def demo_command() -> None:
    raise click.ClickException("not built yet")
