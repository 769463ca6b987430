"""After approval, a release stays what its approvers approved: with the upload credential alone,
no ``:action=submit``, no extra file and no ``devpi push`` changes what installers see of it
(``data-requires-python``, ``requires_python``, ``summary``, ``requires_dist``), while a CI retry of
an approved file still succeeds (I1, I3)."""

from __future__ import annotations

import hashlib
import itertools
import re
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.common.devpi import PASSWORD, Browser, DevpiServer, wheel

pytestmark = pytest.mark.service

APPROVED = "Requires-Python: >=3.8\nSummary: the approved one\nRequires-Dist: idna\n"
EVIL = {"requires_python": ">=4", "summary": "nothing to see", "requires_dist": ["evil-dependency"]}
_names = itertools.count()


def approved_release(server: DevpiServer, people: dict[str, Browser], dist: Path) -> tuple[str, Path]:
    """A fresh project whose 1.0 (one wheel, APPROVED metadata) is approved on alice/rel."""
    project = f"frozen{next(_names)}"
    path = wheel(dist, project, "1.0", APPROVED)
    server.publish(people["alice"], path, project, "1.0")
    return project, path


def what_installers_see(server: DevpiServer, project: str) -> dict[str, Any]:
    html = requests.get(f"{server.url}/alice/rel/+simple/{project}/", timeout=30).text
    pep691 = requests.get(
        f"{server.url}/alice/rel/+simple/{project}/",
        headers={"Accept": "application/vnd.pypi.simple.v1+json"},
        timeout=30,
    ).json()
    data = server.api("GET", f"/alice/rel/{project}/1.0").json()["result"]
    return {
        "html": re.findall(r'<a [^>]*data-requires-python="([^"]*)"[^>]*>([^<]+)</a>', html),
        "pep691": [(f["filename"], f.get("requires-python")) for f in pep691["files"]],
        "json": (data.get("requires_python"), data.get("summary"), data.get("requires_dist")),
        "links": sorted(link["href"].rsplit("/", 1)[-1] for link in data.get("+links", ())),
    }


def expected(path: Path) -> dict[str, Any]:
    return {
        "html": [("&gt;=3.8", path.name)],
        "pep691": [(path.name, ">=3.8")],
        "json": (">=3.8", "the approved one", ["idna"]),
        "links": [path.name],
    }


def form(project: str, action: str, **fields: Any) -> dict[str, Any]:
    return {":action": action, "name": project, "version": "1.0", "metadata_version": "2.1", **fields}


@pytest.mark.parametrize("kind", ["password", "token"])
def test_a_submit_for_an_approved_version_is_refused(
    server: DevpiServer, people: dict[str, Browser], dist: Path, kind: str
) -> None:
    project, path = approved_release(server, people, dist)
    credential = server.credential("alice", kind)
    answer = requests.post(
        f"{server.url}/alice/rel/",
        data=form(project, "submit", **EVIL),
        files={"unused": ("", b"")},  # multipart, as twine and setuptools send it
        timeout=30,
        **credential,
    )
    assert answer.status_code == 409, answer.text
    assert f"{project} 1.0 is approved on alice/rel: its files and metadata cannot change" in answer.text
    assert what_installers_see(server, project) == expected(path)


def test_another_file_for_an_approved_version_is_refused(
    server: DevpiServer, people: dict[str, Browser], dist: Path
) -> None:
    project, path = approved_release(server, people, dist)
    other = wheel(dist, project, "1.0", "Requires-Python: >=4\nSummary: nothing to see\n", tag="py2.py3-none-any")
    upload = server.twine_upload("alice", "rel", other)
    assert upload.returncode != 0
    assert "409" in upload.stdout + upload.stderr
    assert f"{project} 1.0 is approved on alice/rel" in upload.stdout + upload.stderr
    assert not server.stored("alice", "rel", other)
    assert what_installers_see(server, project) == expected(path)


def test_an_identical_re_upload_of_an_approved_file_still_succeeds(
    server: DevpiServer, people: dict[str, Browser], dist: Path
) -> None:
    project, path = approved_release(server, people, dist)
    retry = server.twine_upload("alice", "rel", path)  # a CI job run twice
    assert retry.returncode == 0, retry.stdout + retry.stderr
    # The same bytes with other form fields: still devpi's 200, and the metadata stays.
    content = {"content": (path.name, path.read_bytes())}
    fields = form(project, "file_upload", sha256_digest=hashlib.sha256(path.read_bytes()).hexdigest(), **EVIL)
    answer = requests.post(f"{server.url}/alice/rel/", data=fields, files=content, auth=("alice", PASSWORD), timeout=30)
    assert answer.status_code == 200, answer.text
    assert what_installers_see(server, project) == expected(path)


def test_a_push_into_an_approved_version_is_refused(
    server: DevpiServer, people: dict[str, Browser], dist: Path
) -> None:
    project, path = approved_release(server, people, dist)
    source = f"src{next(_names)}"
    assert server.create_index("alice", source, type="stage").status_code == 200
    (dist / "other").mkdir()
    other = wheel(dist / "other", project, "1.0", "Requires-Python: >=4\n")
    assert server.twine_upload("alice", source, other).returncode == 0
    push = {"name": project, "version": "1.0", "targetindex": "alice/rel"}
    answer = server.api("POST", f"/alice/{source}", push, auth=("alice", PASSWORD))
    assert answer.status_code == 409, answer.text
    assert f"{project} 1.0 is approved on alice/rel" in answer.json()["message"]
    assert what_installers_see(server, project) == expected(path)


def test_a_held_version_may_still_change(server: DevpiServer, people: dict[str, Browser], dist: Path) -> None:
    project, _ = approved_release(server, people, dist)
    held = wheel(dist, project, "2.0")
    assert server.twine_upload("alice", "rel", held).returncode == 0
    fields = {**form(project, "submit", summary="fixed typo"), "version": "2.0"}
    answer = requests.post(
        f"{server.url}/alice/rel/", data=fields, files={"unused": ("", b"")}, auth=("alice", PASSWORD), timeout=30
    )
    assert answer.status_code == 200, answer.text
    assert server.api("GET", f"/alice/rel/{project}/2.0?ignore_bases").status_code == 404  # still hidden
