"""The policy page of a scope: the policy in force, its versions, and an editor to propose the next.

``GET /policies/project/acme`` (or ``/policies/prefix/acme-``) shows the page to anyone signed in;
only people the host lets manage the scope see the editor. ``POST`` with a ``policy`` field holding
the JSON form (:meth:`tpp_core.Policy.to_dict`) proposes it: a scope's first policy applies at once,
and any later one opens a policy-change request that the current approvers must approve (I5).

Bad input (not JSON, a malformed or unsatisfiable policy, another scope) re-renders the page with a
400, the message next to the editor and the draft kept; nothing is stored (I10).

``POST /policies/project/acme/check`` with ``{"policy": "<the JSON text>"}`` (what ``policy.js`` sends
as the form editor changes) runs the same checks as saving, stores nothing, and answers
``{"valid": true, "seats": [...], ...}`` or ``{"valid": false, "reason": "..."}``: the editor explains
a draft before it is sent. A body that is not a JSON object is a 400; a person who may not manage the
scope gets a 403.
"""

from __future__ import annotations

import json
from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config, view_defaults

from tpp_core import (
    IClock,
    InvalidInput,
    InvalidPolicy,
    NotFound,
    PermissionDenied,
    PersonId,
    Policy,
    Scope,
    ScopeKind,
    evaluate,
)
from tpp_warehouse.forms import json_object
from tpp_warehouse.interfaces import IHost, IInvitationService, IPolicyService
from tpp_warehouse.security import confirmed_person, session_person

__all__ = ["MAX_POLICY_CHARS", "PolicyViews", "parse_scope"]

#: A policy's JSON text is refused beyond this length: checking it for lockouts costs time in its size.
MAX_POLICY_CHARS = 200_000


def parse_scope(kind: str, value: str) -> Scope:
    """The scope a policy URL names.

    >>> str(parse_scope("prefix", "Acme_"))
    'acme-*'
    >>> parse_scope("team", "acme")
    Traceback (most recent call last):
    ...
    tpp_core.errors.NotFound: there are policies of a 'project' or a 'prefix', not of a 'team'

    :raises NotFound: if ``kind`` is neither ``project`` nor ``prefix``.
    :raises InvalidInput: if ``value`` is not a valid project name or prefix.
    """
    if kind == ScopeKind.PROJECT.value:
        return Scope.project(value)
    if kind == ScopeKind.PREFIX.value:
        return Scope.prefix(value)
    raise NotFound(f"there are policies of a 'project' or a 'prefix', not of a {kind!r}")


def parse_policy(text: object, scope: Scope) -> Policy:
    """The policy the editor's JSON text describes, for the page's ``scope``.

    :raises InvalidPolicy: naming what is wrong: not text, not JSON, a malformed field, a lockout,
        another scope.
    """
    if not isinstance(text, str):  # e.g. a file upload in a multipart form
        raise InvalidPolicy("send the policy as the text of the form's policy field, not as a file")
    if not text.strip():
        raise InvalidPolicy("the policy is empty: paste or write its JSON form in the editor")
    if len(text) > MAX_POLICY_CHARS:
        raise InvalidPolicy(f"the policy is {len(text)} characters long; at most {MAX_POLICY_CHARS} are accepted")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidPolicy(f"the policy is not valid JSON: {error}") from None
    except (ValueError, RecursionError):  # an integer too long to convert, or nesting too deep
        raise InvalidPolicy(
            "the policy is not JSON that can be read (a number too long, or nesting too deep)"
        ) from None
    policy = Policy.from_dict(data)
    if policy.scope != scope:
        raise InvalidPolicy(
            f"scope: this page edits the policy of {scope} ({scope.kind.value}), but the JSON names"
            f" {policy.scope} ({policy.scope.kind.value}); open that scope's page to change its policy"
        )
    return policy


def action(in_force: Policy | None) -> str:
    """The editor's button: a first policy is saved (in force at once), a change is proposed (a request)."""
    return "Save" if in_force is None else "Propose"


def verdict(policy: Policy, in_force: Policy | None) -> dict[str, Any]:
    """What the editor shows of a valid draft: who would fill which seat if everyone approved."""
    quorum = evaluate(policy, uploader=None, approvers=sorted(policy.people))
    if in_force is None:
        effect = f"Saving puts version {policy.version} in force at once."
    else:
        effect = (
            f"Proposing opens a change request; version {policy.version} takes effect once the approvers"
            f" of version {in_force.version} approve it."
        )
    return {
        "valid": True,
        "action": action(in_force),
        "effect": effect,
        "seats": [
            {"group": group.name, "seats": group.seats, "filled_by": list(quorum.seats[group.name])}
            for group in policy.groups
        ],
    }


