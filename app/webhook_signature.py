"""Webhook signatures (`Portal-Signature: t=<unix>,v1=<hex>`, Stripe's scheme), for the sender and for receivers.

Only the standard library is used, so a merchant's receiver can import this module or copy it as is:

    from app.webhook_signature import WebhookSignatureError, verify_signature

    try:
        verify_signature(request_body_bytes, request.headers["Portal-Signature"], "whsec_...")
    except WebhookSignatureError:
        return 400  # not from the portal, tampered with, or too old

The signature is the hex HMAC-SHA256, keyed with the endpoint's signing secret, of `"<t>.<raw body>"`. The timestamp
is signed too, and `tolerance` rejects old messages, so a captured request cannot be replayed later. After a secret
rotation the header carries one `v1` per valid secret for a while; any match is accepted.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Sequence

SIGNATURE_HEADER = "Portal-Signature"


class WebhookSignatureError(ValueError):
    """The payload was not signed with this secret, was changed, or is older than the tolerance."""


def compute_signature(payload: bytes, secret: str, timestamp: int) -> str:
    """Hex HMAC-SHA256 of `"<timestamp>.<payload>"`."""
    message = f"{timestamp}.".encode() + payload
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(payload: bytes, secrets: Sequence[str], timestamp: int) -> str:
    """The `Portal-Signature` value: `t=<timestamp>` and one `v1=` per secret."""
    return ",".join([f"t={timestamp}", *(f"v1={compute_signature(payload, secret, timestamp)}" for secret in secrets)])


def verify_signature(
    payload: bytes | str, header: str, secret: str, tolerance: int = 300, *, now: float | None = None
) -> bool:
    """Return True when `header` signs exactly `payload` with `secret` within `tolerance` seconds of now.

    Raises `WebhookSignatureError` otherwise. Pass the raw request body, before any JSON parsing: re-serialised JSON
    differs byte for byte. `tolerance=0` skips the age check (not recommended).
    """
    body = payload.encode() if isinstance(payload, str) else payload
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise WebhookSignatureError("The Portal-Signature header has no timestamp or no v1 signature.")
    current = time.time() if now is None else now
    if tolerance and abs(current - timestamp) > tolerance:
        raise WebhookSignatureError("The signature's timestamp is outside the tolerance; the message may be replayed.")
    expected = compute_signature(body, secret, timestamp)
    if not any(hmac.compare_digest(expected, signature) for signature in signatures):
        raise WebhookSignatureError("No signature matches the payload for this secret.")
    return True
