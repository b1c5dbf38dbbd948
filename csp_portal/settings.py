"""Settings for the CSP partner support portal.

Every value that differs between machines is read from the environment here and nowhere
else (README: "Environment variables"). A missing or malformed value stops start-up with the
variable's name. `make run` / `make test` set DATABASE_URL and REDIS_URL to the embedded
servers when they are not set (csp_portal/devstack.py).
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()


def _read(name, cast, **kwargs):
    """Read one variable; a malformed value is reported with the variable's name."""
    try:
        return cast(name, **kwargs)
    except ImproperlyConfigured:
        raise
    except (ValueError, TypeError, KeyError) as error:
        raise ImproperlyConfigured(f"Environment variable {name} is malformed: {error}") from error


def _strict_bool(name, default):
    value = env.str(name, default="").strip().lower()
    if not value:
        return default
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{value!r} is not one of true/false/1/0/yes/no/on/off")


DEBUG = _read("DJANGO_DEBUG", _strict_bool, default=False)

SECRET_KEY = _read("DJANGO_SECRET_KEY", env.str, default="" if DEBUG else environ.Env.NOTSET)
if not SECRET_KEY:
    # Development only: a key kept under var/ so sessions survive a restart.
    VAR_DIR.mkdir(exist_ok=True)
    _key_file = VAR_DIR / "secret_key"
    if not _key_file.exists():
        from django.core.management.utils import get_random_secret_key

        _key_file.write_text(get_random_secret_key())
    SECRET_KEY = _key_file.read_text().strip()

# The portal's own domain: partners are served at <slug>.<PORTAL_DOMAIN> and, on a host
# without wildcard DNS (localhost), at /p/<slug>/ on the domain itself.
PORTAL_DOMAIN = _read("PORTAL_DOMAIN", env.str, default="localhost").lower()
PORTAL_SCHEME = _read("PORTAL_SCHEME", env.str, default="http" if DEBUG else "https")
if PORTAL_SCHEME not in {"http", "https"}:
    raise ImproperlyConfigured("Environment variable PORTAL_SCHEME must be http or https")
PORTAL_PORT = _read("PORT", env.int, default=8000)
# Hosts that serve the platform itself (the operator's admin and the /p/<slug>/ fallback).
PLATFORM_HOSTS = {PORTAL_DOMAIN, "localhost", "127.0.0.1", "[::1]", "testserver"}

# Hosts are validated by csp_portal.accounts.middleware.PartnerMiddleware against the portal
# domain and the partners' verified custom domains (an unknown host answers 404), so Django's
# own list admits them all.
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.microsoft",
    "csp_portal.accounts",
    "csp_portal.api",
    "tickets",
    "billing",
    "escalation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp_portal.accounts.middleware.PartnerMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "csp_portal.accounts.middleware.PartnerScopeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "csp_portal.accounts.middleware.StaffMfaMiddleware",
]

# Forms render through the project's template settings, so templates/django/forms/ may
# replace one of Django's widget templates; selects are drawn in Python (form_renderer.py).
FORM_RENDERER = "csp_portal.form_renderer.PortalFormRenderer"

ROOT_URLCONF = "csp_portal.urls"
PARTNER_URLCONF = "csp_portal.urls_partner"

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
                "csp_portal.accounts.context_processors.portal",
            ],
            # Every template's {% url %} remembers its answers (csp_portal/url_tag.py).
            "builtins": ["csp_portal.url_tag"],
        },
    },
]

WSGI_APPLICATION = "csp_portal.wsgi.application"

# Web and worker processes connect as DATABASE_URL: an ordinary role that owns no table and
# cannot bypass row-level security. Migrations (and the test suite, which creates its own
# database) connect as DATABASE_OWNER_URL. DATABASE_APP_ROLE is granted access after migrate.
DATABASES = {"default": _read("DATABASE_URL", env.db_url)}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("Environment variable DATABASE_URL must name a PostgreSQL server")
DATABASES["default"]["CONN_MAX_AGE"] = _read("DATABASE_CONN_MAX_AGE", env.int, default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["TEST"] = {"NAME": _read("DATABASE_TEST_NAME", env.str, default="test_csp")}
DATABASE_APP_ROLE = _read("DATABASE_APP_ROLE", env.str, default="")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

REDIS_URL = _read("REDIS_URL", env.str)
if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured("Environment variable REDIS_URL must be a redis:// URL")

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "csp",
    }
}

