"""CLI up/status/env/down (moto and the webhook receiver; OpenSearch has its own tests), cache paths, Terraform."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lfm_testbed import cache, moto_server, terraform, webhook_receiver

TESTBED = Path(__file__).resolve().parent.parent


def run_cli(env, *args, check=True):
    proc = subprocess.run([sys.executable, "-m", "lfm_testbed", *args], cwd=TESTBED, env=env,
                          capture_output=True, text=True, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def real_terraform():
    """Terraform from the real cache (downloaded there once, ~10 s)."""
    return terraform.ensure_installed(cache.cache_dir())


def test_terraform_is_1_0_3_and_not_from_path(real_terraform):
    assert real_terraform == cache.cache_dir() / "terraform" / "1.0.3" / "terraform"
    out = subprocess.run([str(real_terraform), "version"], capture_output=True, text=True,
                         env=dict(os.environ, CHECKPOINT_DISABLE="1")).stdout
    assert out.splitlines()[0] == "Terraform v1.0.3"
    assert terraform.ensure_installed(cache.cache_dir()) == real_terraform  # idempotent


def test_cache_paths(tmp_path, monkeypatch):
    monkeypatch.setenv("LFM_CACHE", str(tmp_path / "c"))
    assert cache.cache_dir() == tmp_path / "c"
    assert cache.run_dir() == tmp_path / "c" / "run" and cache.run_dir().is_dir()
    assert cache.state_file() == tmp_path / "c" / "run" / "testbed.json"
    assert cache.read_state() == {}
    cache.write_state({"a": 1})
    assert cache.read_state() == {"a": 1}


def test_up_reuses_then_down(tmp_path, real_terraform):
    lfm_cache = tmp_path / "cache"
    tf_dir = lfm_cache / "terraform" / "1.0.3"
    tf_dir.mkdir(parents=True)
    (tf_dir / "terraform").symlink_to(real_terraform)  # no second download
    env = dict(os.environ, LFM_CACHE=str(lfm_cache))
    env["PYTHONPATH"] = str(TESTBED)

    first = json.loads(run_cli(env, "up", "--no-opensearch", "--no-opentofu").stdout)
    try:
        assert moto_server.is_healthy(first["moto"]["url"])
        assert first["terraform"] == str(tf_dir / "terraform")
        state = json.loads((lfm_cache / "run" / "testbed.json").read_text())
        assert state == first and Path(state["moto"]["log"]) == lfm_cache / "run" / "moto.log"

        hook = first["webhook"]
        assert webhook_receiver.is_healthy(hook["url"], hook["ca_file"])
        assert Path(hook["ca_file"]) == lfm_cache / "webhook" / "ca.pem"

        second = json.loads(run_cli(env, "up", "--no-opensearch", "--no-opentofu").stdout)
        assert second["moto"] == first["moto"]  # healthy service reused
        assert second["webhook"] == first["webhook"]

        exports = run_cli(env, "env").stdout
        assert f"export LFM_MOTO_URL={first['moto']['url']}" in exports
        assert f"export LFM_TERRAFORM={first['terraform']}" in exports
        assert f"export LFM_WEBHOOK_URL={hook['url']}" in exports
        assert f"export LFM_WEBHOOK_CA_FILE={hook['ca_file']}" in exports
        assert f"export LFM_WEBHOOK_SECRET={hook['secret']}" in exports

        status = run_cli(env, "status", check=False)
        assert "moto: healthy" in status.stdout and status.returncode == 1  # no OpenSearch
        assert "webhook: healthy" in status.stdout
    finally:
        run_cli(env, "down")
    assert not moto_server.is_ours(first["moto"]["pid"])
    assert not moto_server.is_healthy(first["moto"]["url"])
    assert "moto" not in json.loads((lfm_cache / "run" / "testbed.json").read_text())
    assert not webhook_receiver.is_ours(hook["pid"])


def test_stop_refuses_foreign_pid():
    assert moto_server.stop(os.getpid()) is False
