"""The quickstart with a collector package: the collector deployed as a scheduled Lambda function.

simulated fleet in moto -> `apply` of examples/quickstart with collector_package_path (once per
client: Terraform 1.0.3 and OpenTofu) -> function (provided.al2023, arm64, LFM_* environment),
execution role allowed to assume exactly the monitoring roles, which trust it; schedule rule,
target and invoke permission -> empty second plan -> a rebuilt zip plans an in-place update of
the collector only -> destroy removes every object.

moto stores functions without running them (no Docker): the package is a small zip with a
`bootstrap` entry, built here deterministically; the collector's own code path is covered by
the walking skeleton.
"""

import hashlib
import base64
import io
import json
import urllib.parse
import zipfile

import pytest

from lfm_e2e import client, quickstart_tfvars

ROLE = "LambdaMonitoringRole"
NAME = "lfm-collector"


def package(content: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        info = zipfile.ZipInfo("bootstrap", date_time=(2026, 1, 1, 0, 0, 0))
        info.external_attr = 0o100755 << 16
        z.writestr(info, content)
    return buf.getvalue()


def code_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def decoded(doc):
    return json.loads(urllib.parse.unquote(doc)) if isinstance(doc, str) else doc


def as_list(v):
    return v if isinstance(v, list) else [v]


@pytest.fixture(scope="module")
def deployed(quickstart, fleet, testbed):
    zip_path = quickstart.workdir / "collector.zip"
    zip_path.write_bytes(package(b"#!/bin/sh\necho v1\n"))
    moto = testbed["moto"]
    tfvars = quickstart_tfvars(fleet, testbed["opensearch"], moto)
    tfvars["aws_endpoints"].update({"lambda": moto, "logs": moto, "events": moto})
    tfvars["collector_package_path"] = str(zip_path)
    quickstart.write_tfvars(tfvars)
    quickstart.init()
    quickstart.apply()
    return quickstart


def test_apply_deploys_the_collector(deployed, fleet, testbed):
    moto = testbed["moto"]
    lam = client("lambda", moto)
    fn = lam.get_function(FunctionName=NAME)["Configuration"]
    assert fn["Runtime"] == "provided.al2023" and fn["Handler"] == "bootstrap"
    assert fn["Architectures"] == ["arm64"]
    assert fn["CodeSha256"] == code_sha256((deployed.workdir / "collector.zip").read_bytes())
    env = fn["Environment"]["Variables"]
    accounts = [a["account_id"] for a in fleet["accounts"]]
    assert env["LFM_ACCOUNTS"].split(",") == accounts
    assert env["LFM_REGIONS"].split(",") == fleet["regions"]
    assert env["LFM_OPENSEARCH_URL"] == testbed["opensearch"]
    assert all(k.startswith("LFM_") for k in env), f"only LFM_* keys, none Lambda reserves: {sorted(env)}"

    iam = client("iam", moto)
    policy = decoded(iam.get_role_policy(RoleName=NAME, PolicyName="LfmCollectorPolicy")["PolicyDocument"])
    assume = [s for s in policy["Statement"] if as_list(s["Action"]) == ["sts:AssumeRole"]]
    assert len(assume) == 1
    assert sorted(as_list(assume[0]["Resource"])) == sorted(f"arn:aws:iam::{a}:role/{ROLE}" for a in accounts)
    role_arn = iam.get_role(RoleName=NAME)["Role"]["Arn"]
    assert deployed.output("collector_role_arn") == role_arn
    for account in accounts:
        trust = decoded(client("iam", moto, account).get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"])
        principals = [p for s in trust["Statement"] for p in as_list(s["Principal"]["AWS"])]
        assert role_arn in principals, "the monitoring role trusts the collector's execution role"

    events = client("events", moto)
    rule = events.describe_rule(Name=f"{NAME}-schedule")
    assert rule["ScheduleExpression"] == "rate(5 minutes)" and rule["State"] == "ENABLED"
    [target] = events.list_targets_by_rule(Rule=f"{NAME}-schedule")["Targets"]
    assert target["Arn"] == fn["FunctionArn"]
    [statement] = json.loads(lam.get_policy(FunctionName=NAME)["Policy"])["Statement"]
    assert statement["Principal"]["Service"] == "events.amazonaws.com"
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == rule["Arn"]


def test_second_plan_is_empty(deployed):
    code, changes, text = deployed.plan_changes()
    assert code == 0 and changes == {}, text


def test_rebuilt_package_updates_the_collector_in_place(deployed, testbed):
    zip_path = deployed.workdir / "collector.zip"
    zip_path.write_bytes(package(b"#!/bin/sh\necho v2\n"))
    code, changes, text = deployed.plan_changes()
    assert code == 2 and changes == {"lfm_collector.this[0]": ["update"]}, text
    deployed.apply()
    fn = client("lambda", testbed["moto"]).get_function(FunctionName=NAME)["Configuration"]
    assert fn["CodeSha256"] == code_sha256(zip_path.read_bytes())
    code, changes, text = deployed.plan_changes()
    assert code == 0 and changes == {}, text


def test_destroy_removes_every_object(deployed, testbed):
    deployed.destroy()
    moto = testbed["moto"]
    lam, events, iam, logs = (client(s, moto) for s in ("lambda", "events", "iam", "logs"))
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName=NAME)
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_rule(Name=f"{NAME}-schedule")
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName=NAME)
    assert logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{NAME}")["logGroups"] == []


