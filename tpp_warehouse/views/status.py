"""Where requests stand: a project's history page, and the status JSON that uploaders and CI poll.

The status JSON is the one TPP endpoint that accepts API tokens, so CI can wait for its release with
the token it uploaded with::

    curl -fsS -u __token__:$TOKEN https://registry.example/tpp/requests/<id>/status.json

It answers whoever :meth:`~tpp_warehouse.interfaces.IApprovalService.may_read` the request (its
uploader, anyone eligible to decide on it, the project's owners; for a policy change, the people who
manage its scope); anyone else, or no credential, gets a 403. Every answer, errors included, is JSON
and ``Cache-Control: no-store``.

An uploader who knows only the release finds its newest request by name and version (the answer to
a devpi upload names this address)::

    curl -fsSL -u ci:$PASSWORD https://registry.example/tpp/releases/acme/1.0/status.json

which redirects to that request's status JSON for the same people. Before the request exists (the
upload hook or the host's job has not run yet), the version's uploader and the project's owners get
its held files and a ``state`` of their own: ``"opening"`` (ask again in a moment) or
``"no-policy"`` (no policy governs the project and it has no owner to give the default one: who
manages it sets one at ``policy_url``, or a prefix policy, then the request opens). Anyone else gets
a 404, so it does not tell who uploaded what, nor that a release is held.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config, view_defaults

from tpp_core import (
    ApprovalRequest,
    NotFound,
    PermissionDenied,
    PersonId,
    Release,
    ReleaseFile,
    RequestId,
    canonicalize_project,
)
from tpp_warehouse.interfaces import IApprovalService
from tpp_warehouse.security import credential_person, session_person
from tpp_warehouse.unopened import Unopened

__all__ = ["HistoryViews", "StatusViews", "status_document"]


def _reader(request: Any) -> PersonId:
    """Who sent the credential. :raises PermissionDenied: without one."""
    person = credential_person(request)
    if person is None:
        raise PermissionDenied("send a credential of the registry (e.g. the upload token) to read this status")
    return person


def _files(files: Iterable[ReleaseFile]) -> list[dict[str, Any]]:
    return [{"filename": f.filename, "sha256": f.sha256, "size": f.size} for f in files]


def status_document(request: ApprovalRequest, url: str, index: str | None = None) -> dict[str, Any]:
    """The status JSON of ``request``; ``url`` is the absolute address of its approval page, ``index``
    the index its upload went to on a host of many (devpi's ``alice/dev``), else None."""
    subject = request.subject
    document: dict[str, Any] = {
        "id": request.id,
        "kind": "release" if isinstance(subject, Release) else "policy-change",
        "state": request.state.value,
        "project": None,
        "version": None,
        "index": index,
        "opened_at": request.opened_at.isoformat(),
        "expires_at": request.expires_at.isoformat(),
        "files": [],
        "missing": [str(shortfall) for shortfall in request.quorum.missing],
        "approvals": len(request.approvers),
        "url": url,
    }
    if isinstance(subject, Release):
        document["project"], document["version"] = subject.project, subject.version
        document["files"] = _files(subject.files)
    else:
        document["scope"] = str(subject.proposed.scope)
        document["version"] = str(subject.proposed.version)
    return document


@view_defaults(renderer="json", request_method="GET")
class StatusViews:
    """The status JSON of one request, for any credential the host accepts (tokens included)."""

    def __init__(self, request: Any) -> None:
        self.request = request
        self.approvals = request.find_service(IApprovalService, context=None)

    @view_config(route_name="tpp.request.status")
    def status(self) -> dict[str, Any]:
        self.request.response.headers["Cache-Control"] = "no-store"
        person = _reader(self.request)
        request_id = RequestId(self.request.matchdict["request_id"])
        approval = self.approvals.get(request_id)
        if not self.approvals.may_read(approval, person):
            raise PermissionDenied(
                f"{person} is neither the uploader, an approver nor an owner of request {request_id}"
            )
        url = self.request.route_url("tpp.request", request_id=approval.id)
        return status_document(approval, url, self.approvals.indexes([approval.id]).get(approval.id))

    @view_config(route_name="tpp.release.status")
    def release(self) -> HTTPSeeOther | dict[str, Any]:
        """The held files no request covers yet, else a redirect to the status JSON of the newest
        request of the project's version."""
        self.request.response.headers["Cache-Control"] = "no-store"
        person = _reader(self.request)
        project, version = canonicalize_project(self.request.matchdict["project"]), self.request.matchdict["version"]
        unopened = self.approvals.unopened(project, version, person)
        if unopened is not None:
            return self._unopened_document(unopened)
        for approval in self.approvals.history(project):
            subject = approval.subject
            if isinstance(subject, Release) and subject.version == version:
                if self.approvals.may_read(approval, person):
                    url = self.request.route_url("tpp.request.status", request_id=approval.id)
                    # JSON like every answer here, for a client that does not follow redirects
                    return HTTPSeeOther(location=url, json_body={"id": approval.id, "status": url})
                break
        raise NotFound(f"no request of {project} {version[:80]} that you uploaded, may decide on or own")

    def _unopened_document(self, unopened: Unopened) -> dict[str, Any]:
        policy_url = self.request.route_url("tpp.policy", kind="project", value=unopened.project)
        if unopened.governed:
            message = f"the request for {unopened.project} {unopened.version} is opening; ask again in a moment"
        else:
            message = (
                f"no policy governs {unopened.project} and it has no owner to give the default policy, so its"
                f" files stay hidden and no request opens; set a policy at {policy_url} (or a prefix policy"
                " that covers it), then the request opens"
            )
        return {
            "kind": "release",
            "state": unopened.state,
            "project": unopened.project,
            "version": unopened.version,
            "files": _files(unopened.files),
            "message": message,
            "policy_url": policy_url,
        }


@view_defaults(route_name="tpp.history", renderer="tpp_warehouse:templates/tpp/history.jinja2", request_method="GET")
class HistoryViews:
    """A project's release requests, newest first; any signed-in person may read it."""

    def __init__(self, request: Any) -> None:
        self.request = request
        self.approvals = request.find_service(IApprovalService, context=None)

    @view_config()
    def show(self) -> Any:
        session_person(self.request)
        value = self.request.matchdict["project"]
        project = canonicalize_project(value)
        if project != value:  # one address per project: Acme_Tools and acme-tools are one project
            return HTTPSeeOther(location=self.request.route_url("tpp.history", project=project))
        return {"project": project, "requests": self.approvals.history(project)}
