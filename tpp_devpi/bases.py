"""What a ``tpp`` index inherits from its bases, and which bases it may have.

A ``tpp`` index *gates* a name when it, or a ``tpp`` index among its bases (transitively, in devpi's
stage resolution order), holds uploads of it. For a gated name it serves only files that a ``tpp``
index's records approve, whatever its ``bases`` or ``mirror_whitelist`` say: a mirror's copy of a
gated name is hidden (links, versions and version data), so a public upload of the same name cannot
reach its installers (dependency confusion). Names it does not gate may come from a mirror base, as
devpi users expect for public dependencies.

A plain (``stage``) index is never inherited by a ``tpp`` index, and never inherits one
(:func:`skips_base`): nobody approved a plain index's files, and a plain index would show a ``tpp``
base's files through its own, empty filters. :func:`config_errors` also refuses such a base, and a
whitelist entry that names a gated name, when an index is created or modified, so the owner learns
why; devpi-import (which calls no ``on_modified``) gets the same filtering without the message::

    >>> from types import SimpleNamespace as Stage
    >>> skips_base(Stage(ixconfig={"type": "tpp"}), Stage(ixconfig={"type": "stage"}))
    True
    >>> skips_base(Stage(ixconfig={"type": "tpp"}), Stage(ixconfig={"type": "mirror"})) is None
    True
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any, TypeVar

from .gate import Approvals, holds, index_type, is_gated, normalize_name
from .memo import CONFIG, memo_of, project_name

__all__ = ["MIRROR", "Lineage", "config_errors", "is_mirror", "skips_base"]

T = TypeVar("T")

#: devpi's type of an index that mirrors another package index.
MIRROR = "mirror"


def is_mirror(stage: Any) -> bool:
    """Whether ``stage`` is a mirror index (an unreadable config is no mirror)."""
    return index_type(stage) == MIRROR


def skips_base(stage: Any, base_stage: Any) -> bool | None:
    """``devpiserver_sro_skip``: whether ``stage`` (the index being read) ignores ``base_stage``.

    devpi asks it for every base of the resolution order, transitive ones included, always with the
    index being read as ``stage``; a skipped base's own bases are not visited either.
    """
    if is_gated(base_stage):
        return None if is_gated(stage) else True
    if is_gated(stage) and not is_mirror(base_stage):
        return True
    return None


class Lineage:
    """A ``tpp`` index and the ``tpp`` indexes among its bases: whose records decide which file.

    Built once per customizer (one per keyfs transaction); everything is read lazily and cached.
    """

    def __init__(self, stage: Any) -> None:
        self.stage = stage
        self._holders: dict[str, list[Any]] = {}
        self._approvals: dict[str, Approvals] = {}

    @cached_property
    def gating(self) -> tuple[Any, ...]:
        """The ``tpp`` indexes of the resolution order, the index itself first."""
        return tuple(stage for stage in self.stage.sro() if is_gated(stage))

    @cached_property
    def _by_name(self) -> dict[str, Any]:
        return {stage.name: stage for stage in self.gating}

    def approvals(self, stage: Any) -> Approvals:
        """The records of one of :attr:`gating`."""
        if stage.name not in self._approvals:
            self._approvals[stage.name] = Approvals(stage)
        return self._approvals[stage.name]

    def holders(self, project: str) -> list[Any]:
        """The gating indexes that hold ``project``, in resolution order (one small keyfs value per
        index, the project's versions, never the index's list of projects; remembered across
        requests as :meth:`link_answers` are)."""
        name = normalize_name(project)
        if name not in self._holders:
            names = self._remembered(
                "holders", name, lambda: tuple(stage.name for stage in self.gating if holds(stage, name))
            )
            self._holders[name] = [self._by_name[stage] for stage in names]
        return self._holders[name]

    def gates(self, project: str) -> bool:
        """Whether a gating index holds uploads of ``project``."""
        return bool(self.holders(project))

    def project_visible(self, project: str) -> bool:
        """A gated project shows once a gating index approved one of its versions (remembered
        across requests, as :meth:`link_answers` are)."""
        return self._remembered("project", project, lambda: self._project_visible(project))

    def _project_visible(self, project: str) -> bool:
        holders = self.holders(project)
        if not holders:
            return True  # a mirror's name that no tpp index gates
        name = normalize_name(project)
        return any(
            self.approvals(stage).version_approved(name, version)
            for stage in holders
            for version in stage.list_versions_perstage(name)
        )

    def version_visible(self, project: str, version: str) -> bool:
        """A version of a gated project shows if the first gating index holding it approved it: that
        index's version data is what devpi answers with, so no later base can speak for it."""
        holders = self.holders(project)
        if not holders:
            return True
        name = normalize_name(project)
        for stage in holders:
            if version in stage.list_versions_perstage(name):
                return self.approvals(stage).version_approved(name, version)
        return False  # only a mirror has it

    def link_answers(self, project: str) -> dict[str, bool]:
        """:meth:`link_visible`'s answers for the project's links, by ``href`` (which holds the
        sha256): remembered across requests until the project changes on one of :attr:`gating`,
        or an index configuration changes (:mod:`.memo`)."""
        return self._remembered("links", project, dict)

    def _remembered(self, kind: str, project: str, compute: Callable[[], T]) -> T:
        """``compute()``, or its value remembered while nothing of ``project`` changed on a gating
        index and no index configuration changed."""
        name = normalize_name(project)
        depends = (CONFIG, *(project_name(stage.name, name) for stage in self.gating))
        return memo_of(self.stage.keyfs).get(self.stage.keyfs, (kind, self.stage.name, name), depends, compute)

    def link_visible(self, project: str, link: Any) -> bool:
        """A file shows if the gating index it belongs to approved its exact bytes, or if it is a
        mirror's file of a name no gating index holds."""
        owner = "/".join(str(link.href).split("/", 2)[:2])
        stage = self._by_name.get(owner)
        if stage is not None:
            return self.approvals(stage).file_approved(project, link.version, link.basename, link.hashes.get("sha256"))
        if self.gates(project):
            return False
        base = self.stage.xom.model.getstage(owner)
        return base is not None and is_mirror(base)  # a plain index's file is never served here


def config_errors(stage: Any) -> list[str]:
    """Why the (new) configuration of the ``tpp`` index ``stage`` would open a gated name, if it would."""
    errors = []
    for base in stage.ixconfig.get("bases", ()):
        base_stage = stage.xom.model.getstage(base)
        if base_stage is not None and not is_gated(base_stage) and not is_mirror(base_stage):
            errors.append(
                f"a tpp index inherits only from tpp indexes and mirrors, and {base} is a"
                f" {base_stage.ixconfig.get('type')!r} index whose files nobody approved"
            )
    lineage = Lineage(stage)
    for entry in stage.ixconfig.get("mirror_whitelist", ()):
        if entry == "*":
            errors.append("mirror_whitelist=* would let a mirror serve the names this tpp index gates")
        elif lineage.gates(entry):
            errors.append(
                f"mirror_whitelist names {entry}, which this tpp index gates: only approved files of it are served"
            )
    return errors
