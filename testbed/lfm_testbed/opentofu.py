"""OpenTofu for the tests, built from source with the machine's Go toolchain.

The Go module proxy serves OpenTofu's source as the module ``github.com/opentofu/opentofu``.
``go install github.com/opentofu/opentofu/cmd/tofu@vX`` is refused by Go: OpenTofu's go.mod
has a ``replace`` directive (its fork of hcl/v2), and Go only honours those in the main
module. So ``ensure_installed`` builds it the way OpenTofu's release does, as the main module:

    go mod download -json github.com/opentofu/opentofu@v<VERSION>   # source from the proxy
    cp -r <that Dir> $LFM_CACHE/opentofu/<VERSION>/src && cd src
    GOBIN=$LFM_CACHE/opentofu/<VERSION>/bin CGO_ENABLED=0 GOFLAGS="-mod=readonly -modcacherw" \
        go install -trimpath -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" ./cmd/tofu

(flags as in OpenTofu's .goreleaser.yaml; without ``version.dev=no`` it says v<VERSION>-dev).
GOPATH, GOMODCACHE and GOCACHE live under ``$LFM_CACHE/go``, so the build is self-contained
and a rebuild reuses the downloaded modules and compiled packages (``-modcacherw``: the cache
can be removed with rm -rf). A fresh build takes minutes on 2 cores; progress goes to
stderr, go's output to ``$LFM_CACHE/opentofu/<VERSION>/install.log``. Idempotent (a verified
binary is returned at once) and safe against concurrent callers (a lock file per version).

VERSION is pinned: the newest 1.x release the proxy served (its go.mod asks for Go 1.26.6).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable

VERSION = "1.12.6"
MODULE = "github.com/opentofu/opentofu"
LDFLAGS = "-s -w -X github.com/opentofu/opentofu/version.dev=no"


def _default_log(msg: str) -> None:
    print(f"lfm_testbed: opentofu: {msg}", file=sys.stderr, flush=True)


def version_dir(cache: Path) -> Path:
    return Path(cache) / "opentofu" / VERSION


def binary_path(cache: Path) -> Path:
    return version_dir(cache) / "bin" / "tofu"


def go_env(cache: Path, gobin: Path) -> dict:
    """Environment for the go commands: everything Go writes stays under ``cache``."""
    go_root = Path(cache) / "go"
    env = dict(os.environ)
    env.update({
        "GOBIN": str(gobin),
        "GOPATH": str(go_root),
        "GOMODCACHE": str(go_root / "pkg" / "mod"),
        "GOCACHE": str(go_root / "build-cache"),
        "GOFLAGS": "-mod=readonly -modcacherw",
        "CGO_ENABLED": "0",
    })
    return env


def _version_line(binary: Path) -> str:
    """The "OpenTofu vX" line of ``binary version`` ("" when it does not run). tofu may print
    warnings before it (e.g. a TF_CLI_CONFIG_FILE naming a missing file), so not the first line."""
    binary = Path(binary)
    if not binary.is_file() or not os.access(binary, os.X_OK):
        return ""
    env = dict(os.environ, CHECKPOINT_DISABLE="1")
    try:
        out = subprocess.run([str(binary), "version"], capture_output=True, text=True,
                             timeout=60, env=env).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    lines = [line.strip() for line in out.splitlines()]
    return next((line for line in lines if line.startswith("OpenTofu v")), "")


def version_ok(binary: Path) -> bool:
    """True when ``binary version`` reports OpenTofu v<VERSION>."""
    return _version_line(binary) == f"OpenTofu v{VERSION}"


def _go() -> str:
    go = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else None)
    if not go:
        raise RuntimeError("OpenTofu is built with Go, and no `go` is on PATH "
                           "(or pass --no-opentofu to `up`)")
    return go


def _run_logged(cmd: list[str], env: dict, cwd: Path, log_file: Path) -> None:
    with open(log_file, "a") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        out.flush()
        proc = subprocess.run(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        tail = "".join(log_file.read_text(errors="replace").splitlines(keepends=True)[-20:])
        raise RuntimeError(f"{' '.join(cmd[1:3])} failed ({proc.returncode}), see {log_file}:\n{tail}")


def _build(cache: Path, binary: Path, log: Callable[[str], None]) -> None:
    vdir = version_dir(cache)
    log_file = vdir / "install.log"
    log_file.write_text("")
    go = _go()
    env = go_env(cache, binary.parent)
    go_version = subprocess.run([go, "version"], capture_output=True, text=True, env=env).stdout.strip()
    log(f"building OpenTofu v{VERSION} from the Go module proxy with {go_version} "
        f"(a few minutes on a fresh machine; go's output: {log_file})")
    t0 = time.monotonic()
    done = threading.Event()

    def heartbeat() -> None:
        while not done.wait(30):
            try:
                with open(log_file, errors="replace") as f:
                    lines = sum(1 for _ in f)
            except OSError:
                lines = 0
            log(f"still building ({time.monotonic() - t0:.0f} s, {lines} lines of go output so far)")

    beat = threading.Thread(target=heartbeat, daemon=True)
    beat.start()
    src = vdir / "src"
    try:
        # 1. the source, from the proxy (or the module cache)
        _run_logged([go, "mod", "download", "-json", f"{MODULE}@v{VERSION}"], env, vdir, log_file)
        info = subprocess.run([go, "mod", "download", "-json", f"{MODULE}@v{VERSION}"], env=env,
                              cwd=vdir, capture_output=True, text=True, check=True).stdout
        module_dir = Path(json.loads(info)["Dir"])
        # 2. a writable copy to build as the main module (its go.mod's replace then applies)
        shutil.rmtree(src, ignore_errors=True)
        shutil.copytree(module_dir, src, symlinks=True)
        for path in [src, *src.rglob("*")]:
            if not path.is_symlink():
                path.chmod(path.stat().st_mode | stat.S_IWUSR)
        # 3. build like OpenTofu's release, into GOBIN
        _run_logged([go, "install", "-v", "-trimpath", "-ldflags", LDFLAGS, "./cmd/tofu"],
                    env, src, log_file)
    finally:
        done.set()
        beat.join()
    shutil.rmtree(src, ignore_errors=True)
    if not version_ok(binary):
        got = _version_line(binary)
        binary.unlink(missing_ok=True)
        raise RuntimeError(f"{binary} does not report OpenTofu v{VERSION} (it says {got!r})")
    log(f"built {binary} in {time.monotonic() - t0:.0f} s")


def ensure_installed(cache: Path, log: Callable[[str], None] | None = None) -> Path:
    """Path of a verified OpenTofu v<VERSION> under ``cache``; builds it when missing."""
    binary = binary_path(cache)
    if version_ok(binary):
        return binary
    binary.parent.mkdir(parents=True, exist_ok=True)
    with open(version_dir(cache) / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a concurrent caller waits here, then finds it built
        if version_ok(binary):
            return binary
        _build(Path(cache), binary, log or _default_log)
    return binary
