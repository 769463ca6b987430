"""TPP's home page on a real devpi-server, at ``/+tpp/``: who is signed in, and the sign-out that
devpi's sign-in (TPP's own form) comes with."""

from __future__ import annotations

import pytest

from tests.common.devpi import Browser, DevpiServer

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
