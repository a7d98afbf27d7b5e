"""simulate --deployments: four functions, three changed at T inside the window, with the
ground truth of each change, and the rest of the fleet unchanged."""

from __future__ import annotations

import statistics

import boto3
import requests

from lfm_testbed import deployments, simulator
from lfm_testbed.motoext.cloudwatch_percentiles import percentile

KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
NOW = 1_795_708_800 + 17  # fixed: the same window every run
PERIODS = 30


def lambda_of(moto_url, account_id, region):
    creds = boto3.client("sts", endpoint_url=moto_url, region_name="us-east-1", **KEYS).assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole", RoleSessionName="test")["Credentials"]
    return boto3.client("lambda", endpoint_url=moto_url, region_name=region,
                        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                        aws_session_token=creds["SessionToken"])


def sides(truth, name):
    """(before rows, after rows) of a function around the change time (the period of T left out)."""
    d = next(x for x in truth["deployments"] if x["function_name"] == name)
    t = deployments.change_time(window(truth), 300)
    rows = [m for m in truth["metrics"] if m["function_name"] == name and m["account_id"] == d["account_id"]]
    ts = lambda m: simulator.datetime.strptime(m["timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(  # noqa: E731
        tzinfo=simulator.timezone.utc).timestamp()
    return [m for m in rows if ts(m) + 300 <= t], [m for m in rows if ts(m) >= t]


def window(truth):
    start = simulator.datetime.strptime(truth["window"]["start"], "%Y-%m-%dT%H:%M:%SZ")
    end = simulator.datetime.strptime(truth["window"]["end"], "%Y-%m-%dT%H:%M:%SZ")
    tz = simulator.timezone.utc
    return int(start.replace(tzinfo=tz).timestamp()), int(end.replace(tzinfo=tz).timestamp())


def error_rate(rows):
    return sum(m["errors"] for m in rows) / sum(m["invocations"] for m in rows)


def p99(rows):
    return statistics.median(m["duration_p99_ms"] for m in rows)


def test_plans_are_pure_and_follow_the_scenarios():
    w = simulator.window_for(NOW, 300, PERIODS)
    a = deployments.plan_deployments(3, "us-east-1", w, 300)
    assert [p for p, _ in a] == [p for p, _ in deployments.plan_deployments(3, "us-east-1", w, 300)]
    assert [p.name for p, _ in a] == ["deploy-worse", "deploy-better", "deploy-same", "noisy-steady"]
    t = deployments.change_time(w, 300)
    assert w[0] < t < w[1] and t % 300 != 0
    for plan, _ in a:
        assert len(plan.periods) == PERIODS and all(n >= 1 for _, n, *_ in plan.periods)
        assert all(v < plan.timeout_s * 1000 for *_, samples in plan.periods for v, _ in samples)
        assert len(plan.logs) == PERIODS
    # Too few periods on a side: insufficient_data expected.
    short = simulator.window_for(NOW, 300, 10)
    assert deployments.expected_verdict(deployments.SCENARIOS[0], short, 300) == "insufficient_data"
    assert deployments.expected_verdict(deployments.SCENARIOS[0], w, 300) == "regressed"
    assert deployments.expected_verdict(deployments.SCENARIOS[3], w, 300) is None


def test_simulated_deployments(clean_moto):
    plain = simulator.simulate(clean_moto, accounts=1, functions_per_account=6, regions=["us-east-1"],
                               period=300, periods=PERIODS, seed=5, now=NOW)
    requests.post(clean_moto + "/moto-api/reset", timeout=30).raise_for_status()
    truth = simulator.simulate(clean_moto, accounts=1, functions_per_account=6, regions=["us-east-1"],
                               period=300, periods=PERIODS, seed=5, now=NOW, deployments=True)
    # The rest of the fleet: the same numbers (account IDs aside).
    strip = lambda rows: [{k: v for k, v in r.items() if k not in ("account_id", "function_arn")} for r in rows]  # noqa: E731
    assert strip(plain["metrics"]) == strip([m for m in truth["metrics"]
                                             if not m["function_name"].startswith(("deploy-", "noisy-"))])
    names = {d["function_name"]: d for d in truth["deployments"]}
    assert set(names) == {"deploy-worse", "deploy-better", "deploy-same", "noisy-steady"}
    assert [names[n]["expected_verdict"] for n in ("deploy-worse", "deploy-better", "deploy-same", "noisy-steady")] == \
        ["regressed", "improved", "unchanged", None]
    worse = names["deploy-worse"]
    assert worse["changed_at"].endswith("+0000") and worse["deployment_id_timestamp"].endswith("Z")
    assert worse["changes"] == [{"field": "code_sha256", "from": worse["code_sha256_before"],
                                 "to": worse["code_sha256_after"]}]
    assert names["noisy-steady"]["changes"] == [] and names["noisy-steady"]["changed_at"] is None

    # The numbers follow the plan on each side of T.
    before, after = sides(truth, "deploy-worse")
    assert len(before) >= 12 and len(after) >= 12
    assert error_rate(before) < 0.01 < 0.04 < error_rate(after)
    assert p99(after) > 2 * p99(before)
    before, after = sides(truth, "deploy-better")
    assert error_rate(after) < error_rate(before) / 3 and p99(after) < p99(before) / 2
    before, after = sides(truth, "deploy-same")
    assert abs(error_rate(after) - error_rate(before)) < 0.01 and 0.7 < p99(after) / p99(before) < 1.4
    noisy = [m for m in truth["metrics"] if m["function_name"] == "noisy-steady"]
    rates = [m["errors"] / m["invocations"] for m in noisy]
    assert max(rates) > 4 * min(r for r in rates if r > 0) and max(m["duration_p99_ms"] for m in noisy) > 3 * p99(noisy)

    # Created with the first code; the change is applied later, dated at T, as a user deploys.
    lam = lambda_of(clean_moto, worse["account_id"], worse["region"])
    first = {f["FunctionName"]: f for f in lam.list_functions()["Functions"]}
    assert all(first[n]["CodeSha256"] == names[n]["code_sha256_before"] for n in names)
    assert simulator.apply_deployments_of(clean_moto, truth) == 3
    listed = {f["FunctionName"]: f for f in lam.list_functions()["Functions"]}
    for name, d in names.items():
        assert listed[name]["CodeSha256"] == d["code_sha256_after"]
        if d["changed_at"]:
            assert listed[name]["LastModified"] == d["changed_at"]
        else:
            assert listed[name]["LastModified"] == first[name]["LastModified"]
    assert listed["deploy-same"]["Environment"]["Variables"] == {"FEATURE_FLAG": "on"}
    # Idempotent.
    assert simulator.apply_deployments_of(clean_moto, truth) == 0
