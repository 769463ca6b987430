"""The host's Content-Security-Policy, as Warehouse's (``warehouse/csp.py``): a per-request policy
service (``request.find_service(name="csp")``) that a tween serializes into the header of every
response, overwriting whatever the page set; ``/simple/`` gets a sandbox of its own."""

from __future__ import annotations

import collections
import copy
from typing import Any

#: Warehouse's 2024 policy where it matters to TPP: default-src 'none', and a worker-src that
#: would block a service worker served by the registry itself.
POLICY = {
    "base-uri": ["'self'"],
    "connect-src": ["'self'", "https://api.github.com/repos/"],
    "default-src": ["'none'"],
    "font-src": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "img-src": ["'self'", "https://camo.example"],
    "script-src": ["'self'", "https://analytics.example"],
    "style-src": ["'self'"],
    "worker-src": ["*.fastly-insights.com"],
}


def _serialize(policy: dict[str, list[str]]) -> str:
    return "; ".join(" ".join([k, *[v for v in vs if v is not None]]) for k, vs in sorted(policy.items()))


def content_security_policy_tween_factory(handler: Any, registry: Any) -> Any:
    def tween(request: Any) -> Any:
        response = handler(request)
        try:
            policy = request.find_service(name="csp")
        except LookupError:
            policy = collections.defaultdict(list)
        if request.path.startswith("/simple/"):
            policy = collections.defaultdict(list, {"sandbox": ["allow-top-navigation"], "default-src": ["'none'"]})
        serialized = _serialize(policy)
        if serialized:
            response.headers["Content-Security-Policy"] = serialized
        return response

    return tween


def csp_factory(context: Any, request: Any) -> collections.defaultdict[str, list[str]]:
    return collections.defaultdict(list, copy.deepcopy(request.registry.settings.get("csp", POLICY)))


def includeme(config: Any) -> None:
    config.register_service_factory(csp_factory, name="csp")
    config.add_tween("tests.warehouse_host.csp.content_security_policy_tween_factory")
