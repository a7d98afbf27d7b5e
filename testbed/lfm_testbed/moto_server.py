"""Start and stop moto server (with the motoext patches) on a free loopback port.

The server runs as ``python -m lfm_testbed.motoext.server -H 127.0.0.1 -p PORT`` with
``MOTO_IAM_LOAD_MANAGED_POLICIES=true``, in its own session (it outlives the CLI), logging
to ``run/moto.log``. It is ready when ``GET /moto-api/`` answers 200.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

MODULE = "lfm_testbed.motoext.server"
START_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def is_healthy(url: str, timeout: float = 2.0) -> bool:
    try:
        return requests.get(url.rstrip("/") + "/moto-api/", timeout=timeout).status_code == 200
    except requests.RequestException:
        return False


def is_ours(pid: int) -> bool:
    """True when ``pid`` is a live moto server started by this module (guards PID reuse)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return MODULE.encode() in cmdline


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def start(run_dir: Path, port: int | None = None, timeout: float = START_TIMEOUT_S) -> dict:
    """Start moto; return {"url", "pid", "log"} once healthy. Raises RuntimeError otherwise."""
    log = run_dir / "moto.log"
    package_root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    env["PYTHONPATH"] = package_root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("PYTHONUNBUFFERED", "1")
    attempts = 1 if port else 3
    last_error = ""
    for _ in range(attempts):
        p = port or free_port()
        url = f"http://127.0.0.1:{p}"
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", MODULE, "-H", "127.0.0.1", "-p", str(p)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                env=env, start_new_session=True, cwd=str(run_dir),
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                last_error = f"moto exited with {proc.returncode}"
                break
            if is_healthy(url, timeout=1.0):
                return {"url": url, "pid": proc.pid, "log": str(log)}
            time.sleep(0.1)
        else:
            stop(proc.pid)
            last_error = f"moto not healthy after {timeout:.0f} s"
    raise RuntimeError(f"{last_error}; last lines of {log}:\n{_tail(log)}")


def stop(pid: int, timeout: float = 10.0) -> bool:
    """Stop the moto server with this PID (and its process group) if it is ours.
    Returns True when something was stopped."""
    if not is_ours(pid):
        return False
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)  # started with start_new_session: pgid == pid
        except ProcessLookupError:
            break
        except PermissionError:
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
                if done:
                    return True
            except ChildProcessError:
                pass
            if not is_ours(pid):
                return True
            time.sleep(0.05)
    return True
