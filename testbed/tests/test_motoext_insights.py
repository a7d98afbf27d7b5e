"""motoext Logs Insights: StartQuery/GetQueryResults evaluate the documented subset over
Lambda log events (REPORT text lines and JSON platform.report records)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import boto3
import pytest
from botocore.exceptions import ClientError

from lfm_testbed.motoext import cloudwatch_percentiles as pct
from lfm_testbed.motoext import logs_insights as li

KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
ACCOUNT = "123456789012"


def logs(url, account=None, region="us-east-1"):
    c = boto3.client("logs", endpoint_url=url, region_name=region, **KEYS)
    if account:
        c.meta.events.register("before-send.*.*", lambda request, **_: request.headers.__setitem__(
            "x-moto-account-id", account))
    return c


def base_ms():
    now = int(datetime.now(timezone.utc).timestamp())
    return (now - now % 3600 - 3600) * 1000  # an hour boundary, 1-2 h ago


def report(rid, dur, billed, mem, used, init=None, restore=None, status=None):
    parts = [f"REPORT RequestId: {rid}", f"Duration: {dur:.2f} ms", f"Billed Duration: {billed} ms",
             f"Memory Size: {mem} MB", f"Max Memory Used: {used} MB"]
    if init is not None:
        parts.append(f"Init Duration: {init:.2f} ms")
    if restore is not None:
        parts += [f"Restore Duration: {restore:.2f} ms", f"Billed Restore Duration: {int(restore) + 1} ms"]
    if status:
        parts.append(f"Status: {status}")
    return "\t".join(parts) + "\t\n"


def platform_report(t_ms, rid, dur, billed, mem, used, init=None, restore=None, status="success"):
    metrics = {"durationMs": dur, "billedDurationMs": billed, "memorySizeMB": mem, "maxMemoryUsedMB": used}
    if init is not None:
        metrics["initDurationMs"] = init
    if restore is not None:
        metrics["restoreDurationMs"] = restore
    t = datetime.fromtimestamp(t_ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return json.dumps({"time": t, "type": "platform.report",
                       "record": {"requestId": rid, "metrics": metrics, "status": status}})


def put(c, group, stream, events):
    try:
        c.create_log_group(logGroupName=group)
    except c.exceptions.ResourceAlreadyExistsException:
        pass
    c.create_log_stream(logGroupName=group, logStreamName=stream)
    events = sorted(events)
    c.put_log_events(logGroupName=group, logStreamName=stream,
                     logEvents=[{"timestamp": t, "message": m} for t, m in events])


def run_query(c, query, start_s, end_s, **kw):
    if not any(k in kw for k in ("logGroupName", "logGroupNames", "logGroupIdentifiers")):
        kw["logGroupNames"] = ["/aws/lambda/text-fn", "/aws/lambda/json-fn"]
    qid = c.start_query(queryString=query, startTime=start_s, endTime=end_s, **kw)["queryId"]
    res = c.get_query_results(queryId=qid)
    assert res["status"] == "Complete"
    return [{f["field"]: f["value"] for f in row} for row in res["results"]], res["statistics"]


@pytest.fixture()
def fleet(clean_moto):
    """Two functions' log groups: text REPORT lines and JSON platform.report records."""
    c = logs(clean_moto)
    b = base_ms()
    text = [  # (offset ms, message)
        (1_000, "INIT_START Runtime Version: python:3.12.v40\tRuntime Version ARN: arn:aws:lambda:us-east-1::runtime:abc\n"),
        (1_500, "START RequestId: r1 Version: $LATEST\n"),
        (1_600, "2026-11-26T15:00:01.600Z\tr1\tINFO\thello Memory Used: 999 MB\n"),
        (1_700, "END RequestId: r1\n"),
        (1_800, report("r1", 120.25, 451, 256, 70, init=330.12)),          # cold
        (61_000, report("r2", 10.5, 11, 256, 72)),                         # warm
        (62_000, report("r3", 3000.0, 3000, 256, 80, status="timeout")),   # timeout, newer runtime
        (63_000, "2026-11-26T15:01:03.000Z r4 Task timed out after 3.00 seconds\n"),
        (63_001, report("r4", 3000.0, 3000, 256, 81)),                     # timeout, older runtime
        (64_000, "REPORT RequestId: broken Duration: abc ms\n"),           # malformed
        (65_000, "REPORT RequestId: r5\tBilled Duration: 5 ms\tMemory Size: 256 MB\n"),  # malformed: no Duration
        (301_000, report("r6", 7.75, 8, 256, 90)),                         # next 5-min bin
        (302_000, report("r7", 1.0, 1, 256, 91, restore=250.5)),           # SnapStart restore
    ]
    put(c, "/aws/lambda/text-fn", "2026/11/26/[$LATEST]aaaa", [(b + o, m) for o, m in text])
    js = [
        (2_000, json.dumps({"time": "x", "type": "platform.start", "record": {"requestId": "j1"}})),
        (2_100, platform_report(b + 2_100, "j1", 50.5, 351, 512, 100, init=300.0)),
        (3_000, platform_report(b + 3_000, "j2", 20.0, 20, 512, 110)),
        (4_000, platform_report(b + 4_000, "j3", 6000.0, 6000, 512, 120, status="timeout")),
        (5_000, '{"type": "platform.report", "record": '),  # malformed JSON
        (6_000, '{"level":"INFO","message":"app log","durationMs":1}'),
    ]
    put(c, "/aws/lambda/json-fn", "2026/11/26/[$LATEST]bbbb", [(b + o, m) for o, m in js])
    return clean_moto, c, b // 1000, text, js


