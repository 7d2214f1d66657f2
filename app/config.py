"""Application settings from environment variables and an optional `.env` file."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class ConfigurationError(SystemExit):
    """Raised at start-up for bad configuration; its message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    data_dir: Path = Path("./data")
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    public_url: str = ""
    secret_key: str = ""
    secret_key_fallbacks: Annotated[list[str], NoDecode] = Field(default_factory=list)
    storage_secret: str = ""
    portal_link_ttl_seconds: int = Field(default=86400, ge=60, le=30 * 86400)
    demo_data: bool = False
    demo_password: str = Field(default="portal-demo", min_length=8)
    smtp_url: str = ""
    mail_from: str = "portal@localhost"
    # How often the background sender looks for queued mails (independent of the billing clock); 0 = never.
    email_poll_seconds: float = Field(default=2.0, ge=0)
    allow_insecure_webhooks: bool = False
    billing_clock_interval_seconds: int = Field(default=60, ge=0)
    reconnect_timeout_seconds: float = Field(default=20.0, gt=0)
    # Live pages (open, or loaded and not yet connected) per portal link and per client address; 0 = no limit.
    max_pages_per_portal_link: int = Field(default=10, ge=0)
    max_pages_per_client_address: int = Field(default=50, ge=0)
    # Payments: the built-in test gateway (simulated, offline) or Stripe (see README, "Payments").
    payment_gateway: Literal["test", "stripe"] = "test"
    stripe_secret_key: str = ""
    stripe_publishable_key: str = ""
    stripe_webhook_secret: str = ""
    stripe_api_base: str = "https://api.stripe.com"
    stripe_js_url: str = "https://js.stripe.com/v3/"
    # Freeze start-up objects and run full garbage collections in quiet moments rather than at random (see
    # server/client_pruning.py); the test suite switches it off because it starts the app once per test.
    gc_tuning: bool = True

    @field_validator("secret_key_fallbacks", mode="before")
    @classmethod
    def _split_fallbacks(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if value and not value.startswith(("sqlite:///", "postgresql+psycopg://", "postgresql://")):
            raise ValueError("must start with sqlite:/// or postgresql+psycopg://")
        if value.startswith("postgresql://"):
            return "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("smtp_url")
    @classmethod
    def _check_smtp_url(cls, value: str) -> str:
        if value and not value.startswith(("smtp://", "smtps://")):
            raise ValueError("must start with smtp:// (STARTTLS when offered) or smtps:// (TLS), or be empty")
        return value

    @field_validator("stripe_api_base", "stripe_js_url")
    @classmethod
    def _check_stripe_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (http:// only for a local test server)")
        return value

    @model_validator(mode="after")
    def _check_stripe_keys(self) -> Settings:
        if self.payment_gateway == "stripe":
            missing = [
                name
                for name in ("stripe_secret_key", "stripe_publishable_key", "stripe_webhook_secret")
                if not getattr(self, name)
            ]
            if missing:
                raise ValueError(f"PAYMENT_GATEWAY=stripe needs {', '.join(name.upper() for name in missing)}")
        return self

    @field_validator("secret_key")
    @classmethod
    def _check_secret_key(cls, value: str) -> str:
        if value and len(value) < 32:
            raise ValueError("must be at least 32 characters long")
        return value

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'portal.db'}"

    @property
    def effective_public_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"

    @property
    def secure_cookies(self) -> bool:
        return self.effective_public_url.startswith("https://")


def _stored_secret(path: Path) -> str:
    """Return the secret kept in `path`, generating it (mode 0600) on first use."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
    return secret


def load_settings(**overrides: object) -> Settings:
    """Read settings; on bad input exit with one line that names the variable."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        first = error.errors()[0]
        variable = str(first["loc"][0]).upper() if first["loc"] else "configuration"
        raise ConfigurationError(f"Configuration error: {variable}: {first['msg']}") from None
    if not settings.secret_key:
        settings.secret_key = _stored_secret(settings.data_dir / "secret_key")
    if not settings.storage_secret:
        settings.storage_secret = settings.secret_key + ":storage"
    return settings
