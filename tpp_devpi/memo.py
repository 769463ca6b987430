"""What the filters remember across requests, so a page costs the same at any index size.

devpi measures the size of every keyfs value it hands out (to size its caches), so reading the
version data of the 300 versions a simple page lists costs more than serving the page of a plain
index. keyfs is versioned by serial, though, and every change is in its changelog: what was
computed from keyfs at serial S still holds at a later serial T if none of the keys it was computed
from changed between them. :class:`Memo` keeps each value with the serial it was computed at and
the names of what it depends on, and learns from the changelog (each serial's changes read once
per process, in order) the last serial at which each such name changed:

* a version's data (``PROJVERSION``, where its approval record lives): the key's path;
* anything of a project on an index (its versions, its simple links, a version's data):
  ``project:USER/INDEX/PROJECT``;
* any user record (index configurations, and so bases): ``config``.

A remembered value is used only if nothing it depends on changed since it was computed. Anything
the memo cannot vouch for (a write transaction, which may hold changes of its own; a request at a
serial older than the value) is computed from keyfs as before, so the memo answers only what the
same transaction would compute, and a simple page costs a dictionary lookup per file.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

__all__ = ["CONFIG", "Memo", "memo_of", "project_name"]

T = TypeVar("T")

#: The name that changes with any user record (and so with any index configuration).
CONFIG = "config"
#: How many values a process keeps.
CAPACITY = 100_000

_VERSION_KEY = "PROJVERSION"
_PROJECT_KEYS = frozenset((_VERSION_KEY, "PROJVERSIONS", "PROJSIMPLELINKS"))
_CONFIG_KEYS = frozenset(("USER", "USERLIST"))

_MEMOS: weakref.WeakKeyDictionary[Any, Memo] = weakref.WeakKeyDictionary()
_MEMOS_LOCK = threading.Lock()


def project_name(stage: str, project: str) -> str:
    """The name that changes with anything of (the normalized) ``project`` on ``stage``."""
    return f"project:{stage}/{project}"


class Memo:
    """The remembered values of one devpi server process (its ``keyfs``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: OrderedDict[Any, tuple[int, Any]] = OrderedDict()
        self._changed: dict[str, int] = {}  # name -> the last serial that changed it
        # Every change of a serial in (_since, _scanned] is in _changed; values are kept only if
        # computed at a serial in that range.
        self._since: int | None = None
        self._scanned = -1

    def get(self, keyfs: Any, key: Any, depends: Iterable[str], compute: Callable[[], T]) -> T:
        """The value remembered under ``key``, if nothing in ``depends`` changed since it was
        computed; else ``compute()`` in the caller's transaction (remembered for later)."""
        tx = keyfs.tx
        if tx.write:
            return compute()  # a write transaction may have changed keys without a serial yet
        serial = tx.at_serial
        self._scan(tx, serial)
        names = tuple(depends)
        found = self._values.get(key)
        if found is not None and found[0] <= serial and self._unchanged(names, found[0]):
            value: T = found[1]
            return value
        value = compute()
        with self._lock:
            if self._since is not None and self._since <= serial <= self._scanned and self._unchanged(names, serial):
                self._values[key] = (serial, value)
                self._values.move_to_end(key)
                if len(self._values) > CAPACITY:
                    self._values.popitem(last=False)
        return value

    def _unchanged(self, names: tuple[str, ...], serial: int) -> bool:
        changed = self._changed
        return all(changed.get(name, -1) <= serial for name in names)

    def _scan(self, tx: Any, serial: int) -> None:
        """Learn what changed up to ``serial`` from devpi's changelog."""
        if self._since is not None and serial <= self._scanned:
            return
        with self._lock:
            if self._since is None:
                self._since = self._scanned = serial  # nothing remembered yet: nothing to invalidate
                return
            for number in range(self._scanned + 1, serial + 1):
                for relpath, (keyname, *_rest) in tx.conn.get_changes(number).items():
                    if keyname in _PROJECT_KEYS:
                        user, index, project = relpath.split("/", 3)[:3]
                        self._changed[project_name(f"{user}/{index}", project)] = number
                        if keyname == _VERSION_KEY:
                            self._changed[relpath] = number
                    elif keyname in _CONFIG_KEYS:
                        self._changed[CONFIG] = number
                self._scanned = number


def memo_of(keyfs: Any) -> Memo:
    """The process's memo for ``keyfs`` (made on first use)."""
    with _MEMOS_LOCK:
        if keyfs not in _MEMOS:
            _MEMOS[keyfs] = Memo()
        return _MEMOS[keyfs]
