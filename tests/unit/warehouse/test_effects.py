"""Effects carries out every action but ApplyPolicy, which belongs to the policy service: handed one,
it refuses instead of applying a policy without withdrawing the changes it supersedes."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.common.host import MemoryHost
from tests.common.scenario import T0, Scenario, brief_policy
from tpp_core import ApplyPolicy, RequestId
from tpp_warehouse.audit import DatabaseAuditLog
from tpp_warehouse.effects import Effects
from tpp_warehouse.notifications import Outbox


def test_applying_a_policy_is_not_its_job(engine: Engine) -> None:
    request = Scenario.release(brief_policy()).request
    action = ApplyPolicy(request_id=RequestId("r1"), policy=brief_policy(version=2), replaces_version=1)
    with Session(engine) as session:
        effects = Effects(audit=DatabaseAuditLog(session), notifier=Outbox(session), host=MemoryHost())
        with pytest.raises(TypeError, match=r"carried out by IPolicyService\.apply"):
            effects.run(request, [action], T0)
        assert DatabaseAuditLog(session).count() == 0
