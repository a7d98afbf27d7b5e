"""The simulator's ground truth equals what moto serves back through the AWS APIs."""

from __future__ import annotations

import json
import math
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
                               seed=7, out=out, forgers=2)
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
    assert len(truth["accounts"]) == 2 and len(truth["functions"]) == 28 + 2  # 2 forgers
    for f in truth["functions"]:
        assert set(f) == {"account_id", "region", "function_name", "function_arn", "runtime",
                          "memory_mb", "timeout_s", "architecture", "package_type",
                          "log_format", "snap_start", "lambda_insights", "forges_reports"}
        assert f["log_format"] in ("Text", "JSON") and isinstance(f["snap_start"], bool)
        assert isinstance(f["lambda_insights"], bool)
        assert not f["snap_start"] or f["runtime"] == "java21"
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
    # log_format and snap_start are not readable back: moto 5.2.5 stores neither LoggingConfig nor SnapStart;
    # lambda_insights (the extension layer) shows in the LambdaInsights metrics only, forges_reports
    # in the logs only
    want = {(f["account_id"], f["region"], f["function_name"]):
            {k: v for k, v in f.items() if k not in ("log_format", "snap_start", "lambda_insights", "forges_reports")}
            for f in truth["functions"]}
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
    base_fields = ("account_id", "region", "function_name", "timestamp", "invocations", "errors",
                   "throttles", "duration_avg_ms", "duration_max_ms")
    assert sorted(got, key=key) == [{k: m[k] for k in base_fields} for m in truth["metrics"]]


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


LOG_FIELDS = {"duration_p50_ms", "duration_p90_ms", "duration_p99_ms", "concurrency_max", "cold_starts",
              "cold_start_rate", "init_duration_avg_ms", "init_duration_max_ms", "snapstart_restores",
              "restore_duration_max_ms", "max_memory_used_mb", "memory_utilization", "timeouts",
              "timeout_proximity_max", "timeout_proximity_p99", "billed_duration_ms_sum", "gb_seconds",
              "request_cost_usd", "compute_cost_usd", "cost_usd"}

# One Logs Insights query for both log formats: REPORT text lines (auto-discovered @fields,
# Restore Duration parsed) and JSON platform.report records (auto-discovered dotted fields).
REPORT_QUERY = r"""
parse @message /\tRestore Duration: (?<restore>[\d.]+) ms/
| parse @message /\tBilled Restore Duration: (?<billedRestore>[\d.]+) ms/
| filter @type = "REPORT" or type = "platform.report"
| fields coalesce(@duration, record.metrics.durationMs) as d,
         coalesce(@billedDuration, record.metrics.billedDurationMs)
           + coalesce(billedRestore, record.metrics.billedRestoreDurationMs, 0) as billed,
         coalesce(@maxMemoryUsed, record.metrics.maxMemoryUsedMB) as mem,
         coalesce(@initDuration, record.metrics.initDurationMs) as init,
         coalesce(restore, record.metrics.restoreDurationMs) as rst
| stats count(*) as n, sum(billed) as billed_sum, max(mem) as mem_max, count(init) as inits,
        avg(init) as init_avg, max(init) as init_max, count(rst) as restores, max(rst) as restore_max,
        pct(d, 50) as p50, pct(d, 90) as p90, pct(d, 99) as p99, max(d) as d_max
  by @log, bin(5m) as t
| limit 10000"""
TIMEOUT_QUERY = r"""
filter (@type = "REPORT" and @message like /\tStatus: timeout/) or @message like /Task timed out after/
       or (type = "platform.report" and record.status = "timeout")
| stats count(*) as timeouts by @log, bin(5m) as t"""


def insights(logs, groups, start, end, query):
    qid = logs.start_query(logGroupNames=groups, startTime=int(start.timestamp()),
                           endTime=int(end.timestamp()) - 1, queryString=query)["queryId"]
    res = logs.get_query_results(queryId=qid)
    assert res["status"] == "Complete"
    return [{f["field"]: f["value"] for f in row} for row in res["results"]]


