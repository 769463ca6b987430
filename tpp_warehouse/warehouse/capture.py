"""Capturing uploads of a Warehouse-shaped host: hold in the upload's transaction, open after commit.

Mapper ``after_insert`` listeners on the host's File and Release hold every new file and release of
a gated project in the same transaction as the insert, as Warehouse's own ``file_registry`` listener
does. They catch every path that creates a File (the legacy upload, a future upload API, admin
tools), and a rollback, a doomed transaction or a retry takes the hold with it.

Once the upload committed, an after-commit hook submits a job (:func:`open_release`) that opens
(or extends) the approval request and dispatches its notifications: on TPP's rq worker when
``tpp.redis_url`` is set, so the upload answers without waiting for it, else in this process before
the response. The upload's 200 response says the release is held and gives its status URL, which
CI can poll with the upload token (``twine upload --verbose`` shows it). If the job fails, or Redis
is down, the files stay held and hidden (fail closed) and :func:`open_unopened` (run by
``reconcile``) opens the request later.

Usage::

    install_capture(File, Release)      # once, from tpp_warehouse.warehouse
    open_release("acme", "1.0")         # the job: open the request for the release's held files
    open_unopened(registry)             # requests for held files that have none (after a crash)
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from pyramid.events import NewRequest, NewResponse
from pyramid.threadlocal import get_current_request
from sqlalchemy import Connection, event
from sqlalchemy.orm import Mapper, object_session
from transaction.interfaces import NoTransaction

from tpp_core import IClock, PersonId, ReleaseFile, RequestId, Sha256, canonicalize_project
from tpp_warehouse.delivery import dispatch
from tpp_warehouse.interfaces import IApprovalService
from tpp_warehouse.job_queue import Job
from tpp_warehouse.scripting import scripted
from tpp_warehouse.tasks import job_registry

from .holds import HeldFile, Holds, hold_file, hold_release, is_gated

__all__ = ["includeme", "install_capture", "open_held", "open_release", "open_unopened"]

log = logging.getLogger(__name__)

#: ``session.info`` key: the (project, version) pairs this transaction held files of.
CAPTURED = "tpp.captured"
#: ``request.environ`` key: the (project, version) pairs the upload held, for its response.
HELD = "tpp.held"
#: The job that opens a held release's request (named, so rq can find it).
OPEN_RELEASE = "tpp_warehouse.warehouse.capture.open_release"
#: The uploader recorded when the host has no user for the request (Trusted Publishing, scripts).
UNKNOWN_UPLOADER = "unknown-uploader"

_installed: set[int] = set()


def _now() -> datetime:
    """The registry's clock of the upload's request; the system's for an insert outside a request
    (an admin script), which has no registry to ask."""
    request = get_current_request()
    return request.find_service(IClock, context=None).now() if request is not None else datetime.now(UTC)


def _uploader() -> str:
    user = getattr(get_current_request(), "user", None)
    return str(getattr(user, "username", None) or UNKNOWN_UPLOADER)


def _release_inserted(mapper: Mapper[Any], connection: Connection, release: Any) -> None:
    session = object_session(release)
    project = release.project
    if session is not None and is_gated(session, project.normalized_name, connection):
        hold_release(connection, project.normalized_name, release.version, at=_now())


def _file_inserted(mapper: Mapper[Any], connection: Connection, file: Any) -> None:
    session = object_session(file)
    release = file.release
    project = release.project.normalized_name
    if session is None or not is_gated(session, project, connection):
        return
    held = HeldFile(
        filename=file.filename,
        sha256=file.sha256_digest,
        size=file.size,
        path=file.path,
        project=project,
        version=release.version,
        uploader=_uploader(),
    )
    hold_file(connection, held, at=_now())
    session.info.setdefault(CAPTURED, set()).add((project, release.version))


def install_capture(file_cls: type, release_cls: type) -> None:
    """Listen for inserts of the host's File and Release, once per class."""
    for cls, listener in ((release_cls, _release_inserted), (file_cls, _file_inserted)):
        if id(cls) not in _installed:
            event.listen(cls, "after_insert", listener)
            _installed.add(id(cls))


def open_held(registry: Any, project: str, version: str) -> RequestId | None:
    """Open (or extend) the request for a release's held files no request covers; returns its id,
    or None when there is nothing to open or no policy governs the project any more (the files
    stay hidden). Commits its own transaction, then dispatches the notifications."""
    with scripted(registry) as request:
        holds = Holds(request.tpp_db)
        rows = holds.unopened(project, version)
        if not rows:
            return None
        files = tuple(ReleaseFile(filename=r.filename, sha256=Sha256(r.sha256), size=r.size) for r in rows)
        approvals = request.find_service(IApprovalService, context=None)
        opened = approvals.open_release(
            canonicalize_project(project),
            version,
            files,
            PersonId(rows[0].uploader),
            request.find_service(IClock, context=None).now(),
        )
        if opened is None:
            log.warning("tpp: no policy governs %s any more; %s %s stays hidden", project, project, version)
            return None
        for row in rows:
            row.request_id = opened.id
        request.tm.commit()
    dispatch(registry)
    return RequestId(opened.id)


def open_unopened(registry: Any) -> int:
    """Open the requests of every held release no request covers (an upload whose after-commit
    hook failed); returns how many were opened."""
    with scripted(registry) as request:
        releases = sorted({(row.project, row.version) for row in Holds(request.tpp_db).unopened()})
    return sum(open_held(registry, project, version) is not None for project, version in releases)


def open_release(project: str, version: str, *, registry: Any = None) -> str:
    """The job an upload submits: :func:`open_held` for one release; says what it did."""
    request_id = open_held(job_registry(registry), project, version)
    return f"{project} {version}: " + (f"request {request_id}" if request_id else "nothing to open")


def _after_commit(succeeded: bool, request: Any) -> None:
    session = request.__dict__.get("db")  # reified: present only if the request used it
    captured = session.info.pop(CAPTURED, None) if session is not None else None
    if not succeeded or not captured:
        return
    held = sorted(captured)
    request.environ[HELD] = held
    jobs = [
        Job(OPEN_RELEASE, (project, version), f"open the request of {project} {version}") for project, version in held
    ]
    try:  # the upload is committed; the job commits on its own
        request.registry["tpp.queue"].submit(jobs, commit=lambda: None)
    except Exception:  # Redis is down: the files stay held and hidden; reconciliation opens the request
        log.exception("tpp: could not submit the opening of %s; it stays hidden", held)


def _watch(event: Any) -> None:
    try:
        current = event.request.tm.get()
    except NoTransaction:  # pyramid_tm left this request out
        return
    current.addAfterCommitHook(_after_commit, args=(event.request,))


def _tell_uploader(event: Any) -> None:
    held = event.request.environ.get(HELD)
    if not held or event.response.status_code != 200:
        return
    lines = [
        f"{project} {version} is held: nobody can install it until its approvers approve it; status: "
        + event.request.route_url("tpp.release.status", project=project, version=version)
        for project, version in held
    ]
    response = event.response
    response.charset = response.charset or "utf-8"
    previous = response.text.strip() if response.content_type == "text/plain" else ""
    response.content_type = "text/plain"
    response.text = "\n".join([previous, *lines] if previous else lines) + "\n"


def includeme(config: Any) -> None:
    config.add_subscriber(_watch, NewRequest)
    config.add_subscriber(_tell_uploader, NewResponse)


def __dir__() -> list[str]:
    return __all__
