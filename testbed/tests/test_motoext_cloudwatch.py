"""motoext CloudWatch: percentile statistics and ListMetrics (RecentlyActive, pages)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.exceptions import ClientError

from lfm_testbed.motoext import cloudwatch_list_metrics as lm
from lfm_testbed.motoext import cloudwatch_percentiles as pct

KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def cw(url):
    return boto3.client("cloudwatch", endpoint_url=url, region_name="us-east-1", **KEYS)


def dims(name):
    return [{"Name": "FunctionName", "Value": name}]


def q(qid, name, stat, metric="Duration", period=300):
    return {"Id": qid, "MetricStat": {"Metric": {"Namespace": "AWS/Lambda", "MetricName": metric,
                                                 "Dimensions": dims(name)},
                                      "Period": period, "Stat": stat}}


def hour_ago():
    return datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)


# ---- pure definition ------------------------------------------------------------------

def test_nearest_rank_definition():
    xs = list(range(1, 101))  # 1..100
    assert pct.percentile(xs, 50) == 50 and pct.percentile(xs, 90) == 90
    assert pct.percentile(xs, 99) == 99 and pct.percentile(xs, 99.9) == 100
    assert pct.percentile(xs, 0) == 1 and pct.percentile(xs, 100) == 100
    assert pct.percentile([7.0], 99) == 7.0 and pct.percentile([], 50) is None
    assert pct.percentile([3, 1, 2, 4], 50) == 2  # ceil(0.5*4)=2 -> 2nd smallest
    assert pct.percentile([3, 1, 2, 4], 51) == 3
    assert pct.percentile(list(range(1, 101)), 29) == 29  # no float drift above 29
    assert pct.trimmed_mean(xs, 90) == sum(range(1, 91)) / 90
    assert pct.parse_stat("p99.99") == ("p", 99.99) and pct.parse_stat("tm99") == ("tm", 99.0)
    for bad in ("p", "p101", "p99.999", "P99", "Average", "tc99"):
        assert pct.parse_stat(bad) is None


# ---- through the server ---------------------------------------------------------------

def test_percentiles_over_values_and_counts(clean_moto):
    c, base = cw(clean_moto), hour_ago()
    rng = random.Random(1)
    values = [round(rng.uniform(1, 500) * 4) / 4 for _ in range(40)]
    counts = [rng.randint(1, 5) for _ in values]
    c.put_metric_data(Namespace="AWS/Lambda", MetricData=[
        {"MetricName": "Duration", "Dimensions": dims("f"), "Timestamp": base + timedelta(minutes=1),
         "Values": values[:20], "Counts": [float(x) for x in counts[:20]], "Unit": "Milliseconds"},
        {"MetricName": "Duration", "Dimensions": dims("f"), "Timestamp": base + timedelta(minutes=2),
         "Values": values[20:], "Counts": [float(x) for x in counts[20:]], "Unit": "Milliseconds"},
        {"MetricName": "Duration", "Dimensions": dims("f"), "Timestamp": base + timedelta(minutes=3),
         "Value": 1000.0, "Unit": "Milliseconds"},
    ])
    expanded = [v for v, n in zip(values, counts) for _ in range(n)] + [1000.0]
    stats = ["p50", "p90", "p99", "p99.9", "p0", "p100", "tm99", "Maximum", "Average"]
    res = {r["Id"]: r["Values"] for r in c.get_metric_data(
        MetricDataQueries=[q(f"q{i}", "f", s) for i, s in enumerate(stats)],
        StartTime=base, EndTime=base + timedelta(minutes=5))["MetricDataResults"]}
    want = [pct.percentile(expanded, 50), pct.percentile(expanded, 90), pct.percentile(expanded, 99),
            pct.percentile(expanded, 99.9), min(expanded), 1000.0, pct.trimmed_mean(expanded, 99),
            1000.0, sum(expanded) / len(expanded)]
    assert [res[f"q{i}"] for i in range(len(stats))] == [[w] for w in want]
    assert res["q3"] == [1000.0] and res["q2"][0] < 1000.0


def test_percentiles_per_period_and_statistic_sets(clean_moto):
    c, base = cw(clean_moto), hour_ago()
    c.put_metric_data(Namespace="AWS/Lambda", MetricData=[
        # bucket 0: raw values
        {"MetricName": "Duration", "Dimensions": dims("f"), "Timestamp": base, "Values": [1.0, 2.0, 3.0]},
        # bucket 1: only a statistic set of differing values -> no percentile datapoint
        {"MetricName": "Duration", "Dimensions": dims("f"), "Timestamp": base + timedelta(minutes=5),
         "StatisticValues": {"SampleCount": 3, "Sum": 6, "Minimum": 1, "Maximum": 3}},
        # bucket 2: raw values plus a differing statistic set -> none either
        {"MetricName": "Duration", "Dimensions": dims("f"), "Timestamp": base + timedelta(minutes=10), "Value": 5.0},
        {"MetricName": "Duration", "Dimensions": dims("f"), "Timestamp": base + timedelta(minutes=11),
         "StatisticValues": {"SampleCount": 2, "Sum": 3, "Minimum": 1, "Maximum": 2}},
        # bucket 3: a statistic set with Min == Max stands for SampleCount identical values
        {"MetricName": "Duration", "Dimensions": dims("f"), "Timestamp": base + timedelta(minutes=15),
         "StatisticValues": {"SampleCount": 4, "Sum": 28, "Minimum": 7, "Maximum": 7}},
        {"MetricName": "Duration", "Dimensions": dims("f"), "Timestamp": base + timedelta(minutes=16), "Value": 1.0},
    ])
    out = c.get_metric_data(MetricDataQueries=[q("p", "f", "p50"), q("s", "f", "Sum")],
                            StartTime=base, EndTime=base + timedelta(minutes=20),
                            ScanBy="TimestampAscending")["MetricDataResults"]
    res = {r["Id"]: dict(zip([t.astimezone(timezone.utc) for t in r["Timestamps"]], r["Values"])) for r in out}
    assert res["p"] == {base: 2.0, base + timedelta(minutes=15): 7.0}
    assert len(res["s"]) == 4  # the other stats are unaffected


def test_percentile_of_unknown_metric_is_empty(clean_moto):
    c, base = cw(clean_moto), hour_ago()
    res = c.get_metric_data(MetricDataQueries=[q("p", "nope", "p99")], StartTime=base,
                            EndTime=base + timedelta(minutes=5))["MetricDataResults"]
    assert res[0]["Values"] == [] and res[0]["StatusCode"] == "Complete"


def test_list_metrics_recently_active_and_pages(clean_moto):
    c = cw(clean_moto)
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    fresh = [f"fn-{i:04d}" for i in range(620)]
    data = [{"MetricName": "Invocations", "Dimensions": dims(n), "Timestamp": now - timedelta(minutes=10),
             "Value": 1.0} for n in fresh]
    data += [{"MetricName": "Invocations", "Dimensions": dims("old-fn"), "Timestamp": now - timedelta(hours=5),
              "Value": 1.0},
             {"MetricName": "Errors", "Dimensions": dims("fn-0000"), "Timestamp": now - timedelta(hours=4),
              "Value": 1.0},
             # same metric twice: listed once
             {"MetricName": "Invocations", "Dimensions": dims("fn-0001"), "Timestamp": now - timedelta(minutes=5),
              "Value": 2.0}]
    for i in range(0, len(data), 150):
        c.put_metric_data(Namespace="AWS/Lambda", MetricData=data[i:i + 150])

    def all_pages(**kw):
        pages, token = [], None
        while True:
            page = c.list_metrics(**kw, **({"NextToken": token} if token else {}))
            pages.append(page["Metrics"])
            token = page.get("NextToken")
            if not token:
                return pages

    pages = all_pages(Namespace="AWS/Lambda", RecentlyActive="PT3H")
    assert [len(p) for p in pages] == [500, 120]
    names = [m["Dimensions"][0]["Value"] for p in pages for m in p]
    assert names == fresh and all(m["MetricName"] == "Invocations" for p in pages for m in p)
    everything = [m for p in all_pages(Namespace="AWS/Lambda") for m in p]
    assert len(everything) == 622
    assert {(m["MetricName"], m["Dimensions"][0]["Value"]) for m in everything} >= \
        {("Invocations", "old-fn"), ("Errors", "fn-0000")}
    # filters
    got = c.list_metrics(Namespace="AWS/Lambda", MetricName="Errors")["Metrics"]
    assert got == [{"Namespace": "AWS/Lambda", "MetricName": "Errors", "Dimensions": dims("fn-0000")}]
    got = c.list_metrics(Dimensions=[{"Name": "FunctionName", "Value": "fn-0001"}])["Metrics"]
    assert len(got) == 1 and "NextToken" not in c.list_metrics(Namespace="Other")
    # a token can be reused, a foreign one is rejected, RecentlyActive only accepts PT3H
    first = c.list_metrics(Namespace="AWS/Lambda")
    a = c.list_metrics(Namespace="AWS/Lambda", NextToken=first["NextToken"])
    b = c.list_metrics(Namespace="AWS/Lambda", NextToken=first["NextToken"])
    assert a["Metrics"] == b["Metrics"] and len(a["Metrics"]) == 122
    with pytest.raises(ClientError):
        c.list_metrics(NextToken="garbage")
    with pytest.raises(ClientError):
        c.list_metrics(RecentlyActive="PT1H")


def test_list_metric_keys_pure():
    class D:
        def __init__(self, n, v):
            self.name, self.value = n, v

    class M:
        def __init__(self, ns, name, ds, ts):
            self.namespace, self.name, self.timestamp = ns, name, ts
            self.dimensions = [D(*d) for d in ds]

    now = datetime(2026, 11, 26, 16, 0, tzinfo=timezone.utc)
    ms = [M("A", "x", [("F", "f"), ("R", "1")], now - timedelta(hours=1)),
          M("A", "x", [("R", "1"), ("F", "f")], now - timedelta(hours=4)),  # same metric, newer point wins
          M("A", "y", [("F", "g")], now - timedelta(days=20))]
    keys = lm.list_metric_keys(ms, None, None, [], True, now.timestamp())
    assert keys == [("A", "x", (("F", "f"), ("R", "1")))]
    assert len(lm.list_metric_keys(ms, None, None, [], False, now.timestamp())) == 1  # y: > 2 weeks
    assert lm.list_metric_keys(ms, None, None, [{"Name": "R"}], False, now.timestamp()) == keys
    assert lm.list_metric_keys(ms, None, None, [{"Name": "R", "Value": "2"}], False, now.timestamp()) == []
    assert lm.decode_token(lm.encode_token(keys[0])) == keys[0]
