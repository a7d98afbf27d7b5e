"""A real single-node OpenSearch 2.19 for the test bed, built from Maven Central jars.

No tarball, no Docker: ``testbed/opensearch/pom.xml`` lists the server jar and its module
plugins; Maven copies them (and their dependencies) into the cache, and a tiny launcher
(``testbed/opensearch/src/LfmOpenSearchNode.java``) compiled with javac starts the node with
all settings in code.

Layout under the cache (``$LFM_CACHE``, default ``~/.cache/lfm``)::

    m2/                              private Maven repository (nothing depends on ~/.m2)
    opensearch/VERSION/lib/          jars (+ .stamp: hash of pom.xml)
    opensearch/VERSION/classes/      compiled launcher + log4j2.properties (+ .stamp)

Stdlib + requests only.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import requests

SOURCE_DIR = Path(__file__).resolve().parent.parent / "opensearch"
POM = SOURCE_DIR / "pom.xml"
LAUNCHER = SOURCE_DIR / "src" / "LfmOpenSearchNode.java"
LOG_CONFIG = SOURCE_DIR / "log4j2.properties"
MAIN_CLASS = "LfmOpenSearchNode"

START_TIMEOUT_S = 120.0
HEAP_OPTS = ["-Xms512m", "-Xmx1g"]
# A small test node on a 2-core machine that also builds Rust: the serial collector and the
# C1-only JIT start it in about half the time of G1 + C2 and use less memory.
STARTUP_OPTS = ["-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"]
# What OpenSearch's own jvm.options would set and that matters without its bootstrap.
JVM_OPTS = [
    "-Djava.awt.headless=true",
    "-Dfile.encoding=UTF-8",
    "-Djna.nosys=true",
    "-XX:-OmitStackTraceInFastThrow",
    "-Dio.netty.noUnsafe=true",
    "-Dio.netty.noKeySetOptimization=true",
    "-Dio.netty.recycler.maxCapacityPerThread=0",
    "-Dlog4j.shutdownHookEnabled=false",  # the launcher logs while closing the node
    "-Dlog4j2.disable.jmx=true",
]


def default_cache() -> Path:
    return Path(os.environ.get("LFM_CACHE") or Path.home() / ".cache" / "lfm")


def version() -> str:
    """The OpenSearch version, as pinned in pom.xml (the single place it is written)."""
    m = re.search(r"<opensearch\.version>([^<]+)</opensearch\.version>", POM.read_text())
    if not m:
        raise RuntimeError(f"no <opensearch.version> in {POM}")
    return m.group(1).strip()


def install_dir(cache: Path) -> Path:
    return Path(cache) / "opensearch" / version()


# ---------------------------------------------------------------------------------- java


def _java_home() -> Path:
    """JAVA_HOME if set, else the JDK that `java` on PATH belongs to."""
    env = os.environ.get("JAVA_HOME")
    if env:
        home = Path(env)
        if not (home / "bin" / "java").exists():
            raise RuntimeError(f"JAVA_HOME={env} has no bin/java")
        return home
    java = shutil.which("java")
    if not java:
        raise RuntimeError("no Java found: set JAVA_HOME or put a Java 17+ `java` on PATH")
    return Path(os.path.realpath(java)).parent.parent


def _java() -> str:
    return str(_java_home() / "bin" / "java")


def _javac() -> str:
    javac = _java_home() / "bin" / "javac"
    if not javac.exists():
        raise RuntimeError(f"{javac} not found: a JDK (not only a JRE), Java 17+, is needed")
    return str(javac)


def java_major(java: str | None = None) -> int:
    out = subprocess.run(
        [java or _java(), "-version"], capture_output=True, text=True, check=True
    ).stderr
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not m:
        raise RuntimeError(f"cannot read the Java version from: {out!r}")
    major = int(m.group(1))
    return int(m.group(2)) if major == 1 else major


def _check_java() -> str:
    java = _java()
    major = java_major(java)
    if major < 17:
        raise RuntimeError(f"{java} is Java {major}; OpenSearch {version()} needs Java 17+")
    return java


# ------------------------------------------------------------------------------- install


def _digest(*paths: Path) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def _stamped(directory: Path, digest: str) -> bool:
    try:
        return (directory / ".stamp").read_text().strip() == digest
    except OSError:
        return False


@contextlib.contextmanager
def _lock(path: Path):
    """Serialise installs (e.g. the CLI and a test run at the same time)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _replace_dir(tmp: Path, final: Path) -> None:
    if final.exists():
        shutil.rmtree(final)
    tmp.rename(final)


