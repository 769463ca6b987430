"""What the plugin's code outside a web request needs: the Pyramid registry TPP was configured on.

The upload hook runs in devpi's notifier thread and the housekeeping in its own thread; both reach
TPP's services through :func:`tpp_warehouse.scripting.scripted` on this registry, as TPP's jobs do.
Neither the notifier nor a request may wait for the network, so they raise :attr:`Runtime.wake`
and the housekeeper sends the notifications (:mod:`.jobs`).
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from tpp_core import Scope

from .host import DevpiHost

__all__ = ["Runtime", "runtime_of"]

_RUNTIMES: weakref.WeakKeyDictionary[Any, Runtime] = weakref.WeakKeyDictionary()


class Runtime:
    """One per devpi server process (its ``xom``)."""

    def __init__(self, xom: Any, registry: Any, host: DevpiHost) -> None:
        self.xom = xom
        self.registry = registry
        self.host = host
        #: Set when new notifications wait in the outbox, or jobs in the queue.
        self.wake = threading.Event()
        #: The scopes of policies saved since the housekeeper last looked: uploads of their projects
        #: that waited for a policy can now open their requests.
        self.saved_scopes: set[Scope] = set()
        self._scopes_lock = threading.Lock()
        #: Held while a request is opened: the upload hook (devpi's notifier thread) and the
        #: reconciliation (the housekeeper's) may open the same release at the same time, and each
        #: would otherwise see no request yet and open one.
        self.opening = threading.Lock()
        #: (index, project, version) -> how many sweeps could not reconcile it (logged the first time).
        self.unsettled: dict[tuple[str, str, str], int] = {}
        _RUNTIMES[xom] = self

    def policy_saved(self, scope: Scope) -> None:
        """Have the housekeeper reconcile the projects ``scope`` covers (from a request thread)."""
        with self._scopes_lock:
            self.saved_scopes.add(scope)

    def take_saved_scopes(self) -> frozenset[Scope]:
        """The scopes saved since the last call (for the housekeeper), and forget them."""
        with self._scopes_lock:
            scopes, self.saved_scopes = frozenset(self.saved_scopes), set()
        return scopes


def runtime_of(xom: Any) -> Runtime | None:
    """The runtime set up for ``xom`` by the web configuration, or None (e.g. devpi-import)."""
    return _RUNTIMES.get(xom)
