"""Tools to cross-build the collector's Lambda package, and the package's deterministic zip.

Used by ``scripts/package-collector``. The collector's TLS stack (rustls on aws-lc-rs) compiles
C code, so a release build for ``aarch64-unknown-linux-gnu`` needs a C compiler and linker
for that target, and the binary must need no glibc newer than 2.34 (provided.al2023 is
Amazon Linux 2023, whose glibc is 2.34). zig does both: ``cargo zigbuild --target
aarch64-unknown-linux-gnu.2.34`` links against glibc 2.34's symbol versions. Both tools come
from PyPI as binary wheels (no root, no compiler, no download outside the registry):

  - ``ziglang`` (the zig toolchain, run as ``<venv>/lib/.../ziglang/zig``),
  - ``cargo-zigbuild`` (the cargo subcommand, ``<venv>/bin/cargo-zigbuild``),

installed, pinned, into their own venv ``$LFM_CACHE/crossbuild/<ZIG>-<CARGO_ZIGBUILD>/`` (not
the test bed's venv: ~450 MB that only packaging needs), once; a stamp file marks a finished
install, a lock serialises concurrent ones.

``python -m lfm_testbed.crossbuild tools`` prints ``{"zig": PATH, "cargo_zigbuild": PATH}``;
``python -m lfm_testbed.crossbuild zip BINARY OUT.zip`` writes the package (:func:`write_zip`).
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from . import cache

ZIGLANG = "0.17.0"
CARGO_ZIGBUILD = "0.24.0"
# Every entry of the package carries this time: the same binary gives the same zip bytes.
ZIP_DATE = (2020, 1, 1, 0, 0, 0)


def tools_dir(c: Path | None = None) -> Path:
    return (c or cache.cache_dir()) / "crossbuild" / f"zig-{ZIGLANG}-cargo-zigbuild-{CARGO_ZIGBUILD}"


def _paths(venv: Path) -> dict:
    zig = next(iter(sorted(venv.glob("lib/python*/site-packages/ziglang/zig"))), None)
    return {"zig": str(zig) if zig else "", "cargo_zigbuild": str(venv / "bin" / "cargo-zigbuild")}


def ensure_installed(c: Path | None = None, python: str | None = None) -> dict:
    """{"zig": path, "cargo_zigbuild": path}; installs both from PyPI into their venv when missing."""
    venv = tools_dir(c)
    stamp = venv / ".lfm-installed"
    if stamp.is_file():
        return _paths(venv)
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not stamp.is_file():
            print(f"crossbuild: installing ziglang=={ZIGLANG} and cargo-zigbuild=={CARGO_ZIGBUILD} "
                  f"into {venv} (PyPI wheels, ~1 minute)", file=sys.stderr)
            subprocess.run([python or sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
            proc = subprocess.run(
                [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q",
                 f"ziglang=={ZIGLANG}", f"cargo-zigbuild=={CARGO_ZIGBUILD}"],
                capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(f"pip install ziglang=={ZIGLANG} cargo-zigbuild=={CARGO_ZIGBUILD} failed:\n"
                                   f"{proc.stderr[-2000:]}")
            paths = _paths(venv)
            for name, path in paths.items():
                if not (path and os.access(path, os.X_OK)):
                    raise RuntimeError(f"{name} missing after install in {venv}")
            stamp.write_text(json.dumps(paths) + "\n")
    return _paths(venv)


def write_zip(binary: Path, out: Path) -> str:
    """Write the Lambda package: one entry ``bootstrap`` (mode 0755, deflated, fixed date, no
    extra fields) holding ``binary``; the same binary always gives the same bytes. Returns the
    hex sha256 of the zip. Written to a temporary file and renamed: a reader never sees half a zip."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    info = zipfile.ZipInfo("bootstrap", date_time=ZIP_DATE)
    info.external_attr = 0o100755 << 16  # regular file, rwxr-xr-x
    info.create_system = 3  # Unix: Lambda reads the mode from the external attributes
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(tmp, "w") as z:
        z.writestr(info, Path(binary).read_bytes(), compresslevel=9)
    os.replace(tmp, out)
    return hashlib.sha256(out.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lfm_testbed.crossbuild")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("tools", help="install (once) and print the paths of zig and cargo-zigbuild as JSON")
    z = sub.add_parser("zip", help="write the deterministic Lambda zip of BINARY to OUT, print its sha256")
    z.add_argument("binary", type=Path)
    z.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    if args.command == "tools":
        print(json.dumps(ensure_installed()))
    else:
        print(write_zip(args.binary, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