def _run(cmd: list[str], what: str, env: dict | None = None) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-40:])
        raise RuntimeError(f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n{tail}")


def _fetch_jars(cache: Path, lib: Path, digest: str) -> None:
    mvn = shutil.which("mvn")
    if not mvn:
        raise RuntimeError("Maven (`mvn`) not found on PATH; it fetches the OpenSearch jars")
    tmp = lib.with_name(lib.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    env = dict(os.environ, JAVA_HOME=str(_java_home()))
    _run(
        [
            mvn, "-q", "-B", "-f", str(POM),
            f"-Dmaven.repo.local={Path(cache).resolve() / 'm2'}",
            "dependency:copy-dependencies",
            f"-DoutputDirectory={tmp}",
            "-DincludeScope=runtime",
        ],
        "fetching the OpenSearch jars with Maven",
        env=env,
    )
    if not any(tmp.glob(f"opensearch-{version()}.jar")):
        raise RuntimeError(f"Maven ran but {tmp} has no opensearch-{version()}.jar")
    (tmp / ".stamp").write_text(digest + "\n")
    _replace_dir(tmp, lib)


def _compile_launcher(lib: Path, classes: Path, digest: str) -> None:
    _check_java()
    tmp = classes.with_name(classes.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    _run(
        [_javac(), "--release", "17", "-nowarn", "-d", str(tmp),
         "-cp", str(lib / "*"), str(LAUNCHER)],
        "compiling the OpenSearch launcher",
    )
    shutil.copyfile(LOG_CONFIG, tmp / LOG_CONFIG.name)
    (tmp / ".stamp").write_text(digest + "\n")
    _replace_dir(tmp, classes)


def ensure_installed(cache: Path) -> Path:
    """Jars into cache/opensearch/VERSION/lib, launcher into .../classes; returns the dir.

    Each step is skipped when its stamp matches the hash of its inputs (pom.xml for the
    jars; launcher source, log config and jars' stamp for the classes), so a second call
    costs a few file reads and an edited pom or launcher is redone.
    """
    cache = Path(cache)
    home = install_dir(cache)
    lib, classes = home / "lib", home / "classes"
    lib_digest = _digest(POM)
    classes_digest = _digest(LAUNCHER, LOG_CONFIG) + ":" + lib_digest
    if _stamped(lib, lib_digest) and _stamped(classes, classes_digest):
        return home
    with _lock(home.parent / f".{home.name}.lock"):
        if not _stamped(lib, lib_digest):
            _fetch_jars(cache, lib, lib_digest)
        if not _stamped(classes, classes_digest):
            _compile_launcher(lib, classes, classes_digest)
    return home


# --------------------------------------------------------------------------------- run


def _free_ports(n: int) -> list[int]:
    socks, ports = [], []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by its parent) is not running.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def _launch(home: Path, run_dir: Path, java: str) -> dict:
    http_port, transport_port = _free_ports(2)
    data = run_dir / "opensearch-data"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    log = run_dir / "opensearch.log"
    classes = home / "classes"
    cmd = [
        java, *HEAP_OPTS, *STARTUP_OPTS, *JVM_OPTS,
        *os.environ.get("LFM_OPENSEARCH_JAVA_OPTS", "").split(),  # extra/overriding flags
        f"-Djava.io.tmpdir={data}",
        f"-Dlog4j2.configurationFile={classes / LOG_CONFIG.name}",
        "-cp", f"{classes}{os.pathsep}{home / 'lib' / '*'}",
        MAIN_CLASS, str(data), str(http_port), str(transport_port),
    ]
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=run_dir, stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
    return {"url": f"http://127.0.0.1:{http_port}", "pid": proc.pid, "log": str(log),
            "_proc": proc}


def start(cache: Path, run_dir: Path, timeout: float = START_TIMEOUT_S) -> dict:
    """Start a node on free loopback ports; wait until the cluster is yellow.

    Returns {"url": "http://127.0.0.1:PORT", "pid": PID, "log": PATH}. The node runs in its
    own process group (session); stop it with stop(pid).
    """
    home = ensure_installed(cache)
    java = _check_java()
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    for attempt in range(3):
        info = _launch(home, run_dir, java)
        proc, log = info.pop("_proc"), Path(info["log"])
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                text = _tail(log)
                if "BindException" in text and attempt < 2:
                    break  # lost a port race with another process: new ports, try again
                raise RuntimeError(
                    f"OpenSearch exited with {proc.returncode} before becoming ready; "
                    f"log {log}:\n{text}"
                )
            try:
                r = requests.get(
                    info["url"] + "/_cluster/health",
                    params={"wait_for_status": "yellow", "timeout": "2s"}, timeout=5,
                )
                if r.status_code == 200 and r.json().get("status") in ("yellow", "green"):
                    return info
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                stop(info["pid"])
                raise RuntimeError(
                    f"OpenSearch not yellow within {timeout:.0f} s at {info['url']}; "
                    f"log {log}:\n{_tail(log)}"
                )
            time.sleep(0.5)
    raise AssertionError("unreachable")


def is_healthy(url: str) -> bool:
    try:
        r = requests.get(url.rstrip("/") + "/_cluster/health", timeout=5)
        return r.status_code == 200 and r.json().get("status") in ("yellow", "green")
    except (requests.RequestException, ValueError):
        return False


def has_ism(url: str) -> bool:
    """Whether the Index State Management plugin answers (it is not part of this node)."""
    try:
        return requests.get(url.rstrip("/") + "/_plugins/_ism/policies", timeout=5).status_code == 200
    except requests.RequestException:
        return False


def stop(pid: int, timeout: float = 30.0) -> None:
    """SIGTERM the node (it closes itself cleanly), wait, then SIGKILL its process group."""
    try:
        pgid = os.getpgid(pid)
    except ProcessLookupError:
        return
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        cmdline = None
    if cmdline is not None and MAIN_CLASS.encode() not in cmdline and _process_alive(pid):
        # A recorded PID that now belongs to something else (e.g. after a reboot).
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(pid, os.WNOHANG)[0] == pid:  # reap it if it is our child
                break
        if not _process_alive(pid):
            break
        time.sleep(0.2)
    # The launcher starts no children, but the group is the node's: make sure it is gone.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if pgid != os.getpgrp():
            os.killpg(pgid, signal.SIGKILL)
        elif _process_alive(pid):  # not started by start(): never kill our own group
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
