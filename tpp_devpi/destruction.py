"""What the owner's password may not delete: approved releases, ``tpp`` indexes, and their owners.

Deleting is not publishing, but with the password alone it would come close. Deleting an approved
version (or the project holding it, or one approved file) takes back what installers rely on, a
downgrade attack; deleting a ``tpp`` index, or the devpi user that owns one, frees its name for a
plain index (or user) that publishes without any approval. So :func:`destruction_tween` answers
each such ``DELETE`` with 403 and the reason, for everyone but root (the registry's admin, who may
still clean up; devpi first needs the index made volatile, which only root may do). Held versions
and their files may still be deleted by the owner: nobody installs them.

A deleted version takes its approval record with it (:mod:`.records`): after a deletion by root a
re-upload is held until it is approved again, its exact bytes included; a deleted index or user
starts with no records.

devpi's principal hooks (``get_principals_for_del_verdata`` and the like) cannot tell an approved
version from a held one, and ``devpiserver_auth_denials`` cannot give a reason, hence the tween.
It runs on the primary only; a replica proxies a ``DELETE`` to the primary.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from .gate import Approvals, is_gated, normalize_name
from .refusal import refusal
from .routes import route_of

__all__ = ["destruction_tween", "includeme", "reason"]

log = logging.getLogger(__name__)

_ONLY_ROOT = "only root may delete it"


def reason(request: Any, xom: Any) -> str | None:
    """Why this ``DELETE`` would destroy something approved, or None."""
    route, match = route_of(request)
    if route in ("/{user}", "/{user}/"):
        user = xom.model.get_user(match["user"])
        gated = [stage.name for stage in (user.getstages() if user else ()) if is_gated(stage)]
        if gated:
            return f"{match['user']} owns the tpp index {gated[0]}, whose name a new user could then take; {_ONLY_ROOT}"
        return None
    stage = xom.model.getstage(match["user"], match["index"]) if "index" in match else None
    if stage is None or not is_gated(stage):
        return None
    if route in ("/{user}/{index}", "/{user}/{index}/"):
        return f"{stage.name} is a tpp index, whose name a plain index could then take; {_ONLY_ROOT}"
    approvals = Approvals(stage)
    if route == "/{user}/{index}/{project}":
        project = normalize_name(match["project"])
        if any(approvals.version_approved(project, v) for v in stage.list_versions_perstage(project)):
            return f"{project} has approved releases on {stage.name}; {_ONLY_ROOT}"
    elif route == "/{user}/{index}/{project}/{version}":
        project, version = normalize_name(match["project"]), match["version"]
        if approvals.version_approved(project, version):
            return f"{project} {version} is approved on {stage.name}, and deleting it is a downgrade; {_ONLY_ROOT}"
    elif route == "/{user}/{index}/+f/{relpath:.*}":
        entry = xom.filestore.get_file_entry(request.path_info.strip("/"))
        if entry is not None and entry.project is not None:
            sha256 = entry.hashes.get("sha256")
            if approvals.file_approved(entry.project, entry.version, entry.basename, sha256):
                return f"{entry.basename} is an approved file of {stage.name}; {_ONLY_ROOT}"
    return None


def destruction_tween(handler: Callable[[Any], Any], registry: Any) -> Callable[[Any], Any]:
    """Under devpi's keyfs tween: refuse a ``DELETE`` of something approved, unless root sends it."""
    xom = registry["xom"]

    def tween(request: Any) -> Any:
        if request.method != "DELETE" or xom.is_replica() or request.authenticated_userid == "root":
            return handler(request)
        try:
            found = reason(request, xom)
        except Exception:
            log.exception("tpp: cannot check DELETE %s against approved releases; refusing it", request.path)
            found = "tpp could not check this deletion against the approved releases; nothing was deleted"
        return handler(request) if found is None else refusal(request, 403, found)

    return tween


def includeme(config: Any) -> None:
    config.add_tween("tpp_devpi.destruction.destruction_tween", under="devpi_server.views.tween_keyfs_transaction")
