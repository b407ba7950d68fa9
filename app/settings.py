"""Runtime settings, read once from the environment (and an optional ``.env``)."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "var" / "linshi.sqlite3"


class Environment(StrEnum):
    DEMO = "demo"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Environment = Field(default=Environment.DEMO, alias="APP_ENV")
    database_url: str = Field(default="", alias="DATABASE_URL")

    # TODO: production refuses to start with this default (operations issue);
    # until then the default only ever signs demo tokens.
    jwt_secret: str = Field(default="demo-only-secret-change-me", alias="JWT_SECRET")
    jwt_issuer: str = Field(default="linshi-jiuzhu", alias="JWT_ISSUER")
    jwt_audience: str = Field(default="linshi-jiuzhu-api", alias="JWT_AUDIENCE")
    access_token_minutes: int = Field(default=30, ge=1, le=30)

    # Where generated bank files are kept for download and inspection.
    payout_dir: Path = Field(default=PROJECT_ROOT / "var" / "payouts")

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{DEFAULT_SQLITE_PATH}"

    @property
    def demo_mode(self) -> bool:
        return self.environment is Environment.DEMO

    @property
    def movable_clock(self) -> bool:
        """Demo and test runs may move time forward (publicity's seven days)."""
        return self.environment is not Environment.PRODUCTION


@lru_cache
def get_settings() -> Settings:
    return Settings()
