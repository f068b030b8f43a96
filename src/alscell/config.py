"""Settings: the one place alscell reads its environment (``ALSCELL_*`` variables or a ``.env`` file).

Only composition roots (the CLI, the web app, migrations) call :func:`load_settings`; everything
else receives a :class:`Settings`. Clinical content (doses, intervals, eligibility, the analysis plan)
is not configuration: it lives in the versioned protocol files. Every field is documented in
``docs/configuration.md``.
"""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "load_settings"]


class Settings(BaseSettings):
    """alscell's configuration; fields read as ``ALSCELL_<FIELD>`` (e.g. ``ALSCELL_DATABASE_URL``)."""

    model_config = SettingsConfigDict(
        env_prefix="ALSCELL_", env_file=".env", extra="ignore", frozen=True
    )

    database_url: str = "sqlite:///alscell.sqlite3"
    """SQLAlchemy URL of the database; ``postgres://`` is normalised to ``postgresql+psycopg://``."""

    environment: Literal["development", "test", "production"] = "production"
    """Deployment kind; safe production defaults apply unless it says otherwise."""

    clinic_timezone: str = "UTC"
    """IANA time zone that defines "today" for the clinic's calendar."""

    natural_history_file: str | None = None
    """A natural-history model file to compare outcomes with instead of the one shipped with alscell."""

    safety_reference_file: str | None = None
    """A safety reference file (PDPH terms and published rates per puncture) instead of the shipped one."""

    cookie_secure: bool = True
    """Send the sign-in cookie over HTTPS only; set false only for local development over http."""

    max_request_bytes: int = Field(default=1_048_576, ge=1_024)
    """The largest request body the web application reads; a larger one is refused with 413."""

    busy_timeout_ms: int = Field(default=10_000, ge=0)
    """How long a write waits for SQLite's write lock before the request is answered 503."""

    @field_validator("database_url")
    @classmethod
    def _normalise_postgres_url(cls, value: str) -> str:
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value.removeprefix(prefix)
        return value

    @field_validator("clinic_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown IANA time zone {value!r}") from error
        return value


def load_settings() -> Settings:
    """Read settings from the environment and ``.env``; called only by composition roots."""
    return Settings()
