"""Fixtures of the test bed's own tests: a patched moto server on a free port."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lfm_testbed import moto_server  # noqa: E402


@pytest.fixture(scope="session")
def moto_url(tmp_path_factory):
    run = tmp_path_factory.mktemp("moto-run")
    info = moto_server.start(run)
    try:
        yield info["url"]
    finally:
        moto_server.stop(info["pid"])


@pytest.fixture()
def clean_moto(moto_url):
    """moto with no state left by an earlier test."""
    requests.post(moto_url + "/moto-api/reset", timeout=30).raise_for_status()
    return moto_url
