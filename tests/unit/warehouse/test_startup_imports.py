"""What loading the plugin imports: neither redis nor rq (only a registry with ``tpp.redis_url``
needs them) nor pywebpush with aiohttp (only a process that sends a push). Each costs a tenth of a
second at every devpi-server start and every ``tpp`` command."""

from __future__ import annotations

import subprocess
import sys

import pytest

LATER = ("redis", "rq", "pywebpush", "aiohttp")


@pytest.mark.parametrize("module", ["tpp_devpi.main", "tpp_warehouse.cli", "tpp_warehouse"])
def test_loading_the_plugin_leaves_the_queue_and_push_libraries_alone(module: str) -> None:
    script = f"import sys, {module}; print(sorted(set({LATER!r}) & set(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]", f"importing {module} loaded {loaded.strip()}"