# Celery: Redis as broker; a killed worker does not lose its message.
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BEAT_SCHEDULE: dict = {}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("nl", "Nederlands")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = _read("MEDIA_ROOT", env.path, default=str(VAR_DIR / "media"))
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# E-mail: EMAIL_URL (smtp://user:password@host:587/?tls=True); by default, in development,
# every message is written to var/mail/ where it can be read.
EMAIL_URL = _read("EMAIL_URL", env.str, default="")
if EMAIL_URL:
    vars().update(env.email_url_config(EMAIL_URL))
elif DEBUG:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
else:
    raise ImproperlyConfigured("Environment variable EMAIL_URL is not set")
DEFAULT_FROM_EMAIL = _read("DEFAULT_FROM_EMAIL", env.str, default=f"support@{PORTAL_DOMAIN}")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Sign-in (django-allauth): e-mail is the login; verification is mandatory.
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portal:home"
ACCOUNT_ADAPTER = "csp_portal.accounts.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_RATE_LIMITS = {
    "login_failed": "5/5m/ip,5/5m/key",
    "login": "30/m/ip",
    "reset_password": "5/m/ip,3/m/key",
    "reset_password_from_key": "20/m/ip",
    "signup": "10/h/ip",
}
# Self-service sign-up is closed: people join a partner's portal by invitation.
ACCOUNT_SIGNUP_OPEN = False
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = _read("MFA_TOTP_ISSUER", env.str, default="CSP support portal")
SOCIALACCOUNT_ADAPTER = "csp_portal.accounts.adapters.SocialAccountAdapter"
SOCIALACCOUNT_PROVIDERS: dict = {}
MICROSOFT_CLIENT_ID = _read("MICROSOFT_CLIENT_ID", env.str, default="")
if MICROSOFT_CLIENT_ID:
    SOCIALACCOUNT_PROVIDERS["microsoft"] = {
        "APPS": [
            {
                "client_id": MICROSOFT_CLIENT_ID,
                "secret": _read("MICROSOFT_CLIENT_SECRET", env.str),
                "settings": {"tenant": _read("MICROSOFT_TENANT", env.str, default="organizations")},
            }
        ]
    }

# The public API (/api/v1/ on each partner's portal): bearer tokens or the browser session
# (with CSRF), problem-details errors, cursor pagination, per-token rate limits.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "csp_portal.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["csp_portal.api.throttling.TokenRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "csp_portal.api.exceptions.problem_exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
API_MAX_BODY_BYTES = _read("API_MAX_BODY_BYTES", env.int, default=30 * 1024 * 1024)
API_SESSION_RATE_PER_MINUTE = _read("API_SESSION_RATE_PER_MINUTE", env.int, default=600)
SPECTACULAR_SETTINGS = {
    "TITLE": "CSP partner portal API",
    "DESCRIPTION": "Customers, tickets, billing and escalations of one partner's portal. "
    "Authenticate with `Authorization: Bearer <token>` (issued by the partner's global admin).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_URLCONF": PARTNER_URLCONF,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "csp_portal.api.schema.add_problem_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "CustomerStatusEnum": "csp_portal.accounts.models.Customer.Status",
        "TicketStatusEnum": "tickets.models.Ticket.Status",
        "TicketLevelEnum": "tickets.models.Ticket.Level",
    },
}

