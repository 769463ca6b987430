"""devpi as TPP's host registry: its users are TPP's people, its ``tpp`` indexes hold the files.

Identity: pages see only the person of TPP's signed session cookie (:mod:`.login`), never devpi's
basic auth or ``X-Devpi-Auth`` (invariant I3); the status JSON accepts those too. A project's
owner is the owner of the ``tpp`` index that holds it (:mod:`.denials` keeps other owners from
uploading the same name); they, and root, manage its policy. Prefix policies are root's.

Publishing and purging change devpi's keyfs only after TPP's transaction commits (a data manager
joined to the request's transaction finishes last), so a rolled-back decision never shows a file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from pyramid.threadlocal import get_current_request
from zope.interface import implementer

from tpp_core import PersonId, ProjectName, Publish, Purge, ReleaseFile, Scope, ScopeKind
from tpp_warehouse.interfaces import IHost

from .availability import announce
from .gate import Approvals, holds, is_gated, normalize_name
from .records import approve

__all__ = ["SESSION_KEY", "DevpiHost"]

#: The session key holding the signed-in devpi user.
SESSION_KEY = "tpp.person"

log = logging.getLogger(__name__)

T = TypeVar("T")


@implementer(IHost)
class DevpiHost:
    """The IHost adapter of one devpi server; it reads keyfs in the caller's transaction, or (outside
    devpi's requests, as in TPP's tick) in a read transaction of its own."""

    def __init__(self, xom: Any) -> None:
        self._xom = xom

    def session_person(self, request: Any) -> PersonId | None:
        person = request.session.get(SESSION_KEY)
        if not isinstance(person, str) or self._xom.model.get_user(person) is None:
            return None  # signed out, or the user was deleted since
        return PersonId(person)

    def credential_person(self, request: Any) -> PersonId | None:
        user = request.authenticated_userid  # devpi's basic auth or X-Devpi-Auth
        if isinstance(user, str) and not user.startswith("+"):  # "+replica" is no person
            return PersonId(user)
        return self.session_person(request)

    def may_manage(self, person: PersonId, scope: Scope) -> bool:
        if person == "root":
            return True
        # A project is claimed by uploading it to one's tpp index; a prefix spans many owners' indexes.
        return scope.kind is ScopeKind.PROJECT and person in self.owners(ProjectName(scope.value))

    def owners(self, project: ProjectName) -> frozenset[PersonId]:
        return self.in_read_transaction(
            lambda: frozenset(PersonId(stage.username) for stage in self.holders(normalize_name(project)))
        )

    def is_admin(self, person: PersonId) -> bool:
        return person == "root"

    def publish(self, action: Publish) -> None:
        self._after_commit(lambda: self.write_approvals(action))

    def purge(self, action: Purge) -> None:
        self._after_commit(lambda: self.delete_files(action))

    # --- keyfs ---------------------------------------------------------------------------------

    def gated_stages(self) -> Iterator[Any]:
        """Every ``tpp`` index of the server (users' records, not their projects)."""
        for user in self._xom.model.get_userlist():
            for stage in user.getstages():
                if is_gated(stage):
                    yield stage

    def holders(self, project: str) -> list[Any]:
        """The ``tpp`` indexes holding uploads of (the normalized) ``project``: one small keyfs value
        per index (the project's versions), never a list of every project."""
        return [stage for stage in self.gated_stages() if holds(stage, project)]

    def write_approvals(self, action: Publish) -> None:
        """Record the release's files as approved in every tpp index that holds exactly those bytes."""
        release = action.release
        wanted = {(f.filename, f.sha256) for f in release.files}
        name = normalize_name(release.project)
        for stage in self.holders(name):
            links = [
                link
                for link in release_links(stage, name, release.version)
                if (link.basename, link.hashes.get("sha256")) in wanted
            ]
            matched = [(link.basename, link.hashes.get("sha256")) for link in links]
            if matched and approve(stage, name, release.version, matched):
                announce(links)  # in the same keyfs transaction: replicas fetch the bytes now
                log.info(
                    "tpp: published %s %s on %s (request %s)", name, release.version, stage.name, action.request_id
                )

    def delete_files(self, action: Purge) -> None:
        """Delete the files (exact name and sha256) from every tpp index, unless approved there."""
        wanted = {(f.filename, f.sha256) for f in action.files}
        name = normalize_name(action.project)
        for stage in self.holders(name):
            approvals = Approvals(stage)
            for link in stage.get_releaselinks_perstage(name):
                sha256 = link.hashes.get("sha256")
                if (link.basename, sha256) in wanted and not approvals.file_approved(
                    name, link.version, link.basename, sha256
                ):
                    stage.del_entry(link.entry)
                    log.info("tpp: purged %s from %s (request %s)", link.basename, stage.name, action.request_id)

    def _after_commit(self, change: Callable[[], None]) -> None:
        # TPP's services run in a web request or a scripted one (tpp_warehouse.scripting); either way
        # its transaction manager is the current request's.
        manager = get_current_request().tm
        manager.get().join(_AfterCommit(self, manager, change))

    def in_read_transaction(self, read: Callable[[], T]) -> T:
        """``read()`` in this thread's keyfs transaction, or in a read transaction of its own (TPP's
        tick runs outside devpi's requests)."""
        keyfs = self._xom.keyfs
        if getattr(keyfs, "tx", None) is not None:
            return read()
        with keyfs.read_transaction():
            return read()

    def in_write_transaction(self, change: Callable[[], None]) -> None:
        """Run ``change`` in this thread's keyfs write transaction, or in a new one if there is none."""
        keyfs = self._xom.keyfs
        tx = getattr(keyfs, "tx", None)
        if tx is not None and tx.write:
            change()
            return
        if tx is not None:
            raise RuntimeError("a tpp publish or purge ran inside a keyfs read transaction")
        with keyfs.write_transaction():
            change()

    def held(self, project: ProjectName, version: str) -> list[tuple[ReleaseFile, PersonId]]:
        """The version's unapproved files in every ``tpp`` index that holds the project."""
        from .upload import pending  # upload needs the runtime, which needs this module

        name = normalize_name(project)

        def read() -> list[tuple[ReleaseFile, PersonId]]:
            found = [pending(stage, name, version) for stage in self.holders(name)]
            return [(f, PersonId(p.uploader)) for p in found for f in p.files]

        return self.in_read_transaction(read)

    def unowned(self, person: PersonId) -> list[tuple[ProjectName, str]]:
        """None: a project of a ``tpp`` index is owned by the index's owner, so its first upload
        gets the default policy."""
        return []


class _AfterCommit:
    """A ``transaction`` data manager that changes keyfs once TPP's rows are committed.

    Its sort key puts it after zope.sqlalchemy's, so its ``tpc_finish`` runs after the database
    committed; it does not rely on after-commit hooks, which a hook that begins a new transaction
    (as notification dispatch does) cuts short.
    """

    def __init__(self, host: DevpiHost, manager: Any, change: Callable[[], None]) -> None:
        self._host = host
        self._change = change
        self.transaction_manager = manager

    def sortKey(self) -> str:
        return "~~tpp-devpi-keyfs"

    def tpc_finish(self, txn: object) -> None:
        try:
            self._host.in_write_transaction(self._change)
        except Exception:  # the files stay hidden; start-up reconciliation retries
            log.exception("tpp: could not update devpi after TPP committed")

    def abort(self, txn: object) -> None:
        """Nothing was changed yet."""

    tpc_abort = abort
    tpc_begin = abort
    commit = abort
    tpc_vote = abort


def release_links(stage: Any, project: str, version: str) -> list[Any]:
    """The release files of one version of ``stage``, read from that version's own keyfs value (none
    if the stage does not hold the version)."""
    if not stage.get_versiondata_perstage(project, version):
        return []
    return list(stage.get_linkstore_perstage(project, version).get_links(rel="releasefile"))
