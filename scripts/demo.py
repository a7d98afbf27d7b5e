"""Drives the LFM demo (see scripts/demo): test bed -> fleet -> terraform apply -> collect -> report."""

import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

import requests

from lfm_e2e import Terraform, aws_env, cache_dir, install_provider, quickstart_tfvars

ROOT = pathlib.Path(__file__).resolve().parents[1]
TARGET = pathlib.Path(os.environ["CARGO_TARGET_DIR"]) / "debug"
ACCOUNTS, FUNCTIONS, REGIONS = 3, 40, "us-east-1,eu-west-1"


WEBHOOK_PATH = "/demo"


def say(msg):
    print(f"\n== {msg}", flush=True)


def testbed(*args, capture=False):
    return subprocess.run([sys.executable, "-m", "lfm_testbed", *args], check=True, cwd=ROOT / "testbed",
                          capture_output=capture, text=True)


def main():
    keep = "--keep" in sys.argv[1:]
    started = time.monotonic()
    say("starting the test bed (moto, OpenSearch, Terraform 1.0.3)")
    already_up = subprocess.run([sys.executable, "-m", "lfm_testbed", "status"], cwd=ROOT / "testbed",
                                capture_output=True).returncode == 0
    testbed("up")
    state = json.loads((cache_dir() / "run" / "testbed.json").read_text())
    moto, opensearch, terraform = state["moto"]["url"], state["opensearch"]["url"], state["terraform"]
    try:
        run_demo(moto, opensearch, terraform, state["webhook"])
    finally:
        if not keep and not already_up:
            testbed("down")
        else:
            print(f"\nmoto: {moto}  OpenSearch: {opensearch}  (stop with: scripts/testbed down)")
    print(f"\ndemo finished in {time.monotonic() - started:.0f} s")


def run_demo(moto, opensearch, terraform, webhook):
    work = cache_dir() / "run" / "demo"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)

    say(f"simulating an organisation: {ACCOUNTS} member accounts x {FUNCTIONS} functions in {REGIONS}")
    requests.post(moto + "/moto-api/reset", timeout=300).raise_for_status()
    requests.delete(opensearch + "/lfm-*", timeout=30)
    truth_path = work / "ground_truth.json"
    testbed("simulate", "--moto-url", moto, "--accounts", str(ACCOUNTS), "--functions-per-account", str(FUNCTIONS),
            "--regions", REGIONS, "--period", "300", "--periods", "12", "--seed", "42", "--out", str(truth_path))
    fleet = json.loads(truth_path.read_text())

    say("terraform apply of examples/quickstart (monitoring role in every member account, alerts to a webhook)")
    plugins = install_provider(str(TARGET / "terraform-provider-lfm"), work / "plugins")
    shutil.copytree(ROOT / "examples" / "quickstart", work / "quickstart")
    tf = Terraform(terraform, work / "quickstart", plugins, moto)
    # Alerts go to the test bed's HTTPS webhook receiver (its own CA), signed with its secret;
    # the quickstart then declares the default rules.
    requests.delete(f"{webhook['url']}/deliveries", params={"path": WEBHOOK_PATH}, verify=webhook["ca_file"], timeout=30)
    tfvars = quickstart_tfvars(fleet, opensearch, moto)
    tfvars.update({"alert_webhook_url": webhook["url"] + WEBHOOK_PATH, "alert_webhook_secret": webhook["secret"]})
    tfvars["aws_endpoints"]["ssm"] = moto
    tf.write_tfvars(tfvars)
    tf.init()
    tf.apply()
    for account, arn in tf.output("monitoring_role_arns").items():
        print(f"  {account}: {arn}")

    say("collecting the fleet into OpenSearch (lfm-collector run)")
    config = work / "collector.json"
    config.write_text(json.dumps(tf.output("collector_config")))
    window = fleet["window"]
    proc = subprocess.run([str(TARGET / "lfm-collector"), "run", "--config", str(config),
                           "--start", window["start"], "--end", window["end"],
                           "--period", str(window["period_seconds"])],
                          env={**aws_env(moto), "LFM_ALERT_WEBHOOK_CA_FILE": webhook["ca_file"]})
    if proc.returncode != 0:
        sys.exit("lfm-collector failed (see above)")

    report(opensearch, fleet)
    report_alerts(opensearch, webhook)


def report(opensearch, fleet):
    requests.post(f"{opensearch}/lfm-*/_refresh", timeout=30)
    say(f"report for {fleet['window']['start']} .. {fleet['window']['end']}")
    inv = requests.post(f"{opensearch}/lfm-inventory/_search", json={
        "size": 0, "aggs": {"accounts": {"terms": {"field": "account_id", "size": 100}, "aggs": {
            "regions": {"terms": {"field": "region", "size": 50}}}}}}, timeout=30).json()
    print("functions per account:")
    for b in inv["aggregations"]["accounts"]["buckets"]:
        regions = ", ".join(f"{r['key']}: {r['doc_count']}" for r in b["regions"]["buckets"])
        print(f"  {b['key']}  {b['doc_count']:4d}  ({regions})")
    top = requests.post(f"{opensearch}/lfm-metrics-*/_search", json={
        "size": 0, "aggs": {"fn": {"multi_terms": {"terms": [{"field": "account_id"}, {"field": "function_name"}],
                                                    "size": 5, "order": {"errors": "desc"}},
                                   "aggs": {"errors": {"sum": {"field": "errors"}},
                                            "invocations": {"sum": {"field": "invocations"}}}}}}, timeout=30).json()
    print("top errors:")
    print(f"  {'account':12}  {'function':40} {'errors':>7} {'invocations':>11} {'error rate':>10}")
    for b in top["aggregations"]["fn"]["buckets"]:
        errors, calls = int(b["errors"]["value"]), int(b["invocations"]["value"])
        if errors == 0:
            continue
        print(f"  {b['key'][0]:12}  {b['key'][1]:40} {errors:7d} {calls:11d} {errors / calls:10.2%}")



def report_alerts(opensearch, webhook):
    requests.post(f"{opensearch}/lfm-alert-state/_refresh", timeout=30)
    firing = requests.post(f"{opensearch}/lfm-alert-state/_search", json={
        "size": 0, "query": {"term": {"status": "firing"}},
        "aggs": {"rules": {"terms": {"field": "rule", "size": 20}}}}, timeout=30).json()
    buckets = firing.get("aggregations", {}).get("rules", {}).get("buckets", [])
    print("alerts firing (lfm-alert-state):")
    for b in buckets:
        print(f"  {b['key']:24} {b['doc_count']:3d} function{'s' if b['doc_count'] != 1 else ''}")
    if not buckets:
        print("  none")
    got = requests.get(f"{webhook['url']}/deliveries", params={"path": WEBHOOK_PATH}, verify=webhook["ca_file"],
                       timeout=30).json()
    print(f"webhook messages received: {len(got)} (one per rule with news; signatures: "
          f"{', '.join(sorted({d['signature'] for d in got})) or 'none'})")
    for d in got:
        body = d["body"] if isinstance(d["body"], dict) else {}
        print(f"  {body.get('rule', '?'):24} firing {body.get('firing', 0):3d}  resolved {body.get('resolved', 0):3d}")


if __name__ == "__main__":
    main()
