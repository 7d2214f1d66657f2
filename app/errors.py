"""Typed domain errors that services raise and pages translate into messages or error pages."""

from __future__ import annotations

from collections.abc import Mapping


class DomainError(Exception):
    """Base of every error a service raises on purpose."""


class NotFound(DomainError):
    """The object does not exist, or does not belong to whoever asked (never tell which).

    `kind` names what was looked for ("customer"); `param` the input that named it, when it was one (the API's
    error says which).
    """

    def __init__(self, kind: str = "", *, param: str | None = None) -> None:
        super().__init__(kind)
        self.kind = kind
        self.param = param


class Forbidden(DomainError):
    """The caller may not do this, e.g. the merchant switched the feature off."""


class Conflict(DomainError):
    """The object changed since the caller read it."""


class LoginLocked(DomainError):
    """Too many failed logins for this email; try again later."""


class ValidationFailed(DomainError):
    """Input was rejected; `field_errors` maps a field name to a message a person can act on."""

    def __init__(self, field_errors: Mapping[str, str]) -> None:
        self.field_errors = dict(field_errors)
        super().__init__("; ".join(f"{field}: {message}" for field, message in self.field_errors.items()))


class LinkError(DomainError):
    """A portal link cannot be used; subclasses say why. `merchant_id` is set when it is known."""

    def __init__(self, message: str = "", *, merchant_id: str | None = None, customer_id: str | None = None) -> None:
        super().__init__(message)
        self.merchant_id = merchant_id
        self.customer_id = customer_id


class LinkInvalid(LinkError):
    """Not a link we issued (tampered, truncated or signed with an unknown key)."""


class LinkExpired(LinkError):
    """A genuine link whose lifetime is over."""


class LinkUsed(LinkError):
    """A genuine single-use link (a sign-in link) that was opened before."""


class LinkRevoked(LinkError):
    """A genuine link the merchant revoked, or whose customer is gone."""


class EmailTaken(LinkError):
    """A genuine email confirmation link whose new address another of the merchant's customers has by now."""


class Unavailable(DomainError):
    """The database could not be reached or stayed locked: nothing was written, and trying again may work."""

    def __init__(self, message: str = "The database is busy or unavailable, so nothing was saved. Try again.") -> None:
        super().__init__(message)
