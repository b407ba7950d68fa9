"""Runtime settings, read once from the environment (and an optional ``.env``)."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "var" / "linshi.sqlite3"


DEMO_JWT_SECRET = "demo-only-secret-change-me"  # noqa: S105 (refused in production)


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

    # Production refuses to start with this default (see ``check_production``).
    jwt_secret: str = Field(default=DEMO_JWT_SECRET, alias="JWT_SECRET")
    jwt_issuer: str = Field(default="linshi-jiuzhu", alias="JWT_ISSUER")
    jwt_audience: str = Field(default="linshi-jiuzhu-api", alias="JWT_AUDIENCE")
    access_token_minutes: int = Field(default=30, ge=1, le=30)

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

    @property
    def movable_clock(self) -> bool:
        """Demo and test runs may move time forward (publicity's seven days)."""
        return self.environment is not Environment.PRODUCTION


@lru_cache
def get_settings() -> Settings:
    return Settings()