def test_ground_truth_log_fields(fleet):
    _, truth = fleet
    for m in truth["metrics"]:
        assert LOG_FIELDS <= set(m)
        f = next(x for x in truth["functions"] if (x["account_id"], x["function_name"]) ==
                 (m["account_id"], m["function_name"]))
        assert m["duration_p50_ms"] <= m["duration_p90_ms"] <= m["duration_p99_ms"] <= m["duration_max_ms"]
        assert 1 <= m["concurrency_max"] <= m["invocations"]
        assert 0 <= m["cold_starts"] <= m["invocations"] and m["cold_start_rate"] == m["cold_starts"] / m["invocations"]
        assert (m["init_duration_avg_ms"] is None) == (m["cold_starts"] - m["snapstart_restores"] == 0)
        assert m["snapstart_restores"] == 0 or f["snap_start"]
        assert 1 <= m["max_memory_used_mb"] <= f["memory_mb"]
        assert m["memory_utilization"] == m["max_memory_used_mb"] / f["memory_mb"]
        assert m["timeout_proximity_max"] == m["duration_max_ms"] / (f["timeout_s"] * 1000)
        assert m["timeout_proximity_max"] <= 1.0 and (m["timeouts"] > 0) == (m["timeout_proximity_max"] == 1.0)
        assert m["billed_duration_ms_sum"] >= math.ceil(m["duration_avg_ms"] * m["invocations"] - 1e-6)
        assert m["gb_seconds"] == m["billed_duration_ms_sum"] * f["memory_mb"] / 1024 / 1000
        per_gbs = {"x86_64": 0.0000166667, "arm64": 0.0000133334}[f["architecture"]]
        assert m["request_cost_usd"] == pytest.approx(m["invocations"] * 0.2e-6)
        assert m["compute_cost_usd"] == pytest.approx(m["gb_seconds"] * per_gbs)
        assert m["cost_usd"] == pytest.approx(m["request_cost_usd"] + m["compute_cost_usd"])
    ms = truth["metrics"]
    assert any(m["cold_starts"] for m in ms) and any(m["cold_starts"] < m["invocations"] for m in ms)
    assert any(m["timeouts"] for m in ms)
    assert {f["log_format"] for f in truth["functions"]} == {"Text", "JSON"}
    utils = [m["memory_utilization"] for m in ms]
    assert max(utils) > 0.85 and min(utils) < 0.25


def test_variety_of_a_default_fleet():
    """2 accounts x 30 functions, seed 42 (the CLI default): SnapStart functions, JSON and
    text formats, timeouts of both styles."""
    window = (1_795_708_800 - 3600, 1_795_708_800)
    plans = [p for i in range(2) for p in simulator.plan_account(42, i, 30, ["us-east-1"], window, 300)]
    active = [p for p in plans if p.logs]
    assert any(p.snap_start for p in active) and {p.log_format for p in active} == {"Text", "JSON"}
    timeouts = [(p.runtime, p.log_format) for p in active for pl in p.logs for i in pl.invocations if i.timeout]
    assert any(r in simulator.OLD_TIMEOUT_STYLE for r, _ in timeouts)
    assert any(r not in simulator.OLD_TIMEOUT_STYLE and f == "Text" for r, f in timeouts)
    # every invocation's duration is one of its period's Duration samples, counts included
    for p in active:
        for (t, n, _, _, samples), pl in zip(p.periods, p.logs):
            assert sorted(i.duration_ms for i in pl.invocations) == sorted(float(v) for v, c in samples for _ in range(c))
            assert all(t * 1000 < i.ts_ms < (t + 300) * 1000 for i in pl.invocations)


