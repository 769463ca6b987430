"""Housekeeping on the primary: reconcile devpi with TPP's requests, expire, remind, notify.

devpi skips a notifier hook that raised, a crash can fall between TPP's commit and the keyfs write
that follows it, and an upload may arrive before its project has a policy. So, at start-up and then
at every tick, every unapproved file of every ``tpp`` index is compared with TPP's requests: a file
of an approved request is published again, one of a rejected, expired or withdrawn request is
deleted again, and one no request knows opens a request (once a policy governs it). These two
sweeps are the only full scans: a saved policy reconciles only the projects its scope covers. The
housekeeper also sends new notifications as uploads announce them, and runs TPP's tick (every
``--tpp-tick-interval`` seconds, a minute by default): overdue requests expire (their files are
deleted), reminders are written, the outbox is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any, TypeVar

from pyramid.events import NewResponse

from tpp_core import (
    ApprovalRequest,
    Publish,
    Purge,
    Release,
    RequestState,
    Scope,
    ScopeKind,
    canonicalize_project,
)
from tpp_warehouse.delivery import dispatch
from tpp_warehouse.request_store import RequestStore
from tpp_warehouse.scripting import scripted
from tpp_warehouse.tasks import tick
from tpp_warehouse.views.policies import parse_scope

from .gate import normalize_name
from .jobs import HousekeeperQueue
from .runtime import Runtime, runtime_of
from .upload import Pending, open_release, pending

__all__ = ["Housekeeper", "includeme", "reconcile"]

log = logging.getLogger(__name__)

T = TypeVar("T")

_POLL = 0.5  # seconds between two looks at the outbox's wake-up call


def reconcile(runtime: Runtime, scopes: Iterable[Scope] | None = None) -> int:
    """Bring devpi in line with TPP's requests (see the module docstring), for the projects ``scopes``
    cover (every project if None); returns the files acted on.

    Reads in a keyfs read transaction; each repair runs in a write transaction of its own, so uploads
    are not held up while the indexes are scanned. Each version is planned and settled on its own:
    one that cannot be (a file name TPP refuses, a broken record) is logged once, counted in
    :attr:`Runtime.unsettled`, left hidden, and the others go on.
    """
    plan = []
    with runtime.xom.keyfs.read_transaction(), scripted(runtime.registry) as request:
        store = RequestStore(request.tpp_db)
        for stage, project, version in _versions(runtime, None if scopes is None else tuple(scopes)):
            item = (stage.name, project, version)
            looked = _guarded(runtime, item, _look, store, stage, project, version)
            if looked is not None:
                plan.append((item, *looked))
    return sum(_guarded(runtime, item, _settle, runtime, found, history) or 0 for item, found, history in plan)


def _look(store: RequestStore, stage: Any, project: str, version: str) -> tuple[Pending, list[ApprovalRequest]] | None:
    """The version's unapproved files and its project's requests; None if every file is approved."""
    found = pending(stage, project, version)
    return (found, store.of_project(canonicalize_project(found.project))) if found.files else None


def _versions(runtime: Runtime, scopes: tuple[Scope, ...] | None) -> Iterator[tuple[Any, str, str]]:
    for stage, project in _projects(runtime, scopes):
        for version in sorted(stage.list_versions_perstage(project)):
            yield stage, project, version


def _projects(runtime: Runtime, scopes: tuple[Scope, ...] | None) -> Iterator[tuple[Any, str]]:
    """The (stage, project) pairs to reconcile: a project scope looks at its own project only; a
    prefix scope reads the project names of the tpp indexes, not their versions."""
    if scopes is not None and all(scope.kind is ScopeKind.PROJECT for scope in scopes):
        for name in sorted({normalize_name(scope.value) for scope in scopes}):
            for stage in runtime.host.holders(name):
                yield stage, name
        return
    for stage in list(runtime.host.gated_stages()):
        for project in sorted(stage.list_projects_perstage()):
            if scopes is None or any(scope.matches(canonicalize_project(project)) for scope in scopes):
                yield stage, project


def _guarded(runtime: Runtime, item: tuple[str, str, str], work: Callable[..., T], *args: Any) -> T | None:
    """``work(*args)``, or None if it raises: the item is logged (the first time) and counted."""
    try:
        return work(*args)
    except Exception as error:
        if item not in runtime.unsettled:
            log.warning(
                "tpp: %s %s on %s cannot be reconciled (%s: %s); it stays hidden",
                item[1],
                item[2][:80],
                item[0],
                type(error).__name__,
                str(error)[:300],
            )
        runtime.unsettled[item] = runtime.unsettled.get(item, 0) + 1
        return None


def _settle(runtime: Runtime, found: Pending, history: list[ApprovalRequest]) -> int:
    unknown, acted = list(found.files), 0
    for request in history:
        subject = request.subject
        if not isinstance(subject, Release) or subject.version != found.version:
            continue
        known = [f for f in unknown if f in subject.files]
        unknown = [f for f in unknown if f not in known]
        if known and request.state is RequestState.APPROVED:
            publish = Publish(request_id=request.id, release=subject)
            runtime.host.in_write_transaction(partial(runtime.host.write_approvals, publish))
            acted += len(known)
        elif known and request.state is not RequestState.VERIFYING:
            purge = Purge(request_id=request.id, project=subject.project, files=tuple(known))
            runtime.host.in_write_transaction(partial(runtime.host.delete_files, purge))
            acted += len(known)
    if unknown and open_release(runtime, found._replace(files=tuple(unknown))) is not None:
        acted += len(unknown)
    return acted


class Housekeeper:
    """A devpi thread (``xom.thread_pool``): reconcile, send what waits, and run TPP's tick."""

    thread: Any  # set by devpi's thread pool, which refuses objects that already have it

    def __init__(self, runtime: Runtime, tick_interval: float, jobs: HousekeeperQueue | None) -> None:
        self.runtime = runtime
        self.tick_interval = tick_interval
        self.jobs = jobs  # None when rq's workers run TPP's jobs

    def thread_run(self) -> None:
        waited = self.tick_interval  # at once: requests may have expired while the server was down
        while True:
            if waited >= self.tick_interval:
                self._run(self._reconcile, "reconciling devpi with TPP's requests")
                self._run(tick, "TPP's tick (expiry, reminders, notifications)")
                waited = 0.0
            elif self.runtime.saved_scopes:
                scopes = self.runtime.take_saved_scopes()
                self._run(partial(self._reconcile, scopes=scopes), "reconciling the projects of a saved policy")
            elif self.runtime.wake.is_set():
                self.runtime.wake.clear()
                self._run(dispatch, "sending notifications")
            self._run(self._jobs, "running TPP's jobs (Web Push)")
            self.thread.sleep(_POLL)
            waited += _POLL

    def _jobs(self, registry: Any) -> None:
        if self.jobs is not None:
            self.jobs.run_waiting()

    def _reconcile(self, registry: Any, scopes: Iterable[Scope] | None = None) -> None:
        acted = reconcile(self.runtime, scopes)
        if acted:
            log.info("tpp: reconciled %d unapproved files with TPP's requests", acted)

    def _run(self, job: Any, what: str) -> None:
        try:
            job(registry=self.runtime.registry)
        except Exception:  # nothing is lost: the files stay hidden, the outbox keeps what was not sent
            log.exception("tpp: %s failed", what)


def _policy_saved(event: Any) -> None:
    request = event.request
    route = getattr(getattr(request, "matched_route", None), "name", None)
    if route == "tpp.policy" and request.method == "POST" and event.response.status_code < 400:
        runtime = runtime_of(request.registry["xom"])
        if runtime is not None:
            runtime.policy_saved(parse_scope(request.matchdict["kind"], request.matchdict["value"]))


def includeme(config: Any) -> None:
    """Reconcile soon after a policy is saved, so uploads that waited for it open their requests."""
    config.add_subscriber(_policy_saved, NewResponse)
