"""Alerts and deploy-aware regressions, end to end on real parts (issue 10).

simulated fleet with deployments in moto -> an SNS topic with an SQS queue subscribed (moto)
-> `terraform apply` of examples/quickstart with an SNS and a webhook destination (the default
rules of examples/quickstart/alerts.tf) -> the collector CLI over the windows around the
change T -> what reached SQS (the SNS envelope) and the test bed's HTTPS webhook receiver
(signature checked there), and what OpenSearch holds ({p}-alerts, {p}-alert-state,
{p}-deployments, the run records' `alerts` object), compared with:

- the threshold alerts computed here from the simulator's ground-truth metric rows by a short,
  independent implementation of docs/guides/alerts.md "What the collector does after each run";
- the ground truth's `deployments` (from -> to, expected verdict);
- at-least-once delivery without duplicates on a rerun or after a kill.

Runs with Terraform 1.0.3 only, not once more with OpenTofu like the walking skeleton: the
collector does the work here, Terraform only declares the rules (and the provider's alert
resources have their own tests), so a second client would double the CI time for nothing.
The module has its own fleet (moto reset) and its own index prefix.
"""

import datetime
import json
import operator
import pathlib
import secrets
import shutil
import subprocess
import sys

import pytest
import requests

from lfm_e2e import Terraform, aws_env, client, quickstart_tfvars

ROOT = pathlib.Path(__file__).resolve().parents[2]
PERIOD = 300
PERIODS = 30
SNS_RULES = ("error-rate", "throttles", "timeouts-near-limit", "deploy-regressions")
# The default threshold rules of examples/quickstart/alerts.tf: metric, comparison, threshold,
# M (datapoints_to_alarm), N (evaluation_periods), min_invocations.
THRESHOLD_RULES = {
    "error-rate": ("error_rate", operator.gt, 0.05, 3, 3, 20),
    "throttles": ("throttles", operator.gt, 0, 2, 3, 0),
    "timeouts-near-limit": ("timeout_proximity_max", operator.ge, 0.9, 2, 3, 1),
}
NOTIFYING = {"firing", "renotify", "resolved"}


