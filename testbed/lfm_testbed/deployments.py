"""Simulated deployments (``simulate --deployments``): four functions in the first account whose
code changes at a time T inside the window, or not at all, for the deploy-aware regressions.

- ``deploy-worse``: new code at T; error rate 0.4% -> 6%, durations x4 (p99 and cost per
  invocation up). Expected verdict ``regressed``.
- ``deploy-better``: new code at T; error rate 5% -> 0.5%, durations / 2.7. Expected ``improved``.
- ``deploy-same``: new code at T and an environment-variable update (UpdateFunctionConfiguration:
  it moves LastModified but is not a compared field); same behaviour on both sides. Expected
  ``unchanged``.
- ``noisy-steady``: no change; over-dispersed errors (per-period error probability x a
  log-normal factor, sigma 1) and wide, shifting durations. No deployment, no alert.

T is ``periods // 2`` periods into the window plus 97.25 s (inside a period, as a real deploy
is). Before T the functions run their first behaviour, from the period that starts at or after
T their second (the period T falls in runs the first: the collector leaves it out anyway).
The expected verdict is ``insufficient_data`` when either side of T has fewer than 6 whole
periods in the window (the collector's minimum samples).

The functions are created with the first code (``simulate``); the change is applied later
(``apply``, CLI ``deploy``), so that a collection can see the old code first: UpdateFunctionCode
(and UpdateFunctionConfiguration) through boto3, with the test header of
``motoext.lambda_last_modified`` that dates the update at T (moto stamps the real clock).
Own random streams (``lfm-sim/{seed}/deployments/...``): every other function is unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import io
import random
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone

from .motoext.lambda_last_modified import HEADER, aws_timestamp

MIN_PERIODS = 6  # the collector's minimum periods on each side (derive/regression.rs)
RATE = 80  # invocations per period: 6 periods = 480 invocations, above the minimum of 100
HANDLER = "app.handler"


@dataclass(frozen=True)
class Behaviour:
    error_rate: float
    error_sigma: float      # log-normal factor on each period's error probability
    median_ms: float
    latency_sigma: float    # spread of durations inside a period
    shift_sigma: float      # period-to-period factor on the durations
    traffic_sigma: float


@dataclass(frozen=True)
class Scenario:
    name: str
    before: Behaviour
    after: Behaviour
    changes: bool           # UpdateFunctionCode at T
    env_update: bool        # also UpdateFunctionConfiguration (Environment) at T
    verdict: str | None     # expected with enough periods
    worse: tuple = ()
    better: tuple = ()


_CALM = dict(error_sigma=0.2, latency_sigma=0.35, shift_sigma=0.08, traffic_sigma=0.1)
SCENARIOS = [
    Scenario("deploy-worse", Behaviour(0.004, median_ms=40.0, **_CALM), Behaviour(0.06, median_ms=160.0, **_CALM),
             changes=True, env_update=False, verdict="regressed",
             worse=("error_rate", "duration_p99_ms", "cost_per_invocation_usd")),
    Scenario("deploy-better", Behaviour(0.05, median_ms=300.0, **_CALM), Behaviour(0.005, median_ms=110.0, **_CALM),
             changes=True, env_update=False, verdict="improved",
             better=("error_rate", "duration_p99_ms", "cost_per_invocation_usd")),
    Scenario("deploy-same", Behaviour(0.01, median_ms=60.0, **_CALM), Behaviour(0.01, median_ms=60.0, **_CALM),
             changes=True, env_update=True, verdict="unchanged"),
    Scenario("noisy-steady",
             Behaviour(0.05, error_sigma=1.0, median_ms=80.0, latency_sigma=0.9, shift_sigma=0.35, traffic_sigma=0.4),
             Behaviour(0.05, error_sigma=1.0, median_ms=80.0, latency_sigma=0.9, shift_sigma=0.35, traffic_sigma=0.4),
             changes=False, env_update=False, verdict=None),
]


def code_package(name: str, version: str) -> bytes:
    """A deterministic zip (fixed timestamps): the same bytes, so the same CodeSha256, every run."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("app.py", date_time=(2026, 1, 1, 0, 0, 0))
        zf.writestr(info, f"# {name} {version} (simulated)\ndef handler(event, context):\n    return {{}}\n")
    return buf.getvalue()


def code_sha256(package: bytes) -> str:
    """What Lambda reports as CodeSha256: base64 of the SHA-256 of the package."""
    return base64.b64encode(hashlib.sha256(package).digest()).decode()


