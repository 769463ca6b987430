"""With the owner's password (or its token) alone, nothing approved is deleted: not an approved
version, file or project (a downgrade), not a ``tpp`` index or its owner (whose names a plain index
or user could then take). Held versions may go; root may still delete, and a deleted version's record
goes with it: what is uploaded again afterwards is held until it is approved again, the same bytes
included (I1, I3)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import requests

from tests.common.devpi import PASSWORD, Browser, DevpiServer, wheel
from tpp_core import RequestState

pytestmark = pytest.mark.service

ROOT = ("root", PASSWORD)
_names = itertools.count()


def listed(server: DevpiServer, index: str, project: str) -> str:
    return requests.get(f"{server.url}/alice/{index}/+simple/{project}/", timeout=30).text


@pytest.mark.parametrize("kind", ["password", "token"])
def test_the_owner_cannot_delete_what_was_approved(
    server: DevpiServer, people: dict[str, Browser], dist: Path, kind: str
) -> None:
    project = f"keep{next(_names)}"
    approved, held = wheel(dist, project, "1.0"), wheel(dist, project, "2.0")
    server.publish(people["alice"], approved, project, "1.0")
    assert server.twine_upload("alice", "rel", held).returncode == 0
    server.request_for(project, "2.0")
    credential = server.credential("alice", kind)

    file_path = server.file_url("alice", "rel", approved).removeprefix(server.url)
    refusals = {
        f"/alice/rel/{project}/1.0?force": f"{project} 1.0 is approved on alice/rel, and deleting it is a downgrade",
        f"/alice/rel/{project}?force": f"{project} has approved releases on alice/rel",
        f"{file_path}?force": f"{approved.name} is an approved file of alice/rel",
        "/alice/rel": "alice/rel is a tpp index, whose name a plain index could then take",
        "/alice": "alice owns the tpp index alice/rel, whose name a new user could then take",
    }
    for path, reason in refusals.items():
        answer = server.api("DELETE", path, **credential)
        assert answer.status_code == 403, (path, answer.text)
        assert reason in answer.json()["message"], path
        assert "only root may delete it" in answer.json()["message"], path
    volatile = server.api("PATCH", "/alice/rel", ["volatile=True"], **credential)
    assert volatile.status_code == 400, volatile.text

    # A held version is nobody's yet: its owner may delete it.
    assert server.api("DELETE", f"/alice/rel/{project}/2.0?force", **credential).status_code == 200
    assert not server.stored("alice", "rel", held)
    assert approved.name in listed(server, "rel", project)
    install = server.pip("install", "--target", str(dist / "site"), project, index="alice/rel")
    assert install.returncode == 0, install.stdout + install.stderr


def test_root_may_delete_and_a_re_upload_needs_a_new_approval(
    server: DevpiServer, people: dict[str, Browser], dist: Path
) -> None:
    project = f"redo{next(_names)}"
    approved = wheel(dist, project, "1.0")
    server.publish(people["alice"], approved, project, "1.0")
    first = server.request_for(project, "1.0")
    assert server.api("DELETE", f"/alice/rel/{project}/1.0?force", auth=ROOT).status_code == 200
    assert approved.name not in listed(server, "rel", project)

    # The same bytes again: root deleted them (perhaps for a reason), so they wait for a new approval.
    assert server.twine_upload("alice", "rel", approved).returncode == 0
    again = server.request_for(project, "1.0", state=RequestState.VERIFYING)
    assert again.id != first.id
    assert approved.name not in listed(server, "rel", project)
    assert requests.get(server.file_url("alice", "rel", approved), timeout=30).status_code == 403
    assert people["alice"].decide(again.id, "approve").json()["state"] == "approved"
    assert approved.name in listed(server, "rel", project)

    # Other bytes of the same version: held.
    assert server.api("DELETE", f"/alice/rel/{project}/1.0?force", auth=ROOT).status_code == 200
    (dist / "other").mkdir()
    other = wheel(dist / "other", project, "1.0", "Summary: not what was approved\n")
    assert server.twine_upload("alice", "rel", other).returncode == 0
    assert other.name not in listed(server, "rel", project)
    assert requests.get(server.file_url("alice", "rel", other), timeout=30).status_code == 403


def test_a_tpp_index_deleted_by_root_comes_back_with_nothing_approved(
    server: DevpiServer, people: dict[str, Browser], dist: Path
) -> None:
    index, project = f"doomed{next(_names)}", f"doomed-pkg{next(_names)}"
    assert server.create_index("alice", index).status_code == 200
    approved = wheel(dist, project, "1.0")
    server.publish(people["alice"], approved, project, "1.0", index=index)
    assert approved.name in listed(server, index, project)

    # devpi deletes volatile indexes only, and only root may make a tpp index volatile.
    assert server.api("PATCH", f"/alice/{index}", ["volatile=True"], auth=ROOT).status_code == 200
    assert server.api("DELETE", f"/alice/{index}", auth=ROOT).status_code == 201
    assert server.create_index("alice", index).status_code == 200
    assert server.twine_upload("alice", index, approved).returncode == 0
    assert approved.name not in listed(server, index, project)
    assert requests.get(server.file_url("alice", index, approved), timeout=30).status_code == 403
