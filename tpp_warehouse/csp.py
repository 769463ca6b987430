"""Merging what TPP's pages need into a host's Content-Security-Policy instead of replacing it.

A host may set its own policy on every response: Warehouse's CSP tween (``warehouse/csp.py``)
serializes ``request.find_service(name="csp")`` into the header and overwrites whatever a page set,
before Pyramid's ``NewResponse`` subscribers run. TPP's pages then keep the host's policy, plus the
sources they cannot work without (:data:`NEEDS`): their own scripts, styles, images, JSON calls and
the service worker. Nothing the host allows is taken away, and nothing beyond TPP's needs is added.

Usage::

    merge("default-src 'none'; script-src 'self' https://cdn.example", NEEDS)
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["NEEDS", "merge", "parse", "serialize"]

SELF, NONE = "'self'", "'none'"

#: The sources TPP's pages use, per directive; each is served by the registry itself.
NEEDS: Mapping[str, tuple[str, ...]] = {
    "script-src": (SELF,),
    "style-src": (SELF,),
    "img-src": (SELF, "data:"),
    "connect-src": (SELF,),  # begin/decide/status JSON
    "worker-src": (SELF,),  # the service worker (sw.js)
    "form-action": (SELF,),
}

# A directive the host leaves out falls back to these (CSP Level 3); the merged directive starts from
# what the fallback allows, so adding it never widens what the host allowed before.
_FALLBACKS = {"worker-src": ("child-src", "script-src", "default-src")}
_FETCH_DIRECTIVES = frozenset({"script-src", "style-src", "img-src", "connect-src", "worker-src"})


def parse(header: str) -> dict[str, list[str]]:
    """``"a x y; b z"`` -> ``{"a": ["x", "y"], "b": ["z"]}``; a repeated directive keeps its first value.

    >>> parse("default-src 'none'; img-src 'self' data:")
    {'default-src': ["'none'"], 'img-src': ["'self'", 'data:']}
    """
    policy: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *sources = part.split() or [""]
        if name and name.lower() not in policy:
            policy[name.lower()] = sources
    return policy


def serialize(policy: Mapping[str, list[str]]) -> str:
    """The header value of a parsed policy.

    >>> serialize({"default-src": ["'none'"], "img-src": ["'self'", "data:"]})
    "default-src 'none'; img-src 'self' data:"
    """
    return "; ".join(" ".join([name, *sources]) for name, sources in policy.items())


def merge(header: str, needs: Mapping[str, tuple[str, ...]] = NEEDS) -> str:
    """The host's policy ``header`` with ``needs`` added; ``'none'`` goes once other sources join it.

    >>> merge("default-src 'none'; worker-src *.fastly-insights.com", {"worker-src": ("'self'",)})
    "default-src 'none'; worker-src *.fastly-insights.com 'self'"
    >>> merge("default-src 'none'", {"connect-src": ("'self'",)})
    "default-src 'none'; connect-src 'self'"
    """
    policy = parse(header)
    for directive, sources in needs.items():
        if directive not in policy:
            chain = _FALLBACKS.get(directive, ("default-src",)) if directive in _FETCH_DIRECTIVES else ()
            fallback = next((policy[f] for f in chain if f in policy), None)
            if fallback is None:
                continue  # left out with nothing to fall back to: the host does not restrict it
            policy[directive] = list(fallback)
        merged = policy[directive]
        merged.extend(s for s in sources if s not in merged)
        if NONE in merged and len(merged) > 1:
            merged.remove(NONE)
    return serialize(policy)


def __dir__() -> list[str]:
    return __all__
