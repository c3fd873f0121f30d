"""CXHub settings, read from the environment (twelve-factor).

With nothing set, CXHub runs on SQLite with Celery tasks executed eagerly, so a newcomer
needs no other service. ``DATABASE_URL`` and ``REDIS_URL`` switch to PostgreSQL and a real
broker; ``DEBUG=false`` turns on the production security settings.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
_DEV_SECRET = "dev-only-insecure-secret-key-change-me-for-any-real-deployment-0123456789"
SECRET_KEY = os.environ.get("SECRET_KEY") or _DEV_SECRET
if not DEBUG and SECRET_KEY == _DEV_SECRET:
    raise RuntimeError("SECRET_KEY must be set when DEBUG is off.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
# Where users reach CXHub: every link that leaves the app (e-mails) starts with it.
CXHUB_BASE_URL = os.environ.get("CXHUB_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "cxhub.apps.CXHubAdminConfig",  # django.contrib.admin, with CXHub's status on its index
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "rest_framework_api_key",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "django_celery_beat",
    "django_htmx",
    "axes",
    "csp",
    "feedback",
    "actions",
    "analytics",
    "dashboards",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # A database or broker failure in a page view answers 503 with Retry-After, not 500.
    "cxhub.unavailable.UnavailableMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The dashboards' pages and exports read ingest's tables from the replica, if there is one.
    "cxhub.replicas.ReplicaReadsMiddleware",
    "cxhub.throttling.RefusedCallsMiddleware",
    # NUL bytes, lone surrogates and undecodable bytes in query parameters or form fields.
    "cxhub.input_guard.InputGuardMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes requires: it turns a flagged lock-out into the 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cxhub.urls"
WSGI_APPLICATION = "cxhub.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cxhub.context_processors.navigation",
                "cxhub.context_processors.processing_lag",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
# A streaming replica of the primary for the dashboards' scans (docs/scaling.md): with it,
# cxhub.replicas routes those reads there; every write and every other read stays on default.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"],
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["cxhub.replicas.ReplicaRouter"] if "replica" in DATABASES else []
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite serialises writers; a busy timeout keeps concurrent dev requests from failing.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Plotly's JavaScript is the basic partial bundle vendored in static/vendor/plotly/ (no CDN).
STATICFILES_DIRS = [BASE_DIR / "static"]
# In production (DEBUG off) collectstatic writes each file under a content-hashed name with
# gzip (and brotli, when the brotli package is installed) beside it; whitenoise serves the
# hashed names compressed with "Cache-Control: max-age=315360000, public, immutable" and the
# few unhashed ones for WHITENOISE_MAX_AGE seconds (tests/cxhub/test_static.py).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Sign-in: lock-out after repeated failures (django-axes) ----------------------------
# The axes backend refuses a locked-out username+address before any password is checked,
# so the right password does not work during the cool-off either.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("CXHUB_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("CXHUB_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_CALLABLE = "cxhub.views.login_locked_out"
AXES_CLIENT_IP_CALLABLE = "cxhub.throttling.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_VERBOSE = False  # no start-up banner in every manage.py command's output

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# Bulk posts of 10,000 feedback items exceed Django's default body and field limits.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(
    os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", str(64 * 1024 * 1024))
)

# --- E-mail ---------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "CXHub <cxhub@localhost>")

# --- Security (production) ------------------------------------------------------------
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"

# --- REST API ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    # The first class names the scheme of the 401 (WWW-Authenticate) that anonymous calls get;
    # DRF answers 403 instead when the first class has none (as SessionAuthentication).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "cxhub.authentication.PeopleOnlyAuthentication",
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Depth-limited, UTF-8 only, no NUL or lone surrogate in any string (cxhub.input_guard).
    "DEFAULT_PARSER_CLASSES": [
        "cxhub.input_guard.StrictJSONParser",
        "cxhub.input_guard.StrictFormParser",
        "cxhub.input_guard.StrictMultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "cxhub.errors.api_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # One bucket per client address (anonymous), per user (session or token) and per API key;
    # credentials refused with a 401 count per address (cxhub.throttling).
    "DEFAULT_THROTTLE_CLASSES": [
        "cxhub.throttling.AnonymousThrottle",
        "cxhub.throttling.UserThrottle",
        "cxhub.throttling.APIKeyThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("CXHUB_THROTTLE_ANON") or "100/min",
        "user": os.environ.get("CXHUB_THROTTLE_USER") or "1000/min",
        "api_key": os.environ.get("CXHUB_THROTTLE_API_KEY") or "1000/min",
        "bad_credentials": os.environ.get("CXHUB_THROTTLE_BAD_CREDENTIALS") or "20/min",
    },
    # Proxies in front of CXHub whose X-Forwarded-For is trusted; 0 reads REMOTE_ADDR only,
    # so a client cannot pick its own address (and escape its limits) with that header.
    "NUM_PROXIES": int(os.environ.get("CXHUB_PROXY_COUNT", "0")),
}
API_KEY_CUSTOM_HEADER = "HTTP_AUTHORIZATION"

SPECTACULAR_SETTINGS = {
    "TITLE": "CXHub API",
    "DESCRIPTION": (
        "Feedback in, insight out, actions tracked to measured business impact. "
        "Users authenticate with a session or `Authorization: Token <token>`; "
        "sources post data with `Authorization: Api-Key <key>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The schemes a caller can use; cxhub.authentication.PeopleOnlyAuthentication only refuses.
    "AUTHENTICATION_WHITELIST": [
        "feedback.authentication.SourceAPIKeyAuthentication",
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Several models name their choices Kind or Status; these give each enum its own name.
    "ENUM_NAME_OVERRIDES": {
        "SourceKindEnum": "feedback.models.Source.Kind",
        "ActionStatusEnum": "actions.models.ActionStatus",
        "AlertStatusEnum": "actions.models.AlertStatus",
        "AlertContactChannelEnum": "actions.models.ContactChannel",
        "AlertContactOutcomeEnum": "actions.models.ContactOutcome",
        "ResponseChannelEnum": "feedback.models.Channel",
        "AnalysisRunKindEnum": "analytics.runs.models.AnalysisRun.Kind",
        "AnalysisRunStatusEnum": "analytics.runs.models.AnalysisRun.Status",
        "ImpactEstimateStatusEnum": "analytics.impact.models.ImpactEstimate.Status",
        "ThemeProposalStatusEnum": "analytics.text.models.ThemeProposal.Status",
        "DashboardCommentKindEnum": "dashboards.models.DashboardComment.Kind",
        "DashboardCommentStatusEnum": "dashboards.models.DashboardComment.Status",
    },
}

# --- Celery -----------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True  # a worker that dies mid-task leaves the message for another
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_DEFAULT_QUEUE = "celery"  # named here: readiness and metrics read its length
# A queue per workload (docs/scaling.md), so that each can get workers of its own when one
# machine is not enough: `celery -A cxhub worker -Q analyses` takes only analyses. A worker
# started without -Q (make worker, compose, the tests) consumes every queue listed here, so
# one worker still runs everything. Readiness and metrics count every queue.
CXHUB_TASK_QUEUES = ("celery", "ingest", "rollups", "analyses", "notifications")
CELERY_TASK_QUEUES = [Queue(name, routing_key=name) for name in CXHUB_TASK_QUEUES]
CELERY_TASK_ROUTES = {
    # processing after ingest (tagging, sentiment, alerts), its sweep, re-tagging
    "feedback.tasks.*": {"queue": "ingest"},
    "analytics.tasks.text.*": {"queue": "ingest"},
    # the roll-up tables' refresh after ingest: any task whose name holds "rollup"
    "*rollup*": {"queue": "rollups"},
    # analysis runs, the driver chord's chunks and merge, nightly runs, impact estimates
    "analytics.tasks.insights.*": {"queue": "analyses"},
    "analytics.tasks.impact.*": {"queue": "analyses"},
    # e-mail notifications, reminders, digests, alert escalation
    "actions.tasks.*": {"queue": "notifications"},
}
# Publishing to a dead broker must fail fast: ingest stores first and the sweep catches up.
# The web process publishes with ``retry=False``; a producer's connection is opened through
# the transport options' ``max_retries``/``interval_*`` below (one quick retry, 2 s timeout).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# The worker, by contrast, never gives up on its broker: it retries at start-up (Redis may
# come up after it) and after a lost connection, forever, instead of exiting after 100 tries
# and waiting for someone to start it again. These three govern the consumer only.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# AMQP heartbeats (seconds); the Redis transport ignores them and finds a dead connection
# through redis-py's ``health_check_interval`` and TCP keep-alive (transport options below).
CELERY_BROKER_HEARTBEAT = 30
# The longest task may run CELERY_TASK_TIME_LIMIT seconds (the soft limit lets it stop
# cleanly first). Redis redelivers an unacknowledged message after the visibility timeout,
# so the timeout must be longer than any task may run, or a task still running is handed to
# a second worker. Countdowns (the retry back-off below) and ETAs must stay below it too:
# Redis holds a message waiting for its ETA as unacknowledged. CXHub sets no ETA.
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_TASK_TIME_LIMIT + 10 * 60,
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
    "socket_keepalive": True,
    "health_check_interval": 25,
}
CELERY_REDIS_BACKEND_HEALTH_CHECK_INTERVAL = 25
CELERY_REDIS_SOCKET_KEEPALIVE = True
# Tasks are acknowledged late, so when the connection is lost the messages of running tasks
# go back to the queue and another worker gets them; cancelling the running copies keeps a
# task from running twice at once (Celery 6's default, set now).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# Processing tasks that meet a database error retry with exponential back-off, at most this
# many seconds apart (well below the visibility timeout) and this many times (feedback.tasks).
CXHUB_TASK_RETRY_BACKOFF_MAX = 5 * 60
CXHUB_TASK_MAX_RETRIES = 5
# The worker writes a heartbeat into the cache this often (cxhub.celery); readiness calls it
# stale after CXHUB_WORKER_STALE_SECONDS without one.
CXHUB_WORKER_HEARTBEAT_SECONDS = 15
CXHUB_WORKER_STALE_SECONDS = 60
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "analytics-nightly-insights": {
        "task": "analytics.tasks.insights.nightly_insights_task",
        "schedule": crontab(hour=2, minute=15),
    },
    "analytics-impact-daily": {
        "task": "analytics.tasks.impact.impact_estimate_due_task",
        "schedule": crontab(hour=5, minute=30),
    },
    "feedback-sweep-unprocessed": {
        "task": "feedback.tasks.responses_sweep_unprocessed_task",
        # With the processing lease, a dead worker's responses are back within lease + this.
        "schedule": float(os.environ.get("CXHUB_SWEEP_SECONDS", "60")),
    },
    "analytics-rollups-refresh": {
        "task": "analytics.tasks.responses.rollups_refresh_task",
        # Writes queue a refresh after commit; this catches up when a queued one was lost.
        "schedule": float(os.environ.get("CXHUB_ROLLUPS_REFRESH_SECONDS", "60")),
    },
    "actions-remind-due-soon": {
        "task": "actions.tasks.actions_remind_due_soon_task",
        "schedule": crontab(hour=7, minute=0),
    },
    "actions-remind-overdue": {
        "task": "actions.tasks.actions_remind_overdue_task",
        "schedule": crontab(hour=7, minute=5),
    },
    "actions-escalate-overdue-alerts": {
        "task": "actions.tasks.alerts_escalate_overdue_task",
        "schedule": crontab(minute="*/15"),
    },
    "actions-weekly-digest": {
        "task": "actions.tasks.digests_send_task",
        "schedule": crontab(hour=7, minute=10, day_of_week="mon"),
    },
}

# --- Cache ------------------------------------------------------------------------------
# Throttle counters and cached figures must be shared by every web process in production.
# The cache lives in its own Redis database: clearing it (tests do, around each test) runs
# FLUSHDB, which must never hit the broker's queues.


def _redis_db_next(url: str) -> str:
    """``url`` with its database index one up (``redis://h:6379/0`` -> ``redis://h:6379/1``)."""
    parts = urlsplit(url)
    index = int(parts.path.strip("/") or "0")
    return urlunsplit(parts._replace(path=f"/{index + 1}"))


def _redis_db(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.netloc, int(parts.path.strip("/") or "0")


CXHUB_CACHE_URL = os.environ.get("CXHUB_CACHE_URL") or (
    _redis_db_next(REDIS_URL) if REDIS_URL else ""
)
if CXHUB_CACHE_URL:
    if REDIS_URL and _redis_db(CXHUB_CACHE_URL) == _redis_db(REDIS_URL):
        raise RuntimeError(
            "CXHUB_CACHE_URL must name another Redis database than REDIS_URL: "
            "clearing the cache would delete the broker's queued tasks."
        )
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CXHUB_CACHE_URL,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Content-Security-Policy (django-csp) ------------------------------------------------
# No inline script and no inline style: page code lives in static/js, styles in static/css.
# Plotly inserts two style elements itself; each is allowed by the hash of its exact text,
# not by 'unsafe-inline' (tests/cxhub/test_csp.py recomputes them from the installed plotly).
PLOTLY_STYLE_HASHES = [
    # The empty element Plotly fills through the CSSOM (insertRule), which CSP does not govern.
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
    # MapLibre's stylesheet, bundled in plotly.min.js and injected when the bundle loads.
    "'sha256-V2sIX92Uh6ZaGSFTKMHghsB85b9toJtmazgG09AI2uk='",
]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, *PLOTLY_STYLE_HASHES],
        # blob: for Plotly's PNG download, which draws the chart's SVG from a blob URL it
        # creates itself (same origin) onto a canvas.
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Logging ----------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

CXHUB: dict[str, Any] = {
    # Below this many responses a score is shown as "not enough responses", not a number.
    "MIN_RESPONSES": int(os.environ.get("CXHUB_MIN_RESPONSES", "30")),
    "BULK_MAX_ITEMS": 10_000,
    # A worker holds the responses it processes this long, renewed after each processor; the
    # sweep (every minute) hands on those whose holder died: back within about two minutes.
    "PROCESSING_LEASE_SECONDS": int(os.environ.get("CXHUB_PROCESSING_LEASE_SECONDS", "60")),
    # After this many workers died holding a response, it is parked instead of handed on.
    "PROCESSING_MAX_ATTEMPTS": int(os.environ.get("CXHUB_PROCESSING_MAX_ATTEMPTS", "3")),
    # JSON bodies nested deeper are refused with a 400 (cxhub.input_guard).
    "JSON_MAX_DEPTH": 32,
    "COMMENT_MAX_LENGTH": 10_000,
    # Replace e-mail addresses and phone numbers in comments at ingest (feedback.privacy).
    "MASK_PII": env_bool("CXHUB_MASK_PII", False),
    # Whose national phone formats are recognised (ISO 3166 alpha-2); international ones always.
    "MASK_PII_REGION": os.environ.get("CXHUB_MASK_PII_REGION", "GB").strip().upper() or "GB",
}

# --- Operations -------------------------------------------------------------------------
# CX managers see a banner when the oldest unprocessed response is older than this.
CXHUB_LAG_BANNER_MINUTES = int(os.environ.get("CXHUB_LAG_BANNER_MINUTES", "5"))
# The bearer token Prometheus sends to /metrics; without one, /metrics answers 404.
CXHUB_METRICS_TOKEN = os.environ.get("CXHUB_METRICS_TOKEN", "")
# Seconds a client is told to wait (Retry-After) when the database or the broker is down.
CXHUB_UNAVAILABLE_RETRY_AFTER = 30
