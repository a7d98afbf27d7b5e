"""lfm_testbed.crossbuild: the package zip is deterministic and shaped as Lambda reads it; the
pinned zig and cargo-zigbuild install into the cache once and run."""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
import zipfile

from lfm_testbed import crossbuild


def test_zip_is_bootstrap_0755_fixed_date_and_byte_identical(tmp_path):
    binary = tmp_path / "bootstrap-build"
    binary.write_bytes(b"\x7fELF" + bytes(range(256)) * 64)
    first = crossbuild.write_zip(binary, tmp_path / "a" / "pkg.zip")
    os.utime(binary, (time.time() + 3600, time.time() + 3600))  # a later mtime changes nothing
    second = crossbuild.write_zip(binary, tmp_path / "b" / "pkg.zip")
    assert first == second == hashlib.sha256((tmp_path / "a" / "pkg.zip").read_bytes()).hexdigest()
    with zipfile.ZipFile(tmp_path / "a" / "pkg.zip") as z:
        [info] = z.infolist()
        assert info.filename == "bootstrap"
        assert info.external_attr >> 16 == 0o100755
        assert info.date_time == crossbuild.ZIP_DATE
        assert info.compress_type == zipfile.ZIP_DEFLATED
        assert z.read("bootstrap") == binary.read_bytes()
    assert not list((tmp_path / "a").glob(".*.tmp")), "no temporary file left"


def test_other_content_gives_another_hash(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"one")
    b.write_bytes(b"two")
    assert crossbuild.write_zip(a, tmp_path / "a.zip") != crossbuild.write_zip(b, tmp_path / "b.zip")


def test_tools_install_once_and_run():
    """Real install from PyPI into $LFM_CACHE/crossbuild (seconds when already there)."""
    tools = crossbuild.ensure_installed()
    zig = subprocess.run([tools["zig"], "version"], capture_output=True, text=True, check=True).stdout.strip()
    assert zig == crossbuild.ZIGLANG
    czb = subprocess.run([tools["cargo_zigbuild"], "--version"], capture_output=True, text=True, check=True).stdout
    assert crossbuild.CARGO_ZIGBUILD in czb
    assert crossbuild.ensure_installed() == tools
