"""A real server (the `make run` code path, own database) driven by Debian's Chromium through Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import DEMO_PASSWORD, TEST_SECRET_KEY

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Two browser tests, their servers and Chromium share two cores: a page may take longer than Playwright's default
# 5 s to show what a test waits for, without anything being wrong.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_environment(data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    """The child's environment: no pytest or NiceGUI test variables, its own data folder and port, then `extra`."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key != "PYTEST_CURRENT_TEST" and not key.startswith("NICEGUI_")
    }
    env.update(
        DATA_DIR=str(data_dir),
        DATABASE_URL=f"sqlite:///{data_dir / 'portal.db'}",
        PORT=str(port),
        HOST="127.0.0.1",
        SECRET_KEY=TEST_SECRET_KEY,
        DEMO_DATA="1",
        DEMO_PASSWORD=DEMO_PASSWORD,
    )
    env.update(extra)
    return env


def wait_for_health(url: str, process: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # polling interval between health checks, not a wait for a condition
    raise TimeoutError(f"{url} did not become healthy")


@pytest.fixture(scope="session")
def server_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The e2e server's data folder (its SQLite database), for tests that set up data through the services."""
    return tmp_path_factory.mktemp("e2e-data")


@dataclass(frozen=True)
class Server:
    url: str
    pid: int


@contextmanager
def running_server(data_dir: Path, **extra: str) -> Iterator[Server]:
    """`make run`'s code path in a child process on a free port: migrates, starts, waits until healthy, stops."""
    port = _free_port()
    env = server_environment(data_dir, port, **extra)
    subprocess.run([sys.executable, "-m", "app", "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
    log = (data_dir / "server.log").open("wb")
    process = subprocess.Popen([sys.executable, "main.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(url, process)
        yield Server(url=url, pid=process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="session")
def server_url(server_data_dir: Path) -> Iterator[str]:
    with running_server(server_data_dir) as server:
        yield server.url


def log_in(page: Page, server_url: str, path: str = "/settings/account") -> None:
    page.goto(f"{server_url}/login?redirect_to={path}")
    page.get_by_label("Email").fill("owner@acme.test")
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server_url}{path}")
