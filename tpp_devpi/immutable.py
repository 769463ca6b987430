"""Approved releases are immutable for installers: after approval, a version's metadata and files
stay what the approvers approved.

devpi lets an uploader rewrite a version's metadata at any time: ``:action=submit``, every file or
documentation upload (its form fields overwrite the version's), and ``devpi push`` into the index.
What that changes reaches installers without any approval: ``data-requires-python`` on the simple
page, ``requires_python``, ``summary`` and ``requires_dist`` in devpi's JSON. So, once a file of a
version is approved on a ``tpp`` index, :func:`immutable_tween` refuses each of them with 409 naming
the version, before devpi's view runs::

    409 acme 1.0 is approved on alice/rel: its files and metadata cannot change; upload a new version

An identical re-upload of a stored file (same name and bytes: a CI retry) gets devpi's own answer for
a non-volatile index, 200, without the metadata being rewritten from its form. A version that root
deleted may be uploaded again (its files are held unless their exact bytes were approved). A push
into a ``tpp`` index of a name another owner's ``tpp`` index holds is refused, as an upload of it is
(:mod:`.denials`).

The tween runs on the primary only: a replica proxies these POSTs to the primary, and it has
streamed the body away by then (issue 13).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

from tpp_core import ProjectName

from .gate import Approvals, is_gated, normalize_name
from .host import DevpiHost
from .refusal import refusal
from .routes import route_of

__all__ = ["immutable_tween", "includeme"]

log = logging.getLogger(__name__)

_UPLOAD_ROUTES = frozenset(("/{user}/{index}/", "/{user}/{index}"))
_REWRITING_ACTIONS = frozenset(("submit", "file_upload", "doc_upload"))
_IDENTICAL = "Upload of identical file to non volatile index."  # devpi's words for a CI retry


def immutable_tween(handler: Callable[[Any], Any], registry: Any) -> Callable[[Any], Any]:
    """Under devpi's keyfs tween: refuse a POST that would change an approved release."""
    xom = registry["xom"]

    def tween(request: Any) -> Any:
        if request.method not in ("POST", "PUSH") or xom.is_replica():
            return handler(request)
        route, match = route_of(request)
        if route not in _UPLOAD_ROUTES:
            return handler(request)
        try:
            answer = _check(request, xom, match)
        except Exception:
            log.exception(
                "tpp: cannot check %s %s against approved releases; refusing it", request.method, request.path
            )
            answer = (409, "tpp could not check this change against the approved releases; nothing was changed")
        if answer is None:
            return handler(request)
        return refusal(request, *answer)

    return tween


def _check(request: Any, xom: Any, match: dict[str, str]) -> tuple[int, str] | None:
    if request.content_type == "application/json":
        return _check_push(request, xom)
    stage = xom.model.getstage(match["user"], match["index"])
    if stage is None or not is_gated(stage):
        return None
    form = request.POST
    name, version = form.get("name"), form.get("version")
    if form.get(":action") not in _REWRITING_ACTIONS or not isinstance(name, str) or not isinstance(version, str):
        return None  # devpi answers it
    if not _frozen(stage, name, version):
        return None
    content = form.get("content")
    if form.get(":action") == "file_upload" and hasattr(content, "file") and isinstance(content.filename, str):
        stored = {
            (link.basename, link.hashes.get("sha256"))
            for link in stage.get_releaselinks_perstage(normalize_name(name))
            if link.version == version
        }
        if (content.filename, _sha256(content.file)) in stored:
            return 200, _IDENTICAL  # devpi would say so too, after rewriting the metadata from the form
    return _approved(name, version, stage)


def _frozen(stage: Any, name: str, version: str) -> bool:
    """Whether ``stage`` holds ``version`` and a file of it is approved there. A version root deleted
    may be uploaded again: its files are held unless their exact bytes were approved."""
    project = normalize_name(name)
    if version not in stage.list_versions_perstage(project):
        return False
    return Approvals(stage).version_approved(project, version)


def _check_push(request: Any, xom: Any) -> tuple[int, str] | None:
    """``devpi push`` into a tpp index: the target's rules, whatever the source index is."""
    try:
        body = json.loads(request.body)
    except ValueError:
        return None  # devpi answers it
    target = body.get("targetindex") if isinstance(body, dict) else None
    if not isinstance(target, str) or target.count("/") != 1:
        return None  # not a push to an index of this server; devpi answers it
    stage = xom.model.getstage(*target.split("/"))
    name, version = body.get("name"), body.get("version")
    if stage is None or not is_gated(stage) or not isinstance(name, str) or not isinstance(version, str):
        return None
    if not DevpiHost(xom).owners(ProjectName(normalize_name(name))) <= {stage.username}:
        return 403, f"{normalize_name(name)} belongs to another owner's tpp index; it cannot be pushed to {target}"
    return _approved(name, version, stage) if _frozen(stage, name, version) else None


def _approved(name: str, version: str, stage: Any) -> tuple[int, str]:
    return 409, (
        f"{normalize_name(name)} {version} is approved on {stage.name}: its files and metadata cannot change;"
        " upload a new version"
    )


def _sha256(file: Any) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in iter(lambda: file.read(1 << 16), b""):
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


def includeme(config: Any) -> None:
    config.add_tween("tpp_devpi.immutable.immutable_tween", under="devpi_server.views.tween_keyfs_transaction")
