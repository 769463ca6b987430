"""Where requests stand: a project's history page, and the status JSON that uploaders and CI poll.

The status JSON is the one TPP endpoint that accepts API tokens, so CI can wait for its release with
the token it uploaded with::

    curl -fsS -u __token__:$TOKEN https://registry.example/tpp/requests/<id>/status.json

It answers the request's uploader, anyone eligible to decide on it, and the project's owners (for a
policy change: the people who manage its scope); anyone else, or no credential, gets a 403. Every
answer, errors included, is JSON and ``Cache-Control: no-store``.
"""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config, view_defaults

from tpp_core import ApprovalRequest, PermissionDenied, PersonId, Release, RequestId, canonicalize_project
from tpp_warehouse.interfaces import IApprovalService, IHost
from tpp_warehouse.security import credential_person, session_person

__all__ = ["HistoryViews", "StatusViews", "status_document"]


def status_document(request: ApprovalRequest, url: str) -> dict[str, Any]:
    """The status JSON of ``request``; ``url`` is the absolute address of its approval page."""
    subject = request.subject
    document: dict[str, Any] = {
        "id": request.id,
        "kind": "release" if isinstance(subject, Release) else "policy-change",
        "state": request.state.value,
        "project": None,
        "version": None,
        "opened_at": request.opened_at.isoformat(),
        "expires_at": request.expires_at.isoformat(),
        "files": [],
        "missing": [str(shortfall) for shortfall in request.quorum.missing],
        "approvals": len(request.approvers),
        "url": url,
    }
    if isinstance(subject, Release):
        document["project"], document["version"] = subject.project, subject.version
        document["files"] = [{"filename": f.filename, "sha256": f.sha256, "size": f.size} for f in subject.files]
    else:
        document["scope"] = str(subject.proposed.scope)
        document["version"] = str(subject.proposed.version)
    return document


@view_defaults(route_name="tpp.request.status", renderer="json", request_method="GET")
class StatusViews:
    """The status JSON of one request, for any credential the host accepts (tokens included)."""

    def __init__(self, request: Any) -> None:
        self.request = request
        self.approvals = request.find_service(IApprovalService, context=None)
        self.host = request.find_service(IHost, context=None)

    @view_config()
    def status(self) -> dict[str, Any]:
        self.request.response.headers["Cache-Control"] = "no-store"
        person = credential_person(self.request)
        if person is None:
            raise PermissionDenied("send a credential of the registry (e.g. the upload token) to read this status")
        request_id = RequestId(self.request.matchdict["request_id"])
        approval = self.approvals.get(request_id)
        if not self._may_read(person, approval):
            raise PermissionDenied(
                f"{person} is neither the uploader, an approver nor an owner of request {request_id}"
            )
        return status_document(approval, self.request.route_url("tpp.request", request_id=approval.id))

    def _may_read(self, person: PersonId, approval: ApprovalRequest) -> bool:
        if person == approval.uploader or person in approval.eligible:
            return True
        if isinstance(approval.subject, Release):
            return person in self.host.owners(approval.subject.project)
        return bool(self.host.may_manage(person, approval.subject.proposed.scope))


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
