"""Paths of the test bed cache and the run state file.

Everything downloaded or started lives under ``$LFM_CACHE`` (default ``~/.cache/lfm``):
``venv/``, ``terraform/``, ``opensearch/``, ``run/`` (logs, ``testbed.json``), ``crossbuild/``
(zig and cargo-zigbuild for the collector package: :mod:`lfm_testbed.crossbuild`), ``dist/``
(packages scripts/package-collector writes) and ``cargo-target-dist/`` (its release builds).
"""

from __future__ import annotations

import json
import os
from pathlib import Path


def cache_dir() -> Path:
    """$LFM_CACHE, or ~/.cache/lfm; created if missing."""
    path = Path(os.environ.get("LFM_CACHE") or Path.home() / ".cache" / "lfm").expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def run_dir(cache: Path | None = None) -> Path:
    """$LFM_CACHE/run (state of running services, logs, ground truth); created if missing."""
    path = (cache or cache_dir()) / "run"
    path.mkdir(parents=True, exist_ok=True)
    return path


def state_file(cache: Path | None = None) -> Path:
    """$LFM_CACHE/run/testbed.json."""
    return run_dir(cache) / "testbed.json"


def read_state(cache: Path | None = None) -> dict:
    """The recorded state, or {} when there is none (or it is unreadable)."""
    try:
        data = json.loads(state_file(cache).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_state(state: dict, cache: Path | None = None) -> Path:
    """Write the state file atomically and return its path."""
    path = state_file(cache)
    tmp = path.with_suffix(f".tmp.{os.getpid()}")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)
    return path
