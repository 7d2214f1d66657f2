import stat
from pathlib import Path

import pytest

from app.config import ConfigurationError, load_settings


def test_bad_port_stops_with_a_line_naming_the_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PORT", "eighty")
    with pytest.raises(ConfigurationError, match=r"^Configuration error: PORT: "):
        load_settings(data_dir=tmp_path, _env_file=None)


def test_unknown_database_scheme_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://localhost/portal")
    with pytest.raises(ConfigurationError, match="DATABASE_URL"):
        load_settings(data_dir=tmp_path, _env_file=None)


def test_short_secret_key_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SECRET_KEY", "short")
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        load_settings(data_dir=tmp_path, _env_file=None)


def test_secret_key_is_generated_once_and_kept_private(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = load_settings(data_dir=tmp_path, _env_file=None)
    second = load_settings(data_dir=tmp_path, _env_file=None)
    key_file = tmp_path / "secret_key"
    assert first.secret_key == second.secret_key == key_file.read_text()
    assert len(first.secret_key) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_defaults_and_derived_values(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DATABASE_URL", "PUBLIC_URL", "PORT", "HOST", "PORTAL_LINK_TTL_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SECRET_KEY_FALLBACKS", "old-key-number-one-0000000000000000, old-key-2")
    settings = load_settings(data_dir=tmp_path, _env_file=None)
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'portal.db'}"
    assert settings.effective_public_url == "http://127.0.0.1:8080"
    assert settings.portal_link_ttl_seconds == 86400
    assert settings.secret_key_fallbacks == ["old-key-number-one-0000000000000000", "old-key-2"]
    assert not settings.secure_cookies


def test_plain_postgresql_url_uses_psycopg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://portal@localhost/portal")
    settings = load_settings(data_dir=tmp_path, _env_file=None)
    assert settings.effective_database_url == "postgresql+psycopg://portal@localhost/portal"