def ts(text: str) -> int:
    return int(datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def iso(t: int) -> str:
    return datetime.datetime.fromtimestamp(t, tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- the expected threshold alerts (independent of the collector's code) ---------------------

def metric_value(row: dict, metric: str):
    if metric == "error_rate":
        return row["errors"] / row["invocations"] if row["invocations"] else None
    return row.get(metric)


def expected_threshold_transitions(rows: list[dict], windows: list[tuple[int, int]]) -> list[set]:
    """Per run (its window [start, end)), the set of (rule, "account/function", transition), from the
    guide: the last N periods ending at the newest period collected (by the run), a period
    breaches with >= min_invocations and a value comparing true (else it is missing),
    pending on 1 <= breaching < M, firing on breaching >= M, pending -> cleared on 0,
    firing -> resolved only when none of the last N breaches."""
    by_function: dict[str, dict[int, dict]] = {}
    for r in rows:
        by_function.setdefault(f"{r['account_id']}/{r['function_name']}", {})[ts(r["timestamp"])] = r
    state: dict[tuple[str, str], str] = {}
    out = []
    for start, end in windows:
        in_run = [t for f in by_function.values() for t in f if start <= t < end]
        newest = max(in_run)
        got = set()
        for rule, (metric, cmp, threshold, m, n, min_inv) in THRESHOLD_RULES.items():
            for name, periods in by_function.items():
                breaching = 0
                for k in range(n):
                    row = periods.get(newest - k * PERIOD)
                    if row is None or row["invocations"] < min_inv:
                        continue
                    value = metric_value(row, metric)
                    breaching += value is not None and cmp(value, threshold)
                prior = state.get((rule, name))
                if prior == "firing":
                    nxt = "resolved" if breaching == 0 else None
                elif breaching >= m:
                    nxt = "firing"
                elif prior == "pending":
                    nxt = "cleared" if breaching == 0 else None
                else:
                    nxt = "pending" if breaching else None
                if nxt:
                    got.add((rule, name, nxt))
                    state[(rule, name)] = nxt
        out.append(got)
    return out


# --- the test bed ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tf(testbed, plugin_dir, tmp_path_factory):
    work = tmp_path_factory.mktemp("tf-alerts") / "quickstart"
    shutil.copytree(ROOT / "examples" / "quickstart", work)
    return Terraform(testbed["terraform"], work, plugin_dir, testbed["moto"], name="terraform")


def webhook_env():
    import os

    env = {k: os.environ.get(k) for k in ("LFM_WEBHOOK_URL", "LFM_WEBHOOK_CA_FILE", "LFM_WEBHOOK_SECRET")}
    if not all(env.values()):
        state = json.loads((pathlib.Path(os.environ.get("LFM_CACHE", pathlib.Path.home() / ".cache" / "lfm"))
                            / "run" / "testbed.json").read_text()).get("webhook") or {}
        env = {"LFM_WEBHOOK_URL": state.get("url"), "LFM_WEBHOOK_CA_FILE": state.get("ca_file"),
               "LFM_WEBHOOK_SECRET": state.get("secret")}
    if not all(env.values()):
        pytest.skip("the test bed has no webhook receiver (scripts/testbed up)")
    return env


class Bed:
    """The deployment and everything the runs left: per run, the summary, the SQS messages and
    the webhook deliveries that arrived during it."""

    def __init__(self, testbed, binaries, tf, tmp):
        self.testbed, self.binaries, self.tf, self.tmp = testbed, binaries, tf, tmp
        self.hook = webhook_env()
        self.prefix = "e2ealerts" + secrets.token_hex(3)
        self.path = f"/e2e-alerts/{self.prefix}"
        self.runs: list[dict] = []

    def setup(self):
        moto, os_url = self.testbed["moto"], self.testbed["opensearch"]
        requests.post(moto + "/moto-api/reset", timeout=300).raise_for_status()
        self.truth_file = self.tmp / "ground_truth.json"
        subprocess.run(
            [sys.executable, "-m", "lfm_testbed", "simulate", "--moto-url", moto, "--accounts", "2",
             "--functions-per-account", "12", "--regions", "us-east-1", "--period", str(PERIOD),
             "--periods", str(PERIODS), "--seed", "11", "--deployments", "--out", str(self.truth_file)],
            check=True, cwd=ROOT / "testbed", capture_output=True, text=True)
        self.truth = json.loads(self.truth_file.read_text())
        sns, sqs = client("sns", moto), client("sqs", moto)
        self.topic = sns.create_topic(Name=f"{self.prefix}-alerts")["TopicArn"]
        self.queue = sqs.create_queue(QueueName=f"{self.prefix}-alerts")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self.queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=self.topic, Protocol="sqs", Endpoint=queue_arn,
                      Attributes={"RawMessageDelivery": "false"})
        self.sqs = sqs
        self.hook_get("delete")
        tfvars = quickstart_tfvars(self.truth, os_url, moto)
        tfvars["aws_endpoints"].update(ssm=moto, sns=moto)
        tfvars.update(opensearch_index_prefix=self.prefix, alert_sns_topic_arn=self.topic,
                      alert_webhook_url=self.hook["LFM_WEBHOOK_URL"] + self.path,
                      alert_webhook_secret=self.hook["LFM_WEBHOOK_SECRET"])
        self.tf.write_tfvars(tfvars)
        self.tf.init()
        self.tf.apply()
        self.config = self.tmp / "collector.json"
        self.config.write_text(json.dumps(self.tf.output("collector_config")))
        window = self.truth["window"]
        self.start, self.end = ts(window["start"]), ts(window["end"])
        changed_at = next(d["changed_at"] for d in self.truth["deployments"] if d["changed_at"])
        t = datetime.datetime.strptime(changed_at, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
        self.t_floor = self.start + (int(t) - self.start) // PERIOD * PERIOD

    def hook_get(self, method="get"):
        url = self.hook["LFM_WEBHOOK_URL"] + "/deliveries"
        r = requests.request(method.upper(), url, params={"path": self.path}, verify=self.hook["LFM_WEBHOOK_CA_FILE"],
                             timeout=30)
        r.raise_for_status()
        return r.json()

    def sqs_messages(self):
        out = []
        while True:
            got = self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                           MessageAttributeNames=["All"]).get("Messages", [])
            if not got:
                return out
            for m in got:
                out.append(json.loads(m["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue, ReceiptHandle=m["ReceiptHandle"])

    def collect(self, start: int, end: int, label: str) -> dict:
        seen = len(self.hook_get())
        env = aws_env(self.testbed["moto"])
        env["LFM_ALERT_WEBHOOK_CA_FILE"] = self.hook["LFM_WEBHOOK_CA_FILE"]
        proc = subprocess.run(
            [self.binaries["collector"], "run", "--config", str(self.config), "--start", iso(start), "--end", iso(end),
             "--period", str(PERIOD), "--output", "json"],
            env=env, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, f"collector ({label}) failed:\n{proc.stdout}\n{proc.stderr}"
        run = {"label": label, "window": (start, end), "summary": json.loads(proc.stdout),
               "sns": self.sqs_messages(), "webhook": self.hook_get()[seen:]}
        self.runs.append(run)
        return run

    def search(self, index: str, query=None) -> list[dict]:
        os_url = self.testbed["opensearch"]
        requests.post(f"{os_url}/{index}/_refresh", timeout=30)
        r = requests.post(f"{os_url}/{index}/_search", json={"size": 10000, "query": query or {"match_all": {}}},
                          timeout=30)
        if r.status_code == 404:
            return []
        r.raise_for_status()
        return [h["_source"] | {"_id": h["_id"]} for h in r.json()["hits"]["hits"]]


@pytest.fixture(scope="module")
def bed(testbed, binaries, tf, tmp_path_factory):
    """Runs 1-3 (before the change, after it, after it again); run 4 is the kill test's."""
    b = Bed(testbed, binaries, tf, tmp_path_factory.mktemp("alerts"))
    b.setup()
    b.collect(b.start, b.t_floor, "run 1: before the change")
    subprocess.run([sys.executable, "-m", "lfm_testbed", "deploy", "--moto-url", testbed["moto"],
                    "--truth", str(b.truth_file)], check=True, cwd=ROOT / "testbed", capture_output=True, text=True)
    b.collect(b.t_floor, b.end, "run 2: after the change")
    b.collect(b.t_floor, b.end, "run 3: run 2 again")
    return b


def recorded_transitions(bed, run) -> set:
    """(rule, "account/function", transition) of the threshold transitions the run wrote to {p}-alerts."""
    docs = bed.search(f"{bed.prefix}-alerts", {"term": {"run_id": run["summary"]["run_id"]}})
    return {(d["rule"], f"{d['account_id']}/{d['function_name']}", d["transition"]) for d in docs
            if d["kind"] == "threshold"}


def sent_items(run, rule=None) -> set:
    """(rule, "account/function", transition) listed in the run's webhook messages."""
    return {(d["body"]["rule"], f"{i['account_id']}/{i['function_name']}", i["transition"]) for d in run["webhook"]
            for i in d["body"]["items"] if rule is None or d["body"]["rule"] == rule}


def test_threshold_alerts_equal_the_documented_semantics(bed):
    rows = bed.truth["metrics"]
    runs = bed.runs[:3]
    windows = [run["window"] for run in runs]
    expected = expected_threshold_transitions(rows, windows)
    for run, want in zip(runs, expected):
        got = recorded_transitions(bed, run)
        assert got == want, f"{run['label']}: missing {sorted(want - got)}, extra {sorted(got - want)}"
        notified = {w for w in want if w[2] in NOTIFYING}
        sent = {s for s in sent_items(run) if s[0] in THRESHOLD_RULES}
        assert sent == notified, f"{run['label']}: sent {sorted(sent)}, expected {sorted(notified)}"
        counts = run["summary"]["alerts"]["transitions"]
        for kind in ("pending", "firing", "resolved", "cleared"):
            assert counts[kind] == sum(1 for w in want if w[2] == kind) + (kind == "firing" and run is bed.runs[2]), \
                (run["label"], kind, counts)
    assert any(w[2] == "firing" for w in expected[0] | expected[1]), "the fleet makes some rule fire"
    assert expected[2] == set(), "run 3 repeats run 2: nothing new for the threshold rules"


def test_one_message_per_rule_per_run_on_both_destinations(bed):
    for run in bed.runs:
        hooks = run["webhook"]
        for d in hooks:
            assert d["status"] == 200 and d["signature"] == "valid", (run["label"], d["status"], d["reason"])
            assert d["idempotency_key"] == d["body"]["idempotency_key"]
        rules = [d["body"]["rule"] for d in hooks]
        assert len(rules) == len(set(rules)), f"{run['label']}: more than one message for a rule: {rules}"
        sns = {m["MessageAttributes"]["lfm.idempotency_key"]["Value"]: m for m in run["sns"]}
        assert len(sns) == len(run["sns"]), f"{run['label']}: an idempotency key published twice"
        assert set(sns) == {d["idempotency_key"] for d in hooks}, f"{run['label']}: SNS and webhook differ"
        for d in hooks:
            m = sns[d["idempotency_key"]]
            assert m["TopicArn"] == bed.topic
            assert m["MessageAttributes"]["lfm.rule"]["Value"] == d["body"]["rule"]
            assert m["MessageAttributes"]["lfm.severity"]["Value"] == d["body"]["severity"]
            assert len(m["Subject"]) <= 100 and m["Subject"].isascii() and d["body"]["rule"] in m["Subject"]
            text, _, body = m["Message"].partition("\n\n")
            assert json.loads(body) == d["body"], "the SNS message carries the webhook's JSON body after the text"
            for item in d["body"]["items"]:
                assert item["function_name"] in text
        # every transition records its notification: the key of the message that listed it
        listed = {(i["dedup_key"], i["transition"]): d["idempotency_key"] for d in hooks for i in d["body"]["items"]}
        if run in bed.runs[:3]:
            for doc in bed.search(f"{bed.prefix}-alerts", {"term": {"run_id": run["summary"]["run_id"]}}):
                if doc["transition"] in NOTIFYING:
                    assert doc["notification_status"] == "sent", (run["label"], doc["_id"], doc["notification_status"])
                    assert doc["notification_key"] == listed[(doc["dedup_key"], doc["transition"])], doc["_id"]
                    assert sorted(doc["notification_destinations"]) == ["sns", "webhook"], doc["notification_destinations"]
                else:
                    assert doc["notification_status"] == "not_required", (doc["_id"], doc["notification_status"])
        alerts = run["summary"]["alerts"]
        assert alerts["notifications_sent"] == 2 * len(hooks) and alerts["notifications_failed"] == 0, alerts
        assert alerts["errors"] == [], alerts["errors"]


def test_deployments_recorded_and_judged_as_the_ground_truth(bed):
    docs = {d["function_name"]: d for d in bed.search(f"{bed.prefix}-deployments")}
    truth = {d["function_name"]: d for d in bed.truth["deployments"]}
    assert set(docs) == {n for n, d in truth.items() if d["changed_at"]}, sorted(docs)
    assert "noisy-steady" not in docs
    for name, doc in docs.items():
        want = truth[name]
        assert doc["_id"] == f"{want['function_arn']}|{want['changed_at']}" or \
            doc["_id"].startswith(want["function_arn"] + "|"), doc["_id"]
        assert ts(doc["@timestamp"]) == ts(want["deployment_id_timestamp"]), (name, doc["@timestamp"])
        code = [c for c in doc["changes"] if c["field"] == "code_sha256"]
        assert code == [{"field": "code_sha256", "from": want["code_sha256_before"], "to": want["code_sha256_after"]}], \
            (name, doc["changes"])
        assert doc["verdict"] == want["expected_verdict"], (name, doc["verdict"], doc.get("summary"), doc["comparisons"])
    # recorded by run 2, judged by run 3 (the engine judges the deployments recorded earlier)
    assert bed.runs[1]["summary"]["alerts"]["deployments_recorded"] == 3
    assert bed.runs[2]["summary"]["alerts"]["deployments_judged"] == 3
    assert bed.runs[2]["summary"]["alerts"]["regressions"] == 1


def test_regression_alert_names_the_change_of_deploy_worse_only(bed):
    worse = next(d for d in bed.truth["deployments"] if d["function_name"] == "deploy-worse")
    docs = bed.search(f"{bed.prefix}-alerts", {"term": {"kind": "deploy_regression"}})
    assert [(d["function_name"], d["transition"]) for d in docs] == [("deploy-worse", "firing")], docs
    [doc] = docs
    assert f"code {worse['code_sha256_after'][:8]} deployed at " in doc["reason"], doc["reason"]
    assert doc["run_id"] == bed.runs[2]["summary"]["run_id"]
    # run 3 sends the regression message, and nothing else
    [hook] = bed.runs[2]["webhook"]
    assert hook["body"]["rule"] == "deploy-regressions" and hook["body"]["kind"] == "deploy_regression"
    assert [(i["function_name"], i["transition"]) for i in hook["body"]["items"]] == [("deploy-worse", "firing")]
    assert f"code {worse['code_sha256_after'][:8]} deployed at " in hook["body"]["items"][0]["reason"]
    [sns] = bed.runs[2]["sns"]
    assert f"code {worse['code_sha256_after'][:8]} deployed at " in sns["Message"]
    state = bed.search(f"{bed.prefix}-alert-state", {"term": {"kind": "deploy_regression"}})
    assert [(s["function_name"], s["status"], s["notification_status"]) for s in state] == \
        [("deploy-worse", "firing", "sent")]


def test_no_duplicate_after_a_kill_between_delivery_and_record(bed):
    """A run killed after it notified and before it recorded the result leaves its transitions
    and states with notification "pending" (they are written before delivery). Killing the
    collector at that instant is a race (the result is written milliseconds after the last
    delivery), so this test makes that state exactly instead: it puts the states of run 2's and
    run 3's notifications back to notification_status "pending", as the kill would have left
    them, and reruns run 2's window. The contract (guide, "Delivery, at least once"): the rerun
    sends those messages again with the SAME idempotency keys, no new transition, no new key."""
    os_url = bed.testbed["opensearch"]
    index = f"{bed.prefix}-alert-state"
    earlier = {d["idempotency_key"]: d["body"] for run in bed.runs for d in run["webhook"]}
    notified = [s for s in bed.search(index) if s["notification_status"] == "sent" and s["status"] in ("firing", "resolved")
                and s["notification_key"] in {d["idempotency_key"] for d in bed.runs[1]["webhook"] + bed.runs[2]["webhook"]}]
    assert notified, "run 2 or 3 notified something"
    for s in notified:
        requests.post(f"{os_url}/{index}/_update/{requests.utils.quote(s['_id'], safe='')}",
                      json={"doc": {"notification_status": "pending"}}, params={"refresh": "true"},
                      timeout=30).raise_for_status()
    run = bed.collect(bed.t_floor, bed.end, "run 4: run 2 again after a kill")
    assert recorded_transitions(bed, run) == set(), "a rerun makes no new transition"
    keys = {d["idempotency_key"] for d in run["webhook"]}
    assert keys == {s["notification_key"] for s in notified}, "exactly the unrecorded messages are sent again"
    assert keys <= set(earlier), "with the same idempotency keys"
    assert {m["MessageAttributes"]["lfm.idempotency_key"]["Value"] for m in run["sns"]} == keys
    for d in run["webhook"]:
        assert d["signature"] == "valid"
        assert {i["dedup_key"] for i in d["body"]["items"]} == {i["dedup_key"] for i in earlier[d["idempotency_key"]]["items"]}
    # recorded now: a further rerun sends nothing
    assert not [s for s in bed.search(index) if s["notification_status"] == "pending"]
    again = bed.collect(bed.t_floor, bed.end, "run 5: run 2 once more")
    assert again["webhook"] == [] and again["sns"] == []
    # over everything: each key reached each destination at most twice (once, plus the resend)
    all_hooks = [d["idempotency_key"] for r in bed.runs for d in r["webhook"]]
    all_sns = [m["MessageAttributes"]["lfm.idempotency_key"]["Value"] for r in bed.runs for m in r["sns"]]
    resent = keys
    for seq in (all_hooks, all_sns):
        for key in set(seq):
            assert seq.count(key) == (2 if key in resent else 1), key