def test_report_truth_equals_logs_insights_and_metrics(fleet):
    """The REPORT-derived ground truth equals a Logs Insights stats query through the
    patched moto, and the Duration percentiles / ConcurrentExecutions equal GetMetricData."""
    moto_url, truth = fleet
    start, end = parse(truth["window"]["start"]), parse(truth["window"]["end"])
    active = defaultdict(list)
    for m in truth["metrics"]:
        if m["function_name"] not in active[(m["account_id"], m["region"])]:
            active[(m["account_id"], m["region"])].append(m["function_name"])
    want = {(m["account_id"], m["function_name"], m["timestamp"]): m for m in truth["metrics"]}
    got = {}
    for (account_id, region), names in active.items():
        session = session_for(moto_url, account_id, region)
        logs = session.client("logs", endpoint_url=moto_url)
        groups = [f"/aws/lambda/{n}" for n in names]
        timeouts = {}
        for i in range(0, len(groups), 50):
            rows = insights(logs, groups[i:i + 50], start, end, REPORT_QUERY)
            for r in insights(logs, groups[i:i + 50], start, end, TIMEOUT_QUERY):
                timeouts[(r["@log"], r["t"])] = int(r["timeouts"])
            for r in rows:
                acct, group = r["@log"].split(":", 1)
                ts = r["t"].replace(" ", "T").replace(".000", "Z")
                key = (acct, group[len("/aws/lambda/"):], ts)
                got[key] = r
                r["timeouts"] = timeouts.get((r["@log"], r["t"]), 0)
        # percentiles and concurrency through GetMetricData
        cw = session.client("cloudwatch", endpoint_url=moto_url)
        stats = [("p50", "Duration", "p50"), ("p90", "Duration", "p90"), ("p99", "Duration", "p99"),
                 ("conc", "ConcurrentExecutions", "Maximum")]
        queries = [{"Id": f"{k}{j}", "MetricStat": {"Metric": {
            "Namespace": "AWS/Lambda", "MetricName": metric,
            "Dimensions": [{"Name": "FunctionName", "Value": name}]}, "Period": 300, "Stat": stat}}
            for j, name in enumerate(names) for k, metric, stat in stats]
        res = {r["Id"]: r for r in cw.get_metric_data(MetricDataQueries=queries, StartTime=start,
                                                      EndTime=end)["MetricDataResults"]}
        for j, name in enumerate(names):
            for k, field in (("p50", "duration_p50_ms"), ("p90", "duration_p90_ms"),
                             ("p99", "duration_p99_ms"), ("conc", "concurrency_max")):
                series = {t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"): v
                          for t, v in zip(res[f"{k}{j}"]["Timestamps"], res[f"{k}{j}"]["Values"])}
                expect = {m["timestamp"]: float(m[field]) for m in truth["metrics"]
                          if (m["account_id"], m["function_name"]) == (account_id, name)}
                assert series == expect, (name, k)
    assert set(got) == set(want)

    def num(r, k):
        return float(r[k]) if k in r else None

    forged = 0
    for key, m in want.items():
        r = got[key]
        # A forged record is read like the platform's: Logs Insights alone cannot tell them apart.
        assert int(r["n"]) == m["invocations"] + m["forged_reports"], key
        if m["forged_reports"]:
            forged += 1
            continue
        assert int(r["billed_sum"]) == m["billed_duration_ms_sum"], key
        assert int(r["mem_max"]) == m["max_memory_used_mb"], key
        assert int(r["inits"]) + int(r["restores"]) == m["cold_starts"], key
        assert int(r["restores"]) == m["snapstart_restores"], key
        assert num(r, "init_avg") == m["init_duration_avg_ms"] and num(r, "init_max") == m["init_duration_max_ms"], key
        assert num(r, "restore_max") == m["restore_duration_max_ms"], key
        assert (num(r, "p50"), num(r, "p90"), num(r, "p99"), num(r, "d_max")) == \
            (m["duration_p50_ms"], m["duration_p90_ms"], m["duration_p99_ms"], m["duration_max_ms"]), key
        assert r["timeouts"] == m["timeouts"], key
    assert forged >= 4, "both forgers forged in several periods"
    restored = [m for m in want.values() if m["snapstart_restores"]]
    assert restored and all(m["billed_restore_duration_ms_sum"] > 0 for m in restored), \
        "the fleet has SnapStart restores, and they are billed"


