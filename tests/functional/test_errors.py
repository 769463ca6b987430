"""Errors are answered in the form the caller reads: JSON for scripts, a page for people."""

from __future__ import annotations

from webtest import TestApp

from tests.functional.conftest import login


def test_a_json_call_without_its_csrf_token_gets_a_json_error(app: TestApp) -> None:
    login(app, "ann")
    response = app.post_json("/tpp/devices/begin", {}, headers={"Accept": "application/json"}, expect_errors=True)
    assert response.status_int == 400
    assert response.json == {"error": "this page expired or was not sent by the registry; reload it and try again"}


def test_a_form_without_its_csrf_token_gets_a_page(app: TestApp) -> None:
    login(app, "ann")
    response = app.post("/tpp/devices/1/remove", {}, expect_errors=True)
    assert response.status_int == 400
    assert response.content_type == "text/html"
    assert "reload it and try again" in response.text
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")


def test_an_unknown_request_is_a_404_page(app: TestApp) -> None:
    login(app, "ann")
    response = app.get("/tpp/requests/does-not-exist", expect_errors=True)
    assert response.status_int == 404
    assert "there is no request" in response.text
