"""Fleet simulator: an organisation, member accounts, Lambda functions and their
CloudWatch metrics in moto, plus the ground truth JSON the end-to-end tests compare with.

    python -m lfm_testbed simulate --moto-url URL --accounts 2 --functions-per-account 30 \
        --regions us-east-1[,eu-west-1] --period 300 --periods 12 --seed 42 --out FILE

What it builds (through boto3, static test keys, like a user of AWS would):
- the organisation (feature set ALL) from the management account 123456789012;
- N member accounts with ``organizations:CreateAccount`` (moto creates
  ``OrganizationAccountAccessRole`` in each);
- in each member account, acting through ``sts:AssumeRole`` into that role: an execution
  role ``lfm-sim-lambda-exec`` and ``--functions-per-account`` Lambda functions, spread over
  the regions round-robin, with seeded-random realistic configurations (current and
  deprecated runtimes, a few container-image functions, memory, timeout, architecture);
- AWS/Lambda metrics (dimension FunctionName) per function per period of the window:
  Invocations (Sum, Count), Duration (individual samples as Values/Counts, Milliseconds),
  Errors (Count; published in every active period of functions that can fail, 0 included),
  Throttles (Count; published only when > 0), ConcurrentExecutions (Count, one value per
  active period: its Maximum is the period's concurrency). Some functions are idle (no
  metrics at all), active ones have idle periods. Every point is stamped at its period's start.
- CloudWatch Logs of every function with activity in /aws/lambda/<name>, one stream per
  execution environment (``YYYY/MM/DD/[$LATEST]<32 hex>``), one REPORT record per
  invocation, stamped inside the invocation's period, with exactly the period's Duration
  samples as durations (so Duration avg/max/p50/p90/p99 from metrics and from REPORT agree).
  Log format per function (ground truth ``log_format``): "Text" REPORT lines or "JSON"
  ``platform.report`` records. Cold starts: the first invocation of a fresh environment
  (environments expire after an idle period and are recycled at random) carries
  ``Init Duration`` (``initDurationMs``), or ``Restore Duration`` (``restoreDurationMs``) for
  SnapStart java21 functions (``snap_start``), then with ``Billed Restore Duration``
  (``billedRestoreDurationMs``): AWS "Monitoring for Lambda SnapStart"
  (https://docs.aws.amazon.com/lambda/latest/dg/snapstart-monitoring.html) says a REPORT
  after a restore carries both, that the billed one (loading the runtime, after-restore
  hooks) is charged, and that Billed Duration covers the handler only. Timeouts: duration == timeout, "Status: timeout"
  (JSON status "timeout"), or on older runtimes a "Task timed out after N seconds" line;
  a timeout counts as an error. Max Memory Used <= Memory Size (profiles near the limit,
  middling, far below). Billed Duration = ceil(duration [+ init]) ms: the init phase is
  billed for every on-demand cold start in windows from 2025-08-01 on (before: only for
  container images and custom runtimes). Noise: INIT_START/START/END lines, platform.initStart
  and platform.start records, app log lines (one mentions "Memory Used: N MB"), and one
  malformed REPORT line per account and region.
- Lambda Insights (ground truth ``lambda_insights``): about one function in four (own random
  stream, so every other number is unchanged) also publishes, per invocation, what the Lambda
  Insights extension publishes in namespace ``LambdaInsights`` (dimension ``function_name``):
  ``used_memory_max`` (= the REPORT's Max Memory Used; also with ``[function_name, version]``,
  as AWS publishes both dimension sets), ``total_memory`` (= Memory Size),
  ``memory_utilization`` (Percent: used / total x 100) and, for each cold start that is not a
  SnapStart restore, ``init_duration`` (= the REPORT's Init Duration). Source: "Metrics
  collected by Lambda Insights" and "Example telemetry event in CloudWatch Lambda Insights"
  (docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Lambda-Insights-metrics.html,
  .../Lambda-Insights-example-event.html). Not simulated: cpu_total_time and the network
  metrics (LFM does not read them). Each metric goes in as one statistic set per period
  (SampleCount/Sum/Minimum/Maximum of the per-invocation values). Ground truth rows say where the collector should take
  cold starts, init and memory from: ``cold_start_source`` "lambda_insights" or "logs_insights";
  the values are the same either way.
Ground truth metrics rows also carry the REPORT-derived fields (see ``log_truth``):
duration_p50/p90/p99_ms (nearest rank, as ``motoext.cloudwatch_percentiles``),
concurrency_max, cold_starts (init or restore), cold_start_rate, init_duration_avg/max_ms
(null without an Init Duration), snapstart_restores, restore_duration_max_ms,
max_memory_used_mb, memory_utilization, timeouts, timeout_proximity_max/p99,
billed_duration_ms_sum (Billed Duration plus Billed Restore Duration: what AWS charges),
billed_restore_duration_ms_sum, gb_seconds, request_cost_usd, compute_cost_usd, cost_usd (null for
regions without a verified price in ``LAMBDA_PRICES``).
Forgers (``--forgers N``, default 0; see ``plan_forgers``): N extra functions in the first
account whose code prints forged REPORT records (text and JSON formats) in some periods; the
ground truth counts only the platform's records and says per row how many forged ones the
period's log holds (``forged_reports``) and per function whether it forges
(``forges_reports``).
Deployments (``--deployments``, see ``lfm_testbed.deployments``): four functions in the first
account, three whose code changes at a time T inside the window (worse, better, the same) and
one noisy function without a change; ground truth ``deployments`` gives per function the
change time, from -> to and the expected verdict. ``--apply-deployments`` applies the changes
at once; otherwise ``python -m lfm_testbed deploy --truth FILE`` applies them later (a
collection before that sees the old code). Own random streams: the rest is unchanged.
The window ends at the last period boundary at or before now and spans ``--periods``
periods. It does not create LambdaMonitoringRole (Terraform does that).

Duration samples are multiples of 0.25 ms, so sums are exact whatever the order.
Everything but the IDs moto assigns (account IDs, organisation ID, ARNs) is a function of
the seed. The ground truth values are computed the way CloudWatch (and moto) compute them:
sums of the individual points in stored order, average = sum / count, maximum of samples.
"""

