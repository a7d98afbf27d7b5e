"""LFM collector benchmark on reference fleets (a benchmark, not a test: it prints figures).

    scripts/bench                 # both reference fleets
    scripts/bench --fleet small   # 1,000 functions in 10 accounts, 30% active
    scripts/bench --fleet small --regression-seeds 0 --out /tmp/x.json   # a quick try

For each fleet: a private moto (motoext) is started, the simulator builds the organisation
(70% of functions idle), and `lfm-collector run` collects one 15-minute window at 300 s into
the test bed's OpenSearch under the index prefix `lfmbench`, under /usr/bin/time -v. Printed
and saved to bench/results/latest.json (commit it so the next session can compare; a run
prints its figures next to the file's before overwriting it):
API calls by API, metrics requested, monthly AWS API spend at 5- and 15-minute freshness,
collector CPU seconds and peak RSS, documents per bulk request, documents per second (over the
run, and into OpenSearch: over the time spent in _bulk requests).
Targets (issue 3): GetMetricData calls at the floor ceil(active x queries / 500) per account
and region; idle functions cost 0 metric queries; peak RSS <= 64 MiB at 10,000 functions;
>= 500 documents per bulk request.

Alert figures (issue 10; bench/alert_bench.py; `--no-alerts` skips them), per fleet: the same
run again on fresh indices with rules declared (the quickstart's default set and
`bench-bad-period`, breaching for ~300 functions in the last period, all to a webhook
destination on the test bed's receiver, under a path of its own), then once more on the same
window: added CPU seconds and peak RSS against the run without rules; the alert stage's
OpenSearch requests, pairs evaluated, history documents, evaluation and delivery ms (the CLI's
JSON summary, checked against the run record's `alerts` in {prefix}-runs); messages received
per rule and the functions they list; new messages on the rerun.
Regression detection (`--regression-seeds N`, default 5; 0 skips): per seed a private moto,
`simulate --deployments` over 30 periods of 300 s, runs [start, T), `deploy`, [T, end) twice;
detection rate (deploy-worse judged regressed) and false alarms (deploy-same, noisy-steady,
deploy-better judged regressed or alerted) over the seeds.
Targets (issue 10): 1 OpenSearch read per run without rules; 1 message per rule for a bad
period across 300 functions; 0 new messages on a rerun.
The receiver is the test bed's (LFM_WEBHOOK_URL, LFM_WEBHOOK_CA_FILE, else its state file).
"""

import argparse
import datetime as dt
import json
import math
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time

import requests

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "testbed"))
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from lfm_testbed import cache, moto_server  # noqa: E402
from lfm_e2e import aws_env  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
import alert_bench  # noqa: E402

FLEETS = {
    "small": {"accounts": 10, "functions_per_account": 100},
    "large": {"accounts": 20, "functions_per_account": 500},
}
IDLE_SHARE = 0.7
PERIOD, PERIODS = 300, 3
PREFIX = "lfmbench"
# CloudWatch pricing (aws.amazon.com/cloudwatch/pricing, read 2026-11-26): GetMetricData is
# billed per metric requested, other metric API requests per 1,000 requests; Logs Insights per
# GB scanned. Lambda and STS control-plane calls are free.
USD_PER_METRIC_REQUESTED = 0.01 / 1000
USD_PER_CW_REQUEST = 0.01 / 1000
USD_PER_GB_SCANNED = 0.005
RUNS_PER_MONTH = {"5min": 30 * 24 * 12, "15min": 30 * 24 * 4}


