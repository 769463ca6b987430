"""TPP with the versions Warehouse pins (``requirements/main.txt`` of pypi/warehouse): webauthn 2.8.0
and cbor2 5.9.0 today, and SQLAlchemy 2.0.30 of its 2024 pins, which could not map TPP's models.
The wheel goes into a venv of its own with those pins, and the WebAuthn wrapper's tests and the
Warehouse integration tests run there."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.packaging.test_wheel import built
from tests.packaging.venvs import PYTEST_REQUIREMENTS, Built, Venv

__all__ = ["built"]

#: Warehouse's pins that TPP's code touches (pypi/warehouse requirements/main.txt).
PINS = ("webauthn==2.8.0", "cbor2==5.9.0", "SQLAlchemy==2.0.30", "cryptography==50.0.0", "pyramid==2.1")


@pytest.mark.service  # pip fetches the pinned versions from the package index
def test_tpp_works_with_warehouses_pins(built: Built, tmp_path: Path) -> None:
    venv = Venv(tmp_path / "venv")
    venv.pip_install(
        f"{built.wheel}[warehouse,s3]",
        *PINS,
        *PYTEST_REQUIREMENTS,
        "webtest",
        "moto[server]",
        "twine",
        "waitress",
    )
    report = venv.pytest(
        tmp_path / "run",
        "tests/unit/warehouse/test_webauthn.py",
        "tests/common/test_authenticator.py",
        "tests/warehouse",
        "-q",
    )
    assert " passed" in report, report  # and none failed: run() asserts pytest's exit status
