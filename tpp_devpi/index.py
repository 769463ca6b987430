"""The ``tpp`` index type: a private index whose files stay hidden until approved.

Created the devpi way, ``devpi index -c rel type=tpp volatile=False`` (or ``PUT /user/rel`` with
``{"type": "tpp", "volatile": false}``). The filters answer exactly one boolean per item, False unless
:mod:`.gate` finds an approval record, because devpi keeps an item whenever a filter falls silent.
Which records decide for an item, and what may come from a mirror base, is :mod:`.bases`' job.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from functools import cached_property
from typing import Any

from .bases import Lineage, config_errors
from .gate import TYPE

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
        sets the exported ones; the rules are enforced for requests in :meth:`on_modified`, and the
        filters ignore what they forbid anyway."""

    def on_modified(self, request: Any, oldconfig: Any) -> None:
        """Refuse a configuration that could open a gated name or overwrite an approved file (only
        root may make a tpp index volatile, to delete it); a new index of an old name starts with no
        approvals (its records went with the old index's versions)."""
        errors = config_errors(self.stage)
        if self.stage.ixconfig.get("volatile", True) and request.authenticated_userid != "root":
            errors.insert(0, "a tpp index must not be volatile: create or modify it with volatile=False")
        if errors:
            request.apifatal(400, message="; ".join(errors))

    @cached_property
    def lineage(self) -> Lineage:
        return Lineage(self.stage)

    def get_projects_filter_iter(self, projects: Iterable[str]) -> Iterator[bool]:
        for project in projects:
            yield self._safely(self.lineage.project_visible, project)

    def get_versions_filter_iter(self, project: str, versions: Iterable[str]) -> Iterator[bool]:
        for version in versions:
            yield self._safely(self.lineage.version_visible, project, version)

    def get_simple_links_filter_iter(self, project: str, links: Any) -> Iterator[bool] | None:
        if links is None:
            return None
        return self._links_filter(project, links)

    def _links_filter(self, project: str, links: Iterable[Any]) -> Iterator[bool]:
        try:
            answers = self.lineage.link_answers(project)
        except Exception:
            log.exception("tpp: cannot look up the remembered answers of %s; checking each link", self.stage.name)
            answers = {}
        for link in links:
            try:
                answer = answers.get(link.href)
                if answer is None:
                    answer = answers[link.href] = bool(self.lineage.link_visible(project, link))
            except Exception:  # hidden, and not remembered: the next request checks again
                log.exception("tpp filter of %s failed; hiding the item", self.stage.name)
                answer = False
            yield answer

    def _safely(self, check: Any, *args: Any) -> bool:
        """``check(*args)``, or False (hidden) if it raises: a filter must never fall silent."""
        try:
            return bool(check(*args))
        except Exception:
            log.exception("tpp filter of %s failed; hiding the item", self.stage.name)
            return False


def customizer_classes() -> list[tuple[str, type]]:
    """What ``devpiserver_get_stage_customizer_classes`` returns."""
    return [(TYPE, TppStage)]
