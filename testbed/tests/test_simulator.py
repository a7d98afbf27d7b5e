"""The simulator's ground truth equals what moto serves back through the AWS APIs."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timezone

import boto3
import pytest

from lfm_testbed import simulator

KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
METRICS = [("inv", "Invocations", "Sum"), ("err", "Errors", "Sum"), ("thr", "Throttles", "Sum"),
           ("avg", "Duration", "Average"), ("max", "Duration", "Maximum")]


def parse(ts: str) -> datetime:
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def fleet(moto_url, tmp_path_factory):
    import requests

    requests.post(moto_url + "/moto-api/reset", timeout=30).raise_for_status()
    out = tmp_path_factory.mktemp("sim") / "truth.json"
    truth = simulator.simulate(moto_url, accounts=2, functions_per_account=14,
                               regions=["us-east-1", "eu-west-1"], period=300, periods=8,
                               seed=7, out=out)
    assert json.loads(out.read_text()) == truth
    return moto_url, truth


def session_for(moto_url, account_id, region):
    creds = boto3.client("sts", endpoint_url=moto_url, region_name="us-east-1", **KEYS).assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole",
        RoleSessionName="test")["Credentials"]
    return boto3.session.Session(aws_access_key_id=creds["AccessKeyId"],
                                 aws_secret_access_key=creds["SecretAccessKey"],
                                 aws_session_token=creds["SessionToken"], region_name=region)


def test_ground_truth_shape(fleet):
    _, truth = fleet
    assert set(truth) == {"organization_id", "management_account_id", "regions", "window",
                          "accounts", "functions", "metrics"}
    assert truth["management_account_id"] == "123456789012"
    assert truth["organization_id"].startswith("o-")
    start, end = parse(truth["window"]["start"]), parse(truth["window"]["end"])
    assert truth["window"]["period_seconds"] == 300
    assert (end - start).total_seconds() == 8 * 300 and end.timestamp() % 300 == 0
    assert end <= datetime.now(timezone.utc) and (datetime.now(timezone.utc) - end).total_seconds() < 300 + 120
    assert len(truth["accounts"]) == 2 and len(truth["functions"]) == 28
    for f in truth["functions"]:
        assert set(f) == {"account_id", "region", "function_name", "function_arn", "runtime",
                          "memory_mb", "timeout_s", "architecture", "package_type"}
        assert (f["runtime"] is None) == (f["package_type"] == "Image")
    for m in truth["metrics"]:
        assert isinstance(m["invocations"], int) and m["invocations"] >= 1
        assert isinstance(m["errors"], int) and 0 <= m["errors"] <= m["invocations"]
        assert isinstance(m["throttles"], int)
        assert isinstance(m["duration_avg_ms"], float) and m["duration_avg_ms"] <= m["duration_max_ms"]
        assert start <= parse(m["timestamp"]) < end and parse(m["timestamp"]).timestamp() % 300 == 0
    # variety: idle functions, idle periods, errors and throttles on some only
    active = {(m["account_id"], m["function_name"]) for m in truth["metrics"]}
    assert len(active) < len(truth["functions"])
    assert any(m["errors"] for m in truth["metrics"]) and not all(m["errors"] for m in truth["metrics"])
    assert any(m["throttles"] for m in truth["metrics"])


def test_organisation_and_accounts(fleet):
    moto_url, truth = fleet
    org = boto3.client("organizations", endpoint_url=moto_url, region_name="us-east-1", **KEYS)
    desc = org.describe_organization()["Organization"]
    assert desc["Id"] == truth["organization_id"] and desc["FeatureSet"] == "ALL"
    assert desc["MasterAccountId"] == "123456789012"
    listed = {a["Id"]: a for a in org.list_accounts()["Accounts"]}
    for acct in truth["accounts"]:
        assert listed[acct["account_id"]]["Name"] == acct["name"]
        assert listed[acct["account_id"]]["Email"] == acct["email"]


def test_functions_match_lambda(fleet):
    moto_url, truth = fleet
    want = {(f["account_id"], f["region"], f["function_name"]): f for f in truth["functions"]}
    got = {}
    for acct in truth["accounts"]:
        for region in truth["regions"]:
            lam = session_for(moto_url, acct["account_id"], region).client("lambda", endpoint_url=moto_url)
            for page in lam.get_paginator("list_functions").paginate():
                for f in page["Functions"]:
                    got[(acct["account_id"], region, f["FunctionName"])] = {
                        "account_id": acct["account_id"], "region": region,
                        "function_name": f["FunctionName"], "function_arn": f["FunctionArn"],
                        "runtime": f.get("Runtime"), "memory_mb": f["MemorySize"],
                        "timeout_s": f["Timeout"], "architecture": f["Architectures"][0],
                        "package_type": f.get("PackageType", "Zip")}
    assert got == want


def test_no_monitoring_role(fleet):
    moto_url, truth = fleet
    for acct in truth["accounts"]:
        iam = session_for(moto_url, acct["account_id"], "us-east-1").client("iam", endpoint_url=moto_url)
        names = {r["RoleName"] for r in iam.list_roles()["Roles"]}
        assert "LambdaMonitoringRole" not in names and "OrganizationAccountAccessRole" in names


def test_metrics_read_back_equal_ground_truth(fleet):
    """get_metric_data over the window (aligned StartTime) serves exactly the ground truth."""
    moto_url, truth = fleet
    start, end = parse(truth["window"]["start"]), parse(truth["window"]["end"])
    period = truth["window"]["period_seconds"]
    by_place = defaultdict(list)
    for f in truth["functions"]:
        by_place[(f["account_id"], f["region"])].append(f["function_name"])
    got = []
    for (account_id, region), names in by_place.items():
        cw = session_for(moto_url, account_id, region).client("cloudwatch", endpoint_url=moto_url)
        queries = [{"Id": f"{key}{i}", "MetricStat": {"Metric": {
            "Namespace": "AWS/Lambda", "MetricName": metric,
            "Dimensions": [{"Name": "FunctionName", "Value": name}]}, "Period": period, "Stat": stat}}
            for i, name in enumerate(names) for key, metric, stat in METRICS]
        results = {r["Id"]: r for r in cw.get_metric_data(
            MetricDataQueries=queries, StartTime=start, EndTime=end)["MetricDataResults"]}
        for i, name in enumerate(names):
            series = {key: {t.astimezone(timezone.utc): v for t, v in
                            zip(results[f"{key}{i}"]["Timestamps"], results[f"{key}{i}"]["Values"])}
                      for key, _, _ in METRICS}
            for t in sorted(series["inv"]):
                got.append({"account_id": account_id, "region": region, "function_name": name,
                            "timestamp": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
                            "invocations": int(series["inv"][t]),
                            "errors": int(series["err"].get(t, 0)),
                            "throttles": int(series["thr"].get(t, 0)),
                            "duration_avg_ms": series["avg"][t],
                            "duration_max_ms": series["max"][t]})
            # no errors, throttles or durations outside invoked periods
            for key in ("err", "thr", "avg", "max"):
                assert set(series[key]) <= set(series["inv"])
    key = lambda r: (r["account_id"], r["region"], r["function_name"], r["timestamp"])  # noqa: E731
    assert sorted(got, key=key) == truth["metrics"]


def test_plans_are_deterministic():
    window = (1_700_000_000 - 1_700_000_000 % 300 - 3600, 1_700_000_000 - 1_700_000_000 % 300)
    a = simulator.plan_account(42, 0, 30, ["us-east-1"], window, 300)
    b = simulator.plan_account(42, 0, 30, ["us-east-1"], window, 300)
    c = simulator.plan_account(43, 0, 30, ["us-east-1"], window, 300)
    assert a == b and a != c
    runtimes = {p.runtime for p in a}
    assert len(runtimes) >= 6
    assert all(p.memory_mb in dict(simulator.MEMORY_STEPS) for p in a)
    assert {p.architecture for p in a} == {"x86_64", "arm64"}


def test_simulator_volume_is_small():
    window = (1_700_000_000 - 1_700_000_000 % 300 - 3600, 1_700_000_000 - 1_700_000_000 % 300)
    plans = simulator.plan_account(42, 0, 30, ["us-east-1"], window, 300)
    points = sum(len(simulator.metric_data(p)) for p in plans)
    assert 100 <= points <= 1000
