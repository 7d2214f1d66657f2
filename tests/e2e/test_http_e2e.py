"""What the real server (started through main.py) sends over plain HTTP."""

from __future__ import annotations

import gzip

import httpx

from benchmarks.http_load import BROWSER_HEADERS


def test_pages_are_sent_gzip_compressed_to_browsers_that_accept_it(server_url: str) -> None:
    response = httpx.get(f"{server_url}/login", headers={**BROWSER_HEADERS, "Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    sent, page = int(response.headers["content-length"]), response.content  # httpx decoded the page
    # Compressed as gzip does at level 6 (Starlette's default 9 cost twice the time for 2 % fewer bytes).
    assert sent == len(gzip.compress(page, compresslevel=6)) < len(page) / 2
    assert "Sign in" in response.text
