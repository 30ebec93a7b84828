"""gunicorn settings for the web process (production and `flask serve`).

Threads, because a webhook request mostly waits on the database commit; with
several in flight, PostgreSQL flushes their commits to the WAL together.
"""

import os

bind = os.environ.get("BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "8"))
timeout = 30
graceful_timeout = 20
keepalive = 5
accesslog = None  # request logs would carry shop domains; the app logs what it needs


def post_worker_init(worker: object) -> None:
    """Once the worker has loaded the app: freeze what exists, so no later collection walks it.

    A full collection walks every tracked object, and the loaded app holds about 136,000 (SQLAlchemy, Flask,
    the OpenAPI document, ...): 80 ms on the 2-core machine the benchmarks run on, a stall for every request in
    flight whenever the oldest generation comes due (the storefront bench's half-load p99 of 38-49 ms in some
    runs). Frozen, they are left out of every later collection; they live as long as the worker anyway.
    https://docs.python.org/3/library/gc.html#gc.freeze
    """
    import gc

    gc.collect()
    gc.freeze()
