"""The request driver: events in, actions out, the policy pinned, and nothing changed on refusal."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.common.properties import examples
from tests.common.scenario import LIFETIME, T0, Scenario, brief_policy, group, wheel
from tpp_core import (
    ApplyPolicy,
    ApprovalRequest,
    ChallengeMismatch,
    DecisionRefused,
    InvalidInput,
    InvalidTransition,
    Notify,
    PersonId,
    Policy,
    PolicyChange,
    Publish,
    Purge,
    QuorumReached,
    RecordAudit,
    Release,
    RequestState,
    Scope,
    Verdict,
    make_challenge,
)


def kinds(actions: list[Any]) -> list[str]:
    """Action names, with audit kinds and notify reasons spelled out."""
    out = []
    for a in actions:
        if isinstance(a, RecordAudit):
            out.append(a.kind)
        elif isinstance(a, Notify):
            out.append(f"notify:{a.reason.value}:{','.join(sorted(a.recipients))}")
        else:
            out.append(type(a).__name__)
    return out


def snapshot(request: ApprovalRequest) -> dict[str, Any]:
    return copy.deepcopy(vars(request))


def two_maintainers() -> Policy:
    return Policy(scope=Scope.project("acme"), version=1, groups=(group("maintainers", "ann", "bob", seats=2),))


class TestOpen:
    def test_opening_audits_and_notifies_the_eligible(self) -> None:
        s = Scenario.release(brief_policy(), uploader="lead")
        assert s.request.state is RequestState.VERIFYING
        assert kinds(s.opened) == ["tpp:request:opened", "notify:approval-needed:bob,cora,dave,lead"]
        audit = s.opened[0]
        assert isinstance(audit, RecordAudit)
        assert audit.actor == "lead"
        assert audit.subject == "request:r1"
        assert audit.data["project"] == "acme"
        assert audit.data["files"] == [{"name": "acme-1.0-py3-none-any.whl", "sha256": "0" * 63 + "1", "size": 1000}]
        assert audit.data["policy_version"] == 1
        assert s.request.expires_at == T0 + LIFETIME

    def test_lifetime_must_be_positive(self) -> None:
        with pytest.raises(InvalidInput, match="lifetime must be positive"):
            ApprovalRequest.open(
                id="r1",
                registry="x",
                subject=Release(project="acme", version="1", files=(wheel(),)),
                uploader=PersonId("ci"),
                policy=brief_policy(),
                at=T0,
                lifetime=timedelta(0),
            )

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"id": "bad id"}, "invalid request id"),
            ({"registry": ""}, "needs the registry's name"),
            ({"uploader": "bad name"}, "invalid person id"),
            ({"opened_at": T0.replace(tzinfo=None)}, "timezone-aware opening time"),
            ({"expires_at": T0}, "before its expiry"),
            ({"subject": Release(project="other", version="1", files=(wheel(),))}, "does not govern project other"),
            ({"subject": PolicyChange(proposed=brief_policy(version=3))}, "must propose v2 of the same scope"),
            ({"subject": "files"}, "unknown request subject"),
        ],
    )
    def test_inconsistent_requests_cannot_exist(self, change: dict[str, Any], message: str) -> None:
        fields: dict[str, Any] = {
            "id": "r1",
            "registry": "https://registry.example",
            "subject": Release(project="acme", version="1", files=(wheel(),)),
            "uploader": "ci",
            "policy": brief_policy(),
            "opened_at": T0,
            "expires_at": T0 + LIFETIME,
        } | change
        with pytest.raises(InvalidInput, match=message):
            ApprovalRequest(**fields)


class TestApproval:
    def test_brief_example_needs_three_distinct_people(self) -> None:
        s = Scenario.release(brief_policy(), uploader="lead")
        assert kinds(s.approve("lead")) == ["tpp:request:approval"]
        assert kinds(s.approve("cora")) == ["tpp:request:approval"]
        assert s.request.state is RequestState.VERIFYING
        assert str(s.request.quorum) == "company needs 1 more; eligible: bob, dave"
        actions = s.approve("bob")
        assert s.request.state is RequestState.APPROVED
        assert kinds(actions) == [
            "tpp:request:approval",
            "tpp:request:approved",
            "Publish",
            "notify:approved:bob,cora,dave,lead",
        ]
        publish = actions[2]
        assert isinstance(publish, Publish)
        assert publish.release == s.request.subject
        assert actions[1].data["seats"] == {"lead": ("lead",), "core-team": ("bob",), "company": ("cora",)}  # type: ignore[union-attr]

    def test_a_person_approves_once(self) -> None:
        s = Scenario.release(two_maintainers())
        s.approve("ann")
        before = snapshot(s.request)
        with pytest.raises(DecisionRefused, match="ann already approved request r1"):
            s.approve("ann")
        assert snapshot(s.request) == before

    def test_a_stranger_cannot_approve(self) -> None:
        s = Scenario.release(two_maintainers())
        with pytest.raises(DecisionRefused, match="mallory is not an eligible approver of request r1"):
            s.approve("mallory")
        assert s.request.decisions == ()

    def test_the_uploader_cannot_fill_an_uploader_excluding_group(self) -> None:
        policy = Policy(scope=Scope.project("acme"), version=1, groups=(group("rev", "ann", "bob", no_uploader=True),))
        s = Scenario.release(policy, uploader="ann")
        assert s.request.eligible == {"bob"}
        with pytest.raises(DecisionRefused, match="ann is not an eligible approver"):
            s.approve("ann")

    @pytest.mark.parametrize(
        "forge",
        [
            pytest.param(lambda s: s.challenge("bob", Verdict.APPROVE), id="another approver's challenge"),
            pytest.param(lambda s: s.challenge("ann", Verdict.REJECT), id="a rejection's challenge"),
            pytest.param(lambda s: make_challenge(bytes(32), b"{}"), id="another manifest"),
            pytest.param(lambda s: b"\0" * 64, id="garbage"),
            pytest.param(lambda s: s.challenge("ann", Verdict.APPROVE)[:40], id="truncated"),
        ],
    )
    def test_an_assertion_for_anything_else_is_refused(self, forge: Any) -> None:
        s = Scenario.release(two_maintainers())
        before = snapshot(s.request)
        with pytest.raises(ChallengeMismatch):
            s.approve("ann", challenge=forge(s))
        assert snapshot(s.request) == before

    def test_an_assertion_for_another_request_is_refused(self) -> None:
        one, other = Scenario.release(two_maintainers()), Scenario.release(two_maintainers())
        other.request.id = "r2"  # type: ignore[assignment]
        with pytest.raises(ChallengeMismatch):
            one.approve("ann", challenge=other.challenge("ann", Verdict.APPROVE))

    def test_a_file_swapped_after_notification_breaks_the_challenge(self) -> None:
        s = Scenario.release(two_maintainers())
        signed_before = s.challenge("ann", Verdict.APPROVE)
        s.add_files(wheel("acme-1.0.tar.gz", n=2))
        with pytest.raises(ChallengeMismatch):
            s.approve("ann", challenge=signed_before)

    def test_decisions_after_the_deadline_are_refused(self) -> None:
        s = Scenario.release(two_maintainers())
        s.tick(LIFETIME)
        with pytest.raises(DecisionRefused, match="request r1 expired at 2026-01-08T12:00:00\\+00:00"):
            s.approve("ann")
        with pytest.raises(DecisionRefused, match="expired"):
            s.reject("ann")
        with pytest.raises(DecisionRefused, match="expired"):
            s.add_files(wheel("acme-1.0.tar.gz", n=2))

    def test_quorum_reached_cannot_be_sent_from_outside(self) -> None:
        s = Scenario.release(two_maintainers())
        with pytest.raises(InvalidInput, match="QuorumReached is decided by the request itself"):
            s.request.handle(QuorumReached(at=T0))
        assert s.request.state is RequestState.VERIFYING

    def test_the_policy_stays_pinned(self) -> None:
        """A request opened under v1 is decided under v1, whatever the registry's current policy is."""
        s = Scenario.release(two_maintainers())
        s.approve("ann")
        s.approve("bob")
        assert s.request.state is RequestState.APPROVED
        assert s.request.policy.version == 1


