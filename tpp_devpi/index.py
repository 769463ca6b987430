"""The ``tpp`` index type: a private index whose files stay hidden until approved.

Created the devpi way, ``devpi index -c rel type=tpp volatile=False`` (or ``PUT /user/rel`` with
``{"type": "tpp", "volatile": false}``). The filters answer exactly one boolean per item, False unless
:mod:`.gate` finds an approval record, because devpi keeps an item whenever a filter falls silent.
Items that come from base indexes pass through, except the files of a ``tpp`` base, which that
base's records decide.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from functools import cached_property
from typing import Any

from .gate import TYPE, Approvals, is_gated, normalize_name
from .records import forget_index

__all__ = ["TppStage", "customizer_classes"]

log = logging.getLogger(__name__)


class TppStage:
    """The customizer devpi mixes into ``BaseStageCustomizer`` for ``type=tpp`` indexes.

    devpi makes one per stage object and one stage object per keyfs transaction, so the cached
    records below are read once per transaction.
    """

    stage: Any

    def validate_config(self, oldconfig: Any, newconfig: Any) -> None:
        """Accept every config: devpi-import creates the index with the bare defaults first, and then
        sets the exported ones; ``volatile=False`` is enforced for requests in :meth:`on_modified`."""

    def on_modified(self, request: Any, oldconfig: Any) -> None:
        """Refuse a volatile tpp index (an approved file could be overwritten); a new index of an old
        name starts with no approvals."""
        if self.stage.ixconfig.get("volatile", True):
            request.apifatal(400, message="a tpp index must not be volatile: create or modify it with volatile=False")
        if not oldconfig:
            forget_index(self.stage.xom, self.stage.username, self.stage.index)

    @cached_property
    def approvals(self) -> Approvals:
        return Approvals(self.stage.xom, self.stage.username, self.stage.index)

    @cached_property
    def _own_projects(self) -> frozenset[str]:
        return frozenset(normalize_name(p) for p in self.stage.list_projects_perstage())

    def get_projects_filter_iter(self, projects: Iterable[str]) -> Iterator[bool]:
        for project in projects:
            yield self._safely(self._project_visible, project)

    def get_versions_filter_iter(self, project: str, versions: Iterable[str]) -> Iterator[bool]:
        own = self._safely(lambda: frozenset(self.stage.list_versions_perstage(project)), default=None)
        for version in versions:
            if own is None:
                yield False
            else:
                yield version not in own or self.approvals.version_approved(project, version)

    def get_simple_links_filter_iter(self, project: str, links: Any) -> Iterator[bool] | None:
        if links is None:
            return None
        return self._links_filter(project, links)

    def _links_filter(self, project: str, links: Iterable[Any]) -> Iterator[bool]:
        bases: dict[str, Approvals | None] = {}
        for link in links:
            yield self._safely(self._link_visible, project, link, bases)

    def _project_visible(self, project: str) -> bool:
        name = normalize_name(project)
        if name not in self._own_projects:
            return True  # a base index's project
        versions = self.stage.list_versions_perstage(name)
        return any(self.approvals.version_approved(name, version) for version in versions)

    def _link_visible(self, project: str, link: Any, bases: dict[str, Approvals | None]) -> bool:
        owner = "/".join(str(link.href).split("/", 2)[:2])
        approvals = self.approvals if owner == self.stage.name else self._base_approvals(owner, bases)
        if approvals is None:
            return True  # a file of a base index that is not gated
        return approvals.file_approved(project, link.version, link.basename, link.hashes.get("sha256"))

    def _base_approvals(self, owner: str, bases: dict[str, Approvals | None]) -> Approvals | None:
        if owner not in bases:
            user, _, index = owner.partition("/")
            stage = self.stage.xom.model.getstage(user, index)
            gated = stage is None or is_gated(stage)
            bases[owner] = Approvals(self.stage.xom, user, index) if gated else None
        return bases[owner]

    def _safely(self, check: Any, *args: Any, default: Any = False) -> Any:
        """``check(*args)``, or ``default`` (hidden) if it raises: a filter must never fall silent."""
        try:
            return check(*args)
        except Exception:
            log.exception("tpp filter of %s failed; hiding the item", self.stage.name)
            return default


def customizer_classes() -> list[tuple[str, type]]:
    """What ``devpiserver_get_stage_customizer_classes`` returns."""
    return [(TYPE, TppStage)]
