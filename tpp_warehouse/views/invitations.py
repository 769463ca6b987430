"""Inviting approvers from a scope's policy page, and answering invitations from "Waiting for you".

``POST /tpp/policies/<kind>/<value>/invitations`` with a ``person`` field invites that registry user
to approve for the scope; ``POST /tpp/invitations/<id>/accept`` (or ``/decline``) answers. A policy
may name someone only after they accepted (see :mod:`tpp_warehouse.invitations`). All are forms
that need a session confirmed with a device (I3) and a CSRF token, and redirect back with a message.
"""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config, view_defaults

from tpp_core import IClock, person_id
from tpp_warehouse.forms import record_id, required_field
from tpp_warehouse.interfaces import IInvitationService
from tpp_warehouse.security import confirmed_person
from tpp_warehouse.views.policies import parse_scope

__all__ = ["InvitationViews"]


@view_defaults(request_method="POST", require_csrf=True)
class InvitationViews:
    """The invite form and the accept and decline buttons."""

    def __init__(self, request: Any) -> None:
        self.request = request
        self.at = request.find_service(IClock, context=None).now()
        self.person = confirmed_person(request, self.at)  # a password alone invites or accepts nobody
        self.invitations = request.find_service(IInvitationService, context=None)

    @view_config(route_name="tpp.invite")
    def invite(self) -> HTTPSeeOther:
        """Invite the person named in the form to approve for the page's scope."""
        scope = parse_scope(self.request.matchdict["kind"], self.request.matchdict["value"])
        invitee = person_id(
            required_field(self.request, "person", "name the registry user to invite in the person field")
        )
        record = self.invitations.invite(self.person, scope, invitee, self.at)
        if record.accepted_at is None:
            message = f"{invitee} is invited; name them in the policy once they have accepted."
        else:
            message = f"{invitee} has already accepted; you may name them in the policy."
        self.request.session.flash(message)
        return HTTPSeeOther(location=self.request.route_path("tpp.policy", kind=scope.kind.value, value=scope.value))

    @view_config(route_name="tpp.invitation.accept")
    def accept(self) -> HTTPSeeOther:
        """Agree to approve for the invitation's scope."""
        record = self.invitations.accept(self.person, self._invitation_id(), self.at)
        self.request.session.flash(
            f"You accepted; {record.invited_by} may now name you in the policy of {record.scope_value}."
        )
        return HTTPSeeOther(location=self.request.route_path("tpp.requests"))

    @view_config(route_name="tpp.invitation.decline")
    def decline(self) -> HTTPSeeOther:
        """Refuse the invitation; it is deleted, and a policy cannot name you."""
        self.invitations.decline(self.person, self._invitation_id(), self.at)
        self.request.session.flash("You declined the invitation.")
        return HTTPSeeOther(location=self.request.route_path("tpp.requests"))

    def _invitation_id(self) -> int:
        return record_id(self.request.matchdict["invitation_id"], f"{self.person} has no such invitation")


def __dir__() -> list[str]:
    return __all__
