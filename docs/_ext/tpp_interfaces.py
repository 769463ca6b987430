"""The ``tpp-interfaces`` directive: document the :mod:`zope.interface` ports of a module.

autodoc cannot document zope.interface interfaces (they are ``InterfaceClass`` instances, not
classes), so ``.. tpp-interfaces:: tpp_core.interfaces`` renders every interface in the module's
``__all__`` as a ``py:class`` with one ``py:method`` per declared method. Names and docstrings come
from the live interfaces; signatures, with their annotations, come from the module's source.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from collections.abc import Iterator
from types import ModuleType

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective
from sphinx.util.typing import ExtensionMetadata
from zope.interface.interface import InterfaceClass

__all__ = ["InterfacesDirective", "interface_lines", "setup"]


def _signatures(module: ModuleType) -> dict[tuple[str, str], str]:
    # zope.interface keeps argument names but drops annotations, so read them from the source.
    tree = ast.parse(inspect.getsource(module))
    found: dict[tuple[str, str], str] = {}
    for cls in tree.body:
        if not isinstance(cls, ast.ClassDef):
            continue
        for node in cls.body:
            if isinstance(node, ast.FunctionDef):
                returns = f" -> {ast.unparse(node.returns)}" if node.returns is not None else ""
                found[cls.name, node.name] = f"({ast.unparse(node.args)}){returns}"
    return found


def _indented(text: str, prefix: str) -> Iterator[str]:
    for line in inspect.cleandoc(text).splitlines():
        yield f"{prefix}{line}" if line else ""


def interface_lines(module: ModuleType) -> list[str]:
    """RST lines documenting each interface named in ``module.__all__``, in that order."""
    signatures = _signatures(module)
    lines: list[str] = []
    for name in module.__all__:
        interface = getattr(module, name)
        if not isinstance(interface, InterfaceClass):
            continue
        bases = ", ".join(f"{b.__module__}.{b.__name__}" for b in interface.__bases__)
        lines += [f".. py:class:: {name}", f"   :module: {module.__name__}", ""]
        lines += [f"   Interface; extends ``{bases}``.", ""]
        lines += [*_indented(interface.__doc__ or "", "   "), ""]
        for method_name in interface.names():
            method = interface[method_name]
            signature = signatures.get((name, method_name), method.getSignatureString())
            lines += [f"   .. py:method:: {method_name}{signature}", ""]
            lines += [*_indented(method.getDoc() or "", "      "), ""]
    return lines


class InterfacesDirective(SphinxDirective):
    """Render the zope.interface interfaces of the module named by the argument."""

    has_content = False
    required_arguments = 1
    optional_arguments = 0

    def run(self) -> list[nodes.Node]:
        """Import the module, note it as a dependency, and parse the generated RST."""
        module = importlib.import_module(self.arguments[0])
        if module.__file__ is not None:
            self.env.note_dependency(module.__file__)
        return self.parse_text_to_nodes("\n".join(interface_lines(module)))


def setup(app: Sphinx) -> ExtensionMetadata:
    """Register the directive."""
    app.add_directive("tpp-interfaces", InterfacesDirective)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
