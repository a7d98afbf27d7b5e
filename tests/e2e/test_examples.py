"""The examples as a new user meets them (issue 9, part 2):

- `scripts/install-provider DIR` works from any directory and rebuilds nothing that is built;
- every per-resource example (`examples/resources/*`, `examples/data-sources/*`), copied alone
  into an empty directory, passes `init` and `validate` against the provider that
  install-provider laid out (a CLI config whose filesystem_mirror is that directory), on
  Terraform 1.0.3 and OpenTofu;
- the quickstart's and the module's input variables refuse at plan what the collector could not
  use, naming the variable and the fix.
"""

import os
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
INSTALL = ROOT / "scripts" / "install-provider"
HOSTS = ("registry.terraform.io", "registry.opentofu.org")
EXAMPLES = sorted(p for kind in ("resources", "data-sources") for p in (ROOT / "examples" / kind).iterdir() if p.is_dir())


def target_binary() -> pathlib.Path:
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", pathlib.Path.home() / ".cache" / "lfm" / "cargo-target"))
    return target / "debug" / "terraform-provider-lfm"


def install(dest: pathlib.Path) -> subprocess.CompletedProcess:
    # From /tmp, far from the repository: it used to fail with "could not find Cargo.toml".
    return subprocess.run([str(INSTALL), str(dest)], cwd="/tmp", capture_output=True, text=True, timeout=3600)


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    dest = tmp_path_factory.mktemp("mirror")
    proc = install(dest)
    assert proc.returncode == 0, proc.stderr
    return dest


def test_install_provider_works_from_anywhere_and_rebuilds_nothing(mirror, tmp_path):
    built = target_binary()
    for host in HOSTS:
        installed = mirror / host / "lfm" / "lfm" / "0.1.0" / "linux_amd64" / "terraform-provider-lfm_v0.1.0"
        assert installed.read_bytes() == built.read_bytes(), installed
        assert os.access(installed, os.X_OK)
    before = built.stat().st_mtime_ns
    proc = install(tmp_path / "again")
    assert proc.returncode == 0, proc.stderr
    assert built.stat().st_mtime_ns == before, "the second install rebuilt the provider"
    assert proc.stdout.count("installed ") == len(HOSTS), proc.stdout


