"""The host's CDN purging, as Warehouse's origin cache (``warehouse/cache/origin/__init__.py`` with
the keys of ``warehouse/packaging/__init__.py``): an ``after_flush`` listener collects the purge keys
of every new, changed or deleted File, Release and Project, and ``after_commit`` purges them; here
"purging" appends them to ``registry["host.purged"]`` of the session's app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy import inspect as sa_inspect

from .models import File, Project, Release, Session

#: ``session.info`` keys: the app's registry (set by ``request.db``), and the keys to purge at commit.
REGISTRY, _PURGES = "host.registry", "warehouse.cache.origin.purges"
_NON_CACHE_RELEVANT_ATTRS = frozenset({"releases", "files", "roles"})

#: class -> the purge keys of an object of it
PURGE_KEYS: dict[type, Callable[[Any], list[str]]] = {
    File: lambda f: [f"project/{f.release.project.normalized_name}"],
    Release: lambda r: [f"project/{r.project.normalized_name}", "all-projects"],
    Project: lambda p: [f"project/{p.normalized_name}", "all-projects"],
}


@event.listens_for(Session, "after_flush")
def _store_purge_keys(session: Any, flush_context: Any) -> None:
    purges = session.info.setdefault(_PURGES, set())
    for obj in session.new | session.dirty | session.deleted:
        keys = PURGE_KEYS.get(type(obj))
        if keys is None:
            continue
        changed = set(sa_inspect(obj).committed_state) if obj in session.dirty else set()
        if changed and changed <= _NON_CACHE_RELEVANT_ATTRS:
            continue
        purges.update(keys(obj))


@event.listens_for(Session, "after_commit")
def _execute_purge(session: Any) -> None:
    purges = session.info.pop(_PURGES, set())
    registry = session.info.get(REGISTRY)
    if purges and registry is not None:
        registry["host.purged"].append(purges)
