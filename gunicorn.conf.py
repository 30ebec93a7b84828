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
