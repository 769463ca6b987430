"""TPP's home page, at its prefix (``/tpp/``, ``/+tpp/`` on devpi): who is signed in, what waits for
them, their devices, the projects whose policies name them and the uploads that wait for a policy,
in one place to start from.

It needs a browser session like every page. The sign-out is the host's: a host whose sign-in is
TPP's own (devpi) registers a ``tpp.logout`` route (a POST with the CSRF token) and the page shows
its button; a host with a sign-in of its own (Warehouse) signs out there, and the page shows none.
"""

from __future__ import annotations

from typing import Any

from pyramid.interfaces import IRoutesMapper
from pyramid.view import view_config

from tpp_core import Policy, ProjectName, Release, RequestState, ScopeKind
from tpp_warehouse.interfaces import IApprovalService, IDeviceService, IPolicyService
from tpp_warehouse.security import session_person

__all__ = ["home"]


def _project(policy: Policy, approvals: Any) -> dict[str, Any]:
    """One row of "your projects": the policy in force and, for a project, its releases waiting
    (each with the index it was uploaded to, where the host has many)."""
    scope = policy.scope
    waiting = None
    if scope.kind is ScopeKind.PROJECT:
        verifying = [r for r in approvals.history(ProjectName(scope.value)) if r.state is RequestState.VERIFYING]
        indexes = approvals.indexes(r.id for r in verifying)
        waiting = [
            {"id": r.id, "version": r.subject.version, "index": indexes.get(r.id)}
            for r in verifying
            if isinstance(r.subject, Release)
        ]
    return {"kind": scope.kind.value, "value": scope.value, "version": policy.version, "waiting": waiting}


@view_config(route_name="tpp.home", request_method="GET", renderer="tpp_warehouse:templates/tpp/home.jinja2")
def home(request: Any) -> dict[str, Any]:
    """The signed-in person's overview."""
    person = session_person(request)
    approvals = request.find_service(IApprovalService, context=None)
    policies = request.find_service(IPolicyService, context=None)
    devices = request.find_service(IDeviceService, context=None)
    return {
        "person": person,
        "logout": request.registry.getUtility(IRoutesMapper).get_route("tpp.logout") is not None,
        "waiting": len(approvals.waiting_for(person)),
        "devices": len(devices.devices(person)),
        "projects": [_project(policy, approvals) for policy in policies.naming(person)],
        "unpolicied": approvals.waiting_for_policy(person),
    }
