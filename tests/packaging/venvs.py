"""Building TPP's sdist and wheel from a copy of the tree, and fresh virtual environments that
install them with pip (never editable), for the packaging and the pinned-versions tests."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("tpp_core", "tpp_warehouse", "tpp_devpi")
#: What the sdist is built from: the build configuration and the packages.
SOURCES = ("setup.cfg", "pyproject.toml", "README.md", *PACKAGES)
#: What :meth:`Venv.pytest` needs beside the package: pytest, and what tests/conftest.py imports or
#: marks with (pytest-xdist registers ``xdist_group``; the run stays in one process).
PYTEST_REQUIREMENTS = ("pytest", "pytest-xdist", "hypothesis", "psycopg[binary]")
_JUNK = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
#: The venv's pytest: one process (no xdist, no coverage), quiet.
_ADDOPTS = ("-o", "addopts=-ra --strict-markers", "-q")
_WHERE = (
    "import importlib, json, sys; print(json.dumps({m: importlib.import_module(m).__file__ for m in sys.argv[1:]}))"
)
_VERSIONS = "import importlib.metadata as m, json, sys; print(json.dumps({d: m.version(d) for d in sys.argv[1:]}))"


def outside_tree() -> dict[str, str]:
    """This environment without PYTHONPATH, so a subprocess imports nothing from the tree, and
    without PYTHONDONTWRITEBYTECODE (which this project's machines set): the venv, installed with
    ``--no-compile``, then compiles each module once, at its first import, not in every process."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")}


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
        """Install with pip; modules are compiled when first imported (``--no-compile``, and
        :func:`outside_tree` lets them be written), not all at once here: compiling every module
        of botocore and moto took a third of pip's time."""
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

    def where(self, *modules: str) -> dict[str, Path]:
        """Where the venv imports each of ``modules`` from, run outside the tree."""
        found = json.loads(run(self.python, "-c", _WHERE, *modules, cwd=self.path))
        return {module: Path(path) for module, path in found.items()}

    def versions(self, *distributions: str) -> dict[str, str]:
        """The installed version of each of ``distributions``."""
        found: dict[str, str] = json.loads(run(self.python, "-c", _VERSIONS, *distributions, cwd=self.path))
        return found

    def pytest(self, directory: Path, *args: str) -> Report:
        """Run a copy of the tree's tests/ (only tests, no packages) in ``directory`` with the venv's
        pytest, against what the venv installed (with :data:`PYTEST_REQUIREMENTS` among it); what it
        said of each test. A failing test fails only the checks that ask for it (:meth:`Report.assert_passed`)."""
        shutil.copytree(ROOT / "tests", directory / "tests", ignore=_JUNK)
        shutil.copy(ROOT / "tox.ini", directory / "tox.ini")
        junit = directory / "junit.xml"
        done = subprocess.run(
            [str(self.python), "-m", "pytest", "-p", "no:cacheprovider", *_ADDOPTS, f"--junitxml={junit}", *args],
            cwd=directory,
            env=outside_tree(),
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        output = done.stdout + done.stderr
        assert junit.exists(), f"the venv's pytest wrote no report (exit status {done.returncode}):\n{output}"
        return Report(ElementTree.parse(junit), output)


@dataclass(frozen=True)
class Report:
    """A pytest run's JUnit XML, and what it printed."""

    junit: ElementTree.ElementTree[ElementTree.Element]
    output: str

    def assert_passed(self, *paths: str) -> None:
        """Every test under ``paths`` (folders or files of tests/) passed, and there were some."""
        modules = tuple(path.removesuffix(".py").replace("/", ".") for path in paths)
        cases = [
            case
            for case in self.junit.iter("testcase")
            if any(case.get("classname", "") == m or case.get("classname", "").startswith(m + ".") for m in modules)
        ]
        assert cases, f"no test of {paths} ran:\n{self.output[-5000:]}"
        failed = [
            f"{case.get('classname')}::{case.get('name')}: {outcome.tag} {outcome.get('message', '')}"
            for case in cases
            for outcome in case
            if outcome.tag in ("failure", "error", "skipped")
        ]
        assert not failed, "\n".join(failed) + "\n" + self.output[-5000:]
