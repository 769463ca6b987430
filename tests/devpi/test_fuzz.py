"""Odd requests to every TPP route of a live devpi-server, and odd uploads to a ``tpp`` index, get
an answer below 500 and leave no traceback in the server's log (I10).

A seeded generator (so a failure replays) sends each request anonymously, with devpi's basic auth,
or from a signed-in browser with a valid CSRF token: odd path segments and query strings (bytes that
are not UTF-8, CR/LF, huge numbers, emoji), form, multipart (bad boundaries too) and JSON bodies.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.common.devpi import PASSWORD, Browser, DevpiServer
from tpp_devpi.options import ROUTE_PREFIX
from tpp_warehouse.routes import ROUTES

pytestmark = pytest.mark.service

SEED = 20260101
ROUNDS = 300
EXTRA_ROUTES = ("/login", "/logout", "/static/tpp.css")
SEGMENTS = [
    "x",
    "0",
    "-1",
    "9" * 30,
    "%ff",
    "%00",
    "%0d%0aSet-Cookie:%20a=b",
    "\N{GRINNING FACE}",
    "caf\N{LATIN SMALL LETTER E WITH ACUTE}",
    "a" * 300,
    "..",
    "%2e%2e",
    "project",
    "prefix",
    "0123456789abcdef0123",
    "acme",
]
QUERIES = [
    "",
    "?%ff=%fe",
    "?next=/+tpp/x%0d%0aLocation:%20//evil",
    "?page=-1",
    "?page=abc",
    "?page=99999999999999999999",
    "?a=1&a=2",
    "?subject=" + "x" * 3000,
    "?ignore_bases&%c3%28=1",
]
JSON_BODIES: list[Any] = [
    {},
    [],
    "x",
    None,
    {"verdict": "approve"},
    {"verdict": "\N{GRINNING FACE}", "reason": "x" * 5000},
    {"ceremony": {"id": "x", "credential": "{"}},
    {"name": "\x00", "registration": {"id": 1, "credential": []}},
    {"subscription": {"endpoint": "http://127.0.0.1:1/", "keys": {}}},
    {"policy": {"groups": [{"seats": -1}]}},
]


def odd_body(rng: random.Random, csrf: str | None) -> dict[str, Any]:
    """``requests`` keywords for one odd body."""
    token = {"csrf_token": csrf} if csrf and rng.random() < 0.7 else {}
    kind = rng.choice(["none", "form", "multipart", "bad-boundary", "json", "broken-json", "bytes"])
    if kind == "form":
        fields = {"username": rng.choice(SEGMENTS), "password": rng.choice(["", PASSWORD, "x" * 500])}
        fields["next"] = rng.choice(["/+tpp/requests", "/+tpp/x\r\nX: 1", "//evil", "/+tpp/\N{GRINNING FACE}"])
        fields["policy"] = rng.choice(["{", "[]", json.dumps({"scope": {"kind": "project"}})])
        return {"data": {**fields, **token}}
    if kind == "multipart":
        return {"data": token, "files": {"username": ("a.txt", b"\xff\xfe"), "next": ("n", b"/+tpp/\r\n")}}
    if kind == "bad-boundary":
        boundary = rng.choice(["", "x" * 100, "\N{GRINNING FACE}".encode().decode("latin-1"), '"'])
        body = b"--x\r\nContent-Disposition: form-data; name=csrf_token\r\n\r\nabc\r\n--x--\r\n"
        return {"data": body, "headers": {"Content-Type": f"multipart/form-data; boundary={boundary}"}}
    if kind == "json":
        return {"json": rng.choice(JSON_BODIES)}
    if kind == "broken-json":
        return {"data": b'{"verdict": ', "headers": {"Content-Type": "application/json"}}
    if kind == "bytes":
        return {"data": rng.randbytes(rng.randrange(1, 200)), "headers": {"Content-Type": "application/octet-stream"}}
    return {}


def send(http: requests.Session, method: str, url: str, headers: dict[str, str], body: dict[str, Any]) -> int:
    extra = body.pop("headers", {})
    answer = http.request(method, url, headers={**headers, **extra}, allow_redirects=False, timeout=30, **body)
    return answer.status_code


@pytest.fixture(scope="module")
def fresh_server() -> bool:
    """A server of its own: the fuzzed session may sign out, and its random ids may name real things."""
    return True


def test_no_odd_request_is_a_server_error(server: DevpiServer, people: dict[str, Browser]) -> None:
    rng = random.Random(SEED)
    csrf = people["alice"].csrf("/+tpp/devices")
    # A copy of alice's signed-in session: the odd requests sign it out and in again, which must not
    # end the session that later modules on the shared server approve with.
    signed_in = requests.Session()
    signed_in.cookies.update(people["alice"].http.cookies)
    callers: list[tuple[requests.Session, dict[str, str], str | None]] = [
        (requests.Session(), {}, None),
        (requests.Session(), {"Authorization": requests.auth._basic_auth_str("alice", PASSWORD)}, None),
        (signed_in, {"X-CSRF-Token": csrf}, csrf),
    ]
    templates = [f"{ROUTE_PREFIX}{path}" for path in (*ROUTES.values(), *EXTRA_ROUTES)]
    failures = []
    for _ in range(ROUNDS):
        http, headers, token = rng.choice(callers)
        path = re.sub(r"\{[^}]+\}", lambda _: rng.choice(SEGMENTS), rng.choice(templates)) + rng.choice(QUERIES)
        method = rng.choice(["GET", "GET", "POST", "POST", "PUT", "DELETE", "HEAD"])
        accept = rng.choice(["text/html", "application/json", "*/*", "application/vnd.pypi.simple.v1+json"])
        body = odd_body(rng, token) if method in ("POST", "PUT") else {}
        status = send(http, method, server.url + path, {**headers, "Accept": accept}, body)
        if status >= 500:
            failures.append((status, method, path, body))
    for status, method, path, body in odd_uploads(server, rng):
        failures.extend([(status, method, path, body)] if status >= 500 else [])
    assert failures == []
    assert "Traceback" not in server.log.read_text()


def odd_uploads(server: DevpiServer, rng: random.Random) -> list[tuple[int, str, str, Any]]:
    """Uploads, registrations and pushes to the tpp index with odd names, versions and bodies."""
    url, auth = f"{server.url}/alice/rel/", ("alice", PASSWORD)
    names = ["fuzzed", "Fuzzed_Pkg", "caf\N{LATIN SMALL LETTER E WITH ACUTE}", "\N{GRINNING FACE}", "a" * 200]
    versions = ["1.0", "1.0\N{GRINNING FACE}", "1.0\r\n", "0" * 300, "", "1.0/../2"]
    results = []
    post: Callable[..., requests.Response] = requests.post
    for _ in range(40):
        name, version = rng.choice(names), rng.choice(versions)
        action = rng.choice(["file_upload", "file_upload", "submit", "doc_upload", "bogus"])
        fields = {":action": action, "name": name, "version": version, "requires_python": rng.choice(["", ">=4"])}
        kind = rng.choice(["multipart", "bad-boundary", "push", "form"])
        if kind == "multipart":
            filename = rng.choice([f"{name}-{version}.tar.gz", "x.whl", f"{name}-{version}-py3-none-any.whl"])
            answer = post(url, data=fields, files={"content": (filename, rng.randbytes(64))}, auth=auth, timeout=30)
        elif kind == "bad-boundary":
            headers = {"Content-Type": "multipart/form-data; boundary="}
            answer = post(url, data=b"--\r\n\r\n", headers=headers, auth=auth, timeout=30)
        elif kind == "push":
            push = {"name": name, "version": version, "targetindex": rng.choice(["alice/rel", "x", "a/b/c", 7])}
            answer = post(url.rstrip("/"), json=push, auth=auth, timeout=30)
        else:
            answer = post(url, data=fields, auth=auth, timeout=30)
        results.append((answer.status_code, "POST", f"/alice/rel/ {kind} {action}", fields))
    return results


def test_a_file_name_too_long_to_store_is_refused_with_its_length(server: DevpiServer) -> None:
    """devpi first writes ``<name>-<sha256>-tmp``; a name of 186 bytes or more made that 500."""
    fields = {":action": "file_upload", "name": "longname", "version": "1." + "0" * 200}
    filename = f"longname-{fields['version']}-py3-none-any.whl"
    answer = requests.post(
        f"{server.url}/alice/rel/",
        data=fields,
        files={"content": (filename, b"wheel bytes")},
        auth=("alice", PASSWORD),
        timeout=30,
    )
    assert answer.status_code == 400
    assert f"is {len(filename)} bytes long; at most 186" in answer.text
    assert requests.get(f"{server.url}/alice/rel/+simple/longname/", timeout=30).status_code == 404
