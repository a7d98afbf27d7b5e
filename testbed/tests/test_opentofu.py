"""OpenTofu built with Go from the module proxy: pinned version, idempotent install, `up`/`env` wiring."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lfm_testbed import cache, opentofu

TESTBED = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def real_tofu():
    """OpenTofu in the real cache (built there once: minutes on a fresh machine)."""
    return opentofu.ensure_installed(cache.cache_dir())


def test_installed_binary_reports_the_pinned_version(real_tofu):
    assert real_tofu == cache.cache_dir() / "opentofu" / opentofu.VERSION / "bin" / "tofu"
    env = {k: v for k, v in os.environ.items() if k != "TF_CLI_CONFIG_FILE"}  # may name a missing file
    out = subprocess.run([str(real_tofu), "version", "-json"], capture_output=True, text=True,
                         env=dict(env, CHECKPOINT_DISABLE="1"), timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["terraform_version"] == opentofu.VERSION  # not "-dev"
    assert opentofu.version_ok(real_tofu)


def test_second_ensure_installed_is_fast(real_tofu):
    t0 = time.monotonic()
    assert opentofu.ensure_installed(cache.cache_dir()) == real_tofu
    assert time.monotonic() - t0 < 5


def test_go_writes_only_under_the_cache(tmp_path):
    env = opentofu.go_env(tmp_path, tmp_path / "bin")
    for key in ("GOPATH", "GOMODCACHE", "GOCACHE", "GOBIN"):
        assert Path(env[key]).is_relative_to(tmp_path), key
    assert "-modcacherw" in env["GOFLAGS"] and env["CGO_ENABLED"] == "0"


def test_version_ok_rejects_other_binaries(tmp_path):
    fake = tmp_path / "tofu"
    fake.write_text("#!/bin/sh\necho 'OpenTofu v1.12.6-dev'\n")
    fake.chmod(0o755)
    assert not opentofu.version_ok(fake)
    assert not opentofu.version_ok(tmp_path / "missing")


def test_up_records_opentofu_and_env_exports_it(tmp_path, real_tofu):
    lfm_cache = tmp_path / "cache"
    for sub, target in ((Path("opentofu") / opentofu.VERSION / "bin" / "tofu", real_tofu),
                        (Path("terraform") / "1.0.3" / "terraform",
                         cache.cache_dir() / "terraform" / "1.0.3" / "terraform")):
        (lfm_cache / sub).parent.mkdir(parents=True)
        (lfm_cache / sub).symlink_to(target)  # no second build or download
    env = dict(os.environ, LFM_CACHE=str(lfm_cache), PYTHONPATH=str(TESTBED))

    def cli(*args, check=True):
        proc = subprocess.run([sys.executable, "-m", "lfm_testbed", *args], cwd=TESTBED, env=env,
                              capture_output=True, text=True, timeout=600)
        assert not check or proc.returncode == 0, proc.stderr
        return proc

    try:
        state = json.loads(cli("up", "--no-opensearch").stdout)
        tofu = str(lfm_cache / "opentofu" / opentofu.VERSION / "bin" / "tofu")
        assert state["opentofu"] == tofu
        assert f"export LFM_TOFU={tofu}" in cli("env").stdout
        assert f"opentofu: {tofu}\n" in cli("status", check=False).stdout
    finally:
        cli("down")
