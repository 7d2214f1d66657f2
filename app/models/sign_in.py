"""Tables of merchant sign-in: failed attempts (lockout and slow-down) and single-use sign-in grants."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models import Base, utcnow


class LoginFailure(Base):
    """One failed merchant login; recent rows for an email and client address lock that client out for a while,
    recent rows for an email from all addresses slow its sign-ins down."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_email_created", "email", "created_at"),
        Index("ix_login_failures_email_client_created", "email", "client_address", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254))
    # The client's IP address (from X-Forwarded-For behind a trusted proxy); 45 characters fit any IPv6 address.
    client_address: Mapped[str] = mapped_column(String(45), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SignInGrant(Base):
    """One sign-in on its way from the password form to a new session; each step can be taken once.

    The grant (`/login/complete?grant=…`) names this row, and so does the hand-over that `/login/complete` leaves in
    the new session's cookie: `redeemed_at` records the grant's use, `handed_over_at` the new session taking the
    user over (or a sign-out that revoked it), so neither a grant nor a cookie captured on the way works twice.
    """

    __tablename__ = "sign_in_grants"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=lambda: secrets.token_urlsafe(32))
    user_id: Mapped[str] = mapped_column(ForeignKey("merchant_users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    redeemed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    handed_over_at: Mapped[datetime | None] = mapped_column(nullable=True)