class TestRejection:
    def test_one_rejection_ends_it_and_purges(self) -> None:
        s = Scenario.release(brief_policy(), uploader="lead")
        s.approve("lead")
        actions = s.reject("dave", reason="unexpected binary")
        assert s.request.state is RequestState.REJECTED
        assert kinds(actions) == ["tpp:request:rejected", "Purge", "notify:rejected:bob,cora,dave,lead"]
        assert actions[0].data == {"reason": "unexpected binary"}  # type: ignore[union-attr]
        purge = actions[1]
        assert isinstance(purge, Purge)
        assert purge.files == s.request.subject.files  # type: ignore[union-attr]

    def test_an_approver_may_change_their_mind(self) -> None:
        s = Scenario.release(two_maintainers())
        s.approve("ann")
        s.reject("ann")
        assert s.request.state is RequestState.REJECTED
        assert [d.verdict for d in s.request.decisions] == [Verdict.APPROVE, Verdict.REJECT]

    def test_a_stranger_cannot_reject(self) -> None:
        s = Scenario.release(two_maintainers())
        with pytest.raises(DecisionRefused, match="not an eligible approver"):
            s.reject("mallory")
        assert s.request.state is RequestState.VERIFYING

    def test_a_rejection_must_sign_the_rejection(self) -> None:
        s = Scenario.release(two_maintainers())
        from tpp_core import Rejection

        with pytest.raises(ChallengeMismatch):
            s.request.handle(Rejection(at=T0, person=PersonId("ann"), challenge=s.challenge("ann", Verdict.APPROVE)))


