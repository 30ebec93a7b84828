"""JSON on standard output, the one format every command that prints records uses; and how a command that is
refused ends (exit_on_error)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from app.errors import AppError
from app.extensions import db


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


@contextmanager
def exit_on_error(*also: type[Exception], prefix: str = "") -> Iterator[None]:
    """Around a command's work: an AppError (or one of `also`) rolls back what it wrote and ends the command with
    "Error: <prefix><message>" and exit status 1, not a traceback."""
    caught: tuple[type[Exception], ...] = (AppError, *also)
    try:
        yield
    except caught as exc:
        db.session.rollback()
        raise click.ClickException(prefix + str(exc)) from exc
