"""A release whose files are held but that no request covers yet: what the status JSON tells its
uploader (and the project's owners) in the moment between an upload and its request.

Usage::

    unopened = approvals.unopened(project, "1.0", person)  # None for anyone else
    unopened.state  # "opening": a request opens by itself; "no-policy": an owner must set one first
"""

from __future__ import annotations

from dataclasses import dataclass

from tpp_core import ProjectName, ReleaseFile

__all__ = ["Unopened"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Unopened:
    """The held files of one version that no request covers yet."""

    project: ProjectName
    version: str
    files: tuple[ReleaseFile, ...]
    #: A policy governs the project, or its owners get the default one: the request opens by itself
    #: (the upload hook, the host's job or its reconciliation has not run yet).
    governed: bool

    @property
    def state(self) -> str:
        """The status JSON's ``state``: ``"opening"`` or ``"no-policy"``."""
        return "opening" if self.governed else "no-policy"


def __dir__() -> list[str]:
    return __all__