def test_report_stats_by_log_and_bin(fleet):
    url, c, b, text, js = fleet
    rows, stats = run_query(c, """
        filter @type = "REPORT"
        | stats count(*) as n, sum(@duration) as dur_sum, max(@duration) as dur_max,
                sum(@billedDuration) as billed, max(@maxMemoryUsed) as mem_max,
                count(@initDuration) as cold, max(@initDuration) as init_max,
                pct(@duration, 50) as p50, min(@memorySize) as mem
          by @log, bin(5m) as t""", b, b + 3599)
    assert rows == [
        {"@log": f"{ACCOUNT}:/aws/lambda/text-fn", "t": li.fmt(li.Ts(b * 1000)), "n": "4",
         "dur_sum": li.fmt(120.25 + 10.5 + 3000.0 + 3000.0), "dur_max": "3000",
         "billed": str(451 + 11 + 3000 + 3000), "mem_max": "81", "cold": "1", "init_max": "330.12",
         "p50": "120.25", "mem": "256"},
        {"@log": f"{ACCOUNT}:/aws/lambda/text-fn", "t": li.fmt(li.Ts(b * 1000 + 300_000)), "n": "2",
         "dur_sum": "8.75", "dur_max": "7.75", "billed": "9", "mem_max": "91", "cold": "0", "p50": "1",
         "mem": "256"},
    ]
    assert rows[0]["t"] == datetime.fromtimestamp(b, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S.000")
    n_events = len(text) + len(js)
    assert stats["recordsScanned"] == n_events and stats["recordsMatched"] == 6
    assert stats["bytesScanned"] == sum(len(m.encode()) for _, m in text + js)


def test_memory_used_is_not_max_memory_used(fleet):
    _, c, b, _, _ = fleet
    rows, _ = run_query(c, 'filter @requestId = "r1" | fields @maxMemoryUsed, @memorySize, @initDuration, @billedDuration',
                        b, b + 3599)
    assert [{k: v for k, v in r.items() if k != "@ptr"} for r in rows] == \
        [{"@maxMemoryUsed": "70", "@memorySize": "256", "@initDuration": "330.12", "@billedDuration": "451"}]
    # the app line mentioning "Memory Used: 999 MB" discovers nothing
    rows, _ = run_query(c, "filter @message like /hello/ | fields @type, @maxMemoryUsed, @message", b, b + 3599)
    assert len(rows) == 1 and set(rows[0]) == {"@message", "@ptr"}


def test_timeouts_snapstart_and_malformed(fleet):
    _, c, b, _, _ = fleet
    rows, _ = run_query(c, 'filter @type = "REPORT" and @message like /Status: timeout/ | stats count(*) as n', b, b + 3599)
    assert rows == [{"n": "1"}]
    rows, _ = run_query(c, 'filter @message like "Task timed out after" | stats count(*) as n', b, b + 3599)
    assert rows == [{"n": "1"}]
    rows, _ = run_query(c, r"""parse @message /Restore Duration: (?<restore>[\d.]+) ms/
        | filter ispresent(restore) | stats count(*) as n, max(restore) as mx""", b, b + 3599)
    assert rows == [{"n": "1", "mx": "250.5"}]
    # malformed REPORT lines are not REPORT records but are scanned
    rows, _ = run_query(c, 'filter @message like /^REPORT/ and not ispresent(@duration) | stats count(*) as n',
                        b, b + 3599)
    assert rows == [{"n": "2"}]
    rows, _ = run_query(c, 'filter @type = "REPORT" | stats count_distinct(@requestId) as n', b, b + 3599)
    assert rows == [{"n": "6"}]


def test_json_platform_report(fleet):
    _, c, b, _, _ = fleet
    rows, stats = run_query(c, """
        filter type = "platform.report"
        | stats count(*) as n, sum(record.metrics.billedDurationMs) as billed,
                max(record.metrics.maxMemoryUsedMB) as mem, count(record.metrics.initDurationMs) as cold,
                avg(record.metrics.initDurationMs) as init_avg, max(record.metrics.durationMs) as dmax,
                sum(record.status = "timeout") as t_sum, pct(record.metrics.durationMs, 99) as p99
          by @log""", b, b + 3599)
    assert rows == [{"@log": f"{ACCOUNT}:/aws/lambda/json-fn", "n": "3", "billed": "6371", "mem": "120",
                     "cold": "1", "init_avg": "300", "dmax": "6000", "p99": "6000"}]
    assert stats["recordsMatched"] == 3
    rows, _ = run_query(c, 'filter record.status = "timeout" | fields record.requestId as rid', b, b + 3599)
    assert [r["rid"] for r in rows] == ["j3"]


def test_fields_sort_limit_and_time_range(fleet):
    _, c, b, text, _ = fleet
    rows, stats = run_query(c, "fields @timestamp, @message, @logStream | sort @timestamp desc | limit 3",
                            b, b + 3599, logGroupName="/aws/lambda/text-fn")
    assert len(rows) == 3 and all(set(r) == {"@timestamp", "@message", "@logStream", "@ptr"} for r in rows)
    assert [r["@message"] for r in rows] == [m for _, m in sorted(text, reverse=True)[:3]]
    assert rows[0]["@timestamp"] == li.fmt(li.Ts(b * 1000 + 302_000))
    assert rows[0]["@logStream"] == "2026/11/26/[$LATEST]aaaa"
    # both ends inclusive, in seconds: [b+61, b+62] holds the events at +61.000 and +62.000 only
    rows, stats = run_query(c, "fields @message", b + 61, b + 62, logGroupName="/aws/lambda/text-fn")
    assert sorted(r["@message"] for r in rows) == [text[5][1], text[6][1]] and stats["recordsScanned"] == 2
    # default order newest first; display projects
    rows, _ = run_query(c, 'filter @type = "REPORT" | display @requestId', b, b + 3599,
                        logGroupName="/aws/lambda/text-fn", limit=2)
    assert [{k: v for k, v in r.items() if k != "@ptr"} for r in rows] == [{"@requestId": "r7"}, {"@requestId": "r6"}]
    assert all(r["@ptr"] for r in rows)
    rows, _ = run_query(c, 'filter @type = "REPORT" | sort @duration asc, @requestId desc | fields @requestId',
                        b, b + 3599, logGroupName="/aws/lambda/text-fn")
    assert [r["@requestId"] for r in rows] == ["r7", "r6", "r2", "r1", "r4", "r3"]
    rows, _ = run_query(c, 'filter @duration >= 10 and @duration < 3000 or @requestId in ["r7"] '
                           '| fields @requestId, coalesce(@initDuration, 0) as i, @duration * 2 as d2 '
                           '| sort @requestId', b, b + 3599, logGroupName="/aws/lambda/text-fn")
    assert [(r["@requestId"], r["i"], r["d2"]) for r in rows] == \
        [("r1", "330.12", "240.5"), ("r2", "0", "21"), ("r7", "0", "2")]


def test_identifiers_and_validation(fleet):
    url, c, b, _, _ = fleet
    arn = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/json-fn"
    rows, _ = run_query(c, "stats count(*) as n", b, b + 3599, logGroupIdentifiers=[arn])
    assert rows == [{"n": "6"}]
    with pytest.raises(ClientError) as err:
        c.start_query(logGroupNames=["/aws/lambda/text-fn"], startTime=b, endTime=b + 60,
                      queryString="fields @message | dedup @message")
    e = err.value.response
    assert e["Error"]["Code"] == "MalformedQueryException" and "'dedup'" in e["Error"]["Message"]
    assert e["queryCompileError"]["location"] == {"startCharOffset": 18, "endCharOffset": 23}
    for bad in ("stats count(*) by bin(5)", "filter @duration >", "stats avg(@duration) by",
                "fields @message | stats", "filter x ~ 1", "stats median(@duration)", "limit 0",
                "parse @message /no groups/", "sort"):
        with pytest.raises(ClientError) as err:
            c.start_query(logGroupName="/aws/lambda/text-fn", startTime=b, endTime=b + 60, queryString=bad)
        assert err.value.response["Error"]["Code"] == "MalformedQueryException", bad
    cases = [dict(logGroupName="/aws/lambda/text-fn", logGroupNames=["/aws/lambda/json-fn"]),
             dict(),
             dict(logGroupNames=[f"/g{i}" for i in range(51)])]
    for kw in cases:
        with pytest.raises(ClientError) as err:
            c.start_query(startTime=b, endTime=b + 60, queryString="fields @message", **kw)
        assert err.value.response["Error"]["Code"] == "InvalidParameterException", kw
    with pytest.raises(ClientError) as err:
        c.start_query(logGroupName="/aws/lambda/nope", startTime=b, endTime=b + 60, queryString="fields @message")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as err:
        c.start_query(logGroupName="/aws/lambda/text-fn", startTime=b + 60, endTime=b, queryString="fields @message")
    assert err.value.response["Error"]["Code"] == "InvalidParameterException"


def test_queries_are_per_account_and_region(fleet):
    url, c, b, _, _ = fleet
    qid = c.start_query(logGroupName="/aws/lambda/text-fn", startTime=b, endTime=b + 3599,
                        queryString="stats count(*)")["queryId"]
    other = logs(url, account="210987654321")
    with pytest.raises(ClientError) as err:
        other.get_query_results(queryId=qid)
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as err:  # the group exists only in the first account
        other.start_query(logGroupName="/aws/lambda/text-fn", startTime=b, endTime=b + 60, queryString="stats count(*)")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError):
        logs(url, region="eu-west-1").start_query(logGroupName="/aws/lambda/text-fn", startTime=b,
                                                  endTime=b + 60, queryString="stats count(*)")
    put(other, "/aws/lambda/text-fn", "s", [(b * 1000 + 5, report("o1", 1.0, 1, 128, 10))])
    rows, _ = run_query(other, "stats count(*) as n by @log", b, b + 3599, logGroupName="/aws/lambda/text-fn")
    assert rows == [{"@log": "210987654321:/aws/lambda/text-fn", "n": "1"}]