# Security headers and cookies; HTTPS-only settings follow PORTAL_SCHEME.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Django's database sessions, their read compiled once per process (csp_portal/sessions.py).
SESSION_ENGINE = "csp_portal.sessions"
_https = PORTAL_SCHEME == "https"
SESSION_COOKIE_SECURE = _https
CSRF_COOKIE_SECURE = _https
SECURE_SSL_REDIRECT = _https and _read("DJANGO_SECURE_SSL_REDIRECT", env.bool, default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if _https else None
SECURE_HSTS_SECONDS = 31536000 if _https else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = _https
SECURE_HSTS_PRELOAD = _https

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": _read("LOG_LEVEL", env.str, default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
# Microsoft sign-in signs an invited person in by their verified e-mail address.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_ONLY = False

# Ticket attachments: the largest single file, and the most one ticket holds in all (bytes).
TICKET_ATTACHMENT_MAX_BYTES = _read("TICKET_ATTACHMENT_MAX_BYTES", env.int, default=10 * 1024**2)
TICKET_ATTACHMENTS_MAX_TOTAL_BYTES = _read(
    "TICKET_ATTACHMENTS_MAX_TOTAL_BYTES", env.int, default=25 * 1024**2
)

# Tickets SLA: the watch marks and announces breaches every minute; resolved tickets close by
# themselves after each partner's number of days (hourly is precise enough for days).
CELERY_BEAT_SCHEDULE["tickets-sla-watch"] = {"task": "tickets.tasks.sla_watch", "schedule": 60.0}
CELERY_BEAT_SCHEDULE["tickets-auto-close"] = {
    "task": "tickets.tasks.auto_close_resolved",
    "schedule": 3600.0,
}

# Billing: Partner Center (suspend / reactivate subscriptions) and the collections sweep.
# PARTNER_CENTER_BASE_URL is read with the other Microsoft hosts below.
PARTNER_CENTER_ACCESS_TOKEN = _read("PARTNER_CENTER_ACCESS_TOKEN", env.str, default="")
PARTNER_CENTER_MAX_ATTEMPTS = 4
PARTNER_CENTER_BACKOFF_SECONDS = 1.0
PARTNER_CENTER_MAX_WAIT_SECONDS = 30.0
# Each partner is swept once a day, from this hour of its own time zone.
COLLECTIONS_SWEEP_HOUR = _read("COLLECTIONS_SWEEP_HOUR", env.int, default=6)
CELERY_BEAT_SCHEDULE["billing-collections-fan-out"] = {
    "task": "billing.tasks.collections_fan_out",
    "schedule": 3600.0,
}
# The sweep's e-mails and Partner Center calls still waiting for their task this long after
# they were asked for are handed to the workers again (a lost broker message), looked for
# every COLLECTIONS_RESUME_EVERY_SECONDS.
COLLECTIONS_RESUME_AFTER_SECONDS = _read("COLLECTIONS_RESUME_AFTER_SECONDS", env.int, default=3600)
COLLECTIONS_RESUME_EVERY_SECONDS = _read("COLLECTIONS_RESUME_EVERY_SECONDS", env.int, default=600)
CELERY_BEAT_SCHEDULE["billing-collections-resume"] = {
    "task": "billing.tasks.collections_resume",
    "schedule": float(COLLECTIONS_RESUME_EVERY_SECONDS),
}

# Tickets by e-mail. Notifications carry Reply-To: reply+<token>@INBOUND_EMAIL_DOMAIN (mail for
# that domain must reach the inbound webhook, /inbound/email/ on the platform host, or a
# mailbox that `manage.py read_mailbox` reads). The webhook requires INBOUND_EMAIL_SECRET, in
# the X-Inbound-Secret header or as X-Inbound-Signature: sha256=<HMAC-SHA256 of the body>.
INBOUND_EMAIL_DOMAIN = _read(
    "INBOUND_EMAIL_DOMAIN", env.str, default=f"inbound.{PORTAL_DOMAIN}"
).lower()
INBOUND_EMAIL_SECRET = _read(
    "INBOUND_EMAIL_SECRET", env.str, default="" if DEBUG else environ.Env.NOTSET
)
INBOUND_EMAIL_MAX_BYTES = _read("INBOUND_EMAIL_MAX_BYTES", env.int, default=40 * 1024**2)
INBOUND_REPLY_TOKEN_MAX_AGE_DAYS = _read("INBOUND_REPLY_TOKEN_MAX_AGE_DAYS", env.int, default=180)

# -- Hardening, audit log, privacy requests and operability -----------------------------------
INSTALLED_APPS += ["csp", "csp_portal.ops", "csp_portal.audit", "csp_portal.privacy"]
# First: the request id, log context and request metrics wrap everything else.
MIDDLEWARE.insert(0, "csp_portal.ops.middleware.RequestContextMiddleware")
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "csp_portal.ops.middleware.PortalCSPMiddleware",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "csp_portal.ops.middleware.AdminLoginThrottleMiddleware",
)

# Content Security Policy: scripts only from our own static files; styles from them plus the
# one per-request nonce'd <style> of base.html (the partner's brand colour); no framing.
from csp.constants import NONCE as _NONCE  # noqa: E402
from csp.constants import NONE as _NONE  # noqa: E402
from csp.constants import SELF as _SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [_SELF],
        "script-src": [_SELF],
        "style-src": [_SELF, _NONCE],
        "img-src": [_SELF, "data:"],
        "font-src": [_SELF],
        "connect-src": [_SELF],
        "object-src": [_NONE],
        "base-uri": [_SELF],
        "frame-ancestors": [_NONE],
        # Microsoft sign-in leaves by a form POST that redirects to Microsoft.
        "form-action": [_SELF, "https://login.microsoftonline.com"],
    }
}
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), interest-cohort=()"
)
SESSION_COOKIE_SAMESITE = "Lax"
# allauth's links (password reset, e-mail confirmation) use the portal's scheme, not the
# request's; their host is the partner's own, as PartnerMiddleware accepted it.
ACCOUNT_DEFAULT_HTTP_PROTOCOL = PORTAL_SCHEME
CSRF_COOKIE_HTTPONLY = True

