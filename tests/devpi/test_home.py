"""TPP's home page on a real devpi-server, at ``/+tpp/``: who is signed in, the sign-out that
devpi's sign-in (TPP's own form) comes with, and the index each waiting release was uploaded to."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.common.devpi import Browser, DevpiServer, wheel

pytestmark = pytest.mark.service


def test_the_home_page_names_the_person_and_signs_out(server: DevpiServer, people: dict[str, Browser]) -> None:
    bob = Browser(server.url, "bob").sign_in()
    page = bob.get("/+tpp/")
    assert page.status_code == 200, page.text
    assert "Signed in as <strong>bob</strong>" in page.text
    assert 'action="/+tpp/logout"' in page.text
    assert 'href="/+tpp/requests"' in page.text
    assert 'href="/+tpp/devices"' in page.text
    out = bob.http.post(
        f"{server.url}/+tpp/logout", data={"csrf_token": bob.csrf("/+tpp/")}, allow_redirects=False, timeout=10
    )
    assert (out.status_code, out.headers["Location"]) == (303, f"{server.url}/+tpp/login")
    again = bob.get("/+tpp/", allow_redirects=False)
    assert again.status_code == 303
    assert "/+tpp/login?next=%2F%2Btpp%2F" in again.headers["Location"]


def test_a_release_names_the_index_it_was_uploaded_to(
    server: DevpiServer, people: dict[str, Browser], dist: Path
) -> None:
    upload = server.twine_upload("alice", "rel", wheel(dist, "indexed", "1.0"))
    assert upload.returncode == 0, upload.stdout + upload.stderr
    request = server.request_for("indexed", "1.0")  # the default policy: alice, who owns alice/rel
    alice = people["alice"]
    page = alice.get(f"/+tpp/requests/{request.id}")
    assert page.status_code == 200, page.text
    assert '<tr id="index"><th>Index</th><td>uploaded to alice/rel</td></tr>' in page.text
    link = f'<a href="/+tpp/requests/{request.id}">'
    listed = alice.get("/+tpp/requests").text
    assert f'{link}indexed 1.0</a> <span class="index">to alice/rel</span>' in listed
    assert f'{link}1.0</a> <span class="index">to alice/rel</span>' in alice.get("/+tpp/").text
