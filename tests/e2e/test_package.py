"""The collector's Lambda package as scripts/package-collector builds it, for real.

- Each zip holds exactly `bootstrap`, mode 0755, with a fixed date; a second build gives the
  same bytes (same sha256, so lfm_collector plans no code update).
- The ELF is for the package's architecture (aarch64 / x86-64), stripped, and needs no glibc
  newer than provided.al2023's 2.34 (its version needs, read with `readelf -V`).
- The x86_64 package (the host's architecture), unzipped as Lambda does, runs under AWS's
  Runtime Interface Emulator and writes the same documents as the host's debug CLI for the
  same fleet and window.
- `terraform plan` of examples/quickstart (Terraform 1.0.3) accepts each package with
  collector_architecture set to its architecture, and refuses a package declared with the other
  architecture (the provider's plan-time check reads the real ELF).

Architectures built: LFM_PACKAGE_ARCHES (space separated; default "x86_64 arm64").
A cold release build takes minutes per architecture (figures in docs/guides/collector-package.md);
scripts/test builds both; LFM_PACKAGE_ARCHES=x86_64 skips the arm64 build.
"""

import base64
import hashlib
import os
import pathlib
import re
import shutil
import subprocess
import zipfile

import pytest
import requests

from lfm_e2e import ROOT, Terraform, cache_dir, quickstart_tfvars
from test_lambda_bootstrap import SCHEDULED_EVENT, documents, lfm_env, small_fleet  # noqa: F401 (fixture)
from lfm_testbed import lambda_rie

ARCHES = os.environ.get("LFM_PACKAGE_ARCHES", "x86_64 arm64").split()
VERSION = "0.1.0"
ELF_MACHINE = {"x86_64": 0x3E, "arm64": 0xB7}  # EM_X86_64, EM_AARCH64
AL2023_GLIBC = (2, 34)


