"""The collector's Lambda entry point on a real Lambda Runtime API.

`bootstrap` (collector/src/bin/bootstrap.rs, the custom runtime for provided.al2023) runs under
AWS's Runtime Interface Emulator (lfm_testbed.lambda_rie), configured only by LFM_* environment
variables as lfm_collector deploys it, and is invoked with an EventBridge scheduled event. It
must write exactly the documents the CLI writes for the same fleet and window: same code path.
"""

import json
import os
import pathlib
import subprocess
import sys

import pytest
import requests

from lfm_e2e import aws_env, cache_dir

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "testbed"))

from lfm_testbed import lambda_rie  # noqa: E402

ROLE = "OrganizationAccountAccessRole"  # exists in every member account moto creates
SCHEDULED_EVENT = {
    "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event",
    "source": "aws.events", "account": "123456789012", "time": "2026-11-26T12:00:00Z",
    "region": "us-east-1", "resources": ["arn:aws:events:us-east-1:123456789012:rule/lfm-collector"],
    "detail": {},
}


@pytest.fixture(scope="module")
def small_fleet(testbed, tmp_path_factory):
    requests.post(testbed["moto"] + "/moto-api/reset", timeout=300).raise_for_status()
    out = tmp_path_factory.mktemp("fleet") / "ground_truth.json"
    subprocess.run(
        [sys.executable, "-m", "lfm_testbed", "simulate", "--moto-url", testbed["moto"],
         "--accounts", "2", "--functions-per-account", "8", "--regions", "us-east-1",
         "--period", "300", "--periods", "6", "--seed", "11", "--out", str(out)],
        check=True, cwd=ROOT / "testbed")
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def bootstrap_bin(binaries):
    path = pathlib.Path(binaries["collector"]).with_name("bootstrap")
    if not path.is_file():
        subprocess.run(["cargo", "build", "-p", "lfm-collector", "--bin", "bootstrap"], check=True, cwd=ROOT)
    return str(path)


def lfm_env(testbed, fleet, prefix):
    window = fleet["window"]
    env = aws_env(testbed["moto"])
    env.update({
        "AWS_REGION": "us-east-1",  # as Lambda sets it
        "LFM_ACCOUNTS": ",".join(a["account_id"] for a in fleet["accounts"]),
        "LFM_ROLE_NAME": ROLE,
        "LFM_REGIONS": ",".join(fleet["regions"]),
        "LFM_OPENSEARCH_URL": testbed["opensearch"],
        "LFM_INDEX_PREFIX": prefix,
        "LFM_START": window["start"],
        "LFM_END": window["end"],
        "LFM_PERIOD": str(window["period_seconds"]),
    })
    return env


def documents(opensearch, prefix):
    requests.post(f"{opensearch}/{prefix}-*/_refresh", timeout=30)
    r = requests.post(f"{opensearch}/{prefix}-metrics-*,{prefix}-inventory/_search",
                      json={"size": 10000, "query": {"match_all": {}}}, timeout=30)
    r.raise_for_status()
    out = {}
    for hit in r.json()["hits"]["hits"]:
        source = dict(hit["_source"])
        source.pop("collected_at", None)  # the time of each run
        if hit["_index"].endswith("-inventory"):
            source.pop("@timestamp", None)  # = collected_at
        out[(hit["_index"].removeprefix(prefix), hit["_id"])] = source
    return out


def test_bootstrap_under_rie_writes_what_the_cli_writes(testbed, small_fleet, binaries, bootstrap_bin, tmp_path):
    opensearch = testbed["opensearch"]
    for prefix in ("lfmcli", "lfmrie"):
        requests.delete(f"{opensearch}/{prefix}-*", timeout=30)

    cli = subprocess.run([binaries["collector"], "run", "--output", "json"], env=lfm_env(testbed, small_fleet, "lfmcli"),
                         capture_output=True, text=True, timeout=600)
    assert cli.returncode == 0, cli.stderr
    cli_summary = json.loads(cli.stdout)

    rie = lambda_rie.start(cache_dir(), bootstrap_bin, lfm_env(testbed, small_fleet, "lfmrie"), tmp_path / "rie.log")
    try:
        response = rie.invoke(SCHEDULED_EVENT)
        bad = rie.invoke({"backfil": "6h"})  # a typo in the event is refused, naming the field
    finally:
        rie.stop()
    assert response.status_code == 200, response.text
    summary = response.json()
    assert summary["succeeded"] is True, summary
    assert summary["accounts_ok"] == len(small_fleet["accounts"])
    assert summary["documents_written"] == cli_summary["documents_written"] > 0
    # A function error, as Lambda returns it: errorType + errorMessage naming the field.
    assert bad.json()["errorType"] == "InvalidEvent" and "`backfil`" in bad.json()["errorMessage"], bad.text

    from_cli, from_lambda = documents(opensearch, "lfmcli"), documents(opensearch, "lfmrie")
    assert len(from_lambda) > len(small_fleet["accounts"]) * 8  # inventory and metrics documents
    assert from_lambda.keys() == from_cli.keys()
    assert from_lambda == from_cli
