"""Settings (config.py): defaults, environment variables and validation."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from alscell.config import Settings, load_settings


def test_defaults_are_the_embedded_sqlite_database_in_production_mode():
    settings = Settings(_env_file=None)

    assert settings.database_url == "sqlite:///alscell.sqlite3"
    assert settings.environment == "production"
    assert settings.clinic_timezone == "UTC"


def test_environment_variables_are_read(monkeypatch):
    monkeypatch.setenv("ALSCELL_DATABASE_URL", "sqlite:///other.sqlite3")
    monkeypatch.setenv("ALSCELL_CLINIC_TIMEZONE", "Europe/Amsterdam")

    settings = load_settings()

    assert settings.database_url == "sqlite:///other.sqlite3"
    assert settings.clinic_timezone == "Europe/Amsterdam"


@pytest.mark.parametrize(
    "url", ["postgres://u@127.0.0.1:5432/db", "postgresql://u@127.0.0.1:5432/db"]
)
def test_postgres_urls_are_normalised_to_psycopg(url):
    settings = Settings(_env_file=None, database_url=url)

    assert settings.database_url == "postgresql+psycopg://u@127.0.0.1:5432/db"


def test_unknown_time_zone_is_refused_by_name():
    with pytest.raises(ValidationError, match="clinic_timezone"):
        Settings(_env_file=None, clinic_timezone="Mars/Olympus")


def test_unknown_environment_is_refused():
    with pytest.raises(ValidationError, match="environment"):
        Settings(_env_file=None, environment="staging")
