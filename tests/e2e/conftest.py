"""Fixtures for LFM's end-to-end tests: the real test bed, the built binaries, a simulated fleet.

The test bed (moto, OpenSearch, Terraform 1.0.3, OpenTofu) comes from `lfm_testbed`; when
`scripts/test` already started it, its URLs arrive in LFM_MOTO_URL / LFM_OPENSEARCH_URL /
LFM_TERRAFORM / LFM_TOFU, otherwise the fixture starts it (and leaves it running for reuse).

Every test that uses `quickstart` runs once per client (`tf_client`: Terraform 1.0.3, the
oldest protocol-6 client, and OpenTofu), each with its own fleet and working directory.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest
import requests

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "testbed"))

from lfm_e2e import Terraform, cache_dir, install_provider  # noqa: E402


@pytest.fixture(scope="session")
def testbed():
    env = os.environ
    if not (env.get("LFM_MOTO_URL") and env.get("LFM_OPENSEARCH_URL") and env.get("LFM_TERRAFORM") and env.get("LFM_TOFU")):
        subprocess.run([sys.executable, "-m", "lfm_testbed", "up"], check=True, cwd=ROOT / "testbed")
        state = json.loads((cache_dir() / "run" / "testbed.json").read_text())
        return {"moto": state["moto"]["url"], "opensearch": state["opensearch"]["url"], "terraform": state["terraform"],
                "tofu": state["opentofu"]}
    return {"moto": env["LFM_MOTO_URL"], "opensearch": env["LFM_OPENSEARCH_URL"], "terraform": env["LFM_TERRAFORM"],
            "tofu": env["LFM_TOFU"]}


@pytest.fixture(scope="module", params=["terraform", "tofu"], ids=["terraform-1.0.3", "opentofu"])
def tf_client(request, testbed):
    """The client every quickstart step runs with: {"name": "terraform" | "tofu", "binary": path}."""
    return {"name": request.param, "binary": testbed[request.param]}


@pytest.fixture(scope="session")
def binaries():
    """Paths of terraform-provider-lfm and lfm-collector, built by cargo unless given."""
    provider = os.environ.get("LFM_PROVIDER_BIN")
    collector = os.environ.get("LFM_COLLECTOR_BIN")
    if not (provider and collector):
        target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", cache_dir() / "cargo-target"))
        subprocess.run(["cargo", "build", "--workspace", "--bins"], check=True, cwd=ROOT,
                       env={**os.environ, "CARGO_TARGET_DIR": str(target)})
        provider = str(target / "debug" / "terraform-provider-lfm")
        collector = str(target / "debug" / "lfm-collector")
    return {"provider": provider, "collector": collector}


@pytest.fixture(scope="module")
def fleet(testbed, tf_client, tmp_path_factory):
    """A fresh simulated organisation in moto: 2 member accounts, dozens of functions, metrics (one per client),
    SnapStart functions with restores, and 2 functions that print forged REPORT records (text, JSON)."""
    requests.post(testbed["moto"] + "/moto-api/reset", timeout=300).raise_for_status()
    out = tmp_path_factory.mktemp("fleet") / "ground_truth.json"
    subprocess.run(
        [sys.executable, "-m", "lfm_testbed", "simulate", "--moto-url", testbed["moto"],
         "--accounts", "2", "--functions-per-account", "30", "--regions", "us-east-1",
         "--period", "300", "--periods", "12", "--seed", "7", "--forgers", "2", "--out", str(out)],
        check=True, cwd=ROOT / "testbed")
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def plugin_dir(binaries, tmp_path_factory):
    return install_provider(binaries["provider"], tmp_path_factory.mktemp("plugins"))


@pytest.fixture(scope="module")
def quickstart(testbed, tf_client, plugin_dir, tmp_path_factory):
    """A copy of examples/quickstart in a temp dir, wired to the test bed."""
    work = tmp_path_factory.mktemp("tf") / "quickstart"
    shutil.copytree(ROOT / "examples" / "quickstart", work)
    return Terraform(tf_client["binary"], work, plugin_dir, testbed["moto"], name=tf_client["name"])
