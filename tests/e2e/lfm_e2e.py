"""Helpers shared by the end-to-end tests and the demo: Terraform runs, provider install, AWS clients."""

import json
import os
import pathlib
import shutil
import subprocess

import boto3

ROOT = pathlib.Path(__file__).resolve().parents[2]
PROVIDER_VERSION = "0.1.0"
TEST_KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}


def cache_dir() -> pathlib.Path:
    return pathlib.Path(os.environ.get("LFM_CACHE", pathlib.Path.home() / ".cache" / "lfm"))


# `source = "lfm/lfm"` means registry.terraform.io/lfm/lfm to Terraform and
# registry.opentofu.org/lfm/lfm to OpenTofu: one plugin dir serves both.
REGISTRY_HOSTS = ("registry.terraform.io", "registry.opentofu.org")


def install_provider(binary: str, plugin_dir: pathlib.Path) -> pathlib.Path:
    """Lay the provider out as -plugin-dir / a filesystem mirror expects it, for both clients' hosts."""
    for host in REGISTRY_HOSTS:
        dest = plugin_dir / host / "lfm" / "lfm" / PROVIDER_VERSION / "linux_amd64"
        dest.mkdir(parents=True, exist_ok=True)
        target = dest / f"terraform-provider-lfm_v{PROVIDER_VERSION}"
        shutil.copy2(binary, target)
        target.chmod(0o755)
    return plugin_dir


def aws_env(moto_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_"))}
    env.update(TEST_KEYS)
    env["AWS_ENDPOINT_URL"] = moto_url
    return env


def client(service: str, moto_url: str, account_id: str | None = None):
    """A boto3 client acting in `account_id` (through OrganizationAccountAccessRole) or the management account."""
    base = dict(endpoint_url=moto_url, region_name="us-east-1",
                aws_access_key_id="testing", aws_secret_access_key="testing")
    if account_id is None:
        return boto3.client(service, **base)
    creds = boto3.client("sts", **base).assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole", RoleSessionName="lfm-e2e")["Credentials"]
    return boto3.client(service, endpoint_url=moto_url, region_name="us-east-1",
                        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                        aws_session_token=creds["SessionToken"])


class Terraform:
    """Runs one Terraform or OpenTofu binary (`name`: "terraform" or "tofu") in one working directory against the test bed."""

    def __init__(self, binary: str, workdir: pathlib.Path, plugin_dir: pathlib.Path, moto_url: str,
                 name: str = "terraform"):
        self.binary = binary
        self.name = name
        self.workdir = workdir
        self.plugin_dir = plugin_dir
        self.moto_url = moto_url
        cli_config = workdir / ".terraformrc"
        cli_config.write_text("disable_checkpoint = true\n")
        self.env = aws_env(moto_url)
        self.env.update({"TF_CLI_CONFIG_FILE": str(cli_config), "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"})

    def write_tfvars(self, values: dict) -> None:
        (self.workdir / "terraform.tfvars.json").write_text(json.dumps(values, indent=2))

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run([self.binary, *args], cwd=self.workdir, env=self.env, capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise AssertionError(f"{self.name} {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc

    def init(self) -> None:
        self.run("init", "-input=false", "-no-color", f"-plugin-dir={self.plugin_dir}")

    def apply(self) -> None:
        self.run("apply", "-input=false", "-no-color", "-auto-approve")

    def plan_exitcode(self) -> tuple[int, str]:
        """0 = no changes, 2 = changes (then the plan text), 1 = error."""
        proc = self.run("plan", "-input=false", "-no-color", "-detailed-exitcode", check=False)
        return proc.returncode, proc.stdout + proc.stderr

    def plan_changes(self) -> tuple[int, dict, str]:
        """Plan to a file and read it back with `show -json` (the same on every client, unlike the plan text):
        (exit code as in plan_exitcode, {resource address: actions} of every resource that is not a no-op,
        plan text). Output-only changes give exit code 2 and no resource."""
        plan_file = self.workdir / "e2e.tfplan"
        proc = self.run("plan", "-input=false", "-no-color", "-detailed-exitcode", f"-out={plan_file}", check=False)
        text = proc.stdout + proc.stderr
        if proc.returncode == 1:
            return 1, {}, text
        try:
            plan = json.loads(self.run("show", "-json", str(plan_file)).stdout)
        finally:
            plan_file.unlink(missing_ok=True)
        actions = {rc["address"]: rc["change"]["actions"] for rc in plan.get("resource_changes", [])
                   if rc["change"]["actions"] != ["no-op"]}
        return proc.returncode, actions, text

    def output(self, name: str):
        return json.loads(self.run("output", "-json", name).stdout)

    def destroy(self) -> None:
        self.run("destroy", "-input=false", "-no-color", "-auto-approve")


def quickstart_tfvars(fleet: dict, opensearch_url: str, moto_url: str) -> dict:
    """terraform.tfvars for examples/quickstart, in the shape users know, pointed at the test bed."""
    return {
        "aws_region": "us-east-1",
        "monitored_accounts": [a["account_id"] for a in fleet["accounts"]],
        "monitored_regions": fleet["regions"],
        "monitoring_principal_arns": [f"arn:aws:iam::{fleet['management_account_id']}:root"],
        "opensearch_endpoint": opensearch_url,
        "aws_endpoints": {"sts": moto_url, "iam": moto_url, "organizations": moto_url},
    }
