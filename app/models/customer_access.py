"""Tables of customers reaching the portal on their own: sign-in requests (rate limits) and email changes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models import Base, new_id, utcnow


class PortalSignInRequest(Base):
    """One "Send me a link" on a merchant's sign-in page, known email or not: counted per client address."""

    __tablename__ = "portal_sign_in_requests"
    __table_args__ = (Index("ix_portal_sign_in_requests_client_created", "client_address", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # The client's address, or its /64 network for IPv6 (one subscriber's share).
    client_address: Mapped[str] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class EmailChange(Base):
    """A billing email a customer asked for in the portal: it replaces the stored one only when confirmed from a
    link sent to it (`confirmed_at`), within `expires_at`; a newer request or the customer's Cancel ends it."""

    __tablename__ = "email_changes"
    __table_args__ = (Index("ix_email_changes_customer_created", "customer_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id("ec"))
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    old_email: Mapped[str] = mapped_column(String(254))
    new_email: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    confirmed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    canceled_at: Mapped[datetime | None] = mapped_column(nullable=True)
