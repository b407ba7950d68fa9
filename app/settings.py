"""Runtime settings, read once from the environment (and an optional ``.env``)."""

from __future__ import annotations

import base64
import hashlib
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.domain.roles import MACHINE_ROLES, Role

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "var" / "linshi.sqlite3"


DEMO_JWT_SECRET = "demo-only-secret-change-me"  # noqa: S105 (refused in production)


def _demo_key(label: str) -> str:
    """A fixed key derived from a public label: for demo and test data only."""
    return base64.b64encode(hashlib.sha256(label.encode()).digest()).decode()


# Demo values of the personal-data keys (see app/persistence/crypto.py). They
# are derived from public text, so they protect nothing: production refuses
# to start with them (``check_production``).
DEMO_PII_KEY_ID = "demo1"
DEMO_PII_KEY = _demo_key("linshi-jiuzhu DEMO personal-data key, not for real data")
DEMO_PII_INDEX_KEY = _demo_key("linshi-jiuzhu DEMO blind-index key, not for real data")


class UnsafeSettings(RuntimeError):
    """Production settings that would expose the service; it does not start."""


class Environment(StrEnum):
    DEMO = "demo"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Environment = Field(default=Environment.DEMO, alias="APP_ENV")
    database_url: str = Field(default="", alias="DATABASE_URL")

    # --- Authentication: tokens, sessions, login throttling, province IdP ---
    # (docs/design.md, "Authentication and scope")
    # Production refuses to start with this default (see ``check_production``).
    jwt_secret: str = Field(default=DEMO_JWT_SECRET, alias="JWT_SECRET")
    jwt_issuer: str = Field(default="linshi-jiuzhu", alias="JWT_ISSUER")
    jwt_audience: str = Field(default="linshi-jiuzhu-api", alias="JWT_AUDIENCE")
    # Capped at 30: an access token is checked against its session on every
    # request, but a short life bounds what a leaked one is worth.
    access_token_minutes: int = Field(default=30, ge=1, le=30)
    # A login's session: refresh tokens work until the session is this old
    # (then the person logs in again), and each one must be used within the
    # idle time or the session lapses.
    session_hours: int = Field(default=12, ge=1, le=168, alias="SESSION_HOURS")
    refresh_idle_minutes: int = Field(
        default=120, ge=5, le=1440, alias="REFRESH_IDLE_MINUTES"
    )
    # Failed logins within the window lock the account (or the client
    # address) for the lock time, even against the right password.
    login_max_failures: int = Field(default=5, ge=1, le=100, alias="LOGIN_MAX_FAILURES")
    login_address_max_failures: int = Field(
        default=30, ge=1, le=10_000, alias="LOGIN_ADDRESS_MAX_FAILURES"
    )
    login_window_minutes: int = Field(
        default=15, ge=1, le=1440, alias="LOGIN_WINDOW_MINUTES"
    )
    login_lock_minutes: int = Field(
        default=15, ge=1, le=1440, alias="LOGIN_LOCK_MINUTES"
    )
    # The province's identity provider (RS256 tokens checked against its
    # JWKS). Off unless issuer, audience and a key source are all set.
    idp_issuer: str = Field(default="", alias="IDP_ISSUER")
    idp_audience: str = Field(default="", alias="IDP_AUDIENCE")
    idp_jwks_url: str = Field(default="", alias="IDP_JWKS_URL")
    idp_jwks: str = Field(default="", alias="IDP_JWKS", description="Inline JWKS")
    idp_role_claim: str = Field(default="role", alias="IDP_ROLE_CLAIM")
    idp_region_claim: str = Field(default="region", alias="IDP_REGION_CLAIM")
    idp_name_claim: str = Field(default="name", alias="IDP_NAME_CLAIM")
    # The IdP's role values to ours, e.g. {"mz_district_officer":
    # "district_officer"}; a value not listed is refused. Staff roles only.
    idp_role_map: dict[str, str] = Field(default_factory=dict, alias="IDP_ROLE_MAP")
    idp_jwks_cache_seconds: int = Field(
        default=3600, ge=60, le=86_400, alias="IDP_JWKS_CACHE_SECONDS"
    )
    idp_max_token_minutes: int = Field(
        default=30, ge=1, le=30, alias="IDP_MAX_TOKEN_MINUTES"
    )

    @property
    def idp_enabled(self) -> bool:
        return bool(self.idp_issuer)

    @model_validator(mode="after")
    def _idp_complete(self) -> Settings:
        """A half-configured IdP is refused at start-up, not at the first login."""
        if not self.idp_enabled:
            return self
        if not self.idp_audience or not (self.idp_jwks_url or self.idp_jwks):
            raise ValueError(
                "IDP_ISSUER needs IDP_AUDIENCE and IDP_JWKS_URL or IDP_JWKS"
            )
        staff = {role.value for role in Role if role not in MACHINE_ROLES}
        unknown = sorted(set(self.idp_role_map.values()) - staff)
        if not self.idp_role_map or unknown:
            raise ValueError(
                f"IDP_ROLE_MAP must map IdP roles to staff roles: {unknown}"
            )
        return self

    # --- end of authentication settings ---

    # Personal data at rest (ID, account and phone numbers; docs/design.md):
    # AES-256-GCM keys as "kid:base64key,kid2:base64key", the id new values
    # are written under, and the HMAC key of the blind index. Old keys stay in
    # PII_KEYS until ``linshi rotate-pii-key`` has rewritten their values.
    pii_keys: str = Field(
        default=f"{DEMO_PII_KEY_ID}:{DEMO_PII_KEY}", alias="PII_KEYS", repr=False
    )
    pii_current_key: str = Field(default=DEMO_PII_KEY_ID, alias="PII_CURRENT_KEY")
    pii_index_key: str = Field(
        default=DEMO_PII_INDEX_KEY, alias="PII_INDEX_KEY", repr=False
    )

    # The economic-status verification platform (家庭经济状况核对平台); see
    # docs/verification.md. Empty: the in-process stub, for the demo and tests;
    # production refuses to start without it.
    verification_base_url: str = Field(default="", alias="VERIFICATION_BASE_URL")
    verification_token: str = Field(default="", alias="VERIFICATION_TOKEN")
    # One call to the platform: the HTTP client's own patience (seconds).
    verification_connect_timeout: float = Field(
        default=3.0, gt=0, alias="VERIFICATION_CONNECT_TIMEOUT"
    )
    verification_read_timeout: float = Field(
        default=10.0, gt=0, alias="VERIFICATION_READ_TIMEOUT"
    )
    verification_attempts: int = Field(
        default=4, ge=1, le=10, alias="VERIFICATION_ATTEMPTS"
    )
    verification_deadline: float = Field(
        default=20.0, gt=0, alias="VERIFICATION_DEADLINE"
    )
    # The dispatcher of queued requests: how often it runs in the server, and
    # how long it keeps trying a platform that does not answer before the
    # check is marked failed (retries after 30 s, 1 min, 2 min … up to the
    # maximum delay, ``VERIFICATION_MAX_FAILURES`` times in a row).
    verification_dispatch: bool | None = Field(
        default=None,
        alias="VERIFICATION_DISPATCH",
        description="Run the dispatcher in the server; unset: yes, except in test.",
    )
    verification_dispatch_interval: float = Field(
        default=5.0, gt=0, alias="VERIFICATION_DISPATCH_INTERVAL"
    )
    verification_max_failures: int = Field(
        default=8, ge=1, le=100, alias="VERIFICATION_MAX_FAILURES"
    )
    verification_retry_initial: float = Field(
        default=30.0, gt=0, alias="VERIFICATION_RETRY_INITIAL"
    )
    verification_retry_max: float = Field(
        default=1800.0, gt=0, alias="VERIFICATION_RETRY_MAX"
    )

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{DEFAULT_SQLITE_PATH}"

    @property
    def dispatch_in_background(self) -> bool:
        """Tests leave the dispatcher off and call it themselves, step by step."""
        if self.verification_dispatch is not None:
            return self.verification_dispatch
        return self.environment is not Environment.TEST

    @property
    def demo_mode(self) -> bool:
        return self.environment is Environment.DEMO

    def check_production(self) -> None:
        if self.environment is not Environment.PRODUCTION:
            return
        if self.jwt_secret == DEMO_JWT_SECRET or len(self.jwt_secret) < 32:
            raise UnsafeSettings(
                "JWT_SECRET must be set to a random value of at least 32 characters"
            )
        if not self.database_url:
            raise UnsafeSettings("DATABASE_URL must name the production database")
        if not self.verification_base_url:
            # The in-process stub invents every household's income.
            raise UnsafeSettings(
                "VERIFICATION_BASE_URL must name the verification platform"
            )
        self.check_pii_keys()

    def check_pii_keys(self) -> None:
        """Usable keys; in production none of them a demo value.

        Run by ``check_production`` and by every CLI command that touches
        personal data (migrate encrypts, rotate-pii-key re-encrypts), so no
        real data is ever written under a demo key. Messages name no secret.
        """
        from app.persistence.crypto import KeyRing, PiiKeyError

        try:
            ring = KeyRing.from_settings(self)
        except PiiKeyError as exc:
            raise UnsafeSettings(str(exc)) from None
        if self.environment is not Environment.PRODUCTION:
            return
        demo = base64.b64decode(DEMO_PII_KEY)
        if any(key == demo for key in ring.keys.values()):
            raise UnsafeSettings("PII_KEYS must not hold the demo key")
        if ring.index_key == base64.b64decode(DEMO_PII_INDEX_KEY):
            raise UnsafeSettings("PII_INDEX_KEY must be set to a random key")

    @property
    def movable_clock(self) -> bool:
        """Demo and test runs may move time forward (publicity's seven days)."""
        return self.environment is not Environment.PRODUCTION


@lru_cache
def get_settings() -> Settings:
    return Settings()
