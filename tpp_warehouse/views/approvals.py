"""The approval pages: what waits for you, one request's facts, and deciding on it with WebAuthn.

Every fact on these pages is read from the registry through :class:`~..interfaces.IApprovalService`
(invariant I9): a push message or a link carries only the request id. Deciding is two JSON calls
from ``static/request.js``::

    POST /tpp/requests/<id>/begin   {"verdict": "approve"}                      -> {"id", "options"}
    ...                             navigator.credentials.get(options)
    POST /tpp/requests/<id>/decide  {"verdict": "approve", "ceremony": {"id", "credential"}, "reason": ""}
                                                                                -> {"state", "quorum"}

Every view needs a browser session (invariant I3) and every POST a CSRF token. JSON bodies are read
strictly by :mod:`tpp_warehouse.forms`, which names the field that is wrong (invariant I10).
"""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config, view_defaults

from tpp_core import (
    ApprovalRequest,
    IClock,
    InvalidInput,
    NotFound,
    PersonId,
    PolicyChange,
    RequestId,
    RequestState,
    Verdict,
    request_id,
)
from tpp_warehouse.forms import ceremony_answer, json_object, optional_text, required_text
from tpp_warehouse.interfaces import IApprovalService, IDeviceService, IInvitationService
from tpp_warehouse.security import confirmed_person, session_person

__all__ = ["ApprovalViews"]

_TEMPLATES = "tpp_warehouse:templates/tpp/"


@view_defaults(require_csrf=True)
class ApprovalViews:
    """The request list, the approval page and its decision endpoints; each needs a browser session."""

    def __init__(self, request: Any) -> None:
        self.request = request
        self.clock = request.find_service(IClock, context=None)
        self.person = session_person(request)
        self.approvals = request.find_service(IApprovalService, context=None)
        self.devices = request.find_service(IDeviceService, context=None)

    @view_config(route_name="tpp.requests", request_method="GET", renderer=_TEMPLATES + "requests.jinja2")
    def waiting(self) -> dict[str, Any]:
        """The verifying requests the signed-in person may still decide on, and their open invitations."""
        invitations = self.request.find_service(IInvitationService, context=None)
        waiting = self.approvals.waiting_for(self.person)
        indexes = self.approvals.indexes(r.id for r in waiting)
        return {
            "requests": [_summary(r, indexes.get(r.id)) for r in waiting],
            "invitations": invitations.pending_for(self.person),
            "messages": self.request.session.pop_flash(),
        }

    @view_config(route_name="tpp.request", request_method="GET", renderer=_TEMPLATES + "request.jinja2")
    def show(self) -> dict[str, Any]:
        """The approval page: every fact of the request as the registry holds it now."""
        approval = self.approvals.get(self._request_id())
        verifying = approval.state is RequestState.VERIFYING
        subject = approval.subject
        eligible = verifying and self.person in approval.waiting_for
        # An eligible person whose devices are all still cooling down is told when, not offered a button.
        ready = eligible and bool(self.devices.usable(self.person, self.clock.now()))
        return {
            **_summary(approval, self.approvals.indexes([approval.id]).get(approval.id)),
            "messages": self.request.session.pop_flash(),
            "state": approval.state.value,
            "reason": self.approvals.reason(approval.id),
            "registry": approval.registry,
            "policy_version": approval.policy.version,
            "policy_scope": str(approval.policy.scope),
            "files": () if isinstance(subject, PolicyChange) else subject.files,
            "proposed": _proposed(approval),
            "groups": approval.policy.groups,
            "seats": approval.quorum.seats,
            "missing": [str(shortfall) for shortfall in approval.quorum.missing] if verifying else [],
            "ended_at": None if verifying else self.approvals.ended_at(approval.id),
            "decisions": _decisions(approval, self.approvals.devices_used(approval.id)),
            "may_decide": ready,
            "device_needed": eligible and not ready,
            "may_cancel": verifying and self.approvals.may_cancel(approval, self.person),
        }

    @view_config(route_name="tpp.request.begin", request_method="POST", renderer="json")
    def begin(self) -> dict[str, str]:
        """Start the WebAuthn assertion bound to this request's manifest, this person and verdict."""
        body = json_object(self.request)
        verdict = _verdict(body)
        ceremony = self.approvals.begin_decision(self._request_id(), self.person, verdict, self.clock.now())
        return {"id": ceremony.id, "options": ceremony.options}

    @view_config(route_name="tpp.request.decide", request_method="POST", renderer="json")
    def decide(self) -> dict[str, str]:
        """Verify the assertion against the manifest recomputed now and record the decision."""
        body = json_object(self.request)
        verdict = _verdict(body)
        ceremony = ceremony_answer(body, "ceremony")
        reason = optional_text(body, "reason")
        approval = self.approvals.decide(self._request_id(), self.person, verdict, ceremony, self.clock.now(), reason)
        self.request.session.flash(_recorded(approval, verdict))  # the page reloads to show it
        return {"state": approval.state.value, "quorum": str(approval.quorum)}

    @view_config(route_name="tpp.request.cancel", request_method="POST")
    def cancel(self) -> HTTPSeeOther:
        """Withdraw a verifying request (its uploader or an owner); its files are purged."""
        at = self.clock.now()
        approval = self.approvals.cancel(self._request_id(), confirmed_person(self.request, at), at)
        files = "" if isinstance(approval.subject, PolicyChange) else " and its files deleted"
        self.request.session.flash(f"The request was withdrawn{files}.")
        return HTTPSeeOther(location=self.request.route_path("tpp.request", request_id=approval.id))

    def _request_id(self) -> RequestId:
        value = self.request.matchdict["request_id"]
        try:
            return request_id(value)
        except InvalidInput:
            # Malformed ids exist no more than unknown ones; and they never reach the database.
            raise NotFound(f"there is no request {value[:80]!r}") from None


