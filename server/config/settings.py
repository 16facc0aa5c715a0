"""All settings, read from environment variables with embedded defaults (see docs/settings.md)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF

from config.env import env_bool, env_choice, env_float, env_int, env_list, env_str, env_timezone

REPO_DIR = Path(__file__).resolve().parents[2]
SERVER_DIR = REPO_DIR / "server"

# Everything the embedded deployment writes lives under one directory.
DATA_DIR = Path(env_str("ANALYTICS_DATA_DIR", str(REPO_DIR / "data"))).resolve()
# Created here because every entry point (manage.py, gunicorn, tests) loads this module, and
# SQLite cannot create its database file in a missing directory.
DATA_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = env_str("DJANGO_SECRET_KEY", "insecure-dev-key-change-me-in-production")
# Signs API keys (JWTs, accounts/tokens.py); changing it invalidates every key issued with the old one.
ACCESS_TOKEN_SIGNING_KEY = env_str("ANALYTICS_TOKEN_SIGNING_KEY", SECRET_KEY)
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["*"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# --- Web server (read by config/gunicorn.conf.py, so `manage.py check` validates them too) -----
HOST = env_str("HOST", "0.0.0.0")
PORT = env_int("PORT", 8000, minimum=1, maximum=65535)
WEB_WORKERS = env_int("WEB_WORKERS", 1, minimum=1)
WEB_THREADS = env_int("WEB_THREADS", 8, minimum=1)
WEB_TIMEOUT = env_int("WEB_TIMEOUT", 120, minimum=1)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "annotation",
    "events",
    "shipping",
    "store",
    "analytics",
    "exports",
    "dashboards",
    "demo",
    "axes",
    "csp",
]

MIDDLEWARE = [
    # First: a locked-out password guess is refused before any other work (accounts.throttling).
    "accounts.throttling.SignInGateMiddleware",
    "events.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files (the browser logger, dashboard bundles) straight from gunicorn, no extra server.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.OrganizationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last: turns a locked-out sign-in (accounts.throttling) into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [SERVER_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'django.sqlite3'}"),
        conn_max_age=60,
    )
}
# Server events are emitted on commit, so every API request runs in one transaction.
DATABASES["default"]["ATOMIC_REQUESTS"] = True
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets the request threads read while one of them writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_PASSWORD_VALIDATORS: list[dict] = []
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [("client", REPO_DIR / "components" / "client")]
# WhiteNoise serves static files straight from their source folders (the browser logger, the
# dashboard pages' built script), indexed once at start: no collectstatic step, and nothing under
# the data directory (a volume in the container) to go stale.
WHITENOISE_USE_FINDERS = True
LOGIN_URL = "/analytics/login/"
# --- Sign-in throttling (django-axes, accounts.throttling) --------------------------------
# Refused before the password is hashed: the locked-out check runs first.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env_bool("AUTH_THROTTLING_ENABLED", True)
AXES_FAILURE_LIMIT = env_int("AUTH_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_float("AUTH_LOCKOUT_MINUTES", 15.0, minimum=0.01))
# Each on its own: one username guessed from many addresses, or many usernames from one address.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# A refused attempt is not counted again: the lockout ends AUTH_LOCKOUT_MINUTES after it began, and
# refusing costs one cache read (no write, no log line) however hard the address hammers.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Counted in the cache: a refused attempt costs no database write.
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_LOCKOUT_CALLABLE = "accounts.throttling.lockout_response"
AXES_CLIENT_IP_CALLABLE = "accounts.throttling.client_ip"
# The header a trusted reverse proxy puts the client's address in (e.g. X-Real-IP); empty: REMOTE_ADDR.
AUTH_CLIENT_IP_HEADER = env_str("AUTH_CLIENT_IP_HEADER", "")
# Counts live in this process's memory: cheap, and outside the request's database transaction
# (which a refused request rolls back). With several worker processes each counts on its own.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "axes": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "axes"},
}
AXES_CACHE = "axes"
# No start-up banner: a management command that fails must say so in its one line on stderr.
AXES_VERBOSE = False
SILENCED_SYSTEM_CHECKS = ["axes.W001"]  # the per-process cache above is deliberate

# --- Content-Security-Policy (django-csp) --------------------------------------------------
# The pages load only their own files: no inline script, no eval, no third-party origin. The API
# docs (drf-spectacular's Swagger UI) load their scripts from a CDN and are left out.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/api/docs"],
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Anybody may create an account with POST /api/auth/register only when this is on.
REGISTRATION_OPEN = env_bool("REGISTRATION_OPEN", False)
INVITATION_TTL_DAYS = env_int("INVITATION_TTL_DAYS", 7, minimum=1)

# The dashboards' "Organization default" timezone (organizations have no timezone of their own):
# `UTC` or an IANA name; days of the "per day" panels start at its midnight.
DASHBOARD_DEFAULT_TIMEZONE = env_timezone("DASHBOARD_DEFAULT_TIMEZONE", "UTC")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.AccessTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        "accounts.throttling.ThrottledBasicAuthentication",
    ],
    # Every view checks the organization context (X-Organization / ?org=) after authentication.
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "accounts.permissions.OrganizationContext",
    ],
    # CVAT's clients ask for and may send application/vnd.cvat+json: JSON under another name.
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "config.media_types.CvatJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # JSON bodies (either media type) are refused past API_MAX_JSON_DEPTH levels before any
    # parser descends.
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.DepthLimitedJSONParser",
        "config.media_types.CvatJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "config.schema.AutoSchema",
    "EXCEPTION_HANDLER": "events.exceptions.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Annotation analytics API",
    "DESCRIPTION": "Annotation domain, client events, KPIs, measure queries and event exports.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the drf-spectacular-sidecar package (static files), not from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ShapeTypeEnum": "annotation.models.ShapeType",
    },
}

# Off: no new event is recorded (server events are not emitted, client batches are validated and
# answered but not stored); events already in the spool still ship, dashboards keep what they have.
ANALYTICS_ENABLED = env_bool("ANALYTICS_ENABLED", True)

# --- ClickHouse store -------------------------------------------------------------------
# One setting selects the engine: chdb:///path (embedded) or http(s)://user:pass@host:8123/db.
CLICKHOUSE_URL = env_str("CLICKHOUSE_URL", f"chdb://{DATA_DIR / 'clickhouse'}")
# 0 keeps events forever; otherwise rows older than this many days are dropped by TTL.
EVENTS_RETENTION_DAYS = env_int("EVENTS_RETENTION_DAYS", 0, minimum=0)
CLICKHOUSE_MIGRATE_ON_START = env_bool("CLICKHOUSE_MIGRATE_ON_START", True)
# Empty: one node. Else the cluster (remote_servers) the schema is created on (docs/deploy.md).
CLICKHOUSE_CLUSTER = env_str("CLICKHOUSE_CLUSTER", "")

# --- Shipping ----------------------------------------------------------------------------
SPOOL_PATH = Path(env_str("SPOOL_PATH", str(DATA_DIR / "spool.sqlite3")))
# FULL survives power loss; NORMAL survives a crash of the process only.
SPOOL_SYNCHRONOUS = env_choice("SPOOL_SYNCHRONOUS", "FULL", ("FULL", "NORMAL"))
SHIP_BATCH_SIZE = env_int("SHIP_BATCH_SIZE", 10_000, minimum=1)
# ... and at most this many bytes (a single larger request still goes whole).
SHIP_BATCH_MAX_BYTES = env_int("SHIP_BATCH_MAX_BYTES", 32 * 1024 * 1024, minimum=1024)
SHIP_FLUSH_INTERVAL_SECONDS = env_float("SHIP_FLUSH_INTERVAL_SECONDS", 1.0, minimum=0.01)
SHIP_RETRY_MAX_BACKOFF_SECONDS = env_float("SHIP_RETRY_MAX_BACKOFF_SECONDS", 60.0, minimum=0.1)
SHIP_LEASE_SECONDS = env_float("SHIP_LEASE_SECONDS", 120.0, minimum=1)
# Health says "stuck" (and /healthz answers 503) when the oldest unshipped row is older than this.
SHIP_STALE_AFTER_SECONDS = env_float("SHIP_STALE_AFTER_SECONDS", 300.0, minimum=1)
# A Prometheus scraper sends it as `Authorization: Bearer <token>` to /api/server/metrics; empty:
# only instance administrators may read the metrics.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
# When set, batches go to Vector's http_server source instead of straight to ClickHouse.
VECTOR_URL = env_str("VECTOR_URL", "")
VECTOR_TIMEOUT_SECONDS = env_float("VECTOR_TIMEOUT_SECONDS", 30.0, minimum=0.1)
# The server process ships its own spool; off for processes that only write (e.g. a CLI).
SHIPPING_ENABLED = env_bool("SHIPPING_ENABLED", True)

# --- Request bodies --------------------------------------------------------------------
# Deepest nesting of objects and arrays an API JSON body, or a client event's payload, may have:
# deeper bodies get 400 before parsing (a recursive parser would fail on them), deeper payloads a 400
# naming the event. At most 200: orjson, which writes payloads back out, stops at 254 levels.
API_MAX_JSON_DEPTH = env_int("API_MAX_JSON_DEPTH", 64, minimum=8, maximum=200)

# --- Client events ---------------------------------------------------------------------
# 96 months: with monthly partitions, accepted events plus today's span at most 98 partitions.
MAX_EVENT_AGE_DAYS = 2900
EVENTS_MAX_BODY_BYTES = env_int("EVENTS_MAX_BODY_BYTES", 5 * 1024 * 1024, minimum=1024)
EVENTS_MAX_PER_REQUEST = env_int("EVENTS_MAX_PER_REQUEST", 10_000, minimum=1)
# The time window of client events (events.time_window): after clock correction, at most this many
# days old (default: the retention, else one year) and this many seconds in the future; the
# batch's send time at most this many days off the server's clock. The age limit is at most
# MAX_EVENT_AGE_DAYS so that accepted events never exceed ClickHouse's partitions per insert.
EVENTS_MAX_AGE_DAYS = env_int(
    "EVENTS_MAX_AGE_DAYS",
    min(EVENTS_RETENTION_DAYS or 365, MAX_EVENT_AGE_DAYS),
    minimum=1,
    maximum=MAX_EVENT_AGE_DAYS,
)
EVENTS_MAX_FUTURE_SECONDS = env_int("EVENTS_MAX_FUTURE_SECONDS", 300, minimum=0, maximum=86_400)
EVENTS_MAX_CLOCK_SKEW_DAYS = env_int("EVENTS_MAX_CLOCK_SKEW_DAYS", 3650, minimum=1, maximum=36_500)
# A client batch retried with the same Idempotency-Key within this many hours is a replay.
IDEMPOTENCY_KEY_TTL_HOURS = env_float("IDEMPOTENCY_KEY_TTL_HOURS", 168.0, minimum=1)
WORKING_TIME_IDLE_THRESHOLD_SECONDS = env_float("WORKING_TIME_IDLE_THRESHOLD_SECONDS", 100.0, minimum=0.001)
# Django refuses bodies above this before our own 413 check could run; keep it above ours.
DATA_UPLOAD_MAX_MEMORY_SIZE = EVENTS_MAX_BODY_BYTES + 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = None

# --- Demo data ---------------------------------------------------------------------------
# `make run` seeds the demo organization once on a fresh data directory unless this is off.
SEED_DEMO = env_bool("SEED_DEMO", True)

# --- Analytics API -----------------------------------------------------------------------
# Most buckets one KPI/metric/query request may ask for (more gets 400).
ANALYTICS_MAX_BUCKETS = env_int("ANALYTICS_MAX_BUCKETS", 2000, minimum=1)
# /api/analytics/kpis/status reports "lagging" when the newest rollup row is older than this.
ANALYTICS_LAG_WARNING_SECONDS = env_int("ANALYTICS_LAG_WARNING_SECONDS", 900, minimum=1)

# --- Exports -------------------------------------------------------------------------------
EXPORT_DIR = Path(env_str("EXPORT_DIR", str(DATA_DIR / "exports")))
# Finished files can be downloaded until they are this old, then they are deleted.
EXPORT_TTL_HOURS = env_float("EXPORT_TTL_HOURS", 24.0, minimum=0.001)
# Run export jobs in the server process (embedded mode); the compose deployment runs workers.
EXPORT_WORKER_IN_PROCESS = env_bool("EXPORT_WORKER_IN_PROCESS", True)
EXPORT_WORKER_POLL_SECONDS = env_float("EXPORT_WORKER_POLL_SECONDS", 1.0, minimum=0.05)
# A running export stamps its job this often; a `started` job whose stamp is older than
# EXPORT_STALE_SECONDS was interrupted (a restart) and runs again, at most EXPORT_MAX_ATTEMPTS times.
EXPORT_HEARTBEAT_SECONDS = env_float("EXPORT_HEARTBEAT_SECONDS", 5.0, minimum=0.1)
EXPORT_STALE_SECONDS = env_float("EXPORT_STALE_SECONDS", 60.0, minimum=1)
EXPORT_MAX_ATTEMPTS = env_int("EXPORT_MAX_ATTEMPTS", 3, minimum=1)

LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {
        "handlers": ["console"],
        "level": LOG_LEVEL,
    },
    "loggers": {"django.request": {"level": "ERROR"}},
}