class TestFiles:
    def test_more_files_withdraw_earlier_approvals(self) -> None:
        s = Scenario.release(two_maintainers(), uploader="ci")
        s.approve("ann")
        actions = s.add_files(wheel("acme-1.0.tar.gz", n=2))
        assert kinds(actions) == ["tpp:request:files-added", "notify:approval-needed:ann,bob"]
        assert actions[0].data == {"files": ["acme-1.0.tar.gz"], "withdrawn": ["ann"]}  # type: ignore[union-attr]
        assert s.request.decisions == ()
        s.approve("ann")
        s.approve("bob")
        assert s.request.state is RequestState.APPROVED
        assert [f.filename for f in s.request.subject.files] == ["acme-1.0-py3-none-any.whl", "acme-1.0.tar.gz"]  # type: ignore[union-attr]

    def test_the_same_file_again_changes_nothing(self) -> None:
        s = Scenario.release(two_maintainers())
        s.approve("ann")
        assert s.add_files(wheel()) == []
        assert s.request.approvers == ("ann",)

    def test_a_file_name_cannot_get_other_bytes(self) -> None:
        s = Scenario.release(two_maintainers())
        before = snapshot(s.request)
        with pytest.raises(
            InvalidInput, match=r"acme-1\.0-py3-none-any\.whl was already uploaded with sha256 0+1 and 1000 bytes$"
        ):
            s.add_files(wheel(n=9))
        assert snapshot(s.request) == before

    def test_a_policy_change_has_no_files(self) -> None:
        s = Scenario.policy_change(two_maintainers(), proposed_v2(), proposer="ann")
        with pytest.raises(InvalidInput, match="is a policy change and has no files"):
            s.add_files(wheel())


class TestEnd:
    def test_expiry_purges_and_notifies(self) -> None:
        s = Scenario.release(two_maintainers())
        s.tick(LIFETIME)
        assert kinds(s.expire()) == ["tpp:request:expired", "Purge", "notify:expired:ann,bob,ci"]
        assert s.request.state is RequestState.EXPIRED

    def test_expiry_before_the_deadline_is_refused(self) -> None:
        s = Scenario.release(two_maintainers())
        s.tick(LIFETIME - timedelta(seconds=1))
        with pytest.raises(InvalidInput, match="not due to expire before 2026-01-08T12:00:00\\+00:00"):
            s.expire()
        assert s.request.state is RequestState.VERIFYING

    def test_cancellation(self) -> None:
        s = Scenario.release(two_maintainers())
        assert kinds(s.cancel("ci")) == ["tpp:request:cancelled", "Purge", "notify:cancelled:ann,bob,ci"]
        assert s.request.state is RequestState.CANCELLED

    @pytest.mark.parametrize("end", ["approve", "reject", "expire", "cancel"])
    def test_terminal_states_never_change(self, end: str) -> None:
        s = Scenario.release(Policy(scope=Scope.project("acme"), version=1, groups=(group("one", "ann", "bob"),)))
        if end == "expire":
            s.tick(LIFETIME)
        {"approve": lambda: s.approve("ann"), "reject": lambda: s.reject("ann")}.get(
            end, lambda: s.expire() if end == "expire" else s.cancel("ci")
        )()
        final = snapshot(s.request)
        for attempt in (lambda: s.approve("bob"), lambda: s.reject("bob"), s.expire, lambda: s.cancel("ci")):
            with pytest.raises(InvalidTransition):
                attempt()
        with pytest.raises(InvalidTransition):
            s.add_files(wheel("acme-1.0.tar.gz", n=2))
        assert snapshot(s.request) == final


