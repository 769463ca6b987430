"""With the owner's password (or its ``devpi login`` token) alone, devpi's own configuration knobs
open no gated name of a ``tpp`` index: a plain index as a base, a mirror base with or without a
``mirror_whitelist`` entry, a base deleted and re-created as a plain index (I1, I3).

Each attack uploads a higher version of a gated project somewhere the attacker controls and then
checks everything an installer reads: the simple page (HTML and PEP 691 JSON), devpi's JSON and pip.
The mirror is a PEP 503 index on loopback; the server is not in offline mode, so it fetches from it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.common.devpi import PASSWORD, Browser, DevpiServer, wheel
from tests.devpi.conftest import running
from tests.devpi.pep503 import SimpleIndex

pytestmark = pytest.mark.service

CREDENTIALS = ["password", "token"]
_names = itertools.count()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, server_options: tuple[str, ...]) -> Iterator[DevpiServer]:
    """Not in offline mode: the mirror indexes fetch from the loopback index."""
    yield from running(tmp_path_factory.mktemp("devpi"), server_options, offline=False)


@pytest.fixture(scope="module")
def public() -> Iterator[SimpleIndex]:
    with SimpleIndex() as index:
        yield index


def unique(prefix: str) -> str:
    return f"{prefix}{next(_names)}"


def tpp_index(server: DevpiServer) -> str:
    """A fresh tpp index of alice's; returns its name ("rel7")."""
    name = unique("rel")
    assert server.create_index("alice", name).status_code == 200
    return name


def mirror(server: DevpiServer, user: str, public: SimpleIndex) -> str:
    """A fresh mirror index of ``user`` on the loopback index; returns "user/name"."""
    name = unique("pypi")
    body = {"type": "mirror", "mirror_url": public.url, "mirror_cache_expiry": 0}
    answer = server.api("PUT", f"/{user}/{name}", body, auth=(user, PASSWORD))
    assert answer.status_code == 200, answer.text
    return f"{user}/{name}"


def installers_see(server: DevpiServer, index: str, project: str) -> set[str]:
    """Every file name of ``project`` that the simple pages or devpi's JSON show on ``index``."""
    names = set()
    for accept in ("text/html", "application/vnd.pypi.simple.v1+json"):
        page = requests.get(f"{server.url}/{index}/+simple/{project}/", headers={"Accept": accept}, timeout=30)
        if accept == "text/html":
            names |= set(re.findall(r"<a [^>]*>([^<]+)</a>", page.text))
        elif page.ok:
            names |= {file["filename"] for file in page.json()["files"]}
    answer = server.api("GET", f"/{index}/{project}")
    if answer.ok:
        for version, data in answer.json()["result"].items():
            names |= {link["href"].rsplit("/", 1)[-1] for link in data.get("+links", ())}
            names.add(f"version {version}")
    return names


def installs(server: DevpiServer, index: str, project: str, target: Path) -> str:
    """What ``pip install project`` puts there: the module's VERSION line."""
    done = server.pip("install", "--target", str(target), project, index=index)
    assert done.returncode == 0, done.stdout + done.stderr
    return (target / f"{project.replace('-', '_')}.py").read_text()


def assert_only_approved(server: DevpiServer, index: str, project: str, approved: Path, dist: Path) -> None:
    assert installers_see(server, f"alice/{index}", project) == {approved.name, "version 1.0"}
    assert installs(server, f"alice/{index}", project, dist / unique("site")) == "VERSION = '1.0'\n"


@pytest.mark.parametrize("owner", ["alice", "newcomer"])
@pytest.mark.parametrize("kind", CREDENTIALS)
def test_a_plain_base_is_refused(
    server: DevpiServer, people: dict[str, Browser], dist: Path, owner: str, kind: str
) -> None:
    index, project = tpp_index(server), unique("gated-plain")
    approved = wheel(dist, project, "1.0")
    server.publish(people["alice"], approved, project, "1.0", index=index)
    if owner == "newcomer":  # anyone may create a user on devpi
        owner = unique("mallory")
        server.create_user(owner)
    plain_index = unique("plain")
    plain = f"{owner}/{plain_index}"
    assert server.create_index(owner, plain_index, type="stage").status_code == 200
    assert server.twine_upload(owner, plain_index, wheel(dist, project, "2.0")).returncode == 0
    credential = server.credential("alice", kind)

    created = server.api("PUT", "/alice/evil", {"type": "tpp", "volatile": False, "bases": [plain]}, **credential)
    assert created.status_code == 400, created.text
    assert f"{plain} is a 'stage' index whose files nobody approved" in created.json()["message"]
    assert server.api("GET", "/alice/evil").status_code == 404
    patched = server.api("PATCH", f"/alice/{index}", [f"bases+={plain}"], **credential)
    assert patched.status_code == 400, patched.text
    assert "a tpp index inherits only from tpp indexes and mirrors" in patched.json()["message"]
    assert server.api("GET", f"/alice/{index}").json()["result"]["bases"] == []
    assert_only_approved(server, index, project, approved, dist)


