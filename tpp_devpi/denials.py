"""Refusing the bytes of unapproved files (``+f/`` downloads, their ``.metadata``, ``devpi push``),
and uploads of a project name another owner's ``tpp`` index holds.

Listings are the customizer's job; these are the requests that name a file or a version directly.
devpi asks :func:`denials` (its ``devpiserver_auth_denials`` hook) while building a request's ACL;
a ``Deny Everyone pkg_read`` answers 403, root and replicas included, and also answers nginx's
``/+authcheck`` sub-requests. Policies name projects, not indexes, so one project name belongs to
one owner's ``tpp`` indexes: otherwise a stranger's upload of the same name would reach its
approvers as if it were theirs.
"""

from __future__ import annotations

from typing import Any

from pyramid.authorization import Everyone

from tpp_core import ProjectName

from .gate import Approvals, is_gated, normalize_name
from .host import DevpiHost

__all__ = ["FILE_ROUTE", "denials"]

FILE_ROUTE = "/{user}/{index}/+f/{relpath:.*}"
_INDEX_ROUTES = frozenset(("/{user}/{index}", "/{user}/{index}/"))
_DENY = frozenset({(Everyone, "pkg_read")})
_DENY_UPLOAD = frozenset({(Everyone, "upload")})


def denials(request: Any, stage: Any) -> frozenset[tuple[str, str]] | None:
    """The denials for this request of a ``tpp`` index, or None; any doubt denies."""
    if stage is None or not is_gated(stage):
        return None
    route = getattr(getattr(request, "matched_route", None), "name", None)
    try:
        if route == FILE_ROUTE and request.method in ("GET", "HEAD"):
            return None if _file_approved(request, stage) else _DENY
        if route in _INDEX_ROUTES and request.method in ("POST", "PUSH"):
            if request.content_type == "application/json":
                return None if _push_approved(request, stage) else _DENY
            return None if _name_free(request, stage) else _DENY_UPLOAD
    except Exception:
        stage.xom.log.exception("tpp: cannot check %s %s; refusing it", request.method, request.path)
        return _DENY
    return None


def _file_approved(request: Any, stage: Any) -> bool:
    relpath = request.path_info.strip("/").removesuffix(".metadata")
    entry = stage.xom.filestore.get_file_entry(relpath)
    if entry is None or entry.project is None:
        return False
    approvals = Approvals(stage)
    return approvals.file_approved(entry.project, entry.version, entry.basename, entry.hashes.get("sha256"))


def _name_free(request: Any, stage: Any) -> bool:
    """Whether no other owner's tpp index holds the project of this upload (or register)."""
    name = request.POST.get("name")
    if not isinstance(name, str) or not name:
        return True  # not an upload; devpi answers it
    return DevpiHost(stage.xom).owners(ProjectName(normalize_name(name))) <= {stage.username}


def _push_approved(request: Any, stage: Any) -> bool:
    body = request.json_body
    if not isinstance(body, dict) or "targetindex" not in body:
        return True
    name, version = str(body.get("name", "")), str(body.get("version", ""))
    approvals = Approvals(stage)
    links = [link for link in stage.get_releaselinks_perstage(name) if link.version == version]
    return bool(links) and all(
        approvals.file_approved(name, version, link.basename, link.hashes.get("sha256")) for link in links
    )
