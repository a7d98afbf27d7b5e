"""The alert figures of the LFM benchmark (issue 10), used by ``fleet_bench.py``.

- Rules and destinations written straight into OpenSearch as the provider writes them
  (``lfm_schema::alerts::AlertRuleDocument`` / ``AlertDestinationDocument``, template
  ``schema/templates/alert-rules.json``): the default set of ``examples/quickstart/alerts.tf``
  and ``bench-bad-period``, a rule whose threshold is chosen from the simulator's ground truth
  so that it breaches for about 300 functions in the window's last period.
- Deliveries counted on the test bed's webhook receiver (``GET /deliveries?path=...``), under a
  path of the benchmark's own.
- Regression detection: ``simulate --deployments`` for a few seeds, collected before and after
  ``python -m lfm_testbed deploy``, the verdicts read back from ``{prefix}-deployments`` and
  ``{prefix}-alerts``.
"""

import datetime as dt
import json
import pathlib
import subprocess
import sys
import tempfile
import time

import requests

from lfm_testbed import moto_server  # noqa: E402  (fleet_bench puts testbed/ on sys.path)

UPDATED_AT = "2026-12-03T00:00:00Z"
WEBHOOK = "bench-webhook"
BAD_PERIOD_RULE = "bench-bad-period"
# examples/quickstart/alerts.tf, local.default_rules.
DEFAULT_RULES = {
    "error-rate": dict(metric="error_rate", comparison="GreaterThanThreshold", threshold=0.05, m=3, n=3,
                       min_invocations=20, severity="critical"),
    "throttles": dict(metric="throttles", comparison="GreaterThanThreshold", threshold=0.0, m=2, n=3,
                      min_invocations=0, severity="warning"),
    "timeouts-near-limit": dict(metric="timeout_proximity_max", comparison="GreaterThanOrEqualToThreshold",
                                threshold=0.9, m=2, n=3, min_invocations=1, severity="warning"),
    "deploy-regressions": dict(kind="deploy_regression", severity="warning"),
}


def rule_document(name, destinations, kind="threshold", metric=None, comparison=None, threshold=None, m=None, n=None,
                  min_invocations=10, severity="warning", description=None):
    """An ``AlertRuleDocument`` (every field, as the provider writes it)."""
    regression = kind == "deploy_regression"
    return {
        "name": name, "kind": kind, "enabled": True, "description": description or f"benchmark rule {name}",
        "severity": severity, "metric": metric, "comparison": comparison, "threshold": threshold,
        "datapoints_to_alarm": m, "evaluation_periods": n, "min_invocations": 10 if regression else min_invocations,
        "account_ids": [], "regions": [], "function_name_pattern": None, "runtimes": [],
        "destinations": destinations, "renotify_minutes": 240,
        "regression_metrics": ["error_rate", "duration_p99_ms", "cold_start_rate", "cost_per_invocation_usd"] if regression else [],
        "updated_at": UPDATED_AT,
    }


def webhook_destination(url):
    """An ``AlertDestinationDocument`` of a webhook without a secret (no SSM parameter to read)."""
    return {"name": WEBHOOK, "type": "webhook", "topic_arn": None, "url": url, "format": "json",
            "secret_parameter": None, "updated_at": UPDATED_AT}


def put(opensearch, index, doc_id, doc):
    r = requests.put(f"{opensearch}/{index}/_doc/{doc_id}?refresh=true", json=doc, timeout=30)
    if not r.ok:
        raise SystemExit(f"writing {index}/{doc_id} failed: {r.status_code} {r.text[:500]}")


def bad_period_rule(truth, target=300, min_invocations=10):
    """Threshold settings that breach for about ``target`` functions in the window's last period
    (M = N = 1): the error rate above the target-th highest, else the invocations (busier
    functions than the target-th). Returns (settings, expected functions)."""
    last = max(r["timestamp"] for r in truth["metrics"])
    rows = [r for r in truth["metrics"] if r["timestamp"] == last and r["invocations"] >= min_invocations]
    for metric, value in (("error_rate", lambda r: r["errors"] / r["invocations"]), ("invocations", lambda r: float(r["invocations"]))):
        values = sorted((value(r) for r in rows), reverse=True)
        positive = [v for v in values if v > 0]
        if len(positive) > target:
            # Strictly below the target-th value: ties at that value breach too.
            threshold = next((v for v in positive[target:] if v < positive[target - 1]), 0.0)
            threshold = (threshold + positive[target - 1]) / 2 if threshold else 0.0
        elif metric == "invocations":
            threshold = 0.0
        else:
            continue
        expected = sum(1 for v in values if v > threshold)
        return dict(metric=metric, comparison="GreaterThanThreshold", threshold=round(threshold, 6), m=1, n=1,
                    min_invocations=min_invocations, severity="critical"), expected
    raise AssertionError("unreachable")