# Behind a load balancer: how many proxies append to X-Forwarded-For (client addresses for
# rate limits and the audit log). 0 trusts REMOTE_ADDR alone.
TRUSTED_PROXY_COUNT = _read("TRUSTED_PROXY_COUNT", env.int, default=0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
# The Django admin's sign-in: attempts per client address and per username in a window.
ADMIN_LOGIN_MAX_ATTEMPTS = _read("ADMIN_LOGIN_MAX_ATTEMPTS", env.int, default=5)
ADMIN_LOGIN_WINDOW_SECONDS = _read("ADMIN_LOGIN_WINDOW_SECONDS", env.int, default=900)

# Structured logs: JSON lines in production (LOG_FORMAT=json), plain text in development;
# every record carries the request id (or Celery task id) and the partner id.
LOG_FORMAT = _read("LOG_FORMAT", env.str, default="plain" if DEBUG else "json")
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured("Environment variable LOG_FORMAT must be plain or json")
LOGGING["filters"] = {"context": {"()": "csp_portal.ops.logging.ContextFilter"}}
LOGGING["formatters"]["plain"] = {
    "format": "%(asctime)s %(levelname)s %(name)s [request=%(request_id)s "
    "partner=%(partner_id)s] %(message)s"
}
LOGGING["formatters"]["json"] = {"()": "csp_portal.ops.logging.JsonFormatter"}
LOGGING["handlers"]["console"].update(formatter=LOG_FORMAT, filters=["context"])
# Workers log through the same handler (Celery would otherwise replace it with its own).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Web workers exempt their long-lived objects from garbage collection at start and again after
# this many requests (0: at start only); see csp_portal/ops/gc_tuning.py.
GC_FREEZE_AFTER_REQUESTS = _read("GC_FREEZE_AFTER_REQUESTS", env.int, default=200)

# Prometheus metrics at /metrics on the platform host: a bearer token, or only from this
# machine when METRICS_TOKEN is unset.
METRICS_TOKEN = _read("METRICS_TOKEN", env.str, default="")
METRICS_QUEUES = ["celery"]

# Escalation to Microsoft: the support APIs' hosts. In development (DJANGO_DEBUG) they all
# default to the local stub (`python -m escalation.stub --port 8765`), which speaks the same
# shapes; production talks to Microsoft unless told otherwise.
MICROSOFT_API_BASE_URL = _read(
    "MICROSOFT_API_BASE_URL", env.str, default="http://127.0.0.1:8765" if DEBUG else ""
)
PARTNER_CENTER_BASE_URL = _read(
    "PARTNER_CENTER_BASE_URL",
    env.str,
    default=MICROSOFT_API_BASE_URL or "https://api.partnercenter.microsoft.com",
)
AZURE_MANAGEMENT_BASE_URL = _read(
    "AZURE_MANAGEMENT_BASE_URL",
    env.str,
    default=MICROSOFT_API_BASE_URL or "https://management.azure.com",
)
MICROSOFT_LOGIN_BASE_URL = _read(
    "MICROSOFT_LOGIN_BASE_URL",
    env.str,
    default=MICROSOFT_API_BASE_URL or "https://login.microsoftonline.com",
)
# Partner Center's web UI, where partner support requests are filed.
PARTNER_CENTER_WEB_URL = _read(
    "PARTNER_CENTER_WEB_URL", env.str, default="https://partner.microsoft.com/dashboard"
)
# Each partner's app registration, as JSON: {"<partner slug>" or "*": {"tenant_id": ...,
# "client_id": ..., "client_secret": ...}}. Secrets live in the environment, never in the
# database. Development talks to the stub with a stand-in app.
MICROSOFT_PARTNER_APPS = _read(
    "MICROSOFT_PARTNER_APPS",
    env.json,
    default={"*": {"tenant_id": "partner-tenant", "client_id": "stub-app", "client_secret": "stub"}}
    if DEBUG
    else {},
)
MICROSOFT_MAX_ATTEMPTS = _read("MICROSOFT_MAX_ATTEMPTS", env.int, default=5)
MICROSOFT_BACKOFF_SECONDS = _read("MICROSOFT_BACKOFF_SECONDS", env.float, default=2.0)
MICROSOFT_MAX_WAIT_SECONDS = _read("MICROSOFT_MAX_WAIT_SECONDS", env.float, default=60.0)
MICROSOFT_TIMEOUT_SECONDS = _read("MICROSOFT_TIMEOUT_SECONDS", env.float, default=30.0)
MICROSOFT_OPERATION_POLLS = 10
# An escalation Microsoft did not accept after this many sends (each with its own retries)
# is marked failed; between sends the sync waits ESCALATION_RESEND_MINUTES.
ESCALATION_MAX_SENDS = 5
ESCALATION_RESEND_MINUTES = 5
CELERY_BEAT_SCHEDULE["escalation-sync"] = {
    "task": "escalation.tasks.escalation_sync_fan_out",
    "schedule": 180.0,
}

# -- Webhooks: signed deliveries of events to the partners' own systems --------------------------
INSTALLED_APPS += ["csp_portal.webhooks"]
# Targets on private, loopback, link-local or reserved addresses are refused unless this is
# true (development and tests, with a receiver on this machine).
WEBHOOK_ALLOW_PRIVATE_TARGETS = _read("WEBHOOK_ALLOW_PRIVATE_TARGETS", _strict_bool, default=False)
WEBHOOK_TIMEOUT_SECONDS = _read("WEBHOOK_TIMEOUT_SECONDS", env.float, default=10.0)
# Attempts per delivery; the wait after the n-th failure doubles from the base, capped.
WEBHOOK_MAX_ATTEMPTS = 8
WEBHOOK_BACKOFF_SECONDS = 30
WEBHOOK_BACKOFF_MAX_SECONDS = 6 * 3600
CELERY_BEAT_SCHEDULE["webhooks-retry-due"] = {
    "task": "csp_portal.webhooks.tasks.webhook_retry_due",
    "schedule": 60.0,
}

# Readable text on each partner's brand colour, chosen on the server (csp_portal/brand.py).
TEMPLATES[0]["OPTIONS"]["libraries"] = {
    **TEMPLATES[0]["OPTIONS"].get("libraries", {}),
    "brand": "csp_portal.brand",
}
# The largest reconciliation file a billing admin may import (the file is read in memory).
RECONCILIATION_IMPORT_MAX_BYTES = _read(
    "RECONCILIATION_IMPORT_MAX_BYTES", env.int, default=50 * 1024**2
)

# -- Reliability: transactional outbox, Redis and PostgreSQL outages ---------------------------
# Celery work is written to the outbox in the transaction of the change and published after
# commit; the relay publishes what the broker missed (csp_portal/outbox/services.py).
INSTALLED_APPS += ["csp_portal.outbox"]
CELERY_BEAT_SCHEDULE["outbox-relay"] = {
    "task": "csp_portal.outbox.tasks.outbox_relay",
    "schedule": 10.0,
}
CELERY_BEAT_SCHEDULE["outbox-prune"] = {
    "task": "csp_portal.outbox.tasks.outbox_prune",
    "schedule": 86400.0,
}
# Readiness answers 503 while work has waited in the outbox longer than this.
OUTBOX_BACKLOG_MINUTES = _read("OUTBOX_BACKLOG_MINUTES", env.int, default=10)
OUTBOX_KEEP_SENT_DAYS = 7
# How long Redis lets a worker hold a message before handing it to another worker (a killed
# worker's task runs again after this). ETAs longer than half of it wait in the outbox.
CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = _read(
    "CELERY_VISIBILITY_TIMEOUT", env.int, default=3600
)
# A worker looks for such messages every 10 seconds (kombu's unacked_restore_interval) and,
# by kombu's default, scans only on every tenth look: a dead worker's message would wait up to
# 100 seconds beyond the timeout. One ZRANGE per look is cheap; scan on each.
CELERY_BROKER_TRANSPORT_OPTIONS["unacked_restore_throttle"] = 1
# Redis away: the cache (rate limits, throttles) falls back to process memory instead of
# failing the page (csp_portal/resilience.py); a hung Redis costs at most half a second.
CACHES["default"]["BACKEND"] = "csp_portal.resilience.FailSoftRedisCache"
CACHES["default"]["OPTIONS"] = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
# PostgreSQL away: a 503 with Retry-After (seconds) instead of a 500.
MIDDLEWARE.insert(1, "csp_portal.resilience.DatabaseUnavailableMiddleware")
DATABASE_UNAVAILABLE_RETRY_AFTER = 10
# The collections sweep's batch (invoices per transaction); drills make it small.
COLLECTIONS_BATCH_SIZE = _read("COLLECTIONS_BATCH_SIZE", env.int, default=500)