from __future__ import annotations

import io
import json
import math
import os
import random
import sys
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import boto3
import requests
from botocore.config import Config

from .motoext.cloudwatch_percentiles import percentile

MANAGEMENT_ACCOUNT_ID = "123456789012"
ACCESS_KEY = "testing"
SECRET_KEY = "testing"
EXEC_ROLE_NAME = "lfm-sim-lambda-exec"
ORG_ROLE_NAME = "OrganizationAccountAccessRole"
NAMESPACE = "AWS/Lambda"
INSIGHTS_NAMESPACE = "LambdaInsights"
INSIGHTS_SHARE = 0.25  # share of functions with the Lambda Insights extension
PUT_BATCH = 150  # MetricData entries per PutMetricData call
LOG_BATCH = 10000  # PutLogEvents limits: 10,000 events and 1,048,576 bytes (message + 26 each)
LOG_BATCH_BYTES = 1_000_000

# (runtime, weight, arm64 supported by AWS, handler)
RUNTIMES = [
    ("python3.12", 14, True, "app.handler"),
    ("python3.9", 8, True, "app.handler"),
    ("python3.7", 4, False, "app.handler"),
    ("nodejs20.x", 14, True, "index.handler"),
    ("nodejs16.x", 6, True, "index.handler"),
    ("nodejs12.x", 3, False, "index.handler"),
    ("java21", 5, True, "com.example.Handler::handleRequest"),
    ("java8", 3, False, "com.example.Handler::handleRequest"),
    ("go1.x", 4, False, "main"),
    ("dotnet8", 4, True, "Lfm.Sim::Lfm.Sim.Function::Handler"),
    ("ruby3.3", 3, True, "function.handler"),
    ("provided.al2023", 5, True, "bootstrap"),
]
IMAGE_SHARE = 0.07
MEMORY_STEPS = [(128, 20), (256, 16), (512, 16), (1024, 14), (1536, 6), (2048, 8),
                (3008, 5), (4096, 4), (6144, 2), (8192, 2), (10240, 2)]
TIMEOUTS = [(3, 20), (6, 8), (10, 12), (15, 8), (30, 18), (60, 12), (120, 6), (300, 8),
            (600, 3), (900, 5)]
SERVICES = ["orders", "billing", "users", "inventory", "search", "auth", "reports",
            "notify", "images", "payments", "catalog", "audit"]
PURPOSES = ["api", "worker", "cron", "ingest", "resize", "export", "webhook", "consumer",
            "etl", "sync"]


def _pick(rng: random.Random, weighted):
    items, weights = zip(*weighted)
    return rng.choices(items, weights=weights, k=1)[0]


def iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def window_for(now_epoch: float, period: int, periods: int) -> tuple[int, int]:
    """(start, end) epoch seconds: end is the last period boundary at or before now."""
    end = int(now_epoch) - int(now_epoch) % period
    return end - periods * period, end


@dataclass
class FunctionPlan:
    name: str
    region: str
    package_type: str
    runtime: str | None
    handler: str | None
    memory_mb: int
    timeout_s: int
    architecture: str
    tags: dict
    description: str
    # activity profile
    idle: bool
    rate: int
    idle_prob: float
    error_rate: float
    throttle_prob: float
    duration_base_ms: float
    periods: list = field(default_factory=list)  # [(epoch, invocations, errors, throttles, [(value, count)])]
    # logs profile (drawn from a separate random stream: the metric plan above is unchanged by it)
    log_format: str = "Text"
    snap_start: bool = False
    logs: list = field(default_factory=list)  # per entry of periods: PeriodLogs
    lambda_insights: bool = False  # publishes LambdaInsights metrics (own random stream)
    # forged REPORT records the function prints itself: [(period index, kind)] (see plan_forgers)
    forged: list = field(default_factory=list)
    # deployment scenarios (see deployments.py): no sample set to the timeout, own package
    never_times_out: bool = False
    code: bytes | None = None


def plan_account(seed: int, account_index: int, n_functions: int, regions: list[str],
                 window: tuple[int, int], period: int, idle_share: float = 0.15) -> list[FunctionPlan]:
    """The functions and metrics of one member account: a pure function of its arguments.

    ``idle_share`` is the probability that a function has no activity at all in the window.
    """
    rng = random.Random(f"lfm-sim/{seed}/{account_index}")
    plans = []
    for j in range(n_functions):
        service, purpose = rng.choice(SERVICES), rng.choice(PURPOSES)
        name = f"{service}-{purpose}-{j + 1:03d}"
        if rng.random() < IMAGE_SHARE:
            package_type, runtime, handler, arm_ok = "Image", None, None, True
        else:
            runtime, _, arm_ok, handler = _pick(rng, [(r, r[1]) for r in RUNTIMES])
            package_type = "Zip"
        memory = _pick(rng, MEMORY_STEPS)
        timeout = _pick(rng, TIMEOUTS)
        architecture = "arm64" if arm_ok and rng.random() < 0.3 else "x86_64"
        idle = rng.random() < idle_share
        rate = _pick(rng, [(rng.randint(1, 5), 50), (rng.randint(5, 30), 35), (rng.randint(30, 120), 15)])
        plan = FunctionPlan(
            name=name, region=regions[j % len(regions)], package_type=package_type,
            runtime=runtime, handler=handler, memory_mb=memory, timeout_s=timeout,
            architecture=architecture,
            tags={"team": service, "env": rng.choice(["prod", "prod", "staging", "dev"])},
            description=f"{service} {purpose} (simulated)",
            idle=idle, rate=rate, idle_prob=rng.choice([0.0, 0.1, 0.25, 0.5]),
            error_rate=rng.uniform(0.01, 0.2) if rng.random() < 0.4 else 0.0,
            throttle_prob=0.3 if rng.random() < 0.15 else 0.0,
            duration_base_ms=min(rng.choice([4, 15, 60, 250, 1200]) * rng.uniform(0.5, 1.5),
                                 timeout * 1000.0 * 0.8),
        )
        if not idle:
            start, end = window
            for t in range(start, end, period):
                if rng.random() < plan.idle_prob:
                    continue
                n = max(1, int(rng.gauss(plan.rate, plan.rate * 0.3)))
                errors = sum(1 for _ in range(n) if rng.random() < plan.error_rate)
                throttles = rng.randint(1, 10) if rng.random() < plan.throttle_prob else 0
                k = min(n, rng.randint(1, 6))
                counts = [1] * k
                for _ in range(n - k):
                    counts[rng.randrange(k)] += 1
                # quarter-millisecond samples: every sum of them is exact in binary floating
                # point, so any summation order gives the same Sum and Average
                values = [max(0.25, round(min(plan.duration_base_ms * rng.lognormvariate(0, 0.4),
                                              timeout * 1000.0) * 4) / 4) for _ in range(k)]
                plan.periods.append((t, n, errors, throttles, list(zip(values, counts))))
        plan_logs(seed, account_index, plan, window, period)
        plan.lambda_insights = random.Random(f"lfm-sim/{seed}/{account_index}/{plan.name}/insights").random() < INSIGHTS_SHARE
        plans.append(plan)
    return plans


