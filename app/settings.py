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

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{DEFAULT_SQLITE_PATH}"

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

    @property
    def movable_clock(self) -> bool:
        """Demo and test runs may move time forward (publicity's seven days)."""
        return self.environment is not Environment.PRODUCTION


@lru_cache
def get_settings() -> Settings:
    return Settings()
