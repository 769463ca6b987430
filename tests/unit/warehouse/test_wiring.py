"""The wiring of ``tpp_warehouse.includeme``: every interface it registers is found on a configured
app, each service is built from the collaborators found by interface (one of each per request), and
a clock the host registers replaces the system clock for every view and job."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from zope.interface.interface import InterfaceClass
from zope.interface.verify import verifyClass, verifyObject

from tests.common.clock import FixedClock
from tests.common.scenario import T0
from tests.common.webapp import WebHost, make_app
from tpp_core import IAuditLog, IClock, INotifier, IPolicyStore, IRequestStore
from tpp_warehouse.challenges import ChallengeStore
from tpp_warehouse.clock import SystemClock
from tpp_warehouse.effects import Effects
from tpp_warehouse.interfaces import (
    IApprovalService,
    IChallengeStore,
    IDeviceService,
    IEffects,
    IInvitationService,
    IPolicyService,
)
from tpp_warehouse.models import NotificationRecord
from tpp_warehouse.notifications import Outbox
from tpp_warehouse.request_store import RequestStore
from tpp_warehouse.scripting import scripted
from tpp_warehouse.tasks import tick

INTERFACES = [
    IClock,
    IRequestStore,
    IPolicyStore,
    IAuditLog,
    INotifier,
    IChallengeStore,
    IEffects,
    IDeviceService,
    IPolicyService,
    IInvitationService,
    IApprovalService,
]


def build(engine: Engine, clock: FixedClock | None = None) -> Iterator[Any]:
    router = make_app(engine.url.render_as_string(hide_password=False), WebHost(), clock)
    yield router
    router.registry["tpp.engine"].dispose()


@pytest.fixture
def app(engine: Engine) -> Iterator[Any]:
    yield from build(engine)


@pytest.mark.parametrize(
    ("iface", "implementation"),
    [
        (IClock, SystemClock),
        (IClock, FixedClock),
        (IChallengeStore, ChallengeStore),
        (IEffects, Effects),
        (INotifier, Outbox),
        (IRequestStore, RequestStore),
    ],
)
def test_implementations_provide_their_interfaces(iface: InterfaceClass, implementation: type) -> None:
    assert verifyClass(iface, implementation)


@pytest.mark.parametrize("iface", INTERFACES, ids=lambda iface: iface.__name__)
def test_every_interface_is_found(app: Any, iface: InterfaceClass) -> None:
    with scripted(app.registry) as request:
        assert verifyObject(iface, request.find_service(iface, context=None))


def test_services_are_built_from_the_collaborators_found_by_interface(app: Any) -> None:
    with scripted(app.registry) as request:

        def find(iface: InterfaceClass) -> Any:
            return request.find_service(iface, context=None)

        approvals, policies, devices = find(IApprovalService), find(IPolicyService), find(IDeviceService)
        assert (approvals._devices, approvals._policies, approvals._effects) == (devices, policies, find(IEffects))
        assert (approvals._requests, policies._requests) == (find(IRequestStore), find(IRequestStore))
        assert approvals._challenges is devices._challenges is find(IChallengeStore)
        assert policies._invitations is find(IInvitationService)
        assert approvals._audit is policies._audit is find(IAuditLog)


def test_the_system_clock_tells_the_time_in_utc(app: Any) -> None:
    with scripted(app.registry) as request:
        clock = request.find_service(IClock, context=None)
    before = datetime.now(UTC)
    assert isinstance(clock, SystemClock)
    assert before <= clock.now() <= datetime.now(UTC)
    assert clock.now().tzinfo is UTC


def test_a_clock_the_host_registers_replaces_it_for_views_and_jobs(engine: Engine) -> None:
    clock = FixedClock(T0 + timedelta(days=3))
    with Session(engine) as session, session.begin():
        session.add(NotificationRecord(person="ann", subject="request:r1", reason="approval-needed", created_at=T0))
    for router in build(engine, clock):
        with scripted(router.registry) as request:
            assert request.find_service(IClock, context=None) is clock
        # tick() without a time acts as of the registry's clock: the row is claimed at its time.
        tick(registry=router.registry)
    with Session(engine) as session:
        assert session.scalars(select(NotificationRecord.delivered_at)).one() == clock.at
