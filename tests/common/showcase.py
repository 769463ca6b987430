"""A registry with something on every TPP page, for the tests that look at every page once
(``tests/functional/test_every_page.py``, ``tests/browser/test_phone.py``)::

    shown = showcase(registry)            # registry.session committed
    f"/tpp/requests/{shown.pending}"
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.common.registry import Registry
from tests.common.scenario import group, wheel
from tpp_core import PersonId, Policy, Scope

ACME, PREFIX = Scope.project("acme"), Scope.prefix("acme-")


@dataclass(frozen=True)
class Showcase:
    """The ids of the requests the pages show."""

    decided: str
    pending: str
    change: str


def showcase(registry: Registry) -> Showcase:
    """acme (owned by lead): policy v1 in force and v2 proposed; 1.0 approved, 2.0 waiting for lead;
    the acme- prefix's policy (root's), to which root invited lead, who has not answered yet. Devices
    are enrolled (past the cooldown) at the registry's time, decisions after it."""
    registry.enrol("lead", "cora", "dave", "root")
    registry.set_policy(
        Policy(scope=ACME, version=1, groups=(group("owners", "lead"), group("maintainers", "cora", "dave")))
    )
    decided = registry.upload("acme", "1.0", wheel(), wheel("acme-1.0.tar.gz", 2, 48_213))
    pending = registry.upload("acme", "2.0", wheel("acme-2.0-py3-none-any.whl", 3), wheel("acme-2.0.tar.gz", 4))
    assert decided is not None
    assert pending is not None
    registry.approve(decided.id, "lead")
    registry.approve(decided.id, "cora")
    registry.approve(pending.id, "cora")
    proposed = (group("owners", "lead"), group("maintainers", "cora", "dave", "root", seats=2, no_uploader=True))
    change = registry.set_policy(Policy(scope=ACME, version=2, groups=proposed))
    assert change is not None
    registry.set_policy(Policy(scope=PREFIX, version=1, groups=(group("admins", "root"),)), by="root")
    registry.invitations.invite(PersonId("root"), PREFIX, PersonId("lead"), registry.now)
    registry.session.commit()
    return Showcase(decided=decided.id, pending=pending.id, change=change)
