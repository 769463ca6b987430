"""Sphinx configuration for the TPP documentation.

Build with ``sphinx-build -W --keep-going -b html docs docs/_build/html`` from the repository root.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
# The repository root, so that autodoc imports the tpp_core of this checkout even without ``pip install -e``.
sys.path.insert(0, str(DOCS.parent))
# Local extensions: tpp_states renders the request state table from tpp_core.states.TRANSITIONS;
# tpp_interfaces documents the zope.interface ports, which autodoc cannot.
sys.path.insert(0, str(DOCS / "_ext"))

project = "TPP"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
    "tpp_states",
    "tpp_interfaces",
]

exclude_patterns = ["_build"]
nitpicky = False

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True

html_theme = "alabaster"
html_title = "TPP — Trustable Package Publication"
