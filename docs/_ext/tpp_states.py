"""The ``tpp-transitions`` directive: the request state table, read from the code at build time.

``.. tpp-transitions::`` renders one row per (state, event) pair of :data:`tpp_core.states.TRANSITIONS`,
in the table's own order, and one row per terminal state. The page is rebuilt whenever
``tpp_core/states.py`` changes, so the documented state machine cannot drift from the real one.
"""

from __future__ import annotations

from collections.abc import Mapping

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective
from sphinx.util.typing import ExtensionMetadata

from tpp_core import states
from tpp_core.events import Event

__all__ = ["TransitionsDirective", "setup", "transition_rows"]

TERMINAL_TEXT = "terminal (no event accepted)"
HEADER = ("State", "Event", "Next state")


def _state_ref(state: states.RequestState) -> str:
    # Show the stored value ("verifying") but link to the enum member's API entry.
    return f":attr:`{state.value} <tpp_core.states.RequestState.{state.name}>`"


def _event_ref(event: type[Event]) -> str:
    return f":class:`~{event.__module__}.{event.__qualname__}`"


def transition_rows(
    table: Mapping[states.RequestState, Mapping[type[Event], states.RequestState]],
) -> list[tuple[str, str, str]]:
    """Rows of RST cells (state, event, next state) for ``table``; terminal states get one row each."""
    rows: list[tuple[str, str, str]] = []
    for state, moves in table.items():
        if not moves:
            rows.append((_state_ref(state), TERMINAL_TEXT, "—"))
        for event, target in moves.items():
            rows.append((_state_ref(state), _event_ref(event), _state_ref(target)))
    return rows


class TransitionsDirective(SphinxDirective):
    """Render :data:`tpp_core.states.TRANSITIONS` as a three-column list table."""

    has_content = False
    required_arguments = 0
    optional_arguments = 0

    def run(self) -> list[nodes.Node]:
        """Build the table through ``list-table`` so that cells may hold cross-references."""
        self.env.note_dependency(states.__file__)
        lines = [".. list-table::", "   :header-rows: 1", "   :widths: auto", ""]
        for row in (HEADER, *transition_rows(states.TRANSITIONS)):
            first, *rest = row
            lines.append(f"   * - {first}")
            lines.extend(f"     - {cell}" for cell in rest)
        return self.parse_text_to_nodes("\n".join(lines))


def setup(app: Sphinx) -> ExtensionMetadata:
    """Register the directive."""
    app.add_directive("tpp-transitions", TransitionsDirective)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
