"""The walking skeleton, end to end on real parts.

simulated fleet in moto -> `terraform apply` of examples/quickstart (Terraform 1.0.3, our
provider over mTLS) -> monitoring roles with the expected trust and policy -> empty second
plan -> collector run into a real OpenSearch -> every document equals the simulator's ground
truth -> rerun leaves the same documents -> drift is seen -> import works -> destroy removes
the roles.

The steps share one deployment and run in file order, once per client: Terraform 1.0.3 and
OpenTofu (conftest's tf_client), each with its own fleet.
"""

import datetime
import json
import math
import pathlib
import subprocess
import urllib.parse

import pytest
import requests

from lfm_e2e import aws_env, client, quickstart_tfvars

ROLE = "LambdaMonitoringRole"
ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def deployed(quickstart, fleet, testbed):
    requests.delete(testbed["opensearch"] + "/lfm-*", timeout=30)
    quickstart.write_tfvars(quickstart_tfvars(fleet, testbed["opensearch"], testbed["moto"]))
    quickstart.init()
    quickstart.apply()
    return quickstart


def collector_config(tf, tmp_path):
    cfg = tf.output("collector_config")
    path = tmp_path / "collector.json"
    path.write_text(json.dumps(cfg))
    return path


def run_collector(binaries, testbed, fleet, config_path, *extra):
    window = fleet["window"]
    proc = subprocess.run(
        [binaries["collector"], "run", "--config", str(config_path),
         "--start", window["start"], "--end", window["end"], "--period", str(window["period_seconds"]),
         "--output", "json", *extra],
        env=aws_env(testbed["moto"]), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"collector failed:\n{proc.stdout}\n{proc.stderr}"
    return json.loads(proc.stdout)


def search_all(opensearch, index):
    requests.post(f"{opensearch}/{index}/_refresh", timeout=30).raise_for_status()
    r = requests.post(f"{opensearch}/{index}/_search", json={"size": 10000, "query": {"match_all": {}}}, timeout=30)
    r.raise_for_status()
    return r.json()["hits"]["hits"]


def decoded(doc):
    return json.loads(urllib.parse.unquote(doc)) if isinstance(doc, str) else doc


def test_apply_creates_monitoring_roles_with_expected_trust_and_policy(deployed, fleet, binaries, testbed):
    expected_policy = json.loads(subprocess.run([binaries["collector"], "permissions"], check=True,
                                                capture_output=True, text=True).stdout)
    expected_actions = sorted(a for s in expected_policy["Statement"] for a in as_list(s["Action"]))
    for account in fleet["accounts"]:
        iam = client("iam", testbed["moto"], account["account_id"])
        role = iam.get_role(RoleName=ROLE)["Role"]
        trust = decoded(role["AssumeRolePolicyDocument"])
        [statement] = trust["Statement"]
        assert statement["Effect"] == "Allow"
        assert as_list(statement["Action"]) == ["sts:AssumeRole"]
        assert as_list(statement["Principal"]["AWS"]) == [f"arn:aws:iam::{fleet['management_account_id']}:root"]
        assert statement["Condition"]["StringEquals"]["aws:PrincipalOrgID"] == fleet["organization_id"]
        [policy_name] = iam.list_role_policies(RoleName=ROLE)["PolicyNames"]
        policy = decoded(iam.get_role_policy(RoleName=ROLE, PolicyName=policy_name)["PolicyDocument"])
        actions = sorted(a for s in policy["Statement"] for a in as_list(s["Action"]))
        assert actions == expected_actions, "the inline policy must hold exactly the actions the collector calls"
        assert iam.list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"] == []
    arns = deployed.output("monitoring_role_arns")
    assert arns == {a["account_id"]: f"arn:aws:iam::{a['account_id']}:role/{ROLE}" for a in fleet["accounts"]}


def test_second_plan_is_empty(deployed):
    code, text = deployed.plan_exitcode()
    assert code == 0, f"expected no changes after apply:\n{text}"


def test_collector_documents_equal_ground_truth(deployed, fleet, binaries, testbed, tmp_path):
    summary = run_collector(binaries, testbed, fleet, collector_config(deployed, tmp_path))
    metrics = search_all(testbed["opensearch"], "lfm-metrics-*")
    truth = {(m["account_id"], m["region"], m["function_name"], m["timestamp"]): m for m in fleet["metrics"]}
    got = {(d["_source"]["account_id"], d["_source"]["region"], d["_source"]["function_name"],
            d["_source"]["@timestamp"].replace(".000", "")): d["_source"] for d in metrics}
    assert set(got) == set(truth), f"missing {sorted(set(truth) - set(got))[:5]} extra {sorted(set(got) - set(truth))[:5]}"
    for key, want in truth.items():
        doc = got[key]
        for field in ("invocations", "errors", "throttles"):
            assert doc[field] == want[field], (key, field, doc[field], want[field])
        for field in ("duration_avg_ms", "duration_max_ms"):
            assert math.isclose(doc[field], want[field], rel_tol=1e-9), (key, field, doc[field], want[field])
        assert doc["period_seconds"] == fleet["window"]["period_seconds"]
        expected_rate = want["errors"] / want["invocations"] if want["invocations"] else None
        assert doc["error_rate"] == pytest.approx(expected_rate) if expected_rate is not None else doc["error_rate"] is None
        assert_log_fields_equal_truth(key, doc, want)
    sources = {want["cold_start_source"] for want in truth.values()}
    assert sources == {"lambda_insights", "logs_insights"}, "the fleet covers functions with and without Lambda Insights"
    # SnapStart restores are cold starts and their Billed Restore Duration is charged (equal to truth above).
    assert any(want["snapstart_restores"] and want["billed_restore_duration_ms_sum"] for want in truth.values())
    forged = [key for key, want in truth.items() if want["forged_reports"]]
    assert len({key[2] for key in forged}) == 2, "both forgers (text and JSON log format) forged"
    assert summary["log_periods_withheld"] == len(forged), (summary["log_periods_withheld"], forged)

    inventory = {d["_source"]["function_arn"]: d["_source"] for d in search_all(testbed["opensearch"], "lfm-inventory")}
    assert set(inventory) == {f["function_arn"] for f in fleet["functions"]}
    for f in fleet["functions"]:
        doc = inventory[f["function_arn"]]
        for field in ("account_id", "region", "function_name", "runtime", "memory_mb", "timeout_s",
                      "architecture", "package_type"):
            assert doc.get(field) == f[field], (f["function_arn"], field, doc.get(field), f[field])

    today = datetime.date.fromisoformat(summary_day(summary))
    runtimes = {r["id"]: r for r in json.loads((ROOT / "schema" / "data" / "runtimes.json").read_text())["runtimes"]}
    for f in fleet["functions"]:
        doc = inventory[f["function_arn"]]
        assert doc["runtime_status"] == expected_runtime_status(f, runtimes, today), (f["function_arn"], doc["runtime_status"])
        assert doc["recommendation_kinds"] == [r["kind"] for r in doc["recommendations"]]
        assert set(doc["recommendation_kinds"]) <= RECOMMENDATION_KINDS, doc["recommendation_kinds"]
        if doc["runtime_status"] in ("deprecated", "deprecating"):
            assert "runtime_upgrade" in doc["recommendation_kinds"], f["function_arn"]
    assert summary["api_calls"].get("logs:StartQuery", 0) >= 1, "the active functions' logs were read"

    assert summary["documents_written"] == len(metrics) + len(inventory)
    assert summary["functions"] == len(fleet["functions"])
    calls = summary["api_calls"]
    assert calls["sts:AssumeRole"] == len(fleet["accounts"])
    # Cost at the floor: one window, so per account and region ceil(queries / 500) GetMetricData
    # calls, none for a pair without active functions. Queries per active function: the plan's
    # core AWS/Lambda statistics (the simulator publishes no optional metric), plus the Lambda
    # Insights statistics for those that publish them. One ListMetrics page (< 500 metrics) per
    # pair for AWS/Lambda, and one for LambdaInsights per pair with active functions.
    active_pairs = {(m["account_id"], m["region"]) for m in fleet["metrics"]}
    all_pairs = {(a["account_id"], r) for a in fleet["accounts"] for r in fleet["regions"]}
    insights_functions = {(f["account_id"], f["region"], f["function_name"]) for f in fleet["functions"]
                          if f["lambda_insights"]}
    queries = {pair: 0 for pair in active_pairs}
    for account_id, region, name in {(m["account_id"], m["region"], m["function_name"]) for m in fleet["metrics"]}:
        queries[(account_id, region)] += CORE_QUERIES_PER_FUNCTION
        if (account_id, region, name) in insights_functions:
            queries[(account_id, region)] += INSIGHTS_QUERIES_PER_FUNCTION
    assert summary["metric_queries"] == sum(queries.values())
    assert all(0 < q < 500 for q in queries.values()), "the small fleet's queries fit one call per pair"
    assert summary["functions_active"] == len({(m["account_id"], m["function_name"]) for m in fleet["metrics"]})
    assert calls["cloudwatch:GetMetricData"] == sum(math.ceil(q / 500) for q in queries.values())
    assert calls["cloudwatch:ListMetrics"] == len(all_pairs) + len(active_pairs)


# GetMetricData queries per active function: collector/src/harvest/cloudwatch/plan.rs
# LAMBDA_METRICS (Applies::Always) and harvest/cloudwatch/lambda_insights.rs LAMBDA_INSIGHTS_METRICS.
CORE_QUERIES_PER_FUNCTION = 9
INSIGHTS_QUERIES_PER_FUNCTION = 5
RECOMMENDATION_KINDS = {"memory_decrease", "memory_increase", "timeout_decrease", "timeout_at_risk", "arm64_candidate",
                        "runtime_upgrade"}
DEPRECATION_WARNING_DAYS = 180  # the collector's default


def summary_day(summary):
    return str(summary.get("started_at", datetime.datetime.now(datetime.timezone.utc).isoformat()))[:10]


def expected_runtime_status(function, runtimes, today):
    if not function["runtime"]:
        return "image"
    info = runtimes.get(function["runtime"])
    if info is None:
        return "unknown"
    days = (datetime.date.fromisoformat(info["deprecation"]) - today).days
    return "deprecated" if days <= 0 else "deprecating" if days <= DEPRECATION_WARNING_DAYS else "supported"


# REPORT-derived fields: null in a period whose REPORT records disagree with CloudWatch.
REPORT_FIELDS = ("cold_starts", "cold_start_rate", "init_duration_avg_ms", "init_duration_max_ms", "snapstart_restores",
                 "max_memory_used_mb", "memory_utilization", "timeouts", "billed_duration_ms_sum", "logs_source",
                 "cold_start_source")
WITHHELD_REASONS = {"reports_exceed_invocations", "report_duration_above_cloudwatch_max"}


def assert_log_fields_equal_truth(key, doc, want):
    """REPORT-derived numbers exact, percentiles and concurrency exact, cost within 0.5%; in a
    period with forged REPORT records, the REPORT-derived numbers withheld with a reason."""
    if want["forged_reports"]:
        assert_forged_period_withheld(key, doc, want)
        return
    assert doc["logs_withheld_reason"] is None, (key, doc["logs_withheld_reason"])
    for field in ("cold_starts", "snapstart_restores", "timeouts", "concurrency_max"):
        assert doc[field] == want[field], (key, field, doc[field], want[field])
    for field in ("max_memory_used_mb", "duration_p50_ms", "duration_p90_ms", "duration_p99_ms", "cold_start_rate",
                  "init_duration_avg_ms", "init_duration_max_ms", "memory_utilization", "timeout_proximity_max",
                  "timeout_proximity_p99"):
        if want[field] is None:
            assert doc[field] is None, (key, field, doc[field])
        else:
            assert doc[field] is not None and math.isclose(doc[field], want[field], rel_tol=1e-9, abs_tol=1e-9), \
                (key, field, doc[field], want[field])
    assert doc["cost_basis"] == "billed", (key, doc["cost_basis"])
    assert doc["logs_source"] == "logs_insights"
    # Cold starts, init and memory from Lambda Insights where the function publishes it (equal to
    # the REPORT truth above either way); restores and timeouts always from REPORT records.
    assert doc["cold_start_source"] == want["cold_start_source"], (key, doc["cold_start_source"])
    assert doc["billed_duration_ms_sum"] == round(want["billed_duration_ms_sum"]), key
    for field in ("gb_seconds", "request_cost_usd", "compute_cost_usd", "cost_usd"):
        assert want[field] is not None, (key, field, "the fleet's regions are in the price table")
        assert doc[field] == pytest.approx(want[field], rel=0.005), (key, field, doc[field], want[field])


def assert_forged_period_withheld(key, doc, want):
    """A forged record (more REPORT records than Invocations, or a Duration above CloudWatch's
    Maximum) must never reach the document as if true: no 5 s cold start, no 100% memory, no
    cost 77 times the truth. CloudWatch's own numbers stay exact."""
    assert doc["logs_withheld_reason"] in WITHHELD_REASONS, (key, doc["logs_withheld_reason"])
    for field in REPORT_FIELDS:
        assert doc[field] is None, (key, field, doc[field])
    for field in ("duration_p50_ms", "duration_p90_ms", "duration_p99_ms", "timeout_proximity_max", "timeout_proximity_p99"):
        assert math.isclose(doc[field], want[field], rel_tol=1e-9), (key, field, doc[field], want[field])
    assert doc["concurrency_max"] == want["concurrency_max"], key
    assert doc["cost_basis"] == "estimated", (key, doc["cost_basis"])
    # the estimate from metrics (invocations x average Duration) is near the truth, never 77 times it;
    # it lacks the billed init of a cold start whose init duration was withheld with the rest
    assert doc["request_cost_usd"] == pytest.approx(want["request_cost_usd"]), key
    assert 0.3 * want["compute_cost_usd"] < doc["compute_cost_usd"] <= 1.01 * want["compute_cost_usd"], \
        (key, doc["compute_cost_usd"], want["compute_cost_usd"])


def test_without_lambda_insights_report_records_give_the_same_numbers(deployed, fleet, binaries, testbed, tmp_path):
    """`--lambda-insights false`: no LambdaInsights listing or queries (the core statistics
    only), and cold starts, init and memory from the REPORT records equal the same truth."""
    summary = run_collector(binaries, testbed, fleet, collector_config(deployed, tmp_path), "--lambda-insights", "false")
    active = {(m["account_id"], m["region"], m["function_name"]) for m in fleet["metrics"]}
    pairs = {(a["account_id"], r) for a in fleet["accounts"] for r in fleet["regions"]}
    assert summary["metric_queries"] == CORE_QUERIES_PER_FUNCTION * len(active)
    assert summary["api_calls"]["cloudwatch:ListMetrics"] == len(pairs), "no LambdaInsights listing"
    truth = {(m["account_id"], m["region"], m["function_name"], m["timestamp"]): m for m in fleet["metrics"]}
    got = {(d["_source"]["account_id"], d["_source"]["region"], d["_source"]["function_name"],
            d["_source"]["@timestamp"].replace(".000", "")): d["_source"] for d in search_all(testbed["opensearch"], "lfm-metrics-*")}
    assert set(got) == set(truth)
    for key, want in truth.items():
        assert_log_fields_equal_truth(key, got[key], dict(want, cold_start_source="logs_insights"))


def test_rerun_leaves_the_same_documents(deployed, fleet, binaries, testbed, tmp_path):
    before = len(search_all(testbed["opensearch"], "lfm-metrics-*"))
    run_collector(binaries, testbed, fleet, collector_config(deployed, tmp_path))
    after = search_all(testbed["opensearch"], "lfm-metrics-*")
    assert len(after) == before == len(fleet["metrics"])
    assert len(search_all(testbed["opensearch"], "lfm-inventory")) == len(fleet["functions"])


def test_policy_edited_outside_terraform_plans_an_update(deployed, fleet, testbed):
    account = fleet["accounts"][0]["account_id"]
    iam = client("iam", testbed["moto"], account)
    [policy_name] = iam.list_role_policies(RoleName=ROLE)["PolicyNames"]
    iam.put_role_policy(RoleName=ROLE, PolicyName=policy_name, PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    code, changes, text = deployed.plan_changes()
    assert code == 2 and changes == {f'lfm_monitored_account.this["{account}"]': ["update"]}, text  # in place
    deployed.apply()
    assert deployed.plan_exitcode()[0] == 0


def test_role_deleted_outside_terraform_is_recreated(deployed, fleet, testbed):
    account = fleet["accounts"][1]["account_id"]
    iam = client("iam", testbed["moto"], account)
    for name in iam.list_role_policies(RoleName=ROLE)["PolicyNames"]:
        iam.delete_role_policy(RoleName=ROLE, PolicyName=name)
    iam.delete_role(RoleName=ROLE)
    code, changes, text = deployed.plan_changes()
    assert code == 2 and changes == {f'lfm_monitored_account.this["{account}"]': ["create"]}, text
    deployed.apply()
    assert iam.get_role(RoleName=ROLE)["Role"]["RoleName"] == ROLE
    assert deployed.plan_exitcode()[0] == 0


@pytest.mark.parametrize("id_format", ["account_id", "account_id/role_name"])
def test_import_by_account_id(deployed, fleet, id_format):
    account = fleet["accounts"][0]["account_id"]
    address = f'lfm_monitored_account.this["{account}"]'
    deployed.run("state", "rm", address)
    import_id = account if id_format == "account_id" else f"{account}/{ROLE}"
    deployed.run("import", "-input=false", "-no-color", address, import_id)
    code, changes, text = deployed.plan_changes()
    # `state rm` dropped the role from the outputs recorded in state; only they may change.
    assert code in (0, 2) and changes == {}, f"resources must match after import:\n{text}"
    deployed.apply()
    assert deployed.plan_exitcode()[0] == 0


def test_destroy_removes_roles(deployed, fleet, testbed):
    deployed.destroy()
    for account in fleet["accounts"]:
        iam = client("iam", testbed["moto"], account["account_id"])
        with pytest.raises(iam.exceptions.NoSuchEntityException):
            iam.get_role(RoleName=ROLE)


def test_invalid_account_id_fails_at_plan_naming_the_attribute(deployed, fleet, testbed, tmp_path):
    (deployed.workdir / "bad.tf").write_text(
        'resource "lfm_monitored_account" "bad" {\n'
        '  account_id = "12345"\n'
        '  monitoring_principal_arns = ["arn:aws:iam::123456789012:root"]\n}\n')
    try:
        code, text = deployed.plan_exitcode()
    finally:
        (deployed.workdir / "bad.tf").unlink()
    assert code == 1
    assert "account_id" in text and "12-digit" in text, text


def as_list(v):
    return v if isinstance(v, list) else [v]