# The reusable module, instantiated once for the simulated organisation: accounts found with
# lfm_organization_accounts (one excluded), the collector, and the dashboards bundle on the
# real OpenSearch node under a prefix of its own.

MODULE_ROOT = """
terraform {{
  required_providers {{
    lfm = {{ source = "lfm/lfm" }}
  }}
}}
provider "lfm" {{
  region = "us-east-1"
  endpoints {{
    sts           = "{moto}"
    iam           = "{moto}"
    organizations = "{moto}"
    lambda        = "{moto}"
    logs          = "{moto}"
    events        = "{moto}"
  }}
}}
module "org" {{
  source = "../modules/fleet-monitoring"

  exclude_account_ids    = ["{excluded}"]
  monitored_regions      = ["us-east-1"]
  collector_name         = "{name}"
  collector_package_path = "{package}"
  opensearch_url         = "{opensearch}"
  index_prefix           = "{prefix}"
  retention_days         = 7
}}
output "accounts" {{ value = module.org.monitored_account_ids }}
output "roles" {{ value = module.org.monitoring_role_arns }}
output "collector_role_arn" {{ value = module.org.collector_role_arn }}
"""


@pytest.fixture(scope="module")
def fleet_module(deployed, fleet, testbed, tf_client, plugin_dir, tmp_path_factory):
    """The module applied after the quickstart's collector was destroyed (same fleet)."""
    import shutil
    import time

    from lfm_e2e import ROOT, Terraform

    work = tmp_path_factory.mktemp("module")
    shutil.copytree(ROOT / "examples" / "modules", work / "modules")
    (work / "root").mkdir()
    zip_path = work / "collector.zip"
    zip_path.write_bytes(package(b"#!/bin/sh\necho module\n"))
    prefix = f"lfm-e2e-module-{tf_client['name']}-{int(time.time())}"
    excluded = fleet["accounts"][0]["account_id"]
    tf = Terraform(tf_client["binary"], work / "root", plugin_dir, testbed["moto"], name=tf_client["name"])
    (work / "root" / "main.tf").write_text(MODULE_ROOT.format(
        moto=testbed["moto"], opensearch=testbed["opensearch"], excluded=excluded, name="lfm-collector-org",
        package=zip_path, prefix=prefix))
    tf.init()
    tf.apply()
    tf.prefix = prefix
    tf.excluded = excluded
    return tf


def test_module_monitors_the_organisation_with_the_collector(fleet_module, fleet, testbed):
    import requests

    moto = testbed["moto"]
    expected = [a["account_id"] for a in fleet["accounts"] if a["account_id"] != fleet_module.excluded]
    assert sorted(fleet_module.output("accounts")) == sorted(expected)
    collector_role = fleet_module.output("collector_role_arn")
    assert sorted(fleet_module.output("roles")) == sorted(expected)
    for account in expected:
        trust = decoded(client("iam", moto, account).get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"])
        principals = [p for s in trust["Statement"] for p in as_list(s["Principal"]["AWS"])]
        assert principals == [collector_role], "the module's monitoring roles trust exactly its collector"
    excluded_iam = client("iam", moto, fleet_module.excluded)
    with pytest.raises(excluded_iam.exceptions.NoSuchEntityException):
        excluded_iam.get_role(RoleName=ROLE)
    env = client("lambda", moto).get_function(FunctionName="lfm-collector-org")["Configuration"]["Environment"]["Variables"]
    assert env["LFM_ACCOUNTS"].split(",") == expected and env["LFM_INDEX_PREFIX"] == fleet_module.prefix
    templates = requests.get(f"{testbed['opensearch']}/_index_template/{fleet_module.prefix}*", timeout=30)
    assert templates.ok and templates.json()["index_templates"], templates.text

    code, changes, text = fleet_module.plan_changes()
    assert code == 0 and changes == {}, text

    fleet_module.destroy()
    with pytest.raises(client("lambda", moto).exceptions.ResourceNotFoundException):
        client("lambda", moto).get_function(FunctionName="lfm-collector-org")
    left = requests.get(f"{testbed['opensearch']}/_index_template/{fleet_module.prefix}*", timeout=30)
    assert left.status_code == 404 or not left.json().get("index_templates"), left.text
