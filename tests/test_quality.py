"""The tree stays clean: ruff, ruff format, mypy --strict on the core, and a warning-free docs build.

They run as tests so that the README's single test command (and so CI) checks them too. Each is an
xdist group of its own, sent out first, so the type check runs beside the rest of the suite. mypy
keeps its incremental cache (``.mypy_cache``) and Sphinx its doctrees (``docs/_build/doctrees``),
so a later run rechecks only what changed; a failed docs build drops its doctrees, so that the next
build reads every page again (Sphinx repeats no warning for a page it does not reread).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.quality


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)


@pytest.mark.xdist_group("quality: ruff")
def test_ruff_lint() -> None:
    result = run(sys.executable, "-m", "ruff", "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.xdist_group("quality: ruff")
def test_ruff_format() -> None:
    result = run(sys.executable, "-m", "ruff", "format", "--check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.xdist_group("quality: mypy")
def test_mypy_strict() -> None:
    """setup.cfg's [mypy] section makes this --strict over tpp_core and the test helpers."""
    result = run(sys.executable, "-m", "mypy")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.xdist_group("quality: docs")
def test_docs_build_without_warnings() -> None:
    build = ROOT / "docs" / "_build"
    doctrees, html = build / "doctrees", build / "html"
    result = run(
        sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", "-d", str(doctrees), "docs", str(html)
    )
    if result.returncode != 0:
        shutil.rmtree(doctrees, ignore_errors=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (html / "index.html").exists()
