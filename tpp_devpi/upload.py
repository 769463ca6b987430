"""From an upload to a verifying request: ``devpiserver_on_upload`` opens or extends it.

devpi calls the hook after the upload committed, once per stored file, in its notifier thread, on
the primary and on replicas, and again after a crash (at least once). So the handler acts on the
primary only, on release files only, sends every not-yet-approved file of the version (opening a
request twice with the same files changes nothing), and catches everything: a raising hook would
silence other plugins, and the files stay hidden anyway. Reconciliation (:mod:`.reconcile`) catches
what failed, and opens the request of an upload that arrived before its project had a policy.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any, NamedTuple

from tpp_core import ApprovalRequest, InvalidInput, ReleaseFile, Sha256, canonicalize_project, person_id
from tpp_warehouse.interfaces import IApprovalService
from tpp_warehouse.scripting import scripted

from .gate import Approvals, is_gated, normalize_name
from .host import release_links
from .runtime import Runtime, runtime_of

__all__ = ["Pending", "on_upload", "open_release", "pending"]

log = logging.getLogger(__name__)

_BYTES_WAIT = 2.0  # seconds; devpi moves a committed file into place within milliseconds


class Pending(NamedTuple):
    """The unapproved release files of one version of a ``tpp`` index, who uploaded them, and the
    index (``user/index``) they went to."""

    project: str
    version: str
    files: tuple[ReleaseFile, ...]
    uploader: str
    index_name: str


def on_upload(stage: Any, project: str, version: str, link: Any) -> None:
    """``devpiserver_on_upload``: see the module docstring."""
    try:
        if link.rel != "releasefile" or not is_gated(stage) or stage.xom.is_replica():
            return
        runtime = runtime_of(stage.xom)
        _wait_for_bytes(link.entry)
        found = pending(stage, project, version)
        if runtime is None or not found.files:
            return  # devpi-import without the web app, or nothing left to approve
        request = open_release(runtime, found)
        if request is None:
            log.warning(
                "tpp: no policy governs %s, so %s %s on %s stays hidden; set one and its request opens",
                project,
                project,
                version,
                stage.name,
            )
        else:
            log.info("tpp: %s %s on %s awaits approval in request %s", project, version, stage.name, request.id)
    except InvalidInput as error:  # TPP refuses the file: a name or version it cannot sign
        log.warning(
            "tpp: %s %s on %s cannot be approved (%s); it stays hidden", project, version[:80], stage.name, error
        )
    except Exception:
        log.exception("tpp: could not open the request for %s %s on %s", project, version[:80], stage.name)


def _wait_for_bytes(entry: Any) -> None:
    """Wait (briefly) until the upload's bytes are in place.

    devpi commits an upload's keyfs change a moment before it moves the file into place. Its notifier
    waits for the file of an entry that names a ``last_modified`` time, but a held file names none
    (:mod:`.availability`), so the hook may run first; a file still missing after the wait was
    deleted since (by a rejection), and :func:`pending` leaves it out.
    """
    deadline = time.monotonic() + _BYTES_WAIT
    while entry.file_size() is None and time.monotonic() < deadline:
        time.sleep(0.01)


def pending(stage: Any, project: str, version: str) -> Pending:
    """The version's release files in ``stage`` that no record approves (read in the caller's tx).

    A file whose bytes are gone (a rejection deleted it before the upload hook ran) is none of them.
    """
    approvals = Approvals(stage)
    files, uploader = [], None
    for link in release_links(stage, normalize_name(project), version):
        sha256 = link.hashes.get("sha256")
        if approvals.file_approved(project, version, link.basename, sha256):
            continue
        size = link.entry.file_size()
        if size is not None:
            files.append(ReleaseFile(filename=link.basename, sha256=Sha256(sha256), size=size))
            uploader = uploader or next((e["who"] for e in link.get_logs() if e.get("what") == "upload"), None)
    return Pending(normalize_name(project), version, tuple(files), uploader or stage.username, stage.name)


def open_release(runtime: Runtime, found: Pending) -> ApprovalRequest | None:
    """Open (or extend) the request for ``found``, in a TPP transaction of its own; None if no policy
    governs the project."""
    with runtime.opening, scripted(runtime.registry) as scripted_request:
        approvals = scripted_request.find_service(IApprovalService, context=None)
        request: ApprovalRequest | None = approvals.open_release(
            canonicalize_project(found.project),
            found.version,
            found.files,
            person_id(found.uploader),
            datetime.now(UTC),
            found.index_name,
        )
        scripted_request.tm.commit()
    if request is not None:
        runtime.wake.set()  # the approvers' notifications wait in the outbox
    return request
