"""The current time, injectable so that tests and the billing CLI can move it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from app.models import utcnow

Clock = Callable[[], datetime]

system_clock: Clock = utcnow
