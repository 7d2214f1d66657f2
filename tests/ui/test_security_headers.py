import pytest
from nicegui.testing import User

from server.security_headers import CONTENT_SECURITY_POLICY


async def test_every_response_carries_security_headers(user: User) -> None:
    for path in ("/login", "/healthz"):
        response = await user.http_client.get(path)
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
        assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]


async def test_portal_responses_are_not_stored_and_send_no_referrer(user: User) -> None:
    response = await user.http_client.get("/portal/not-a-valid-token")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"


async def test_session_cookie_is_http_only_and_same_site_lax(user: User) -> None:
    response = await user.http_client.get("/login")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie  # PUBLIC_URL is http in tests; https turns it on


@pytest.fixture
def https_public_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLIC_URL", "https://portal.example")


@pytest.mark.usefixtures("https_public_url")
async def test_session_cookie_is_secure_when_served_over_https(user: User) -> None:
    response = await user.http_client.get("/login")
    assert "; secure" in response.headers["set-cookie"].lower()
