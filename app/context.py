"""What every page and API route needs at hand: settings, the database, the payment gateway and the clock."""

from __future__ import annotations

from dataclasses import dataclass

from app.clock import Clock, system_clock
from app.config import Settings
from app.db import Database
from app.gateways.base import PaymentGateway


@dataclass(frozen=True)
class AppContext:
    settings: Settings
    database: Database
    gateway: PaymentGateway
    clock: Clock = system_clock
