"""The collector as a Lambda function writing to an OpenSearch domain with IAM auth (SigV4).

`bootstrap` under AWS's Runtime Interface Emulator, configured as lfm_collector deploys it with
`opensearch_auth = "sigv4"` (LFM_OPENSEARCH_AUTH=sigv4, no user or password; credentials and
region from the environment as Lambda gives them to the execution role, session token
included), writes through lfm_testbed.sigv4_proxy: every request must pass the IAM check that
Amazon OpenSearch Service makes (signature verified with botocore) before it reaches the real
OpenSearch node. The documents must be exactly those of an unauthenticated CLI run of the same
fleet and window, retention's DELETE included in what was signed; signing for the wrong service
is refused and reported as a function error.
"""

import json
import subprocess
import sys
import time

import pytest
import requests

from lfm_e2e import cache_dir
from test_lambda_bootstrap import ROOT, SCHEDULED_EVENT, documents, lfm_env

sys.path.insert(0, str(ROOT / "testbed"))

from lfm_testbed import lambda_rie  # noqa: E402
from lfm_testbed.sigv4_proxy import Identity, Proxy  # noqa: E402

SESSION_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE/execution-role+session="


@pytest.fixture(scope="module")
def sigv4_fleet(testbed, tmp_path_factory):
    requests.post(testbed["moto"] + "/moto-api/reset", timeout=300).raise_for_status()
    out = tmp_path_factory.mktemp("fleet") / "ground_truth.json"
    subprocess.run(
        [sys.executable, "-m", "lfm_testbed", "simulate", "--moto-url", testbed["moto"],
         "--accounts", "2", "--functions-per-account", "6", "--regions", "us-east-1",
         "--period", "300", "--periods", "6", "--seed", "17", "--out", str(out)],
        check=True, cwd=ROOT / "testbed")
    return json.loads(out.read_text())


@pytest.fixture()
def iam_endpoint(testbed):
    """The IAM check of an Amazon OpenSearch Service domain (es, us-east-1) in front of the node."""
    proxy = Proxy(testbed["opensearch"], Identity("testing", "testing", SESSION_TOKEN, "es", "us-east-1")).start()
    yield proxy
    proxy.stop()


def sigv4_env(testbed, fleet, prefix, endpoint, service="es"):
    env = lfm_env(testbed, fleet, prefix)
    env.update({
        "LFM_OPENSEARCH_URL": endpoint,
        "LFM_OPENSEARCH_AUTH": "sigv4",
        "LFM_OPENSEARCH_SIGV4_SERVICE": service,
        "AWS_SESSION_TOKEN": SESSION_TOKEN,  # Lambda gives the execution role's session to the function
        "LFM_RETENTION_DAYS": "30",
    })
    return env


def bootstrap_path(binaries):
    import pathlib
    path = pathlib.Path(binaries["collector"]).with_name("bootstrap")
    if not path.is_file():
        subprocess.run(["cargo", "build", "-p", "lfm-collector", "--bin", "bootstrap"], check=True, cwd=ROOT)
    return str(path)


def test_lambda_writes_through_an_iam_checked_endpoint_what_the_cli_writes(
        testbed, sigv4_fleet, binaries, iam_endpoint, tmp_path):
    opensearch = testbed["opensearch"]
    stamp = int(time.time())
    cli_prefix, rie_prefix = f"lfmsig-cli-{stamp}", f"lfmsig-rie-{stamp}"
    # An expired daily index: retention must delete it, through the IAM check.
    expired = f"{rie_prefix}-metrics-2020.01.01"
    assert requests.put(f"{opensearch}/{expired}", timeout=30).ok

    try:
        cli = subprocess.run([binaries["collector"], "run", "--output", "json"],
                             env=lfm_env(testbed, sigv4_fleet, cli_prefix), capture_output=True, text=True, timeout=600)
        assert cli.returncode == 0, cli.stderr
        cli_summary = json.loads(cli.stdout)

        env = sigv4_env(testbed, sigv4_fleet, rie_prefix, iam_endpoint.url)
        rie = lambda_rie.start(cache_dir(), bootstrap_path(binaries), env, tmp_path / "rie.log")
        try:
            response = rie.invoke(SCHEDULED_EVENT)
        finally:
            rie.stop()
        assert response.status_code == 200, response.text
        summary = response.json()
        assert summary["succeeded"] is True, summary
        assert summary["documents_written"] == cli_summary["documents_written"] > 0

        records = iam_endpoint.records
        refused = [r for r in records if not r["verified"]]
        assert refused == [], refused
        assert all(r["session_token"] for r in records)
        methods = {(r["method"], r["path"].split("?")[0].rsplit("/", 1)[-1]) for r in records}
        assert ("POST", "_bulk") in methods and ("POST", "_mget") in methods, methods
        assert any(r["method"] == "PUT" and "/_index_template/" in r["path"] for r in records)
        assert any(r["method"] == "DELETE" and r["path"] == f"/{expired}" for r in records), records
        assert requests.head(f"{opensearch}/{expired}", timeout=30).status_code == 404

        from_cli, from_lambda = documents(opensearch, cli_prefix), documents(opensearch, rie_prefix)
        assert len(from_lambda) > len(sigv4_fleet["accounts"]) * 6
        assert from_lambda == from_cli

        # Signed for Serverless (aoss) at a managed domain: refused; a function error says why.
        env = sigv4_env(testbed, sigv4_fleet, rie_prefix, iam_endpoint.url, service="aoss")
        rie = lambda_rie.start(cache_dir(), bootstrap_path(binaries), env, tmp_path / "rie-aoss.log")
        try:
            wrong = rie.invoke(SCHEDULED_EVENT)
        finally:
            rie.stop()
        error = wrong.json()
        assert error["errorType"] == "RunFailed", error
        assert "403" in error["errorMessage"] and "'es'" in error["errorMessage"], error
    finally:
        for prefix in (cli_prefix, rie_prefix):
            requests.delete(f"{opensearch}/{prefix}-*", timeout=30)
            requests.delete(f"{opensearch}/_index_template/{prefix}*", timeout=30)
