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
  Throttles (Count; published only when > 0). Some functions are idle (no metrics at all),
  active ones have idle periods. Every point is stamped at its period's start.
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
import os
import random
import sys
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import boto3
import requests
from botocore.config import Config

MANAGEMENT_ACCOUNT_ID = "123456789012"
ACCESS_KEY = "testing"
SECRET_KEY = "testing"
EXEC_ROLE_NAME = "lfm-sim-lambda-exec"
ORG_ROLE_NAME = "OrganizationAccountAccessRole"
NAMESPACE = "AWS/Lambda"
PUT_BATCH = 150  # MetricData entries per PutMetricData call

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


def plan_account(seed: int, account_index: int, n_functions: int, regions: list[str],
                 window: tuple[int, int], period: int) -> list[FunctionPlan]:
    """The functions and metrics of one member account: a pure function of its arguments."""
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
        idle = rng.random() < 0.15
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
        plans.append(plan)
    return plans


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
                            Code={"ZipFile": code_zip(plan.handler)})
            fn = lambdas[region].create_function(**args)
            got = (fn.get("Runtime"), fn["MemorySize"], fn["Timeout"], fn["Architectures"][0],
                   fn.get("PackageType", "Zip"))
            want = (plan.runtime, plan.memory_mb, plan.timeout_s, plan.architecture, plan.package_type)
            if got != want:
                raise RuntimeError(f"moto stored {got} for {plan.name}, asked for {want}")
            rows.append({"account_id": account_id, "region": region, "function_name": plan.name,
                         "function_arn": fn["FunctionArn"], "runtime": plan.runtime,
                         "memory_mb": plan.memory_mb, "timeout_s": plan.timeout_s,
                         "architecture": plan.architecture, "package_type": plan.package_type})
            pending[region].extend(metric_data(plan))
            while len(pending[region]) >= PUT_BATCH:
                batch, pending[region] = pending[region][:PUT_BATCH], pending[region][PUT_BATCH:]
                cloudwatch[region].put_metric_data(Namespace=NAMESPACE, MetricData=batch)
        for region, batch in pending.items():
            if batch:
                cloudwatch[region].put_metric_data(Namespace=NAMESPACE, MetricData=batch)
        return rows


def simulate(moto_url: str, accounts: int, functions_per_account: int, regions: list[str],
             period: int, periods: int, seed: int, out: Path | None = None,
             now: float | None = None, reset: bool = False, workers: int = 4) -> dict:
    """Build the fleet in moto and return (and write to ``out``) the ground truth."""
    if period < 60 or period % 60:
        raise ValueError("period must be a positive multiple of 60 seconds")
    if not regions:
        raise ValueError("at least one region")
    started = time.monotonic()
    sim = Simulator(moto_url)
    if reset:
        sim.reset()
    window = window_for(time.time() if now is None else now, period, periods)
    org_id, members = sim.create_org_and_accounts(accounts)
    plans = [plan_account(seed, i, functions_per_account, regions, window, period)
             for i in range(accounts)]
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
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + f".tmp.{os.getpid()}")
        tmp.write_text(json.dumps(truth, indent=1) + "\n")
        os.replace(tmp, out)
    points = sum(len(metric_data(p)) for ps in plans for p in ps)
    sim.log(f"{accounts} accounts, {len(functions)} functions, {len(metrics)} metric rows, "
            f"{points} metric data entries put, {time.monotonic() - started:.1f} s")
    return truth