def test_idle_share_sets_the_share_of_functions_without_activity():
    from lfm_testbed.simulator import plan_account

    window = (1_700_000_100 - 3600, 1_700_000_100 - 100)
    all_idle = plan_account(1, 0, 40, ["us-east-1"], window, 300, idle_share=1.0)
    none_idle = plan_account(1, 0, 40, ["us-east-1"], window, 300, idle_share=0.0)
    assert all(p.idle and not p.periods for p in all_idle)
    assert not any(p.idle for p in none_idle)
    seventy = plan_account(1, 0, 400, ["us-east-1"], window, 300, idle_share=0.7)
    assert 0.6 < sum(p.idle for p in seventy) / 400 < 0.8
    # the default keeps the fleets earlier seeds produced
    assert [p.idle for p in plan_account(1, 0, 40, ["us-east-1"], window, 300)] == \
        [p.idle for p in plan_account(1, 0, 40, ["us-east-1"], window, 300, idle_share=0.15)]


INSIGHTS_STATS = [("cold", "init_duration", "SampleCount"), ("iavg", "init_duration", "Average"),
                  ("imax", "init_duration", "Maximum"), ("mem", "used_memory_max", "Maximum"),
                  ("util", "memory_utilization", "Maximum"), ("total", "total_memory", "Maximum")]


def test_lambda_insights_ground_truth(fleet):
    """About one function in four has Lambda Insights; its rows say so, values are unchanged."""
    _, truth = fleet
    with_insights = {(f["account_id"], f["function_name"]) for f in truth["functions"] if f["lambda_insights"]}
    active = {(m["account_id"], m["function_name"]) for m in truth["metrics"]}
    assert with_insights & active and active - with_insights, "both kinds among the active functions"
    for m in truth["metrics"]:
        want = "lambda_insights" if (m["account_id"], m["function_name"]) in with_insights else "logs_insights"
        assert m["cold_start_source"] == want
    window = (1_795_708_800 - 3600, 1_795_708_800)
    plans = [p for i in range(20) for p in simulator.plan_account(42, i, 50, ["us-east-1"], window, 300)]
    share = sum(p.lambda_insights for p in plans) / len(plans)
    assert 0.2 < share < 0.3, share
    # the Lambda Insights stream leaves every other number of the plan as it was
    again = [p for i in range(20) for p in simulator.plan_account(42, i, 50, ["us-east-1"], window, 300)]
    assert plans == again