def collect(collector, opensearch, moto_url, truth, prefix, start, end, extra_env=None):
    """One `lfm-collector run` under /usr/bin/time -v: {"summary", "cpu", "rss", "time"}."""
    args = [collector, "run", "--accounts", ",".join(a["account_id"] for a in truth["accounts"]),
            "--role-name", "OrganizationAccountAccessRole", "--regions", ",".join(truth["regions"]),
            "--opensearch-url", opensearch, "--index-prefix", prefix,
            "--start", start, "--end", end, "--period", str(truth["window"]["period_seconds"]), "--output", "json"]
    env = {**aws_env(moto_url), **(extra_env or {})}
    proc = subprocess.run(["/usr/bin/time", "-v", *args], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"collector failed ({prefix} {start} {end}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    user = float(time_v(proc.stderr, "User time (seconds)") or 0)
    system = float(time_v(proc.stderr, "System time (seconds)") or 0)
    rss_kb = int(time_v(proc.stderr, "Maximum resident set size (kbytes)") or 0)
    return {"summary": json.loads(proc.stdout), "cpu": round(user + system, 2), "rss": round(rss_kb / 1024, 1),
            "time": proc.stderr}


def run_fleet(name, spec, collector, opensearch, alerts=True):
    run_dir = pathlib.Path(tempfile.mkdtemp(prefix=f"lfm-bench-{name}-"))
    moto = moto_server.start(run_dir)
    try:
        truth_path = run_dir / "truth.json"
        t0 = time.monotonic()
        subprocess.run([sys.executable, "-m", "lfm_testbed", "simulate", "--moto-url", moto["url"],
                        "--accounts", str(spec["accounts"]), "--functions-per-account", str(spec["functions_per_account"]),
                        "--period", str(PERIOD), "--periods", str(PERIODS), "--idle-share", str(IDLE_SHARE),
                        "--seed", "1", "--out", str(truth_path)], check=True, cwd=ROOT / "testbed")
        simulate_s = time.monotonic() - t0
        truth = json.loads(truth_path.read_text())
        window = truth["window"]
        requests.delete(f"{opensearch}/{PREFIX}-*", timeout=60)
        baseline = collect(collector, opensearch, moto["url"], truth, PREFIX, window["start"], window["end"])
        result = figures(name, spec, truth, baseline["summary"], baseline["time"], simulate_s)
        if alerts:
            result["alerts"] = run_alerts(name, collector, opensearch, moto["url"], truth, baseline)
        return result
    finally:
        moto_server.stop(moto["pid"])


def run_alerts(name, collector, opensearch, moto_url, truth, baseline):
    """The same run again on fresh indices with the alert rules declared (webhook to the test
    bed's receiver), then once more on the same window (a rerun: nothing new to send)."""
    webhook = cache.read_state().get("webhook") or {}
    receiver = os.environ.get("LFM_WEBHOOK_URL") or webhook.get("url")
    ca_file = os.environ.get("LFM_WEBHOOK_CA_FILE") or webhook.get("ca_file")
    if not receiver or not ca_file:
        raise SystemExit("no webhook receiver (LFM_WEBHOOK_URL, LFM_WEBHOOK_CA_FILE): run `scripts/testbed up` first")
    path = f"/lfmbench/{name}/{int(time.time())}"
    window = truth["window"]
    # Indices only: the templates the first run installed stay, so the rules get their mapping.
    requests.delete(f"{opensearch}/{PREFIX}-*", timeout=60)
    settings, expected = alert_bench.declare(opensearch, PREFIX, truth, receiver + path)
    alert_bench.forget_deliveries(receiver, ca_file, path)
    env = {"LFM_ALERT_WEBHOOK_CA_FILE": ca_file}
    with_rules = collect(collector, opensearch, moto_url, truth, PREFIX, window["start"], window["end"], env)
    received = alert_bench.deliveries(receiver, ca_file, path)
    record = alert_bench.run_record(opensearch, PREFIX, with_rules["summary"].get("run_id"))
    alert_bench.refresh(opensearch, PREFIX)  # as after the minutes between two runs
    rerun = collect(collector, opensearch, moto_url, truth, PREFIX, window["start"], window["end"], env)
    received_rerun = alert_bench.deliveries(receiver, ca_file, path)
    return alert_bench.alert_figures(baseline, with_rules, rerun, record, settings, expected, received, received_rerun)


# GetMetricData queries per active function: collector/src/harvest/cloudwatch/plan.rs
# LAMBDA_METRICS (Applies::Always) and harvest/cloudwatch/lambda_insights.rs LAMBDA_INSIGHTS_METRICS.
CORE_QUERIES_PER_FUNCTION = 9
INSIGHTS_QUERIES_PER_FUNCTION = 5


def time_v(stderr, label):
    m = re.search(rf"{re.escape(label)}: ([0-9.:]+)", stderr)
    return m.group(1) if m else None


def figures(name, spec, truth, summary, time_stderr, simulate_s):
    functions = len(truth["functions"])
    active = len({(m["account_id"], m["region"], m["function_name"]) for m in truth["metrics"]})
    calls = summary.get("api_calls", {})
    metrics_requested = summary.get("metrics_requested", summary.get("metric_queries"))
    # The floor per account and region: ceil(queries / 500), queries counted per active function
    # as the plan makes them (the same constants as tests/e2e/test_walking_skeleton.py): the
    # core AWS/Lambda statistics, plus the Lambda Insights ones where the function publishes them.
    insights = {(f["account_id"], f["region"], f["function_name"]) for f in truth["functions"]
                if f.get("lambda_insights")}
    pairs = {}
    for account_id, region, function in {(m["account_id"], m["region"], m["function_name"]) for m in truth["metrics"]}:
        pairs[(account_id, region)] = (pairs.get((account_id, region), 0) + CORE_QUERIES_PER_FUNCTION
                                       + (INSIGHTS_QUERIES_PER_FUNCTION if (account_id, region, function) in insights else 0))
    floor = sum(math.ceil(q / 500) for q in pairs.values()) if pairs else None
    planned = sum(pairs.values())
    cw_requests = sum(v for k, v in calls.items() if k.startswith("cloudwatch:") and k != "cloudwatch:GetMetricData")
    gb = (summary.get("logs_insights_bytes_scanned") or 0) / 1e9
    per_run = (metrics_requested or 0) * USD_PER_METRIC_REQUESTED + cw_requests * USD_PER_CW_REQUEST + gb * USD_PER_GB_SCANNED
    docs = summary.get("documents_written", 0)
    bulks = summary.get("bulk_requests") or summary.get("bulk", {}).get("requests")
    duration = (summary.get("duration_ms") or 0) / 1000 or None
    bulk_s = (summary.get("bulk_ms") or 0) / 1000 or None
    user = float(time_v(time_stderr, "User time (seconds)") or 0)
    system = float(time_v(time_stderr, "System time (seconds)") or 0)
    rss_kb = int(time_v(time_stderr, "Maximum resident set size (kbytes)") or 0)
    return {
        "fleet": name, "accounts": spec["accounts"], "functions": functions, "active_functions": active,
        "window": truth["window"], "simulate_seconds": round(simulate_s, 1),
        "api_calls": calls, "metrics_requested": metrics_requested,
        "functions_active_seen_by_collector": summary.get("functions_active"),
        "functions_with_lambda_insights": len(insights),
        "metric_queries_expected": planned,
        "get_metric_data_floor": floor, "get_metric_data_calls": calls.get("cloudwatch:GetMetricData"),
        "logs_insights_bytes_scanned": summary.get("logs_insights_bytes_scanned"),
        "usd_per_run": round(per_run, 6),
        "usd_per_month": {k: round(per_run * n, 2) for k, n in RUNS_PER_MONTH.items()},
        "collector_cpu_seconds": round(user + system, 2), "collector_peak_rss_mib": round(rss_kb / 1024, 1),
        "documents_written": docs, "bulk_requests": bulks,
        "documents_per_bulk": round(docs / bulks, 1) if bulks else None,
        "run_seconds": duration, "documents_per_second": round(docs / duration, 1) if duration else None,
        # The write rate into OpenSearch: documents over the time spent in _bulk requests
        # (the run's own duration is mostly moto answering).
        "bulk_seconds": bulk_s,
        "documents_per_second_into_opensearch": round(docs / bulk_s, 1) if bulk_s else None,
    }


COMPARED = ["get_metric_data_calls", "metrics_requested", "logs_insights_bytes_scanned", "usd_per_run",
            "collector_cpu_seconds", "collector_peak_rss_mib", "documents_per_bulk", "documents_per_second", "documents_per_second_into_opensearch",
            "alerts.added_cpu_seconds", "alerts.added_peak_rss_mib", "alerts.opensearch_requests", "alerts.evaluation_ms",
            "alerts.delivery_ms", "alerts.max_messages_per_rule", "alerts.rerun_new_messages"]
COMPARED_REGRESSIONS = ["detection_rate", "false_alarm_rate"]


def lookup(record: dict, key: str):
    for part in key.split("."):
        record = record.get(part) if isinstance(record, dict) else None
    return record


def compare(previous: dict, results: list[dict], regressions: dict | None = None) -> list[str]:
    """Lines comparing ``results`` (and ``regressions``) with an earlier results file, fleet by fleet."""
    before = {r["fleet"]: r for r in previous.get("results", [])}
    lines = [f"compared with {previous.get('measured_at')} ({previous.get('collector')}):"]
    for r in results:
        old = before.get(r["fleet"])
        if not old:
            continue
        for key in COMPARED:
            a, b = lookup(old, key), lookup(r, key)
            if isinstance(a, (int, float)) and isinstance(b, (int, float)):
                change = f"{(b - a) / a * 100:+.1f}%" if a else "n/a"
                lines.append(f"  {r['fleet']:5} {key:30} {a:>14} -> {b:>14}  {change}")
    old, new = previous.get("regressions") or {}, regressions or {}
    for key in COMPARED_REGRESSIONS:
        a, b = old.get(key), new.get(key)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            lines.append(f"  regressions {key:24} {a:>14} -> {b:>14}")
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fleet", choices=[*FLEETS, "all"], default="all")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "latest.json"))
    ap.add_argument("--no-alerts", action="store_true", help="skip the runs with alert rules")
    ap.add_argument("--regression-seeds", type=int, default=5,
                    help="seeds of the regression-detection cases (simulate --deployments); 0 skips them")
    args = ap.parse_args()
    state = cache.read_state()
    opensearch = os.environ.get("LFM_OPENSEARCH_URL") or (state.get("opensearch") or {}).get("url")
    if not opensearch:
        raise SystemExit("no OpenSearch: run `scripts/testbed up` first")
    profile = os.environ.get("LFM_BENCH_PROFILE", "release")
    collector = str(pathlib.Path(os.environ["CARGO_TARGET_DIR"]) / profile / "lfm-collector")
    results = []
    for name in (FLEETS if args.fleet == "all" else [args.fleet]):
        print(f"== fleet {name}: {FLEETS[name]}", flush=True)
        r = run_fleet(name, FLEETS[name], collector, opensearch, alerts=not args.no_alerts)
        print(json.dumps(r, indent=2), flush=True)
        results.append(r)
    regressions = None
    if args.regression_seeds > 0:
        print(f"== regression detection: {args.regression_seeds} seeds of simulate --deployments", flush=True)
        cases = []
        for seed in range(1, args.regression_seeds + 1):
            def run(moto_url, truth, prefix, start, end, env):
                return collect(collector, opensearch, moto_url, truth, prefix, start, end, env)
            case = alert_bench.regression_seed(seed, run, opensearch, ROOT)
            print(json.dumps(case), flush=True)
            cases.append(case)
        regressions = alert_bench.regression_figures(cases)
        print(json.dumps({k: v for k, v in regressions.items() if k != "cases"}, indent=2), flush=True)
    out = pathlib.Path(args.out)
    if out.exists():
        try:
            print("\n".join(compare(json.loads(out.read_text()), results, regressions)))
        except (ValueError, KeyError) as e:
            print(f"(no comparison: {out} is not a results file: {e})")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"measured_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                               "machine": f"{os.cpu_count()} cores", "collector": f"{profile} build",
                               "results": results, "regressions": regressions}, indent=2) + "\n")
    print(f"saved {out}")


if __name__ == "__main__":
    main()