def test_a_base_re_created_as_a_plain_index_is_ignored(
    server: DevpiServer, people: dict[str, Browser], dist: Path, public: SimpleIndex
) -> None:
    # A mirror is an allowed base, and volatile: delete it and put a plain index under its name.
    index, project = tpp_index(server), unique("gated-swap")
    approved = wheel(dist, project, "1.0")
    server.publish(people["alice"], approved, project, "1.0", index=index)
    base = mirror(server, "alice", public)
    assert server.api("PATCH", f"/alice/{index}", [f"bases+={base}"], auth=("alice", PASSWORD)).status_code == 200
    assert server.api("DELETE", f"/{base}", auth=("alice", PASSWORD)).status_code == 201
    base_index = base.split("/")[1]
    assert server.create_index("alice", base_index, type="stage").status_code == 200
    assert server.twine_upload("alice", base_index, wheel(dist, project, "2.0")).returncode == 0
    public_name = unique("plain-only")
    assert server.twine_upload("alice", base_index, wheel(dist, public_name, "1.0")).returncode == 0

    assert_only_approved(server, index, project, approved, dist)
    assert installers_see(server, f"alice/{index}", public_name) == set()  # a plain index's files, never
    # Any change of the index now says why, until the owner drops that base.
    refused = server.api("PATCH", f"/alice/{index}", ["title=x"], auth=("alice", PASSWORD))
    assert refused.status_code == 400
    assert f"{base} is a 'stage' index" in refused.json()["message"]
    assert server.api("PATCH", f"/alice/{index}", [f"bases-={base}"], auth=("alice", PASSWORD)).status_code == 200


@pytest.mark.parametrize("kind", CREDENTIALS)
def test_a_mirror_never_serves_a_gated_name(
    server: DevpiServer, people: dict[str, Browser], dist: Path, public: SimpleIndex, kind: str
) -> None:
    index, project, dependency = tpp_index(server), unique("gated-mirror"), unique("public-dep")
    approved = wheel(dist, project, "1.0")
    server.publish(people["alice"], approved, project, "1.0", index=index)
    (dist / "public").mkdir()
    public.add(wheel(dist / "public", project, "9.0"))
    public.add(wheel(dist / "public", dependency, "3.0"))
    base = mirror(server, "alice", public)
    credential = server.credential("alice", kind)
    assert server.api("PATCH", f"/alice/{index}", [f"bases+={base}"], **credential).status_code == 200

    # A gated name never falls through to the mirror; a name nobody gates comes from it.
    assert_only_approved(server, index, project, approved, dist)
    assert installs(server, f"alice/{index}", dependency, dist / "site-dep") == "VERSION = '3.0'\n"
    # Whitelisting the gated name is refused, and so is a wildcard.
    for entry in (project, "*"):
        refused = server.api("PATCH", f"/alice/{index}", [f"mirror_whitelist+={entry}"], **credential)
        assert refused.status_code == 400, refused.text
        assert "mirror_whitelist" in refused.json()["message"]
    assert server.api("GET", f"/alice/{index}").json()["result"]["mirror_whitelist"] == []
    created = server.api(
        "PUT",
        "/alice/evil",
        {"type": "tpp", "volatile": False, "bases": [base], "mirror_whitelist": ["*"]},
        **credential,
    )
    assert created.status_code == 400, created.text
    assert_only_approved(server, index, project, approved, dist)


def test_a_whitelist_entry_made_before_the_name_was_gated_has_no_effect(
    server: DevpiServer, people: dict[str, Browser], dist: Path, public: SimpleIndex
) -> None:
    index, project = tpp_index(server), unique("gated-later")
    (dist / "public").mkdir()
    public.add(wheel(dist / "public", project, "9.0"))
    base = mirror(server, "alice", public)
    changes = [f"bases+={base}", f"mirror_whitelist+={project}"]
    assert server.api("PATCH", f"/alice/{index}", changes, auth=("alice", PASSWORD)).status_code == 200
    assert installers_see(server, f"alice/{index}", project) == {
        f"{project.replace('-', '_')}-9.0-py3-none-any.whl",
        "version 9.0",
    }  # not gated yet: the mirror's

    approved = wheel(dist, project, "1.0")
    server.publish(people["alice"], approved, project, "1.0", index=index)
    assert_only_approved(server, index, project, approved, dist)
    version = server.api("GET", f"/alice/{index}/{project}/9.0")
    assert version.status_code == 404, version.text  # the mirror's version data is hidden too