def cli_config(tmp_path: pathlib.Path, mirror: pathlib.Path) -> dict:
    config = tmp_path / "cli.tfrc"
    config.write_text(
        'provider_installation {\n'
        f'  filesystem_mirror {{\n    path    = "{mirror}"\n    include = ["registry.terraform.io/lfm/lfm", "registry.opentofu.org/lfm/lfm"]\n  }}\n'
        '  direct {\n    exclude = ["registry.terraform.io/lfm/lfm", "registry.opentofu.org/lfm/lfm"]\n  }\n'
        '}\n'
    )
    return {**os.environ, "TF_CLI_CONFIG_FILE": str(config), "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}


@pytest.mark.parametrize("client", ["terraform", "tofu"], ids=["terraform-1.0.3", "opentofu"])
@pytest.mark.parametrize("example", EXAMPLES, ids=[f"{p.parent.name}/{p.name}" for p in EXAMPLES])
def test_each_example_inits_and_validates_on_its_own(example, client, testbed, mirror, tmp_path):
    if any('resource "aws_' in f.read_text() for f in example.glob("*.tf")):
        # Such an example also needs hashicorp/aws from the public registry, which this machine
        # cannot reach; it is still validated with the rest of the docs' examples.
        pytest.skip(f"{example.name} uses hashicorp/aws, which needs the public registry")
    work = tmp_path / example.name
    shutil.copytree(example, work)
    env = cli_config(tmp_path, mirror)
    for args in (["init", "-input=false", "-no-color"], ["validate", "-no-color"]):
        proc = subprocess.run([testbed[client], *args], cwd=work, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f"{client} {args[0]} of {example}:\n{proc.stdout}\n{proc.stderr}"


# (directory, variable, refused value, text of the refusal) -----------------------------------
SCHEDULE_FIX = "with ? in day-of-month or day-of-week, e.g. cron(0/5 * * * ? *)"
URL_FIX = "must be the http:// or https:// URL of the OpenSearch endpoint"
DUPLICATE_FIX = "lists an account ID more than once: list each account once"
REFUSALS = [
    (d, var, value, fix)
    for d, url_var in (("quickstart", "opensearch_endpoint"), ("modules/fleet-monitoring", "opensearch_url"))
    for var, value, fix in (
        (url_var, '"ftp://x"', URL_FIX),
        (url_var, '"not a url"', URL_FIX),
        ("monitored_accounts", '["111122223333", "111122223333"]', DUPLICATE_FIX),
        ("collector_schedule", '"cron(* * * * * *)"', SCHEDULE_FIX),
        ("collector_schedule", '"cron(0 12 1 * MON *)"', SCHEDULE_FIX),
        ("collector_schedule", '"every 5 minutes"', SCHEDULE_FIX),
    )
]
ACCEPTED = [
    ("opensearch_endpoint", '"http://127.0.0.1:9200"'),
    ("collector_schedule", '"cron(0/5 * * * ? *)"'),
    ("collector_schedule", '"cron(0 12 ? * MON-FRI *)"'),
    ("collector_schedule", '"rate(1 minute)"'),
]


@pytest.fixture(scope="module")
def roots(testbed, mirror, tmp_path_factory):
    """The quickstart and the module, copied and initialised once with Terraform 1.0.3."""
    base = tmp_path_factory.mktemp("roots")
    env = cli_config(base, mirror)
    out = {}
    for d in ("quickstart", "modules/fleet-monitoring"):
        work = base / d.replace("/", "-")
        shutil.copytree(ROOT / "examples" / d, work)
        proc = subprocess.run([testbed["terraform"], "init", "-input=false", "-no-color"], cwd=work, env=env,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        out[d] = work
    return out, env


def plan(testbed, roots, d: str, overrides: dict) -> subprocess.CompletedProcess:
    dirs, env = roots
    url_var = "opensearch_endpoint" if d == "quickstart" else "opensearch_url"
    values = {"monitored_accounts": '["111122223333"]', url_var: '"https://search-lfm.example.com"', **overrides}
    if d != "quickstart":
        values = {"monitored_regions": '["us-east-1"]', "collector_package_path": '"/nonexistent/lfm-collector.zip"', **values}
    if d == "quickstart":
        values = {"aws_region": '"us-east-1"', **values,
                  "aws_endpoints": f'{{ sts = "{testbed["moto"]}", iam = "{testbed["moto"]}", organizations = "{testbed["moto"]}" }}'}
    tfvars = dirs[d] / "test.tfvars"
    tfvars.write_text("".join(f"{k} = {v}\n" for k, v in values.items()))
    return subprocess.run([testbed["terraform"], "plan", "-input=false", "-no-color", "-refresh=false", f"-var-file={tfvars}"],
                          cwd=dirs[d], env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("d,var,value,fix", REFUSALS, ids=[f"{d}:{var}={value}" for d, var, value, _ in REFUSALS])
def test_plan_refuses_input_the_collector_cannot_use(d, var, value, fix, testbed, roots):
    proc = plan(testbed, roots, d, {var: value})
    text = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode == 1, text
    assert "Error: Invalid value for variable" in text, text
    assert f'variable "{var}"' in text and f"The {var} value" in text, text
    assert fix in text, text


@pytest.mark.parametrize("var,value", ACCEPTED, ids=[f"{v}={x}" for v, x in ACCEPTED])
def test_plan_accepts_valid_input(var, value, testbed, roots):
    proc = plan(testbed, roots, "quickstart", {var: value})
    text = proc.stdout + proc.stderr
    assert "Invalid value for variable" not in text, text