def test_pct_matches_cloudwatch_definition():
    class Ev:
        def __init__(self, i, msg):
            self.timestamp, self.ingestion_time, self.message, self.event_id = 1000 * i, 1000 * i, msg, i

    class G:
        name = "/aws/lambda/f"

    class S:
        log_stream_name = "s"

    durations = [((i * 37) % 101) + 0.25 for i in range(250)]
    src = [("1", G, S, Ev(i, report(f"r{i}", d, 1, 128, 1))) for i, d in enumerate(durations)]
    cmds = li.parse_query("stats pct(@duration, 50) as a, pct(@duration, 90) as b, percentile(@duration, 99.9) as c")
    rows, _ = li.run(cmds, src)
    assert rows == [[("a", li.fmt(pct.percentile(durations, 50))), ("b", li.fmt(pct.percentile(durations, 90))),
                     ("c", li.fmt(pct.percentile(durations, 99.9)))]]


def test_parse_report_unit():
    f = li.parse_report(report("x", 1.5, 2, 128, 64, init=10.0, restore=5.0, status="timeout"))
    assert f == {"@type": "REPORT", "@requestId": "x", "@duration": 1.5, "@billedDuration": 2,
                 "@memorySize": 128, "@maxMemoryUsed": 64, "@initDuration": 10.0}
    assert li.parse_report("REPORT RequestId: x Duration: 1 ms") is None
    assert li.parse_report("START RequestId: x") is None
    assert li.discovered_fields('{"a": {"b": [1, {"c": true}]}}') == {"a.b.0": 1, "a.b.1.c": "true"}
    assert li.discovered_fields("{not json") == {}