def test_lambda_insights_metrics_read_back_equal_ground_truth(fleet):
    """ListMetrics (LambdaInsights, used_memory_max, RecentlyActive) lists exactly the active
    functions with Lambda Insights, and GetMetricData's SampleCount/Average/Maximum per period
    equal the REPORT ground truth: cold starts (restores aside), init avg/max, max memory and
    utilisation."""
    moto_url, truth = fleet
    start, end = parse(truth["window"]["start"]), parse(truth["window"]["end"])
    period = truth["window"]["period_seconds"]
    flagged = {(f["account_id"], f["region"], f["function_name"]): f for f in truth["functions"] if f["lambda_insights"]}
    rows = defaultdict(list)
    for m in truth["metrics"]:
        if (m["account_id"], m["region"], m["function_name"]) in flagged:
            rows[(m["account_id"], m["region"], m["function_name"])].append(m)
    checked = 0
    for account in truth["accounts"]:
        for region in truth["regions"]:
            cw = session_for(moto_url, account["account_id"], region).client("cloudwatch", endpoint_url=moto_url)
            listed = [m for page in cw.get_paginator("list_metrics").paginate(
                Namespace="LambdaInsights", MetricName="used_memory_max", RecentlyActive="PT3H",
                Dimensions=[{"Name": "function_name"}]) for m in page["Metrics"]]
            function_level = {m["Dimensions"][0]["Value"] for m in listed if len(m["Dimensions"]) == 1}
            assert any(len(m["Dimensions"]) == 2 for m in listed) or not function_level, "both dimension sets"
            names = sorted(n for (a, r, n) in rows if (a, r) == (account["account_id"], region))
            assert sorted(function_level) == names
            if not names:
                continue
            queries = [{"Id": f"{key}{i}", "MetricStat": {"Metric": {
                "Namespace": "LambdaInsights", "MetricName": metric,
                "Dimensions": [{"Name": "function_name", "Value": name}]}, "Period": period, "Stat": stat}}
                for i, name in enumerate(names) for key, metric, stat in INSIGHTS_STATS]
            results = {r["Id"]: {t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"): v
                                 for t, v in zip(r["Timestamps"], r["Values"])}
                       for r in cw.get_metric_data(MetricDataQueries=queries, StartTime=start,
                                                   EndTime=end)["MetricDataResults"]}
            for i, name in enumerate(names):
                f = flagged[(account["account_id"], region, name)]
                truth_rows = rows[(account["account_id"], region, name)]
                assert set(results[f"mem{i}"]) == {m["timestamp"] for m in truth_rows}
                assert set(results[f"cold{i}"]) == {m["timestamp"] for m in truth_rows
                                                    if m["cold_starts"] > m["snapstart_restores"]}
                for m in truth_rows:
                    ts = m["timestamp"]
                    assert results[f"cold{i}"].get(ts, 0) == m["cold_starts"] - m["snapstart_restores"]
                    assert results[f"iavg{i}"].get(ts) == m["init_duration_avg_ms"]
                    assert results[f"imax{i}"].get(ts) == m["init_duration_max_ms"]
                    assert results[f"mem{i}"][ts] == m["max_memory_used_mb"]
                    assert results[f"total{i}"][ts] == f["memory_mb"]
                    assert math.isclose(results[f"util{i}"][ts] / 100, m["memory_utilization"], rel_tol=1e-12)
                    checked += 1
    assert checked > 0


def test_lambda_insights_volume_stays_small():
    window = (1_700_000_000 - 1_700_000_000 % 300 - 3600, 1_700_000_000 - 1_700_000_000 % 300)
    plans = simulator.plan_account(42, 0, 30, ["us-east-1"], window, 300)
    entries = [e for p in plans for e in simulator.insights_metric_data(p)]
    assert all(p.lambda_insights or not simulator.insights_metric_data(p) for p in plans)
    # one statistic set per metric and period: at most 5 entries per active period
    periods = sum(len(p.periods) for p in plans if p.lambda_insights)
    assert 0 < len(entries) <= 5 * periods
    assert all(set(e["StatisticValues"]) == {"SampleCount", "Sum", "Minimum", "Maximum"} for e in entries)


def _one_plan(pred):
    window = (1_795_708_800 - 3600, 1_795_708_800)
    plans = [p for i in range(2) for p in simulator.plan_account(42, i, 30, ["us-east-1"], window, 300)]
    return next(p for p in plans if pred(p))


