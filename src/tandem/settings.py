"""Django settings, read from the TANDEM_* environment variables (CONTRACT.md)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from tandem.jobs import build_huey

BASE_DIR = Path(__file__).resolve().parent
DEFAULT_SECRET = "tandem-insecure-development-key-change-me"


def _flag(name: str, default: bool) -> bool:
    """Read a boolean environment variable, refusing anything unclear."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {raw!r}")


DATA_DIR = Path(os.environ.get("TANDEM_DATA_DIR", "./var")).resolve()
(DATA_DIR / "static").mkdir(parents=True, exist_ok=True)
DEBUG = _flag("TANDEM_DEBUG", default=True)
SECRET_KEY = os.environ.get("TANDEM_SECRET_KEY", "")
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("TANDEM_ALLOWED_HOSTS", "").split(",") if h.strip()
]

if not DEBUG:
    # A production start refuses to run with settings that would make it unsafe.
    if not SECRET_KEY or SECRET_KEY == DEFAULT_SECRET or len(SECRET_KEY) < 32:
        raise ImproperlyConfigured(
            "TANDEM_SECRET_KEY must be set to a random value of 32+ characters when TANDEM_DEBUG is off"
        )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "TANDEM_ALLOWED_HOSTS must list the served host names when TANDEM_DEBUG is off"
        )
else:
    SECRET_KEY = SECRET_KEY or DEFAULT_SECRET
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",
    "huey.contrib.djhuey",
    "tandem.accounts",
    "tandem.crm",
    "tandem.marketing",
    "tandem.tracking",
    "tandem.leads",
    "tandem.sales",
    "tandem.analytics",
    "tandem.dashboards",
    "tandem.api",
    "tandem.web",
    "tandem.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "tandem.urls"
WSGI_APPLICATION = "tandem.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tandem.web.context.navigation",
            ],
        },
    }
]

_default_db = f"sqlite:///{DATA_DIR / 'tandem.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("TANDEM_DATABASE_URL", _default_db), conn_max_age=60, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # JIT compilation costs seconds on the segment and scoring aggregates and buys nothing on
    # this workload (measured in benchmarks/bench_segments and bench_scoring).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web process read while the job consumer writes.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TANDEM_TEST_SQLITE_NAME") or None}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

HUEY = build_huey(
    os.environ.get("TANDEM_QUEUE_URL", ""), data_dir=DATA_DIR, immediate="pytest" in sys.modules
)
QUEUE_URL_DESCRIPTION = HUEY.__class__.__name__

EMAIL_URL = os.environ.get("TANDEM_EMAIL_URL", "console://")
if EMAIL_URL.startswith("console://"):
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
elif EMAIL_URL.startswith(("smtp://", "smtps://")):
    from urllib.parse import unquote, urlsplit

    _mail = urlsplit(EMAIL_URL)
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _mail.hostname or "localhost"
    EMAIL_PORT = _mail.port or (465 if _mail.scheme == "smtps" else 25)
    EMAIL_HOST_USER = unquote(_mail.username or "")
    EMAIL_HOST_PASSWORD = unquote(_mail.password or "")
    EMAIL_USE_SSL = _mail.scheme == "smtps"
else:
    raise ImproperlyConfigured("TANDEM_EMAIL_URL must start with smtp://, smtps:// or console://")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
# Forecasts, quotas and reports sum deals in this currency (sales.ExchangeRate converts).
REPORTING_CURRENCY = "USD"
USE_I18N = False
USE_TZ = True
NUMBER_GROUPING = 3  # "1,200,000" where a template asks for grouping (floatformat:"0g")

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
# plotly.js comes from the plotly wheel (no CDN, works offline): /static/plotly/plotly.min.js.
_PLOTLY = importlib.util.find_spec("plotly")
STATICFILES_DIRS = (
    [("plotly", Path(_PLOTLY.origin).parent / "package_data")] if _PLOTLY and _PLOTLY.origin else []
)
MEDIA_ROOT = DATA_DIR / "media"

# Imports are streamed from disk, so the upload limit only guards against abuse.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
TANDEM_IMPORT_MAX_BYTES = 200 * 1024 * 1024

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Browsers send the https origin; behind a TLS-terminating proxy Django must trust it.
CSRF_TRUSTED_ORIGINS = [f"https://{h.lstrip('.')}" for h in ALLOWED_HOSTS if "*" not in h] + [
    f"https://*{h}" for h in ALLOWED_HOSTS if h.startswith(".")
]
# Behind a proxy, the client's address is the last X-Forwarded-For hop (tracking.http).
BEHIND_PROXY = _flag("TANDEM_BEHIND_PROXY", default=False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
if not DEBUG:
    SESSION_COOKIE_SECURE = _flag("TANDEM_SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    # Django sends HSTS only on https responses (directly, or through a trusted proxy), so a
    # plain-http install is unaffected; without includeSubDomains, other hosts are untouched.
    _hsts = os.environ.get("TANDEM_HSTS_SECONDS", "").strip() or "31536000"
    if not _hsts.isdigit():
        raise ImproperlyConfigured(f"TANDEM_HSTS_SECONDS must be a whole number, got {_hsts!r}")
    SECURE_HSTS_SECONDS = int(_hsts)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"tandem": {"level": "INFO"}, "huey": {"level": "INFO"}},
}
