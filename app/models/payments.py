"""Payments: each attempt to charge an invoice at the payment gateway, and the gateway's webhook events received."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.enums import PaymentStatus
from app.models import Base, _enum, new_id, utcnow


class Payment(Base):
    """One attempt to charge an invoice: a payment intent at the gateway, and what came of it."""

    __tablename__ = "payments"
    __table_args__ = (
        Index("ix_payments_invoice_created", "invoice_id", "created_at"),
        Index("ix_payments_customer_created_id", "customer_id", "created_at", "id"),  # the customer page's order
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id("py"))
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"))
    payment_method_id: Mapped[str | None] = mapped_column(
        ForeignKey("payment_methods.id", ondelete="SET NULL"), nullable=True
    )
    gateway: Mapped[str] = mapped_column(String(20))
    # The payment intent (`pi_…`), once the gateway answered; unique per gateway.
    gateway_payment_id: Mapped[str | None] = mapped_column(String(255), nullable=True, unique=True)
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    off_session: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[PaymentStatus] = mapped_column(_enum(PaymentStatus))
    failure_message: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProcessedGatewayEvent(Base):
    """A webhook event the payment gateway sent, kept so that each is applied once (and to show the last one)."""

    __tablename__ = "gateway_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)  # the gateway's event id (`evt_…`)
    gateway: Mapped[str] = mapped_column(String(20))
    type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(index=True)