def declare(opensearch, prefix, truth, webhook_url):
    """Writes the destination and the rules; returns the bad-period rule's settings and the
    number of functions the ground truth says it breaches for."""
    put(opensearch, f"{prefix}-alert-destinations", WEBHOOK, webhook_destination(webhook_url))
    for name, settings in DEFAULT_RULES.items():
        put(opensearch, f"{prefix}-alert-rules", name, rule_document(name, [WEBHOOK], **settings))
    settings, expected = bad_period_rule(truth)
    put(opensearch, f"{prefix}-alert-rules", BAD_PERIOD_RULE,
        rule_document(BAD_PERIOD_RULE, [WEBHOOK], description="benchmark: a bad period across ~300 functions", **settings))
    return settings, expected


def deliveries(receiver, ca_file, path):
    r = requests.get(f"{receiver}/deliveries", params={"path": path}, verify=ca_file, timeout=30)
    r.raise_for_status()
    return r.json()


def forget_deliveries(receiver, ca_file, path):
    requests.delete(f"{receiver}/deliveries", params={"path": path}, verify=ca_file, timeout=30).raise_for_status()


def messages_by_rule(received):
    """{rule: {"messages", "functions" (items over its messages), "signature"}} of the deliveries."""
    out = {}
    for d in received:
        body = d["body"] if isinstance(d["body"], dict) else {}
        entry = out.setdefault(body.get("rule", "?"), {"messages": 0, "functions": 0, "http_status": []})
        entry["messages"] += 1
        entry["functions"] += len(body.get("items") or [])
        if d.get("status") not in entry["http_status"]:
            entry["http_status"].append(d.get("status"))
    return dict(sorted(out.items()))


def run_record(opensearch, prefix, run_id):
    """The run record's ``alerts`` object in ``{prefix}-runs`` (None when not found)."""
    requests.post(f"{opensearch}/{prefix}-runs/_refresh", timeout=30)
    r = requests.post(f"{opensearch}/{prefix}-runs/_search", timeout=30,
                      json={"size": 1, "query": {"term": {"run_id": run_id}}})
    hits = r.json().get("hits", {}).get("hits", []) if r.ok else []
    return hits[0]["_source"].get("alerts") if hits else None


def alert_figures(baseline, with_rules, rerun, record, rule_settings, expected, received, received_rerun):
    """The evaluation-cost and notification figures of one fleet."""
    a = with_rules["summary"].get("alerts") or {}
    b = rerun["summary"].get("alerts") or {}
    none = baseline["summary"].get("alerts") or {}
    per_rule = messages_by_rule(received)
    return {
        "rules": a.get("rules"),
        "bad_period_rule": {**rule_settings, "functions_expected_from_truth": expected},
        "cpu_seconds_without_rules": baseline["cpu"], "cpu_seconds_with_rules": with_rules["cpu"],
        "added_cpu_seconds": round(with_rules["cpu"] - baseline["cpu"], 2),
        "peak_rss_mib_without_rules": baseline["rss"], "peak_rss_mib_with_rules": with_rules["rss"],
        "added_peak_rss_mib": round(with_rules["rss"] - baseline["rss"], 1),
        "opensearch_requests_without_rules": none.get("opensearch_requests"),
        "opensearch_requests": a.get("opensearch_requests"),
        "opensearch_requests_rerun": b.get("opensearch_requests"),
        "evaluated_pairs": a.get("evaluated"), "history_documents": a.get("history_documents"),
        "transitions": a.get("transitions"),
        "evaluation_ms": a.get("evaluation_ms"), "delivery_ms": a.get("delivery_ms"),
        "notifications_sent": a.get("notifications_sent"), "notifications_failed": a.get("notifications_failed"),
        "alert_errors": a.get("errors"),
        "run_record_alerts_matches_summary": record == a if record is not None else None,
        "messages_received": len(received),
        "messages_by_rule": per_rule,
        "max_messages_per_rule": max((v["messages"] for v in per_rule.values()), default=0),
        "bad_period_functions_notified": per_rule.get(BAD_PERIOD_RULE, {}).get("functions", 0),
        "rerun_transitions": b.get("transitions"), "rerun_notifications_sent": b.get("notifications_sent"),
        "rerun_new_messages": len(received_rerun) - len(received),
    }


# --- regression detection ------------------------------------------------------------------

REGRESSION_PERIODS = 30
REGRESSION_SCENARIOS = ["deploy-worse", "deploy-same", "noisy-steady", "deploy-better"]


