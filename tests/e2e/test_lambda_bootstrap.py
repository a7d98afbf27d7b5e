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
import time
from datetime import datetime, timezone

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


def iso(epoch):
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


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


def test_a_panic_is_a_function_error_and_the_runtime_takes_the_next_invocation(testbed, small_fleet, bootstrap_bin, tmp_path):
    """A bug in the handler (a panic: debug builds panic on the event field `panic`) is the
    invocation's function error, readable, and the same runtime process serves the next one."""
    env = lfm_env(testbed, small_fleet, "lfmpanic")
    env["LFM_DRY_RUN"] = "true"
    log = tmp_path / "rie.log"
    rie = lambda_rie.start(cache_dir(), bootstrap_bin, env, log)
    try:
        panicked = rie.invoke({"panic": "a test-only panic"})
        after = rie.invoke(SCHEDULED_EVENT)
        pid_alive = rie.proc.poll() is None
    finally:
        rie.stop()
    error = panicked.json()
    assert error["errorType"] == "Panic", panicked.text
    assert "a test-only panic" in error["errorMessage"] and "no checkpoint moved" in error["errorMessage"], error
    assert after.status_code == 200 and after.json()["succeeded"] is True, after.text
    assert pid_alive
    text = log.read_text()
    # lambda_runtime posted the error and polled /next again: one runtime start, two invocations.
    assert text.count("INIT START") == 1 and text.count("invocation request_id=") == 2, text[-3000:]
    assert "invocation failed error=Panic: " in text, text[-3000:]


def checkpoints(opensearch, prefix):
    requests.post(f"{opensearch}/{prefix}-*/_refresh", timeout=30)
    r = requests.post(f"{opensearch}/{prefix}-state/_search", json={"size": 1000, "query": {"match_all": {}}}, timeout=30)
    r.raise_for_status()
    return {(h["_source"]["account_id"], h["_source"]["region"]): h["_source"]["complete_until"] for h in r.json()["hits"]["hits"]}


def test_near_the_deadline_the_run_stops_in_time_and_the_next_run_continues_without_gap(testbed, small_fleet, binaries, bootstrap_bin, tmp_path):
    """An invocation with a short function timeout stops before its deadline (RIE's
    AWS_LAMBDA_FUNCTION_TIMEOUT sets Lambda-Runtime-Deadline-Ms), says it was cut short, keeps
    its checkpoints consistent; the next invocation collects exactly the rest.

    The work: a backfill of 60 days from old checkpoints (about 86 GetMetricData chunks per
    account), more than the first invocation's 6 s allow."""
    opensearch, prefix = testbed["opensearch"], "lfmdeadline"
    requests.delete(f"{opensearch}/{prefix}-*", timeout=30)
    env = lfm_env(testbed, small_fleet, prefix)
    # Checkpoints 60 days back: the CLI collects an old, empty 5-minute window.
    old = (int(time.time()) // 300 - 60 * 288) * 300
    seed = subprocess.run([binaries["collector"], "run", "--output", "json"], capture_output=True, text=True, timeout=300,
                          env={**env, "LFM_START": iso(old), "LFM_END": iso(old + 300)})
    assert seed.returncode == 0, seed.stderr
    assert set(checkpoints(opensearch, prefix).values()) == {iso(old + 300)}
    for name in ("LFM_START", "LFM_END"):
        env.pop(name)  # from here on: from the checkpoints
    env.update({"LFM_SETTLE": "0s", "LFM_ACCOUNT_CONCURRENCY": "1", "LFM_BACKFILL": "61d"})
    timeout_s = 6

    rie = lambda_rie.start(cache_dir(), bootstrap_bin, {**env, "AWS_LAMBDA_FUNCTION_TIMEOUT": str(timeout_s)}, tmp_path / "rie1.log")
    try:
        started = time.monotonic()
        first = rie.invoke(SCHEDULED_EVENT)
        took = time.monotonic() - started
    finally:
        rie.stop()
    assert first.status_code == 200, first.text
    cut = first.json()
    assert "Task timed out" not in (tmp_path / "rie1.log").read_text()
    assert took < timeout_s, f"answered after {took:.1f} s, deadline {timeout_s} s"
    assert cut["succeeded"] is False and "before the invocation's deadline" in cut["cut_short"], cut
    after_first = checkpoints(opensearch, prefix)
    first_windows = {(w["account_id"], w["region"]): (w["start"], w["end"]) for w in cut["schedule"]["windows"]}
    for c in cut["schedule"]["checkpoints_advanced"]:
        assert c["end"] <= first_windows[(c["account_id"], c["region"])][1]

    rie = lambda_rie.start(cache_dir(), bootstrap_bin, env, tmp_path / "rie2.log")
    try:
        second = rie.invoke(SCHEDULED_EVENT).json()
    finally:
        rie.stop()
    assert second["succeeded"] is True and second["cut_short"] is None, second
    # The second run starts each pair where the first one's checkpoint stopped (or where the
    # first run started, when it moved none): no gap, no period collected twice.
    for w in second["schedule"]["windows"]:
        pair = (w["account_id"], w["region"])
        expected_start = after_first.get(pair) or first_windows[pair][0]
        assert parse_time(w["start"]) == parse_time(expected_start), (pair, w, after_first, first_windows)
    assert set(checkpoints(opensearch, prefix).values()) == {second["window"]["end"]}
    # Every period of the simulated fleet is there, once.
    truth = {(m["function_name"], parse_time(m["timestamp"])) for m in small_fleet["metrics"]}
    written = [(doc["function_name"], parse_time(doc["@timestamp"]))
               for (index, _), doc in documents(opensearch, prefix).items() if index.startswith("-metrics")]
    assert len(written) == len(set(written))
    assert set(written) == truth
