"""What the real server (started through main.py) sends over plain HTTP."""

from __future__ import annotations

import httpx

from benchmarks.http_load import BROWSER_HEADERS


def test_pages_are_sent_gzip_compressed_to_browsers_that_accept_it(server_url: str) -> None:
    response = httpx.get(f"{server_url}/login", headers={**BROWSER_HEADERS, "Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert int(response.headers["content-length"]) < len(response.content) / 3  # decoded by httpx
    assert "Sign in" in response.text
