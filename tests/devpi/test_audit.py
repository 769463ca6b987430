"""The audit log on a real devpi-server, at ``/+tpp/audit``: its filters and its links under devpi's
``/+tpp/`` prefix, and a bad filter answered with a 400 naming it."""

from __future__ import annotations

from typing import Any

import pytest
from bs4 import BeautifulSoup

from tests.common.devpi import Browser, DevpiServer

pytestmark = pytest.mark.service


def test_the_log_filters_by_person_and_kind_under_the_devpi_prefix(
    server: DevpiServer, people: dict[str, Browser]
) -> None:
    answer = people["bob"].get("/+tpp/audit?person=cora&kind=tpp:device:enrolled")
    assert answer.status_code == 200, answer.text
    page: Any = BeautifulSoup(answer.text, "html.parser")  # bs4 types every lookup as optional
    assert page.find(id="chain")["data-chain"] == "intact"
    rows = page.select("tr.audit-entry")
    assert {row["data-kind"] for row in rows} == {"tpp:device:enrolled"}
    sentences = [" ".join(row.select_one(".audit-sentence").text.split()) for row in rows]
    assert "cora added the device 'phone' (their first device)" in sentences
    assert rows[0].select_one("a.person")["href"] == "/+tpp/audit?person=cora"


def test_a_bad_filter_is_a_400_naming_it(server: DevpiServer, people: dict[str, Browser]) -> None:
    answer = people["bob"].get("/+tpp/audit?person=bob%20smith")
    assert answer.status_code == 400
    error: Any = BeautifulSoup(answer.text, "html.parser").find("p", class_="error")
    assert error.text.strip().endswith("invalid person id: 'bob smith'")