def starter(scope: Scope, person: PersonId) -> dict[str, Any]:
    """A first policy to start from: the proposer alone approves, until they add people."""
    return {
        "scope": {"kind": scope.kind.value, "value": scope.value},
        "version": 1,
        "groups": [{"name": "owners", "members": [person], "seats": 1, "exclude_uploader": False, "excluded": []}],
    }


@view_defaults(route_name="tpp.policy", renderer="tpp_warehouse:templates/tpp/policy.jinja2")
class PolicyViews:
    """The policy page (GET) and its editor (POST); both need a browser session (I3)."""

    def __init__(self, request: Any) -> None:
        self.request = request
        self.clock = request.find_service(IClock, context=None)
        self.policies = request.find_service(IPolicyService, context=None)
        self.host = request.find_service(IHost, context=None)
        self.invitations = request.find_service(IInvitationService, context=None)

    @view_config(request_method="GET")
    def show(self) -> Any:
        person = session_person(self.request)
        kind, value = self.request.matchdict["kind"], self.request.matchdict["value"]
        scope = parse_scope(kind, value)
        if scope.value != value:  # one address per scope: Acme_Tools and acme-tools are one project
            return HTTPSeeOther(location=self.request.route_url("tpp.policy", kind=kind, value=scope.value))
        return self._page(person, scope, draft=None, error=None)

    @view_config(request_method="POST", require_csrf=True)
    def propose(self) -> Any:
        at = self.clock.now()
        person = confirmed_person(self.request, at)  # a password alone proposes nothing
        scope = parse_scope(self.request.matchdict["kind"], self.request.matchdict["value"])
        field = self.request.POST.get("policy", "")
        text = field if isinstance(field, str) else ""
        try:
            policy = parse_policy(field, scope)
            request_id = self.policies.propose(person, policy, at)
        except InvalidInput as error:  # InvalidPolicy, or a version that does not follow the one in force
            self.request.tm.doom()  # whatever happened, nothing of this request is stored
            self.request.response.status_code = 400
            return self._page(person, scope, draft=text, error=str(error))
        if request_id is None:
            self.request.session.flash(f"Version {policy.version} of the policy of {scope} is now in force.")
            return HTTPSeeOther(location=self.request.route_url("tpp.policy", kind=scope.kind.value, value=scope.value))
        return HTTPSeeOther(location=self.request.route_url("tpp.request", request_id=request_id))

    @view_config(route_name="tpp.policy.check", request_method="POST", require_csrf=True, renderer="json")
    def check(self) -> dict[str, Any]:
        """Check a draft as saving would, store nothing, and say why it is refused or who would sit where."""
        person = session_person(self.request)  # a check changes nothing: a session suffices
        scope = parse_scope(self.request.matchdict["kind"], self.request.matchdict["value"])
        if not self.host.may_manage(person, scope):
            raise PermissionDenied(f"{person} may not set the policy of {scope}")
        text = json_object(self.request).get("policy")
        if not isinstance(text, str):
            raise InvalidInput('send {"policy": "<the policy as JSON text>"}, as the editor does')
        try:
            policy = parse_policy(text, scope)
            in_force = self.policies.check(person, policy)
        except InvalidInput as error:
            return {"valid": False, "reason": str(error)}
        return verdict(policy, in_force)

    def _page(self, person: PersonId, scope: Scope, *, draft: str | None, error: str | None) -> dict[str, Any]:
        current = self.policies.current(scope)
        if draft is None:
            if current is None:
                document = starter(scope, person)
            else:
                document = {**current.to_dict(), "version": current.version + 1}
            draft = json.dumps(document, indent=2)
        return {
            "scope": scope,
            "policy": current,
            "versions": self.policies.versions(scope),
            "pending": self.policies.pending(scope),
            "invitations": self.invitations.of_scope(scope),
            "may_propose": self.host.may_manage(person, scope),
            "action": action(current),
            # Whom the form editor offers as members: those a policy may name (see require_accepted).
            "candidates": sorted(
                {person}
                | self.invitations.accepted(scope)
                | {member for group in (current.groups if current else ()) for member in group.members}
            ),
            "person": person,
            "draft": draft,
            "error": error,
            "flashes": self.request.session.pop_flash(),
        }