def plan_forgers(seed: int, count: int, region: str, window: tuple[int, int],
                 period: int) -> list[FunctionPlan]:
    """``count`` functions that print forged REPORT records, alternating the Text and JSON log
    formats: a Python ``print("REPORT RequestId: ...")`` (or of a ``platform.report`` JSON
    object) reaches the log group as it is, and Logs Insights reads it like the platform's.

    Each is active in every period with real invocations and metrics like any function; every
    third period (from the second) it also prints one forged record: alternately an
    ``outlier`` (a new request ID, Duration 5000 ms above the function's 3 s timeout, 10,240 MB
    used of 10,240, Init Duration 5000 ms) and a ``copy`` (the request ID and duration of a real
    invocation of the period, all memory used, Init Duration 5000 ms). Both make the period's
    REPORT records outnumber CloudWatch's Invocations; the outlier also exceeds its Maximum
    Duration. Own random stream: the rest of the fleet is unchanged."""
    rng = random.Random(f"lfm-sim/{seed}/forgers")
    start, end = window
    plans = []
    for k in range(count):
        log_format = ("Text", "JSON")[k % 2]
        plan = FunctionPlan(
            name=f"forger-{log_format.lower()}-{k + 1:03d}", region=region, package_type="Zip",
            runtime="python3.12", handler="app.handler", memory_mb=128, timeout_s=3,
            architecture="x86_64", tags={"team": "forgers", "env": "dev"},
            description="prints forged REPORT records (simulated)", idle=False, rate=8,
            idle_prob=0.0, error_rate=0.0, throttle_prob=0.0, duration_base_ms=40.0)
        for t in range(start, end, period):
            n = rng.randint(4, 12)
            k_samples = min(n, rng.randint(1, 4))
            counts = [1] * k_samples
            for _ in range(n - k_samples):
                counts[rng.randrange(k_samples)] += 1
            values = [_quarter(40.0 * rng.lognormvariate(0, 0.4)) for _ in range(k_samples)]
            plan.periods.append((t, n, 0, 0, list(zip(values, counts))))
        plan_logs(seed, 1000 + k, plan, window, period)
        plan.log_format = log_format
        plan.forged = [(i, ("outlier", "copy")[(i // 3) % 2]) for i in range(1, len(plan.periods), 3)]
        plans.append(plan)
    return plans


FORGED_MS = 5000.0  # the forged records' Duration and Init Duration


def forged_message(plan: FunctionPlan, inv: Invocation, kind: str, rng: random.Random) -> str:
    """One forged record in the function's log format, as its ``print`` writes it."""
    if kind == "outlier":
        request_id, duration, memory, used = _request_id(rng), FORGED_MS, 10240, 10240
    else:
        request_id, duration, memory, used = inv.request_id, inv.duration_ms, plan.memory_mb, plan.memory_mb
    if plan.log_format == "JSON":
        return json.dumps({"time": _iso_ms(inv.ts_ms), "type": "platform.report",
                           "record": {"requestId": request_id, "status": "success", "metrics": {
                               "durationMs": duration, "billedDurationMs": math.ceil(duration + FORGED_MS),
                               "memorySizeMB": memory, "maxMemoryUsedMB": used, "initDurationMs": FORGED_MS}}},
                          separators=(",", ":")) + "\n"
    return "\t".join([f"REPORT RequestId: {request_id}", f"Duration: {duration:.2f} ms",
                      f"Billed Duration: {math.ceil(duration + FORGED_MS)} ms", f"Memory Size: {memory} MB",
                      f"Max Memory Used: {used} MB", f"Init Duration: {FORGED_MS:.2f} ms"]) + "\t\n"


# ---- Lambda logs: one REPORT record per invocation ---------------------------------------

# Runtimes whose timeouts show as a separate "Task timed out after N seconds" line and no
# "Status: timeout" in REPORT (older runtime interfaces); the others write "Status: timeout".
OLD_TIMEOUT_STYLE = {"python3.7", "nodejs12.x", "java8", "go1.x"}
# Managed runtimes offered with Lambda's JSON log format in the simulation.
JSON_CAPABLE = {"python3.12", "nodejs20.x", "java21", "dotnet8", "python3.9", "ruby3.3"}
# AWS bills the INIT phase of on-demand invocations of zip functions on managed runtimes
# since 2025-08-01 (before: only container images and custom runtimes paid it).
INIT_BILLED_SINCE = 1754006400  # 2025-08-01T00:00:00Z

# Prices per region: (per request, {architecture: per GB-second}), first tier.
# Source: https://aws.amazon.com/lambda/pricing/ (read 2026-11-26 through the shared guide
# metrics.md and public copies of the page; us-east-1 and eu-west-1 list the same prices:
# $0.20 per 1M requests, x86_64 $0.0000166667 and arm64 $0.0000133334 per GB-s).
# Other regions are not listed here because their prices could not be verified offline:
# their cost fields are null in the ground truth.
LAMBDA_PRICES = {
    "us-east-1": (0.20 / 1_000_000, {"x86_64": 0.0000166667, "arm64": 0.0000133334}),
    "eu-west-1": (0.20 / 1_000_000, {"x86_64": 0.0000166667, "arm64": 0.0000133334}),
}


@dataclass
class Invocation:
    ts_ms: int            # REPORT time (the invocation's end), inside its period
    request_id: str
    duration_ms: float    # multiple of 0.25 ms: exact in text ("%.2f") and JSON
    billed_ms: int
    max_memory_mb: int
    env: int              # execution environment (log stream) index
    init_ms: float | None = None     # cold start of a regular function
    restore_ms: float | None = None  # cold start (restore) of a SnapStart function
    billed_restore_ms: int | None = None  # its "Billed Restore Duration" (charged, see below)
    timeout: bool = False


@dataclass
class PeriodLogs:
    concurrency: int
    invocations: list


def _quarter(x: float) -> float:
    return max(0.25, round(x * 4) / 4)


def _request_id(rng: random.Random) -> str:
    import uuid

    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def init_billed(plan: FunctionPlan, window_start: int) -> bool:
    if window_start >= INIT_BILLED_SINCE:
        return True
    return plan.package_type == "Image" or (plan.runtime or "").startswith("provided")


def plan_logs(seed: int, account_index: int, plan: FunctionPlan, window: tuple[int, int],
              period: int) -> None:
    """Log profile and one Invocation per invocation of every active period of ``plan``.

    Uses its own random stream, so the metric plan drawn before is unchanged except that
    timeout-prone functions get some samples set to exactly the timeout (and at least as
    many Errors, as a timeout is an error). The invocations' durations are exactly the
    expanded Duration samples of the period, so metrics and REPORT records agree."""
    rng = random.Random(f"lfm-sim/{seed}/{account_index}/{plan.name}/logs")
    plan.log_format = "JSON" if plan.runtime in JSON_CAPABLE and rng.random() < 0.4 else "Text"
    plan.snap_start = plan.runtime == "java21" and plan.package_type == "Zip" and rng.random() < 0.7
    timeout_ms = plan.timeout_s * 1000.0
    timeout_prone = plan.error_rate > 0 and rng.random() < 0.4 and not plan.never_times_out
    mem_frac = rng.choice([rng.uniform(0.86, 0.97), rng.uniform(0.35, 0.7), rng.uniform(0.05, 0.2)])
    init_base = {"java21": 900.0, "java8": 1100.0, "dotnet8": 600.0}.get(plan.runtime or "", 250.0)
    if plan.package_type == "Image":
        init_base = 700.0
    billed_init = init_billed(plan, window[0])
    # Billed Restore Duration gets its own stream: every other number of the fleet is unchanged.
    restore_rng = random.Random(f"lfm-sim/{seed}/{account_index}/{plan.name}/restore")
    envs: list[int] = []      # alive environment indexes
    next_env = 0
    prev_t = None
    periods = []
    plan.logs = []
    for t, n, errors, throttles, samples in plan.periods:
        samples = list(samples)
        if timeout_prone and rng.random() < 0.35:
            i = min(range(len(samples)), key=lambda k: (samples[k][1], k))
            samples[i] = (timeout_ms, samples[i][1])
        n_timeouts = sum(c for v, c in samples if v >= timeout_ms)
        if plan.error_rate > 0 and n_timeouts > errors:  # Errors is published for these only
            errors = min(n, n_timeouts)
        periods.append((t, n, errors, throttles, samples))

        durations = [float(v) for v, c in samples for _ in range(c)]
        rng.shuffle(durations)
        avg = sum(durations) / len(durations)
        conc = min(n, 50, max(1, math.ceil(n * avg / (period * 1000.0) * rng.uniform(1.5, 4.0))))
        # environments: all expire after an idle period; each may be recycled anyway
        if prev_t is None or t - prev_t > period:
            envs = []
        else:
            envs = [e for e in envs if rng.random() >= 0.1]
        fresh = set()
        while len(envs) < conc:
            envs.append(next_env)
            fresh.add(next_env)
            next_env += 1
        used = envs[:conc]
        offsets = sorted(rng.sample(range(1, period * 1000 - 1), n))
        invs = []
        for k, (off, dur) in enumerate(zip(offsets, durations)):
            env = used[k % conc]
            inv = Invocation(ts_ms=t * 1000 + off, request_id=_request_id(rng), duration_ms=dur,
                             billed_ms=0, env=env, timeout=dur >= timeout_ms,
                             max_memory_mb=min(plan.memory_mb, max(1, int(plan.memory_mb * mem_frac
                                                                         * rng.uniform(0.9, 1.03)))))
            if env in fresh:
                fresh.discard(env)
                if plan.snap_start:
                    inv.restore_ms = _quarter(rng.uniform(150.0, 700.0))
                    # AWS "Monitoring for Lambda SnapStart": Billed Restore Duration is the time
                    # to load the runtime and run after-restore hooks, not the snapshot restore
                    # itself: a part of Restore Duration, in whole ms.
                    inv.billed_restore_ms = math.ceil(inv.restore_ms * restore_rng.uniform(0.3, 0.8))
                else:
                    inv.init_ms = _quarter(init_base * rng.uniform(0.5, 1.6))
            billed = dur + (inv.init_ms or 0.0) if billed_init else dur
            inv.billed_ms = math.ceil(billed)
            invs.append(inv)
        plan.logs.append(PeriodLogs(concurrency=conc, invocations=invs))
        prev_t = t
    plan.periods = periods


def _iso_ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def report_line(plan: FunctionPlan, inv: Invocation) -> str:
    parts = [f"REPORT RequestId: {inv.request_id}", f"Duration: {inv.duration_ms:.2f} ms",
             f"Billed Duration: {inv.billed_ms} ms", f"Memory Size: {plan.memory_mb} MB",
             f"Max Memory Used: {inv.max_memory_mb} MB"]
    if inv.init_ms is not None:
        parts.append(f"Init Duration: {inv.init_ms:.2f} ms")
    if inv.restore_ms is not None:
        parts.append(f"Restore Duration: {inv.restore_ms:.2f} ms")
        parts.append(f"Billed Restore Duration: {inv.billed_restore_ms} ms")
    if inv.timeout and plan.runtime not in OLD_TIMEOUT_STYLE:
        parts.append("Status: timeout")
    return "\t".join(parts) + "\t\n"


def platform_report(plan: FunctionPlan, inv: Invocation) -> str:
    metrics = {"durationMs": inv.duration_ms, "billedDurationMs": inv.billed_ms,
               "memorySizeMB": plan.memory_mb, "maxMemoryUsedMB": inv.max_memory_mb}
    if inv.init_ms is not None:
        metrics["initDurationMs"] = inv.init_ms
    if inv.restore_ms is not None:
        metrics["restoreDurationMs"] = inv.restore_ms
        metrics["billedRestoreDurationMs"] = inv.billed_restore_ms
    return json.dumps({"time": _iso_ms(inv.ts_ms), "type": "platform.report",
                       "record": {"requestId": inv.request_id, "metrics": metrics,
                                  "status": "timeout" if inv.timeout else "success"}},
                      separators=(",", ":"))


def log_events(plan: FunctionPlan, seed: int, malformed: bool = False) -> dict[str, list]:
    """{stream name: [(timestamp ms, seq, message)]} of one function, in time order per stream:
    one REPORT record per invocation plus noise (INIT_START/START/END, app logs, old-style
    timeout lines) and, when ``malformed``, one broken REPORT line."""
    rng = random.Random(f"lfm-sim/{seed}/{plan.name}/noise")
    streams: dict[int, str] = {}
    out: dict[str, list] = {}
    seq = 0
    first = True
    for pl in plan.logs:
        for inv in pl.invocations:
            if inv.env not in streams:
                day = datetime.fromtimestamp(inv.ts_ms / 1000, tz=timezone.utc).strftime("%Y/%m/%d")
                streams[inv.env] = f"{day}/[$LATEST]{rng.getrandbits(128):032x}"
            events = out.setdefault(streams[inv.env], [])
            start_ms = max(0, inv.ts_ms - int(inv.duration_ms))
            noisy = first or rng.random() < 0.1
            cold = inv.init_ms is not None or inv.restore_ms is not None
            if plan.log_format == "JSON":
                if cold:
                    events.append((start_ms, seq, json.dumps(
                        {"time": _iso_ms(start_ms), "type": "platform.initStart",
                         "record": {"initializationType": "snap-start" if inv.restore_ms else "on-demand",
                                    "phase": "init"}}, separators=(",", ":"))))
                if noisy:
                    events.append((start_ms, seq + 1, json.dumps(
                        {"time": _iso_ms(start_ms), "type": "platform.start",
                         "record": {"requestId": inv.request_id, "version": "$LATEST"}}, separators=(",", ":"))))
                    events.append((start_ms, seq + 2, json.dumps(
                        {"timestamp": _iso_ms(start_ms), "level": "INFO", "requestId": inv.request_id,
                         "message": "processed batch", "durationMs": 1}, separators=(",", ":"))))
                events.append((inv.ts_ms, seq + 3, platform_report(plan, inv)))
            else:
                if cold and inv.init_ms is not None:
                    events.append((start_ms, seq, f"INIT_START Runtime Version: {plan.runtime or 'image'}.v1\t"
                                                  f"Runtime Version ARN: arn:aws:lambda:{plan.region}::runtime:sim\n"))
                if noisy:
                    events.append((start_ms, seq + 1, f"START RequestId: {inv.request_id} Version: $LATEST\n"))
                    events.append((start_ms, seq + 2, f"{_iso_ms(start_ms)}\t{inv.request_id}\tINFO\t"
                                                      f"done; Memory Used: {inv.max_memory_mb + 7} MB\n"))
                if inv.timeout and plan.runtime in OLD_TIMEOUT_STYLE:
                    events.append((inv.ts_ms, seq + 3, f"{_iso_ms(inv.ts_ms)} {inv.request_id} Task timed out "
                                                       f"after {plan.timeout_s:.2f} seconds\n"))
                if noisy:
                    events.append((inv.ts_ms, seq + 4, f"END RequestId: {inv.request_id}\n"))
                events.append((inv.ts_ms, seq + 5, report_line(plan, inv)))
                if malformed and first:
                    events.append((inv.ts_ms, seq + 6, f"REPORT RequestId: {inv.request_id}-x Duration: n/a\n"))
            seq += 10
            first = False
    forged_rng = random.Random(f"lfm-sim/{seed}/{plan.name}/forged")
    for index, kind in plan.forged:
        inv = plan.logs[index].invocations[0]
        # printed by the function while it runs, just before the platform's own REPORT
        out[streams[inv.env]].append((inv.ts_ms - 1, -1, forged_message(plan, inv, kind, forged_rng)))
    for events in out.values():
        events.sort()
    return out


def log_truth(plan: FunctionPlan, pl: PeriodLogs, n: int) -> dict:
    """The REPORT-derived ground truth fields of one period."""
    invs = pl.invocations
    assert len(invs) == n
    durations = [i.duration_ms for i in invs]
    inits = [i.init_ms for i in invs if i.init_ms is not None]
    restores = [i.restore_ms for i in invs if i.restore_ms is not None]
    timeout_ms = plan.timeout_s * 1000.0
    p99 = percentile(durations, 99)
    # Charged time: Billed Duration (the handler, plus init where AWS bills it) plus the Billed
    # Restore Duration of SnapStart restores (AWS "Monitoring for Lambda SnapStart").
    billed_restore = sum(i.billed_restore_ms or 0 for i in invs)
    billed = sum(i.billed_ms for i in invs) + billed_restore
    max_mem = max(i.max_memory_mb for i in invs)
    gb_s = billed * plan.memory_mb / 1024 / 1000
    prices = LAMBDA_PRICES.get(plan.region)
    request_cost = n * prices[0] if prices else None
    compute_cost = gb_s * prices[1][plan.architecture] if prices else None
    cold = len(inits) + len(restores)
    return {
        "duration_p50_ms": percentile(durations, 50),
        "duration_p90_ms": percentile(durations, 90),
        "duration_p99_ms": p99,
        "concurrency_max": pl.concurrency,
        "cold_starts": cold,
        "cold_start_rate": cold / n if n else None,
        "init_duration_avg_ms": sum(inits) / len(inits) if inits else None,
        "init_duration_max_ms": max(inits) if inits else None,
        "snapstart_restores": len(restores),
        "restore_duration_max_ms": max(restores) if restores else None,
        "max_memory_used_mb": max_mem,
        "memory_utilization": max_mem / plan.memory_mb,
        "timeouts": sum(1 for i in invs if i.timeout),
        "timeout_proximity_max": max(durations) / timeout_ms,
        "timeout_proximity_p99": p99 / timeout_ms,
        "billed_duration_ms_sum": billed,
        "billed_restore_duration_ms_sum": billed_restore,
        "gb_seconds": gb_s,
        "request_cost_usd": request_cost,
        "compute_cost_usd": compute_cost,
        "cost_usd": request_cost + compute_cost if prices else None,
    }


def metric_data(plan: FunctionPlan) -> list[dict]:
    """PutMetricData entries of one function."""
    dims = [{"Name": "FunctionName", "Value": plan.name}]
    out = []
    for t, n, errors, throttles, samples in plan.periods:
        ts = datetime.fromtimestamp(t, tz=timezone.utc)
        out.append({"MetricName": "Invocations", "Dimensions": dims, "Timestamp": ts,
                    "Value": float(n), "Unit": "Count"})
        out.append({"MetricName": "Duration", "Dimensions": dims, "Timestamp": ts,
                    "Values": [v for v, _ in samples], "Counts": [float(c) for _, c in samples],
                    "Unit": "Milliseconds"})
        if plan.error_rate > 0:
            out.append({"MetricName": "Errors", "Dimensions": dims, "Timestamp": ts,
                        "Value": float(errors), "Unit": "Count"})
        if throttles:
            out.append({"MetricName": "Throttles", "Dimensions": dims, "Timestamp": ts,
                        "Value": float(throttles), "Unit": "Count"})
    for (t, *_), pl in zip(plan.periods, plan.logs):
        out.append({"MetricName": "ConcurrentExecutions", "Dimensions": dims,
                    "Timestamp": datetime.fromtimestamp(t, tz=timezone.utc),
                    "Value": float(pl.concurrency), "Unit": "Count"})
    return out


def insights_metric_data(plan: FunctionPlan) -> list[dict]:
    """PutMetricData entries (namespace ``LambdaInsights``) of a function with Lambda Insights:
    what the extension publishes per invocation, sent as one statistic set (SampleCount, Sum,
    Minimum, Maximum of the period's per-invocation values) per metric and period, which gives
    CloudWatch the same SampleCount/Sum/Average/Minimum/Maximum as the individual values and
    keeps the benchmark's 10,000-function simulation cheap."""
    if not plan.lambda_insights:
        return []
    fn = [{"Name": "function_name", "Value": plan.name}]
    fn_version = fn + [{"Name": "version", "Value": "$LATEST"}]
    out = []
    for (t, *_), pl in zip(plan.periods, plan.logs):
        ts = datetime.fromtimestamp(t, tz=timezone.utc)
        invs = pl.invocations
        per_metric = [
            ("used_memory_max", "Megabytes", [float(i.max_memory_mb) for i in invs], (fn, fn_version)),
            ("total_memory", "Megabytes", [float(plan.memory_mb)] * len(invs), (fn,)),
            ("memory_utilization", "Percent", [i.max_memory_mb / plan.memory_mb * 100.0 for i in invs], (fn,)),
            ("init_duration", "Milliseconds", [i.init_ms for i in invs if i.init_ms is not None], (fn,)),
        ]
        for name, unit, values, dimension_sets in per_metric:
            if not values:  # init_duration: only invocations with a cold start publish it
                continue
            statistics = {"SampleCount": float(len(values)), "Sum": sum(values),
                          "Minimum": min(values), "Maximum": max(values)}
            for dims in dimension_sets:
                out.append({"MetricName": name, "Dimensions": dims, "Timestamp": ts,
                            "StatisticValues": statistics, "Unit": unit})
    return out


def truth_rows(account_id: str, plan: FunctionPlan) -> list[dict]:
    """Ground truth metric rows, computed as CloudWatch computes them from these points."""
    rows = []
    for t, n, errors, throttles, samples in plan.periods:
        expanded = [float(v) for v, c in samples for _ in range(c)]
        rows.append({
            "account_id": account_id, "region": plan.region, "function_name": plan.name,
            "timestamp": iso(t), "invocations": n, "errors": errors, "throttles": throttles,
            "duration_avg_ms": sum(expanded) / len(expanded),
            "duration_max_ms": max(float(v) for v, _ in samples),
        })
    forged = {i for i, _ in plan.forged}
    for index, (row, (_, n, *_), pl) in enumerate(zip(rows, plan.periods, plan.logs)):
        row.update(log_truth(plan, pl, n))
        # The truth above counts the platform's records only; this says how many forged ones
        # the period's log also holds (the collector must not take them as true).
        row["forged_reports"] = 1 if index in forged else 0
        row["cold_start_source"] = "lambda_insights" if plan.lambda_insights else "logs_insights"
    return rows


_ZIP_CACHE: dict[str, bytes] = {}


def code_zip(handler: str) -> bytes:
    """A tiny deployment package whose entry file matches the handler."""
    if handler not in _ZIP_CACHE:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            module = handler.split(".")[0] if "." in handler and "::" not in handler else "bootstrap"
            zf.writestr(f"{module}.txt", f"simulated function, handler {handler}\n")
        _ZIP_CACHE[handler] = buf.getvalue()
    return _ZIP_CACHE[handler]


class Simulator:
    def __init__(self, moto_url: str, log=None):
        self.moto_url = moto_url.rstrip("/")
        self.config = Config(retries={"max_attempts": 3, "mode": "standard"},
                             max_pool_connections=20)
        self.log = log or (lambda msg: print(f"simulate: {msg}", file=sys.stderr))
        self.seed = 0
        self.log_events_written = 0
        self._lock = threading.Lock()

    def client(self, service: str, region: str = "us-east-1", creds: dict | None = None):
        creds = creds or {"aws_access_key_id": ACCESS_KEY, "aws_secret_access_key": SECRET_KEY}
        session = boto3.session.Session(region_name=region, **creds)
        return session.client(service, endpoint_url=self.moto_url, config=self.config)

    def reset(self) -> None:
        requests.post(self.moto_url + "/moto-api/reset", timeout=30).raise_for_status()

    def assume(self, account_id: str) -> dict:
        sts = self.client("sts")
        creds = sts.assume_role(
            RoleArn=f"arn:aws:iam::{account_id}:role/{ORG_ROLE_NAME}",
            RoleSessionName="lfm-simulator",
        )["Credentials"]
        return {"aws_access_key_id": creds["AccessKeyId"],
                "aws_secret_access_key": creds["SecretAccessKey"],
                "aws_session_token": creds["SessionToken"]}

    def create_org_and_accounts(self, n_accounts: int) -> tuple[str, list[dict]]:
        org = self.client("organizations")
        try:
            org_id = org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
        except org.exceptions.AlreadyInOrganizationException as exc:
            raise RuntimeError("moto already holds an organisation: pass --reset "
                               "(or POST /moto-api/reset) to start from a clean moto") from exc
        accounts = []
        for i in range(n_accounts):
            name = f"lfm-sim-member-{i + 1:02d}"
            email = f"{name}@example.com"
            status = org.create_account(Email=email, AccountName=name)["CreateAccountStatus"]
            while status.get("State") == "IN_PROGRESS" or not status.get("AccountId"):
                time.sleep(0.2)
                status = org.describe_create_account_status(
                    CreateAccountRequestId=status["Id"])["CreateAccountStatus"]
            if status["State"] != "SUCCEEDED":
                raise RuntimeError(f"create_account {name}: {status}")
            accounts.append({"account_id": status["AccountId"], "name": name, "email": email})
        return org_id, accounts

    def populate_account(self, account: dict, plans: list[FunctionPlan]) -> list[dict]:
        """Create the execution role, functions and metrics of one account; return the
        function rows of the ground truth."""
        account_id = account["account_id"]
        creds = self.assume(account_id)
        iam = self.client("iam", creds=creds)
        trust = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole"}]}
        role_arn = iam.create_role(RoleName=EXEC_ROLE_NAME,
                                   AssumeRolePolicyDocument=json.dumps(trust),
                                   Description="execution role of simulated functions")["Role"]["Arn"]
        iam.attach_role_policy(
            RoleName=EXEC_ROLE_NAME,
            PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
        lambdas, cloudwatch = {}, {}
        rows = []
        pending: dict[str, list[dict]] = {}
        pending_insights: dict[str, list[dict]] = {}
        for plan in plans:
            region = plan.region
            if region not in lambdas:
                lambdas[region] = self.client("lambda", region, creds)
                cloudwatch[region] = self.client("cloudwatch", region, creds)
                pending[region] = []
            args = dict(FunctionName=plan.name, Role=role_arn, MemorySize=plan.memory_mb,
                        Timeout=plan.timeout_s, Architectures=[plan.architecture],
                        PackageType=plan.package_type, Description=plan.description,
                        Tags=plan.tags, Publish=False)
            if plan.package_type == "Image":
                args["Code"] = {"ImageUri": f"{account_id}.dkr.ecr.{region}.amazonaws.com/"
                                            f"{plan.name}:v{1 + len(plan.name) % 7}"}
            else:
                args.update(Runtime=plan.runtime, Handler=plan.handler,
                            Code={"ZipFile": plan.code or code_zip(plan.handler)})
            fn = lambdas[region].create_function(**args)
            got = (fn.get("Runtime"), fn["MemorySize"], fn["Timeout"], fn["Architectures"][0],
                   fn.get("PackageType", "Zip"))
            want = (plan.runtime, plan.memory_mb, plan.timeout_s, plan.architecture, plan.package_type)
            if got != want:
                raise RuntimeError(f"moto stored {got} for {plan.name}, asked for {want}")
            rows.append({"account_id": account_id, "region": region, "function_name": plan.name,
                         "function_arn": fn["FunctionArn"], "runtime": plan.runtime,
                         "memory_mb": plan.memory_mb, "timeout_s": plan.timeout_s,
                         "architecture": plan.architecture, "package_type": plan.package_type,
                         "log_format": plan.log_format, "snap_start": plan.snap_start,
                         "lambda_insights": plan.lambda_insights,
                         "forges_reports": bool(plan.forged)})
            pending[region].extend(metric_data(plan))
            while len(pending[region]) >= PUT_BATCH:
                batch, pending[region] = pending[region][:PUT_BATCH], pending[region][PUT_BATCH:]
                cloudwatch[region].put_metric_data(Namespace=NAMESPACE, MetricData=batch)
            pending_insights.setdefault(region, []).extend(insights_metric_data(plan))
            while len(pending_insights[region]) >= PUT_BATCH:
                batch = pending_insights[region][:PUT_BATCH]
                pending_insights[region] = pending_insights[region][PUT_BATCH:]
                cloudwatch[region].put_metric_data(Namespace=INSIGHTS_NAMESPACE, MetricData=batch)
        for region, batch in pending.items():
            if batch:
                cloudwatch[region].put_metric_data(Namespace=NAMESPACE, MetricData=batch)
        for region, batch in pending_insights.items():
            if batch:
                cloudwatch[region].put_metric_data(Namespace=INSIGHTS_NAMESPACE, MetricData=batch)
        self.put_logs(creds, plans)
        return rows

    def put_logs(self, creds: dict, plans: list[FunctionPlan]) -> int:
        """Write the log events of every function with activity to /aws/lambda/<name>;
        return the number of events written."""
        clients: dict[str, Any] = {}
        written = 0
        malformed_done: set[str] = set()
        for plan in plans:
            if not plan.logs:
                continue
            region = plan.region
            if region not in clients:
                clients[region] = self.client("logs", region, creds)
            logs = clients[region]
            malformed = plan.log_format == "Text" and region not in malformed_done
            if malformed:
                malformed_done.add(region)
            group = f"/aws/lambda/{plan.name}"
            logs.create_log_group(logGroupName=group)
            for stream, events in log_events(plan, self.seed, malformed).items():
                logs.create_log_stream(logGroupName=group, logStreamName=stream)
                batch: list[dict] = []
                size = 0
                for ts, _, message in events + [(None, None, None)]:
                    if message is None or len(batch) >= LOG_BATCH or size + len(message) + 26 > LOG_BATCH_BYTES:
                        if batch:
                            res = logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)
                            if res.get("rejectedLogEventsInfo"):
                                raise RuntimeError(f"log events rejected for {group}: "
                                                   f"{res['rejectedLogEventsInfo']} (window older than 14 days?)")
                            written += len(batch)
                        batch, size = [], 0
                    if message is not None:
                        batch.append({"timestamp": ts, "message": message})
                        size += len(message.encode()) + 26
        with self._lock:
            self.log_events_written += written
        return written


def simulate(moto_url: str, accounts: int, functions_per_account: int, regions: list[str],
             period: int, periods: int, seed: int, out: Path | None = None,
             now: float | None = None, reset: bool = False, workers: int = 4,
             idle_share: float = 0.15, forgers: int = 0, deployments: bool = False,
             apply_deployments: bool = False) -> dict:
    """Build the fleet in moto and return (and write to ``out``) the ground truth.

    ``deployments``: the four functions of ``lfm_testbed.deployments`` in the first account
    (ground truth key ``deployments``), created with their first code; ``apply_deployments``
    also applies their changes now (otherwise: ``apply_deployments_of`` / CLI ``deploy``)."""
    from . import deployments as deploys

    if period < 60 or period % 60:
        raise ValueError("period must be a positive multiple of 60 seconds")
    if not regions:
        raise ValueError("at least one region")
    if not 0.0 <= idle_share <= 1.0:
        raise ValueError(f"idle share must be within 0..1, got {idle_share}")
    started = time.monotonic()
    sim = Simulator(moto_url)
    sim.seed = seed
    if reset:
        sim.reset()
    window = window_for(time.time() if now is None else now, period, periods)
    org_id, members = sim.create_org_and_accounts(accounts)
    plans = [plan_account(seed, i, functions_per_account, regions, window, period, idle_share)
             for i in range(accounts)]
    if forgers:
        plans[0] = plans[0] + plan_forgers(seed, forgers, regions[0], window, period)
    deployment_plans = deploys.plan_deployments(seed, regions[0], window, period) if deployments else []
    plans[0] = plans[0] + [p for p, _ in deployment_plans]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        fn_rows = list(pool.map(sim.populate_account, members, plans))
    functions = sorted((r for rows in fn_rows for r in rows),
                       key=lambda r: (r["account_id"], r["region"], r["function_name"]))
    metrics = sorted((row for acct, ps in zip(members, plans) for p in ps
                      for row in truth_rows(acct["account_id"], p)),
                     key=lambda r: (r["account_id"], r["region"], r["function_name"], r["timestamp"]))
    truth = {
        "organization_id": org_id,
        "management_account_id": MANAGEMENT_ACCOUNT_ID,
        "regions": list(regions),
        "window": {"start": iso(window[0]), "end": iso(window[1]), "period_seconds": period},
        "accounts": members,
        "functions": functions,
        "metrics": metrics,
    }
    if deployments:
        truth["deployments"] = deploys.truth(members[0]["account_id"], functions, deployment_plans, window, period)
        if apply_deployments:
            deploys.apply(sim, truth["deployments"])
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + f".tmp.{os.getpid()}")
        tmp.write_text(json.dumps(truth, indent=1) + "\n")
        os.replace(tmp, out)
    points = sum(len(metric_data(p)) + len(insights_metric_data(p)) for ps in plans for p in ps)
    sim.log(f"{accounts} accounts, {len(functions)} functions, {len(metrics)} metric rows, "
            f"{points} metric data entries put, {sim.log_events_written} log events written, "
            f"{time.monotonic() - started:.1f} s")
    return truth


def apply_deployments_of(moto_url: str, truth: dict) -> int:
    """Applies the simulated deployments of a ground truth made with ``deployments=True``
    (see ``lfm_testbed.deployments.apply``); returns how many functions changed."""
    from . import deployments as deploys

    return deploys.apply(Simulator(moto_url), truth.get("deployments") or [])
