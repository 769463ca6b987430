"""Journey J3 in real Chromium: one headless browser per session, a browser context per person.

Without Chromium (``apt-get install chromium``) a developer's run skips these tests; with ``CI``
set they fail. Playwright comes from pip and drives Debian's Chromium through ``executable_path``:
``playwright install`` (which downloads a browser) is never needed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests.common.services import require
from tests.devpi.conftest import (  # noqa: F401 (devpi's live servers)
    fresh_server,
    server,
    server_options,
    shared_server,
)

from .chromium import LAUNCH_ARGS, SCREENSHOTS, Person, chromium_executable
from .warehouse import Host, serve

# Waiting for a page to show something (a ceremony, a reload) is generous; nothing asserts on time.
expect.set_options(timeout=20_000)


@pytest.fixture(scope="session", autouse=True)
def screenshots(pytestconfig: pytest.Config) -> None:
    """The owner's guide's screenshots are written only when asked for (``pytest --screenshots``)."""
    Person.screenshots = SCREENSHOTS if pytestconfig.getoption("screenshots") else None


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """Headless Chromium, shared by every browser test (each person gets a fresh context)."""
    executable = require("Chromium", chromium_executable)
    with sync_playwright() as playwright:
        browser = require(
            "Chromium",
            lambda: playwright.chromium.launch(executable_path=executable, headless=True, args=LAUNCH_ARGS),
        )
        yield browser
        browser.close()


@pytest.fixture
def host(tmp_path: Path) -> Iterator[Host]:
    """The Warehouse-shaped host, served on loopback for this test alone."""
    yield from serve(tmp_path)