def proposed_v2() -> Policy:
    return Policy(scope=Scope.project("acme"), version=2, groups=(group("maintainers", "ann", "bob", "cy", seats=2),))


class TestPolicyChange:
    """The rules protect themselves: a change is approved under the current policy (I5)."""

    def test_a_change_needs_the_current_quorum(self) -> None:
        s = Scenario.policy_change(two_maintainers(), proposed_v2(), proposer="ann")
        assert kinds(s.opened) == ["tpp:request:opened", "notify:approval-needed:ann,bob"]
        assert s.opened[0].data["policy"]["version"] == 2  # type: ignore[union-attr]
        s.approve("ann")
        assert s.request.state is RequestState.VERIFYING
        actions = s.approve("bob")
        apply = actions[2]
        assert isinstance(apply, ApplyPolicy)
        assert apply.policy == proposed_v2()
        assert apply.replaces_version == 1

    def test_a_newcomer_in_the_proposal_cannot_approve_it(self) -> None:
        s = Scenario.policy_change(two_maintainers(), proposed_v2(), proposer="ann")
        with pytest.raises(DecisionRefused, match="cy is not an eligible approver"):
            s.approve("cy")

    def test_a_rejected_change_purges_nothing(self) -> None:
        s = Scenario.policy_change(two_maintainers(), proposed_v2(), proposer="ann")
        assert kinds(s.reject("bob")) == ["tpp:request:rejected", "notify:rejected:ann,bob"]

    def test_the_manifest_names_the_proposal(self) -> None:
        s = Scenario.policy_change(two_maintainers(), proposed_v2(), proposer="ann")
        assert b'"tpp":"policy-change-v1"' in s.request.manifest(PersonId("bob"), Verdict.APPROVE)
        assert b'"members":["ann","bob","cy"]' in s.request.manifest(PersonId("bob"), Verdict.APPROVE)


def test_repr() -> None:
    assert repr(Scenario.release(two_maintainers()).request) == "<ApprovalRequest r1 verifying policy v1>"


# ---------------------------------------------------------------------------------------------
# Property: whatever sequence of events arrives, the request never publishes without a quorum,
# publishes at most once, and a terminal state never changes.

STEPS = st.lists(
    st.tuples(
        st.sampled_from(["approve", "reject", "files", "expire", "cancel", "tick"]),
        st.sampled_from(["lead", "cora", "bob", "dave", "mallory", "ci"]),
    ),
    max_size=12,
)


@pytest.mark.property
@settings(max_examples=examples(300), deadline=None)
@given(STEPS)
def test_random_event_sequences_keep_the_invariants(steps: list[tuple[str, str]]) -> None:
    s = Scenario.release(brief_policy(), uploader="lead")
    published = 0
    for n, (step, person) in enumerate(steps):
        state_before = s.request.state
        try:
            actions = {
                "approve": lambda p=person: s.approve(p),
                "reject": lambda p=person: s.reject(p),
                "files": lambda n=n: s.add_files(wheel(f"acme-1.0-{n}.tar.gz", n=100 + n)),
                "expire": s.expire,
                "cancel": lambda p=person: s.cancel(p),
                "tick": lambda: (s.tick(timedelta(days=2)), [])[1],
            }[step]()
        except (InvalidTransition, DecisionRefused, ChallengeMismatch, InvalidInput):
            assert s.request.state is state_before
            continue
        if state_before is not RequestState.VERIFYING and step != "tick":
            pytest.fail(f"{step} was accepted in {state_before}")
        publishes = [a for a in actions if isinstance(a, Publish)]
        published += len(publishes)
        if publishes:
            assert s.request.quorum.satisfied
            assert s.request.state is RequestState.APPROVED
            assert len(set(s.request.approvers)) >= 3
    assert published == (1 if s.request.state is RequestState.APPROVED else 0)