def _summary(approval: ApprovalRequest, index: str | None) -> dict[str, Any]:
    """What a list of requests shows of one; ``index`` is where its upload went (devpi's user/index)."""
    subject = approval.subject
    if isinstance(subject, PolicyChange):
        project, version, title = None, None, f"policy change of {subject.proposed.scope}"
    else:
        project, version, title = subject.project, subject.version, f"{subject.project} {subject.version}"
    return {
        "id": approval.id,
        "title": title,
        "project": project,
        "version": version,
        "index": index,
        "uploader": approval.uploader,
        "opened": approval.opened_at,
        "expires": approval.expires_at,
    }


def _recorded(approval: ApprovalRequest, verdict: Verdict) -> str:
    """The notice after a decision: what it did to the request."""
    change = isinstance(approval.subject, PolicyChange)
    if verdict is Verdict.REJECT:
        ended = "the proposed policy will not apply" if change else "its files were deleted"
        return f"You rejected the request: it is rejected and {ended}."
    if approval.state is RequestState.APPROVED:
        ended = "the proposed policy is in force" if change else "the release is published"
        return f"You approved the request: every group is filled and {ended}."
    missing = "; ".join(str(shortfall) for shortfall in approval.quorum.missing)
    return f"You approved the request. It still waits: {missing}."


def _decisions(approval: ApprovalRequest, devices: dict[PersonId, str | None]) -> list[dict[str, Any]]:
    """The decisions that count, each with the name of the device that signed it."""
    return [
        {"person": d.person, "verdict": d.verdict.value, "at": d.at, "device": devices.get(d.person)}
        for d in approval.decisions
    ]


def _proposed(approval: ApprovalRequest) -> dict[str, Any] | None:
    if not isinstance(approval.subject, PolicyChange):
        return None
    proposed = approval.subject.proposed
    return {
        "scope": str(proposed.scope),
        "version": proposed.version,
        "groups": proposed.groups,
    }


def _verdict(body: dict[str, Any]) -> Verdict:
    value = required_text(body, "verdict")
    try:
        return Verdict(value)
    except ValueError:
        raise InvalidInput(f'"verdict" must be "approve" or "reject", got {value[:40]!r}') from None


def __dir__() -> list[str]:
    return __all__