def build(arch: str, out: pathlib.Path) -> tuple[pathlib.Path, str]:
    proc = subprocess.run([str(ROOT / "scripts" / "package-collector"), "--arch", arch, "--out", str(out)],
                          capture_output=True, text=True, timeout=3600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    [line] = proc.stdout.splitlines()
    sha, path = line.split("  ", 1)
    return pathlib.Path(path), sha


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    """{arch: (zip path, sha256 printed)} from a first build of each architecture."""
    out = tmp_path_factory.mktemp("dist")
    return {arch: build(arch, out) for arch in ARCHES}


def bootstrap_of(zip_path: pathlib.Path, dest: pathlib.Path) -> pathlib.Path:
    """Unzip as Lambda does: files with the mode the zip records."""
    with zipfile.ZipFile(zip_path) as z:
        [info] = z.infolist()
        path = pathlib.Path(z.extract(info, dest))
        path.chmod((info.external_attr >> 16) & 0o777)
    return path


@pytest.mark.parametrize("arch", ARCHES)
def test_package_is_a_lambda_zip_and_rebuilds_to_the_same_bytes(packages, arch, tmp_path):
    path, sha = packages[arch]
    assert path.name == f"lfm-collector-{VERSION}-{arch}.zip"
    assert sha == hashlib.sha256(path.read_bytes()).hexdigest()
    with zipfile.ZipFile(path) as z:
        [info] = z.infolist()
        assert info.filename == "bootstrap"
        assert info.external_attr >> 16 == 0o100755, oct(info.external_attr >> 16)
        assert info.date_time == (2020, 1, 1, 0, 0, 0)
        assert z.testzip() is None
    again, sha_again = build(arch, tmp_path)
    assert again != path
    assert sha_again == sha and again.read_bytes() == path.read_bytes()


@pytest.mark.parametrize("arch", ARCHES)
def test_bootstrap_elf_matches_arch_and_needs_glibc_at_most_2_34(packages, arch, tmp_path):
    binary = bootstrap_of(packages[arch][0], tmp_path)
    head = binary.read_bytes()[:64]
    assert head[:4] == b"\x7fELF" and head[4] == 2, "a 64-bit ELF"
    assert int.from_bytes(head[18:20], "little") == ELF_MACHINE[arch]
    assert int.from_bytes(head[16:18], "little") in (2, 3), "an executable (ET_EXEC or PIE)"

    sections = subprocess.run(["readelf", "-S", "-W", str(binary)], capture_output=True, text=True, check=True).stdout
    assert ".symtab" not in sections, "stripped"
    needs = subprocess.run(["readelf", "-V", "-W", str(binary)], capture_output=True, text=True, check=True).stdout
    glibc = {tuple(int(p) for p in v.split(".")) for v in re.findall(r"Name: GLIBC_([0-9.]+)", needs)}
    dynamic = ".interp" in sections
    if dynamic:
        assert glibc, f"dynamically linked but no GLIBC version needs read:\n{needs}"
        assert max(glibc)[:2] <= AL2023_GLIBC, f"needs GLIBC_{'.'.join(map(str, max(glibc)))}"


def test_x86_64_package_under_rie_writes_what_the_cli_writes(testbed, small_fleet, binaries, packages, tmp_path):  # noqa: F811
    if "x86_64" not in packages:
        pytest.skip("LFM_PACKAGE_ARCHES has no x86_64")
    bootstrap = bootstrap_of(packages["x86_64"][0], tmp_path / "task")
    opensearch = testbed["opensearch"]
    for prefix in ("lfmpkgcli", "lfmpkg"):
        requests.delete(f"{opensearch}/{prefix}-*", timeout=30)

    cli = subprocess.run([binaries["collector"], "run", "--output", "json"], env=lfm_env(testbed, small_fleet, "lfmpkgcli"),
                         capture_output=True, text=True, timeout=600)
    assert cli.returncode == 0, cli.stderr

    rie = lambda_rie.start(cache_dir(), str(bootstrap), lfm_env(testbed, small_fleet, "lfmpkg"), tmp_path / "rie.log")
    try:
        response = rie.invoke(SCHEDULED_EVENT)
        bad = rie.invoke({"backfil": "6h"})
    finally:
        rie.stop()
    assert response.status_code == 200, response.text
    summary = response.json()
    assert summary["succeeded"] is True and summary["accounts_ok"] == len(small_fleet["accounts"]), summary
    assert bad.json()["errorType"] == "InvalidEvent" and "`backfil`" in bad.json()["errorMessage"], bad.text

    from_cli, from_package = documents(opensearch, "lfmpkgcli"), documents(opensearch, "lfmpkg")
    assert len(from_package) > len(small_fleet["accounts"]) * 8
    assert from_package == from_cli


@pytest.fixture(scope="module")
def quickstart_plan(testbed, plugin_dir, tmp_path_factory):
    """examples/quickstart on Terraform 1.0.3, planned only (nothing is created in moto)."""
    work = tmp_path_factory.mktemp("tfpkg") / "quickstart"
    shutil.copytree(ROOT / "examples" / "quickstart", work)
    tf = Terraform(testbed["terraform"], work, plugin_dir, testbed["moto"])
    tf.init()
    return tf


def plan_with(tf: Terraform, testbed: dict, package: pathlib.Path, arch: str):
    moto = testbed["moto"]
    fleet = {"accounts": [{"account_id": "111122223333"}], "regions": ["us-east-1"],
             "management_account_id": "123456789012"}
    tfvars = quickstart_tfvars(fleet, testbed["opensearch"], moto)
    tfvars["aws_endpoints"].update({"lambda": moto, "logs": moto, "events": moto})
    tfvars["collector_package_path"] = str(package)
    tfvars["collector_architecture"] = arch
    tf.write_tfvars(tfvars)
    return tf.plan_exitcode()


@pytest.mark.parametrize("arch", ARCHES)
def test_plan_accepts_the_package_for_its_architecture(quickstart_plan, testbed, packages, arch):
    code, text = plan_with(quickstart_plan, testbed, packages[arch][0], arch)
    assert code == 2, text
    assert "lfm_collector.this[0] will be created" in text, text
    # The hash the provider computed from the file at plan time is Lambda's CodeSha256 of these bytes.
    code_sha = base64.b64encode(bytes.fromhex(packages[arch][1])).decode()
    assert re.search(r'package_sha256\s*=\s*"' + re.escape(code_sha) + '"', text), text


def test_plan_refuses_a_package_declared_with_the_other_architecture(quickstart_plan, testbed, packages):
    built = ARCHES[0]
    declared = "x86_64" if built == "arm64" else "arm64"
    code, text = plan_with(quickstart_plan, testbed, packages[built][0], declared)
    assert code == 1, text
    assert f"built for {built}" in text and "exec format error" in text, text
