"""The AWS Lambda Runtime Interface Emulator (RIE): a real Lambda Runtime API on loopback, in
which the collector's custom-runtime ``bootstrap`` runs exactly as on ``provided.al2023``.

RIE is AWS's own emulator (github.com/aws/aws-lambda-runtime-interface-emulator, Go). The Go
module proxy serves it only as a pseudo-version (VERSION below; the tag v1.23.0 is not
served). Its go.mod has no ``replace``, so a plain ``go install`` builds it:

    GOBIN=$LFM_CACHE/lambda-rie/<VERSION>/bin CGO_ENABLED=0 \
        go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@<VERSION>

(~1 minute on a fresh machine; Go's caches are the test bed's, under ``$LFM_CACHE/go``).

:func:`start` runs ``aws-lambda-rie <bootstrap>``. RIE passes its own environment on to the
bootstrap, answers invocations on ``POST http://HOST:PORT/2015-03-31/functions/function/invocations``
and serves the Runtime API to the bootstrap on ``--runtime-api-address`` (given a free port
here: its default 9001 would collide between parallel runs).
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import time
from pathlib import Path

import requests

from . import moto_server
from .opentofu import _go, go_env

VERSION = "v0.0.0-20261030222936-bef5c4ba774d"
PACKAGE = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"
INVOKE_PATH = "/2015-03-31/functions/function/invocations"


def binary_path(cache: Path) -> Path:
    return Path(cache) / "lambda-rie" / VERSION / "bin" / "aws-lambda-rie"


def ensure_installed(cache: Path) -> Path:
    """Path of aws-lambda-rie under ``cache``; built with ``go install`` when missing."""
    binary = binary_path(cache)
    if binary.is_file() and os.access(binary, os.X_OK):
        return binary
    binary.parent.mkdir(parents=True, exist_ok=True)
    with open(binary.parent.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not binary.is_file():
            env = go_env(cache, binary.parent)
            env["GOFLAGS"] = "-modcacherw"
            proc = subprocess.run([_go(), "install", "-trimpath", f"{PACKAGE}@{VERSION}"], env=env,
                                  capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(f"go install {PACKAGE}@{VERSION} failed:\n{proc.stderr[-2000:]}")
    return binary


class Rie:
    """A running RIE with one bootstrap; :meth:`invoke` posts an event and returns the response."""

    def __init__(self, proc: subprocess.Popen, url: str, log: Path):
        self.proc, self.url, self.log = proc, url, log

    def invoke(self, event: dict, timeout: float = 600) -> requests.Response:
        return requests.post(self.url + INVOKE_PATH, json=event, timeout=timeout)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def start(cache: Path, bootstrap: str, env: dict, log: Path, timeout: float = 30) -> Rie:
    """Starts RIE on free loopback ports with ``bootstrap`` as the function's runtime."""
    port, api_port = moto_server.free_port(), moto_server.free_port()
    cmd = [str(ensure_installed(cache)), "--runtime-interface-emulator-address", f"127.0.0.1:{port}",
           "--runtime-api-address", f"127.0.0.1:{api_port}", bootstrap]
    out = open(log, "w")
    proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"aws-lambda-rie exited ({proc.returncode}):\n{log.read_text()[-2000:]}")
        try:
            requests.get(url, timeout=1)
            return Rie(proc, url, log)
        except requests.ConnectionError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"aws-lambda-rie did not listen on {url} within {timeout} s")
