"""Building TPP's sdist and wheel from a copy of the tree, and fresh virtual environments that
install them with pip (never editable), for the packaging and the pinned-versions tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("tpp_core", "tpp_warehouse", "tpp_devpi")
#: What the sdist is built from: the build configuration and the packages.
SOURCES = ("setup.cfg", "pyproject.toml", "README.md", *PACKAGES)
#: What :meth:`Venv.pytest` needs beside the package: pytest, and what tests/conftest.py imports or
#: marks with (pytest-xdist registers ``xdist_group``; the run stays in one process).
PYTEST_REQUIREMENTS = ("pytest", "pytest-xdist", "hypothesis", "psycopg[binary]")
_JUNK = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")


def outside_tree() -> dict[str, str]:
    """This environment without PYTHONPATH, so a subprocess imports nothing from the tree."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def run(*command: str | Path, cwd: Path | None = None, timeout: int = 900) -> str:
    """Run ``command`` :func:`outside_tree`; its output, or an assertion error that shows it."""
    done = subprocess.run(
        [str(c) for c in command],
        cwd=cwd,
        env=outside_tree(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"{' '.join(map(str, command))} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def tree_files() -> set[str]:
    """The files of the tree's packages, as paths inside a wheel."""
    return {
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in (ROOT / package).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def wheel_files(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return {name for name in archive.namelist() if not name.startswith("tpp-")}  # not the .dist-info


@dataclass(frozen=True)
class Built:
    sdist: Path
    wheel: Path
    wheel_from_sdist: Path


def build(directory: Path) -> Built:
    """Build the sdist and the wheel from a copy of the tree, then the wheel again from the sdist
    (``--no-isolation``: the build backend installed here, no download)."""
    source = directory / "source"
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=_JUNK)
        else:
            source.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / name, source / name)
    run(sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel", "--outdir", directory / "tree", source)
    (sdist,) = (directory / "tree").glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        archive.extractall(directory / "unpacked", filter="data")
    (unpacked,) = (directory / "unpacked").iterdir()
    run(sys.executable, "-m", "build", "--no-isolation", "--wheel", "--outdir", directory / "again", unpacked)
    (wheel,) = (directory / "tree").glob("*.whl")
    (again,) = (directory / "again").glob("*.whl")
    return Built(sdist=sdist, wheel=wheel, wheel_from_sdist=again)


class Venv:
    """A virtual environment without the system's site-packages."""

    def __init__(self, path: Path) -> None:
        run(sys.executable, "-m", "venv", path)
        self.path = path
        self.python = path / "bin" / "python"

    def pip_install(self, *requirements: str | Path) -> None:
        """Install with pip; modules are compiled when first imported (``--no-compile``), not all at
        once here: compiling every module of botocore and moto took a third of pip's time."""
        run(
            self.python,
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-compile",
            "-q",
            *requirements,
            timeout=1800,
        )

    def where(self, module: str) -> Path:
        """Where the venv imports ``module`` from, run outside the tree."""
        return Path(run(self.python, "-c", f"import {module}; print({module}.__file__)", cwd=self.path).strip())

    def pytest(self, directory: Path, *args: str) -> str:
        """Run a copy of the tree's tests/ (only tests, no packages) in ``directory`` with the venv's
        pytest, against what the venv installed (with :data:`PYTEST_REQUIREMENTS` among it)."""
        shutil.copytree(ROOT / "tests", directory / "tests", ignore=_JUNK)
        shutil.copy(ROOT / "tox.ini", directory / "tox.ini")
        return run(
            self.python,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-o",
            "addopts=-ra --strict-markers",
            *args,
            cwd=directory,
            timeout=1800,
        )
