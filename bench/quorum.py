"""Quorum evaluation time: 50 groups x 1,000 members x 1,000 approvals. Bar: median <= 2 ms.

Run with ``python bench/quorum.py`` (``--runs N`` to change the number of timed evaluations). Each
scenario builds its policy once (that includes the lockout check, timed separately) and then times
``tpp_core.evaluate`` on the same approvals; it prints one line per scenario with the median and its
ratio to the bar, and exits non-zero if any median misses the bar.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable

from tpp_core import ApprovalGroup, PersonId, Policy, Scope, evaluate

GROUPS, MEMBERS, APPROVALS = 50, 1_000, 1_000
BAR_MS = 2.0

Scenario = tuple[Policy, PersonId, list[PersonId]]


def people(count: int) -> list[PersonId]:
    return [PersonId(f"person{n:05}") for n in range(count)]


def build(rng: random.Random, population: list[PersonId], seats: Callable[[int], int]) -> Policy:
    groups = tuple(
        ApprovalGroup(
            name=f"group-{g:02}",
            members=frozenset(rng.sample(population, MEMBERS)),
            seats=seats(g),
            exclude_uploader=g % 2 == 0,
        )
        for g in range(GROUPS)
    )
    return Policy(scope=Scope.prefix("acme-"), version=1, groups=groups)


def typical(rng: random.Random) -> Scenario:
    """Groups of 1,000 drawn from 5,000 people, 1-3 seats each; 1,000 random approvals."""
    population = people(5_000)
    policy = build(rng, population, lambda g: 1 + g % 3)
    return policy, population[0], rng.sample(population, APPROVALS)


def shared(rng: random.Random) -> Scenario:
    """All 50 groups hold the same 1,000 people (one big team); all of them approve."""
    population = people(MEMBERS)
    policy = build(rng, population, lambda g: 1)
    return policy, population[0], list(population)


def contested(rng: random.Random) -> Scenario:
    """1,000 seats for exactly 1,000 approvers (20 per group) in heavily overlapping groups: a perfect
    matching is needed, and the greedy pass leaves a few seats for augmenting paths to fill."""
    population = people(MEMBERS)
    order = population[:]
    rng.shuffle(order)
    # Group g always contains its own 20 people (so a perfect matching exists), plus 980 others.
    own = [order[20 * g : 20 * g + 20] for g in range(GROUPS)]
    groups = tuple(
        ApprovalGroup(
            name=f"group-{g:02}",
            members=frozenset(own[g]) | frozenset(rng.sample(population, MEMBERS - 20)),
            seats=20,
        )
        for g in range(GROUPS)
    )
    policy = Policy(scope=Scope.prefix("acme-"), version=1, groups=groups)
    return policy, PersonId("ci-bot"), rng.sample(population, APPROVALS)


def adversarial(rng: random.Random) -> Scenario:
    """The greedy pass's worst case: group g (20 seats) admits the people of groups g..49, so group 0
    holds all 1,000 and group 49 only its own 20. Approvals arrive from group 49's people down, so
    greedy puts everyone in the lowest group with room and leaves half the groups empty; hundreds of
    augmenting paths, some 25 groups long, must then shift people up."""
    population = people(MEMBERS)
    own = [population[20 * g : 20 * g + 20] for g in range(GROUPS)]
    groups = tuple(
        ApprovalGroup(name=f"group-{g:02}", members=frozenset(p for k in range(g, GROUPS) for p in own[k]), seats=20)
        for g in range(GROUPS)
    )
    policy = Policy(scope=Scope.prefix("acme-"), version=1, groups=groups)
    return policy, PersonId("ci-bot"), [p for g in reversed(range(GROUPS)) for p in own[g]]


def short(rng: random.Random) -> Scenario:
    """Like typical, but nobody in the last five groups approves: five shortfalls to explain."""
    population = people(5_000)
    policy = build(rng, population, lambda g: 1 + g % 3)
    absent = set().union(*(g.members for g in policy.groups[-5:]))
    present = [p for p in population if p not in absent]
    return policy, present[0], rng.sample(present, min(APPROVALS, len(present)))


SCENARIOS: dict[str, Callable[[random.Random], Scenario]] = {
    "typical": typical,
    "shared": shared,
    "contested": contested,
    "adversarial": adversarial,
    "short": short,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="timed evaluations per scenario (default 200)")
    args = parser.parse_args()
    print(f"quorum evaluation: {GROUPS} groups x {MEMBERS} members x {APPROVALS} approvals, {args.runs} runs each")
    worst = 0.0
    for name, make in SCENARIOS.items():
        rng = random.Random(name)
        started = time.perf_counter()
        policy, uploader, approvers = make(rng)
        built_ms = (time.perf_counter() - started) * 1000
        outcome = evaluate(policy, uploader=uploader, approvers=approvers)
        timings = []
        for _ in range(args.runs):
            t = time.perf_counter_ns()
            evaluate(policy, uploader=uploader, approvers=approvers)
            timings.append((time.perf_counter_ns() - t) / 1e6)
        median = statistics.median(timings)
        worst = max(worst, median)
        verdict = "satisfied" if outcome.satisfied else f"{len(outcome.missing)} group(s) short"
        print(
            f"{name:>10}: median: {median:.3f} ms  p95: {statistics.quantiles(timings, n=20)[-1]:.3f} ms"
            f"  ratio to bar: {median / BAR_MS:.2f}  ({verdict}; policy built and checked in {built_ms:.0f} ms)"
        )
    print(f"median: {worst:.3f} ms (worst scenario; bar {BAR_MS} ms) -> {'PASS' if worst <= BAR_MS else 'FAIL'}")
    return 0 if worst <= BAR_MS else 1


if __name__ == "__main__":
    sys.exit(main())