def iso(t):
    return dt.datetime.fromtimestamp(t, tz=dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(s):
    return int(dt.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp())


def refresh(opensearch, prefix):
    requests.post(f"{opensearch}/{prefix}-*/_refresh", timeout=60)


def hits(opensearch, index):
    requests.post(f"{opensearch}/{index}/_refresh", timeout=30)
    r = requests.post(f"{opensearch}/{index}/_search", json={"size": 1000}, timeout=30)
    return [h["_source"] for h in r.json().get("hits", {}).get("hits", [])] if r.ok else []


def regression_seed(seed, collect, opensearch, root, period=300):
    """One seeded case set: simulate --deployments, collect [start, T), deploy, collect [T, end)
    twice. Returns {function: {"verdict", "alerted", "expected"}} and the seconds it took."""
    prefix = "lfmbench-reg"
    run_dir = pathlib.Path(tempfile.mkdtemp(prefix=f"lfm-bench-reg-{seed}-"))
    moto = moto_server.start(run_dir)
    t0 = time.monotonic()
    try:
        truth_path = run_dir / "truth.json"
        subprocess.run([sys.executable, "-m", "lfm_testbed", "simulate", "--moto-url", moto["url"],
                        "--accounts", "1", "--functions-per-account", "2", "--idle-share", "0",
                        "--period", str(period), "--periods", str(REGRESSION_PERIODS), "--seed", str(seed),
                        "--deployments", "--out", str(truth_path)], check=True, cwd=root / "testbed",
                       stdout=subprocess.DEVNULL)
        truth = json.loads(truth_path.read_text())
        requests.delete(f"{opensearch}/{prefix}-*", timeout=60)
        start, end = parse(truth["window"]["start"]), parse(truth["window"]["end"])
        split = start + (REGRESSION_PERIODS // 2) * period  # the period boundary at or before T
        collect(moto["url"], truth, prefix, iso(start), iso(split), {})
        put(opensearch, f"{prefix}-alert-rules", "deploy-regressions",
            rule_document("deploy-regressions", [], **DEFAULT_RULES["deploy-regressions"]))
        subprocess.run([sys.executable, "-m", "lfm_testbed", "deploy", "--moto-url", moto["url"], "--truth", str(truth_path)],
                       check=True, cwd=root / "testbed", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        runs = []
        for _ in range(2):
            # Runs are minutes apart in production: what the previous one wrote is searchable.
            refresh(opensearch, prefix)
            runs.append(collect(moto["url"], truth, prefix, iso(split), iso(end), {}))
        deployments = {d["function_name"]: d for d in hits(opensearch, f"{prefix}-deployments")}
        fired = {a["function_name"] for a in hits(opensearch, f"{prefix}-alerts")
                 if a.get("rule") == "deploy-regressions" and a.get("transition") == "firing"}
        expected = {d["function_name"]: d["expected_verdict"] for d in truth["deployments"]}
        out = {}
        for name in REGRESSION_SCENARIOS:
            d = deployments.get(name)
            out[name] = {"verdict": d.get("verdict") if d else None, "alerted": name in fired, "expected": expected.get(name),
                         "summary": (d or {}).get("summary")}
        judged = [(r["summary"].get("alerts") or {}).get("deployments_judged") for r in runs]
        recorded = [r["summary"].get("documents_written_by_index", {}).get(f"{prefix}-deployments", 0) for r in runs]
        return {"seed": seed, "functions": out, "deployments_recorded_per_run": recorded, "deployments_judged_per_run": judged,
                "seconds": round(time.monotonic() - t0, 1)}
    finally:
        moto_server.stop(moto["pid"])


def regression_figures(cases):
    """Detection rate (deploy-worse judged regressed) and false alarms (the others judged
    regressed or alerted) over the seeded cases."""
    def regressed(c, name):
        f = c["functions"][name]
        return f["verdict"] == "regressed" or f["alerted"]

    n = len(cases)
    verdicts = {name: {} for name in REGRESSION_SCENARIOS}
    for c in cases:
        for name in REGRESSION_SCENARIOS:
            v = str(c["functions"][name]["verdict"])
            verdicts[name][v] = verdicts[name].get(v, 0) + 1
    others = [name for name in REGRESSION_SCENARIOS if name != "deploy-worse"]
    false_alarms = sum(regressed(c, name) for c in cases for name in others)
    return {
        "seeds": [c["seed"] for c in cases], "periods": REGRESSION_PERIODS, "period_seconds": 300,
        "detected": sum(regressed(c, "deploy-worse") for c in cases), "regressions_seeded": n,
        "detection_rate": round(sum(regressed(c, "deploy-worse") for c in cases) / n, 3) if n else None,
        "false_alarms": false_alarms, "no_regression_cases": n * len(others),
        "false_alarm_rate": round(false_alarms / (n * len(others)), 3) if n else None,
        "verdicts": verdicts,
        "expected_verdicts_met": sum(c["functions"][name]["verdict"] == c["functions"][name]["expected"]
                                     for c in cases for name in REGRESSION_SCENARIOS),
        "cases": cases,
    }
