"""Default Django settings for MozaiksCore projects, read from the environment (12-factor).

With no environment set this is the embedded default of DESIGN.md: SQLite in ``var/``, an
in-memory channel layer, eager Celery, local-memory cache, local billing and the scripted
model. ``DATABASE_URL`` and ``REDIS_URL`` switch to PostgreSQL and Redis. A generated project's
``settings.py`` star-imports this module and then overrides what it needs.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from mozaiks_core.env import (
    EnvError,
    check_redis_reachable,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_str,
    parse_database_url,
    sqlite_database,
    validate_redis_url,
)

PACKAGE_DIR = Path(__file__).resolve().parent


def _project_dir() -> Path:
    explicit = env_str("MOZAIKS_BASE_DIR")
    if explicit:
        return Path(explicit).resolve()
    checkout = PACKAGE_DIR.parent
    return checkout if (checkout / "manage.py").exists() else Path.cwd()


BASE_DIR = _project_dir()
VAR_DIR = Path(env_str("MOZAIKS_VAR_DIR") or BASE_DIR / "var")

# --- core -------------------------------------------------------------------------------

DEBUG = env_bool("DEBUG", True)
PRODUCTION = not DEBUG

# Values published in docs, templates and examples: never accepted as a production secret.
PUBLISHED_SECRET_KEYS = frozenset(
    {
        "change-me",
        "changeme",
        "secret",
        "mozaiks-demo-secret-key-change-me-in-production-please-0000",
    }
)


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if PRODUCTION:
        if not key:
            raise EnvError(
                "SECRET_KEY is not set and DEBUG is false; set SECRET_KEY to 50+ random characters "
                "(python -c 'import secrets; print(secrets.token_urlsafe(50))')."
            )
        if key in PUBLISHED_SECRET_KEYS or key.startswith("django-insecure") or len(key) < 50 or len(set(key)) < 5:
            raise EnvError(
                "SECRET_KEY is a published or weak value and DEBUG is false; set it to 50+ random characters "
                "that appear nowhere else (python -c 'import secrets; print(secrets.token_urlsafe(50))')."
            )
        return key
    if key:
        return key
    # Development: a random key generated once per checkout, never a literal default.
    key_file = VAR_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    generated = secrets.token_urlsafe(50)
    key_file.write_text(generated)
    key_file.chmod(0o600)
    return generated


SECRET_KEY = _secret_key()

_DEV_HOSTS = ["localhost", "127.0.0.1", "[::1]", "testserver"]
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", _DEV_HOSTS if DEBUG else [])
if PRODUCTION and not ALLOWED_HOSTS:
    raise EnvError("ALLOWED_HOSTS is empty and DEBUG is false; set ALLOWED_HOSTS=example.com,www.example.com.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Proxies whose X-Forwarded-For the ASGI server may honour (the Procfile passes them to uvicorn's
# --forwarded-allow-ips); none by default. Django, allauth and ninja read the client address from
# REMOTE_ADDR only, never from the header itself.
MOZAIKS_TRUSTED_PROXIES = env_list("MOZAIKS_TRUSTED_PROXIES", [])
NINJA_NUM_PROXIES = 0

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "ninja",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.github",
    "allauth.socialaccount.providers.google",
    "allauth.mfa",
    "allauth.headless",
    "mozaiks_core.auth",
    "mozaiks_core.billing",
    "mozaiks_core.entitlements",
    "mozaiks_core.plugins",
    "mozaiks_core.runtime",
]

MIDDLEWARE = [
    "mozaiks_core.observability.middleware.RequestObservabilityMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "mozaiks_core.body_limits.BoundedBodyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = env_str("MOZAIKS_ROOT_URLCONF", "mozaiks_core.urls")
ASGI_APPLICATION = "mozaiks_core.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Project overrides first, then the framework's shell, chat pages and admin console.
        "DIRS": [BASE_DIR / "templates", PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "mozaiks_core.context_processors.mozaiks",
            ],
        },
    },
]

# --- database ---------------------------------------------------------------------------

DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": parse_database_url("DATABASE_URL", DATABASE_URL, base_dir=BASE_DIR)}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {"default": sqlite_database(VAR_DIR / "mozaiks.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- redis: cache, channel layer, celery ------------------------------------------------

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    validate_redis_url("REDIS_URL", REDIS_URL)
    if PRODUCTION and not env_bool("MOZAIKS_SKIP_STARTUP_CHECKS", False):
        check_redis_reachable("REDIS_URL", REDIS_URL)
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("MOZAIKS_CACHE_PREFIX", "mozaiks"),
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": env_str("MOZAIKS_CHANNEL_PREFIX", "mozaiks")},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "mozaiks"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "mozaiks_core.runtime.protocol.layers.LocalChannelLayer"}}

# The in-memory broker names its host: kombu warns "No hostname was supplied" for a bare memory://.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "memory://localhost//")
CELERY_TASK_ALWAYS_EAGER = env_bool("MOZAIKS_CELERY_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "mozaiks.default"
CELERY_TASK_ROUTES = {"mozaiks_core.runtime.tasks.*": {"queue": "mozaiks.runs"}}
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {}
# Workers log through LOGGING below (JSON lines in production), not through Celery's own handler.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- auth (django-allauth) --------------------------------------------------------------

from mozaiks_core.auth.keys import KeyConfigError, check_execution_key_config  # noqa: E402
from mozaiks_core.auth.mail_backends import CONSOLE_BACKEND, HOW_TO_CONFIGURE, UNCONFIGURED_BACKEND  # noqa: E402
from mozaiks_core.auth.mail_config import email_settings_from_url  # noqa: E402

# allauth's pages render inside the shell: our overrides of allauth/layouts and elements are a
# template dir, so they win over allauth's own templates (apps are searched after DIRS).
TEMPLATES[0]["DIRS"] += [PACKAGE_DIR / "auth" / "allauth_templates"]

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = env_str("MOZAIKS_LOGIN_REDIRECT_URL", "/")
ACCOUNT_ADAPTER = "mozaiks_core.auth.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_EMAIL_VERIFICATION = env_choice("MOZAIKS_EMAIL_VERIFICATION", "mandatory", ("mandatory", "optional", "none"))
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = env_str("MOZAIKS_EMAIL_SUBJECT_PREFIX", "")
ACCOUNT_RATE_LIMITS = {
    # allauth's defaults, spelled out so operators see them (counted in the default cache).
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "confirm_email": "1/3m/key",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "reauthenticate": "10/m/user",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG  # passkeys on http://localhost during development
MFA_TOTP_ISSUER = env_str("MOZAIKS_MFA_ISSUER", "MozaiksCore")
MFA_RECOVERY_CODE_COUNT = 10
HEADLESS_SERVE_SPECIFICATION = True
HEADLESS_FRONTEND_URLS: dict[str, str] = {}

# Social login is enabled purely by configuration: each provider whose client id and secret are
# set gets an app here (or add a SocialApp in the admin instead).
SOCIALACCOUNT_PROVIDERS: dict[str, dict[str, object]] = {}
for _provider, _scope in (("github", ["read:user", "user:email"]), ("google", ["profile", "email"])):
    _client_id = env_str(f"{_provider.upper()}_CLIENT_ID")
    _client_secret = env_str(f"{_provider.upper()}_CLIENT_SECRET")
    if bool(_client_id) != bool(_client_secret):
        raise EnvError(
            f"{_provider.upper()}_CLIENT_ID and {_provider.upper()}_CLIENT_SECRET must be set together; "
            f"copy both from the provider's OAuth app settings, or unset both to disable {_provider} login."
        )
    if _client_id:
        SOCIALACCOUNT_PROVIDERS[_provider] = {
            "APPS": [{"client_id": _client_id, "secret": _client_secret, "key": ""}],
            "SCOPE": _scope,
        }
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # never merge into an existing account by email alone
SOCIALACCOUNT_LOGIN_ON_GET = False

# Email: EMAIL_URL=smtp://user:pass@host:587?tls=true for SMTP. Without it: the console backend in
# development; in production a backend that sends and prints nothing (check --deploy: mozaiks.E020).
EMAIL_URL = env_str("EMAIL_URL")
EMAIL_BACKEND = env_str("EMAIL_BACKEND", CONSOLE_BACKEND if DEBUG else UNCONFIGURED_BACKEND)
if EMAIL_URL:
    globals().update(email_settings_from_url("EMAIL_URL", EMAIL_URL))
if PRODUCTION and EMAIL_BACKEND == CONSOLE_BACKEND:
    raise EnvError(
        "The console mail backend prints every email, password-reset and invitation links included, into the "
        f"server log, and DEBUG is false; {HOW_TO_CONFIGURE}."
    )
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH") or str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "MozaiksCore <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

MOZAIKS_SIGNUP_OPEN = env_bool("MOZAIKS_SIGNUP_OPEN", True)
MOZAIKS_SITE_URL = env_str("MOZAIKS_SITE_URL", "http://localhost:8000")
MOZAIKS_INVITATION_DAYS = env_int("MOZAIKS_INVITATION_DAYS", 7, minimum=1, maximum=90)
MOZAIKS_INVITATIONS_PER_HOUR = env_int("MOZAIKS_INVITATIONS_PER_HOUR", 50, minimum=1)
MOZAIKS_EXECUTION_TOKEN_PRIVATE_KEY = env_str("MOZAIKS_EXECUTION_TOKEN_PRIVATE_KEY")
MOZAIKS_EXECUTION_TOKEN_AUDIENCE = env_str("MOZAIKS_EXECUTION_TOKEN_AUDIENCE", "mozaiks-runtime")
try:
    check_execution_key_config(
        secret=env_str("MOZAIKS_EXECUTION_TOKEN_KEY"),
        private_key=MOZAIKS_EXECUTION_TOKEN_PRIVATE_KEY,
        production=PRODUCTION,
        published=PUBLISHED_SECRET_KEYS,
    )
except KeyConfigError as _error:
    raise EnvError(str(_error)) from None

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- billing ----------------------------------------------------------------------------

STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET")
MOZAIKS_BILLING_PROVIDER = env_choice(
    "MOZAIKS_BILLING_PROVIDER", "stripe" if STRIPE_SECRET_KEY else "local", ("local", "stripe")
)
if MOZAIKS_BILLING_PROVIDER == "stripe" and not (STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET):
    raise EnvError(
        "MOZAIKS_BILLING_PROVIDER=stripe needs STRIPE_SECRET_KEY=sk_... and STRIPE_WEBHOOK_SECRET=whsec_...; "
        "set both, or use MOZAIKS_BILLING_PROVIDER=local."
    )
# Adapter classes by provider name; a project adds a provider with one module and one entry here.
MOZAIKS_BILLING_ADAPTERS: dict[str, str] = {
    "local": "mozaiks_core.billing.adapters.local.LocalAdapter",
    "stripe": "mozaiks_core.billing.adapters.stripe.StripeAdapter",
}
# The meters the runtime consumes: LLM tokens per call, one workflow run per chat start.
MOZAIKS_TOKEN_METER = env_str("MOZAIKS_TOKEN_METER", "tokens_monthly")
MOZAIKS_RUN_METER = env_str("MOZAIKS_RUN_METER", "workflow_runs_monthly")

# --- runtime and LLM --------------------------------------------------------------------

OPENAI_API_KEY = env_str("OPENAI_API_KEY")
MOZAIKS_LLM_PROVIDER = env_choice(
    "MOZAIKS_LLM_PROVIDER", "openai" if OPENAI_API_KEY else "scripted", ("scripted", "openai")
)
MOZAIKS_LLM_MODEL = env_str("MOZAIKS_LLM_MODEL", "gpt-4o-mini")
MOZAIKS_LLM_BASE_URL = env_str("MOZAIKS_LLM_BASE_URL")
MOZAIKS_LLM_SCRIPT = env_str("MOZAIKS_LLM_SCRIPT")
if MOZAIKS_LLM_PROVIDER == "openai" and not (OPENAI_API_KEY or MOZAIKS_LLM_BASE_URL):
    raise EnvError(
        "MOZAIKS_LLM_PROVIDER=openai needs OPENAI_API_KEY (or MOZAIKS_LLM_BASE_URL for a local "
        "OpenAI-compatible server); set one, or use MOZAIKS_LLM_PROVIDER=scripted."
    )
MOZAIKS_RUN_EXECUTOR = env_choice(
    "MOZAIKS_RUN_EXECUTOR", "celery" if REDIS_URL else "asyncio", ("asyncio", "celery")
)
MOZAIKS_WORKFLOW_ROOTS = env_list("MOZAIKS_WORKFLOW_ROOTS", [])
MOZAIKS_WS_MAX_FRAME_BYTES = env_int("MOZAIKS_WS_MAX_FRAME_BYTES", 65536, minimum=1024)
MOZAIKS_WS_PING_SECONDS = env_int("MOZAIKS_WS_PING_SECONDS", 45, minimum=30, maximum=120)
MOZAIKS_WS_OUTBOX_FRAMES = env_int("MOZAIKS_WS_OUTBOX_FRAMES", 2000, minimum=50)
MOZAIKS_WS_STALL_SECONDS = env_int("MOZAIKS_WS_STALL_SECONDS", 30, minimum=1, maximum=600)
MOZAIKS_WS_MAX_SOCKETS_PER_USER = env_int("MOZAIKS_WS_MAX_SOCKETS_PER_USER", 50, minimum=1)
# Every JSON/YAML document from outside (frames, bodies, webhooks, workspace files): mozaiks_core/parsing.py.
MOZAIKS_PARSE_MAX_DEPTH = env_int("MOZAIKS_PARSE_MAX_DEPTH", 64, minimum=8, maximum=500)
MOZAIKS_PARSE_MAX_BYTES = env_int("MOZAIKS_PARSE_MAX_BYTES", 1_048_576, minimum=1024)
MOZAIKS_PARSE_MAX_NODES = env_int("MOZAIKS_PARSE_MAX_NODES", 100_000, minimum=1000)
MOZAIKS_RUN_HEARTBEAT_SECONDS = env_int("MOZAIKS_RUN_HEARTBEAT_SECONDS", 10, minimum=1, maximum=300)


def _env_seconds(name: str, default: float) -> float:
    raw = env_str(name, str(default))
    try:
        value = float(raw)
    except ValueError:
        raise EnvError(f"{name}={raw!r} is not a number of seconds; use e.g. {name}={default}.") from None
    if value < 0:
        raise EnvError(f"{name}={raw!r} is negative; use 0 or more seconds.")
    return value


MOZAIKS_BUDGET_CHECK_SECONDS = _env_seconds("MOZAIKS_BUDGET_CHECK_SECONDS", 1.0)
# A model server that sends nothing for this long (connecting, or between two streamed chunks) fails the
# call with MODEL_ERROR; a bundle's llm_config.timeout wins.
MOZAIKS_LLM_TIMEOUT_SECONDS = _env_seconds("MOZAIKS_LLM_TIMEOUT_SECONDS", 60.0)
MOZAIKS_THREAD_SWITCH_INTERVAL = _env_seconds("MOZAIKS_THREAD_SWITCH_INTERVAL", 0.0005)
# SQLite: chats' hot writes (event batches, answers) on the event loop's thread (async_db.writes_on_loop).
MOZAIKS_SQLITE_WRITES_ON_LOOP = env_bool("MOZAIKS_SQLITE_WRITES_ON_LOOP", True)
# Runs resumed per event-loop iteration (engine/on_loop.ResumeTurns); 0: no limit.
MOZAIKS_RUN_RESUMES_PER_ITERATION = env_int("MOZAIKS_RUN_RESUMES_PER_ITERATION", 1, minimum=0, maximum=1000)
# Servers and workers move their start-up heap out of garbage collection (runtime/runs/process_tuning.py).
MOZAIKS_GC_FREEZE = env_bool("MOZAIKS_GC_FREEZE", True)
MOZAIKS_EXECUTION_TOKEN_KEY = env_str("MOZAIKS_EXECUTION_TOKEN_KEY")
MOZAIKS_EXECUTION_TOKEN_MINUTES = env_int("MOZAIKS_EXECUTION_TOKEN_MINUTES", 15)

# --- plugins and the app workspace ------------------------------------------------------

MOZAIKS_APP_DIR = Path(env_str("MOZAIKS_APP_DIR") or BASE_DIR / "app").resolve()
MOZAIKS_PACK_ROOTS = env_list("MOZAIKS_PACK_ROOTS", [])
MOZAIKS_LICENSED_SERVICES = env_list("MOZAIKS_LICENSED_SERVICES", [])
# Build policy of the capability-pack model: oss (hosted packs need their licensed services) | hosted.
MOZAIKS_HOST_MODE = env_str("MOZAIKS_HOST_MODE", "oss")
MOZAIKS_CONNECTORS = env_list("MOZAIKS_CONNECTORS", [])
# The factory path: staged artifacts, reviewed and promoted into MOZAIKS_APP_DIR (docs/factory.md).
MOZAIKS_STAGING_DIR = Path(env_str("MOZAIKS_STAGING_DIR") or VAR_DIR / "staging").resolve()
MOZAIKS_STAGING_MAX_BYTES = env_int("MOZAIKS_STAGING_MAX_BYTES", 50 * 1024 * 1024, minimum=1024)
MOZAIKS_STAGING_MAX_FILES = env_int("MOZAIKS_STAGING_MAX_FILES", 2000, minimum=1)
MOZAIKS_PLUGINS_CONFIG: dict[str, dict[str, object]] = {}
MOZAIKS_EVENT_MAX_ATTEMPTS = env_int("MOZAIKS_EVENT_MAX_ATTEMPTS", 5, minimum=1, maximum=20)
MOZAIKS_EVENT_RETRY_SECONDS = env_int("MOZAIKS_EVENT_RETRY_SECONDS", 10, minimum=1)
MOZAIKS_OUTBOX_SWEEP_SECONDS = env_int("MOZAIKS_OUTBOX_SWEEP_SECONDS", 30, minimum=5)
MOZAIKS_MODULE_ACTION_RATE = env_str("MOZAIKS_MODULE_ACTION_RATE", "600/m")
MOZAIKS_WORKFLOW_RUN_STARTER = env_str(
    "MOZAIKS_WORKFLOW_RUN_STARTER", "mozaiks_core.runtime.services.start_background_run"
)
# Workspace modules, enabled capability packs and entry-point plugins become Django apps here,
# at settings time (read once; a broken module is reported by `manage.py check`, never fatal).
from mozaiks_core.plugins.bootstrap import workspace_installed_apps  # noqa: E402

INSTALLED_APPS += workspace_installed_apps(
    MOZAIKS_APP_DIR, MOZAIKS_PACK_ROOTS, MOZAIKS_LICENSED_SERVICES, INSTALLED_APPS,
    host_mode=MOZAIKS_HOST_MODE, connectors=MOZAIKS_CONNECTORS,
)

# --- i18n, static files -----------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT") or VAR_DIR / "staticfiles")
STATICFILES_DIRS = [path for path in dict.fromkeys([BASE_DIR / "static", PACKAGE_DIR / "static"]) if path.is_dir()]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
if DEBUG:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or VAR_DIR / "media")
MEDIA_URL = "media/"

# --- security ---------------------------------------------------------------------------

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the chat page's JavaScript reads it to send X-CSRFToken
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    if not SECURE_SSL_REDIRECT:
        # The operator declared that HTTPS redirects happen elsewhere (load balancer, local
        # `make run-scaled`); HSTS and secure cookies stay on.
        SILENCED_SYSTEM_CHECKS = ["security.W008"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    if env_bool("MOZAIKS_BEHIND_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Probes and the scraper call the processes directly, over the private network.
    SECURE_REDIRECT_EXEMPT = [r"^health$", r"^ready$", r"^metrics$"]

# --- logging ----------------------------------------------------------------------------

LOG_LEVEL = env_choice("LOG_LEVEL", "info", ("debug", "info", "warning", "error")).upper()
# JSON lines in production, plain text in development (docs/operations.md).
MOZAIKS_LOG_FORMAT = env_choice("MOZAIKS_LOG_FORMAT", "json" if PRODUCTION else "text", ("json", "text"))
from mozaiks_core.observability.logs import logging_config  # noqa: E402

LOGGING = logging_config(json_lines=MOZAIKS_LOG_FORMAT == "json", level=LOG_LEVEL)

# --- observability ----------------------------------------------------------------------

# /metrics answers only with Authorization: Bearer <this token>; unset, the endpoint is off (404).
MOZAIKS_METRICS_TOKEN = env_str("MOZAIKS_METRICS_TOKEN")
if PRODUCTION and MOZAIKS_METRICS_TOKEN and len(MOZAIKS_METRICS_TOKEN) < 24:
    raise EnvError("MOZAIKS_METRICS_TOKEN is shorter than 24 characters; set it to a random value "
                   "(python -c 'import secrets; print(secrets.token_urlsafe(32))'), or unset it to turn /metrics off.")

os.environ.setdefault("AUTOGEN_USE_DOCKER", "False")