def test_snapstart_report_follows_the_documented_shape():
    """AWS "Monitoring for Lambda SnapStart": after a restore the REPORT carries Restore Duration
    and Billed Restore Duration; Billed Duration covers the handler only, and both billed
    durations are charged (the ground truth's billed sum and GB-seconds)."""
    plan = _one_plan(lambda p: p.snap_start and p.logs)
    restored = [(pl, i) for pl in plan.logs for i in pl.invocations if i.restore_ms is not None]
    assert restored
    for pl, inv in restored:
        assert inv.init_ms is None and 0 < inv.billed_restore_ms <= math.ceil(inv.restore_ms)
        assert inv.billed_ms == math.ceil(inv.duration_ms), "Billed Duration: the handler only"
        line = simulator.report_line(plan, inv)
        assert f"\tRestore Duration: {inv.restore_ms:.2f} ms\tBilled Restore Duration: {inv.billed_restore_ms} ms\t" in line
        record = json.loads(simulator.platform_report(plan, inv))["record"]["metrics"]
        assert record["restoreDurationMs"] == inv.restore_ms
        assert record["billedRestoreDurationMs"] == inv.billed_restore_ms
    warm = next(i for pl in plan.logs for i in pl.invocations if i.restore_ms is None)
    assert "Restore" not in simulator.report_line(plan, warm)
    assert "restoreDurationMs" not in simulator.platform_report(plan, warm)
    for (_, n, *_), pl in zip(plan.periods, plan.logs):
        row = simulator.log_truth(plan, pl, n)
        restore = sum(i.billed_restore_ms or 0 for i in pl.invocations)
        assert row["billed_restore_duration_ms_sum"] == restore
        assert row["billed_duration_ms_sum"] == sum(i.billed_ms for i in pl.invocations) + restore
        assert row["gb_seconds"] == row["billed_duration_ms_sum"] * plan.memory_mb / 1024 / 1000
        assert row["cold_starts"] == sum(1 for i in pl.invocations if i.restore_ms is not None)


def test_billed_restore_leaves_the_rest_of_the_fleet_unchanged():
    """Billed Restore Duration has its own random stream: durations, restores and every other
    number stay what earlier versions drew (seed 42's first SnapStart restore, pinned)."""
    plan = _one_plan(lambda p: p.snap_start and p.logs)
    inv = next(i for pl in plan.logs for i in pl.invocations if i.restore_ms is not None)
    assert (plan.name, inv.restore_ms) == PINNED_RESTORE


# Drawn by the simulator before Billed Restore Duration existed (seed 42, window above).
PINNED_RESTORE = ("users-export-006", 299.0)


def test_forgers_print_forged_records_in_both_formats():
    window = (1_795_708_800 - 3600, 1_795_708_800)
    forgers = simulator.plan_forgers(7, 2, "us-east-1", window, 300)
    assert [p.log_format for p in forgers] == ["Text", "JSON"]
    assert all(p.forged for p in forgers) and all(not p.lambda_insights for p in forgers)
    for plan in forgers:
        events = [e for stream in simulator.log_events(plan, 7).values() for e in stream]
        reports = [m for _, _, m in events if m.startswith("REPORT ") or '"platform.report"' in m]
        invocations = sum(n for _, n, *_ in plan.periods)
        assert len(reports) == invocations + len(plan.forged)
        kinds = {k for _, k in plan.forged}
        assert kinds == {"outlier", "copy"}
        for index, kind in plan.forged:
            t = plan.periods[index][0]
            in_period = [m for ts, _, m in events if t * 1000 <= ts < (t + 300) * 1000
                         and (m.startswith("REPORT ") or '"platform.report"' in m)]
            assert len(in_period) == plan.periods[index][1] + 1
            forged = [m for m in in_period if "5000.00 ms" in m or '"initDurationMs":5000.0' in m]
            assert len(forged) == 1
            if plan.log_format == "Text":
                assert forged[0].startswith("REPORT RequestId: ") and "\tInit Duration: 5000.00 ms\t" in forged[0]
            else:
                record = json.loads(forged[0])
                assert record["type"] == "platform.report" and record["record"]["metrics"]["initDurationMs"] == 5000.0
            real_max = max(v for v, _ in plan.periods[index][4])
            if kind == "outlier":
                assert ("5000.00 ms" in forged[0] or '"durationMs":5000.0' in forged[0]) and real_max < 5000
    # the regular fleet is unchanged by forgers
    assert simulator.plan_account(7, 0, 14, ["us-east-1"], window, 300) == \
        simulator.plan_account(7, 0, 14, ["us-east-1"], window, 300)
