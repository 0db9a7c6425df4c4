"""Configuration from the environment (KONTOR_*), with a test variant."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"


def _secret_key() -> str:
    """The signing key: from the environment, else one kept in instance/ so sessions survive restarts."""
    key = os.environ.get("KONTOR_SECRET_KEY")
    if key:
        return key
    INSTANCE.mkdir(exist_ok=True)
    path = INSTANCE / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


# Where the app is reached from outside, for the links in e-mails. Never taken from a request: its Host header is
# whatever the sender chose, and a forged one would send a customer a working link to another site.
DEV_BASE_URL = "http://127.0.0.1:5000"


def base_url() -> str:
    """KONTOR_BASE_URL without its trailing slash; the development server's address when unset (production sets
    it: docs/integrations.md)."""
    return (os.environ.get("KONTOR_BASE_URL") or DEV_BASE_URL).rstrip("/")


DEFAULT_DATABASE_URL = f"sqlite:///{INSTANCE / 'kontor.db'}"
def _ledger_key() -> str:
    """The key of the ledger's hash chain (addons/accounting/chain.py): ``KONTOR_LEDGER_KEY``, else one generated
    once into instance/ledger_key (mode 0600). Never the session key: that one may be rotated, and a chain keyed
    with it would no longer verify. Kept outside the database, so a copy of the database alone cannot re-sign a
    changed ledger; in production set it in the environment, the same on every node (docs/reliability.md)."""
    key = os.environ.get("KONTOR_LEDGER_KEY")
    if key is not None:
        return key.strip()
    INSTANCE.mkdir(exist_ok=True)
    path = INSTANCE / "ledger_key"
    if not path.exists():
        # Created 0600 from the start (not chmod after writing: the key is never readable by others).
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return path.read_text().strip()


class Config:
    SQLALCHEMY_DATABASE_URI = os.environ.get("KONTOR_DATABASE_URL") or DEFAULT_DATABASE_URL
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SMTP_URL = os.environ.get("KONTOR_SMTP_URL", "")
    SMTP_FROM = os.environ.get("KONTOR_SMTP_FROM", "invoices@kontor.example")
    BASE_URL = base_url()
    THEME = os.environ.get("KONTOR_THEME", "default")
    EXTRA_ADDON_PATHS = [p for p in os.environ.get("KONTOR_ADDONS", "").split(os.pathsep) if p]
    # Cookies: never readable from script, not sent on cross-site POSTs; Secure when served over HTTPS.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    HTTPS = os.environ.get("KONTOR_HTTPS", "") == "1"  # served over HTTPS only: also sends HSTS (core.app)
    SESSION_COOKIE_SECURE = HTTPS
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024  # larger bodies get 413
    # A form's token is good for 8 hours (a working day): one copied out of an old page, a log or a cache stops
    # working. A form left open longer answers "This form expired... Reload the page" (core.app), nothing lost.
    WTF_CSRF_TIME_LIMIT = int(os.environ.get("KONTOR_CSRF_TIME_LIMIT") or 8 * 3600)
    BABEL_DEFAULT_LOCALE = os.environ.get("KONTOR_LOCALE", "en")
    # flask-smorest / OpenAPI
    API_TITLE = "Kontor"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    # Login throttling (core/throttle.py explains the design): per (login, address) 5 failures, then locks of
    # 15 s doubling to 10 min; per address 20 failures across logins, then 15 min; failures forgotten after 15 quiet
    # minutes.
    LOGIN_THROTTLE_ATTEMPTS = 5
    LOGIN_THROTTLE_ADDRESS_ATTEMPTS = 20
    LOGIN_THROTTLE_LOGIN_ATTEMPTS = 20  # past this many on one login (from anywhere), 1 failure per address, not 5
    LOGIN_THROTTLE_WINDOW = 900
    LOGIN_THROTTLE_FIRST_LOCK = 15
    LOGIN_THROTTLE_MAX_LOCK = 600
    # Behind N reverse proxies, the client's address is read from X-Forwarded-For (werkzeug's ProxyFix); without
    # it every user would share the proxy's address, and its throttle counters.
    TRUSTED_PROXIES = int(os.environ.get("KONTOR_TRUSTED_PROXIES", "0") or 0)
    # Webhooks go to public addresses only; these hosts or networks (comma separated: "hooks.internal,10.1.2.0/24")
    # may receive them from inside. Checked at start-up: see addons/webhooks/egress.py and docs/integrations.md.
    WEBHOOK_ALLOW = os.environ.get("KONTOR_WEBHOOK_ALLOW", "")
    WEBHOOK_TIMEOUT = os.environ.get("KONTOR_WEBHOOK_TIMEOUT", "10")  # seconds for a whole delivery

    def __init__(self) -> None:
        self.SECRET_KEY = _secret_key()
        if self.SQLALCHEMY_DATABASE_URI == DEFAULT_DATABASE_URL:
            INSTANCE.mkdir(exist_ok=True)  # the default database's folder; a configured one must exist (core.db)
        self.LEDGER_KEY = _ledger_key()


class TestConfig(Config):
    __test__ = False  # a config, not a pytest test class
    TESTING = True
    WTF_CSRF_ENABLED = True  # tests send the token, as a browser does
    BASE_URL = "http://localhost"  # what the test client calls itself

    def __init__(self, database_url: str | None = None) -> None:
        self.SECRET_KEY = "test-secret-key"
        self.LEDGER_KEY = "test-ledger-key"
        if database_url:
            self.SQLALCHEMY_DATABASE_URI = database_url
        if self.SQLALCHEMY_DATABASE_URI.startswith("postgresql"):
            # Test databases are thrown away: commits need not wait for the disk.
            self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True,
                                              "connect_args": {"options": "-c synchronous_commit=off"}}