def change_time(window: tuple[int, int], period: int) -> float:
    start, end = window
    periods = (end - start) // period
    return start + (periods // 2) * period + 97.25


def _quarter(x: float) -> float:
    return max(0.25, round(x * 4) / 4)


def _period(rng: random.Random, b: Behaviour, timeout_ms: float):
    n = max(1, round(RATE * rng.lognormvariate(0, b.traffic_sigma)))
    p = min(1.0, b.error_rate * rng.lognormvariate(-b.error_sigma ** 2 / 2, b.error_sigma))
    errors = sum(1 for _ in range(n) if rng.random() < p)
    k = min(n, 16)
    counts = [1] * k
    for _ in range(n - k):
        counts[rng.randrange(k)] += 1
    shift = rng.lognormvariate(0, b.shift_sigma)
    values = [_quarter(min(b.median_ms * shift * rng.lognormvariate(0, b.latency_sigma), timeout_ms * 0.9))
              for _ in range(k)]
    return n, errors, list(zip(values, counts))


def plan_deployments(seed: int, region: str, window: tuple[int, int], period: int):
    """[(FunctionPlan, Scenario)] of the four functions (pure)."""
    from .simulator import FunctionPlan, plan_logs

    start, end = window
    t = change_time(window, period)
    out = []
    for k, scenario in enumerate(SCENARIOS):
        rng = random.Random(f"lfm-sim/{seed}/deployments/{scenario.name}")
        plan = FunctionPlan(
            name=scenario.name, region=region, package_type="Zip", runtime="python3.12", handler=HANDLER,
            memory_mb=256, timeout_s=30, architecture="x86_64", tags={"team": "deployments", "env": "prod"},
            description="simulated deployment scenario", idle=False, rate=RATE, idle_prob=0.0,
            error_rate=max(scenario.before.error_rate, scenario.after.error_rate), throttle_prob=0.0,
            duration_base_ms=scenario.before.median_ms, never_times_out=True,
            code=code_package(scenario.name, "v1"))
        for p_start in range(start, end, period):
            behaviour = scenario.after if (scenario.changes and p_start >= t) else scenario.before
            n, errors, samples = _period(rng, behaviour, plan.timeout_s * 1000.0)
            plan.periods.append((p_start, n, errors, 0, samples))
        plan_logs(seed, 2000 + k, plan, window, period)
        out.append((plan, scenario))
    return out


def expected_verdict(scenario: Scenario, window: tuple[int, int], period: int) -> str | None:
    if not scenario.changes:
        return None
    start, end = window
    t = change_time(window, period)
    before = sum(1 for s in range(start, end, period) if s + period <= t)
    after = sum(1 for s in range(start, end, period) if s >= t)
    return scenario.verdict if min(before, after) >= MIN_PERIODS else "insufficient_data"


def truth(account_id: str, rows: list[dict], plans, window: tuple[int, int], period: int) -> list[dict]:
    """Ground truth ``deployments``: per function, the change (time, from -> to) and the verdict
    the collector should reach. ``changed_at`` is null for the function without a change."""
    arns = {(r["account_id"], r["function_name"]): r["function_arn"] for r in rows}
    t = change_time(window, period)
    out = []
    for plan, scenario in plans:
        before_sha = code_sha256(code_package(scenario.name, "v1"))
        after_sha = code_sha256(code_package(scenario.name, "v2"))
        changed_at = datetime.fromtimestamp(t, tz=timezone.utc) if scenario.changes else None
        out.append({
            "account_id": account_id, "region": plan.region, "function_name": plan.name,
            "function_arn": arns[(account_id, plan.name)],
            "changed_at": aws_timestamp(changed_at) if changed_at else None,
            "deployment_id_timestamp": changed_at.strftime("%Y-%m-%dT%H:%M:%SZ") if changed_at else None,
            "changes": [{"field": "code_sha256", "from": before_sha, "to": after_sha}] if scenario.changes else [],
            "code_sha256_before": before_sha,
            "code_sha256_after": after_sha if scenario.changes else before_sha,
            "expected_verdict": expected_verdict(scenario, window, period),
            "expected_worse": list(scenario.worse), "expected_better": list(scenario.better),
        })
    return out


def _dated_client(client, when: str):
    """Adds the motoext test header to this client's Lambda update requests."""
    def add_header(request, **_):
        request.headers[HEADER] = when

    client.meta.events.register("before-sign.lambda.UpdateFunctionCode", add_header)
    client.meta.events.register("before-sign.lambda.UpdateFunctionConfiguration", add_header)
    return client


def apply(sim, deployments: list[dict]) -> int:
    """Applies the changes of the ground truth ``deployments`` (``changed_at`` set) the way a user
    deploys, dated at ``changed_at``; returns how many functions changed. Idempotent: a function
    already at its new code is left alone."""
    changed = 0
    for d in deployments:
        if not d["changed_at"]:
            continue
        creds = sim.assume(d["account_id"])
        lam = _dated_client(sim.client("lambda", d["region"], creds), d["changed_at"])
        name = d["function_name"]
        if lam.get_function_configuration(FunctionName=name)["CodeSha256"] == d["code_sha256_after"]:
            continue
        got = lam.update_function_code(FunctionName=name, ZipFile=code_package(name, "v2"))
        if got["CodeSha256"] != d["code_sha256_after"]:
            raise RuntimeError(f"{name}: moto stored CodeSha256 {got['CodeSha256']}, expected {d['code_sha256_after']}")
        if any(s.name == name and s.env_update for s in SCENARIOS):
            lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"FEATURE_FLAG": "on"}})
        last = lam.get_function_configuration(FunctionName=name)["LastModified"]
        if last != d["changed_at"]:
            raise RuntimeError(f"{name}: LastModified {last}, expected {d['changed_at']} "
                               "(is moto running with lfm_testbed.motoext?)")
        changed += 1
    return changed
