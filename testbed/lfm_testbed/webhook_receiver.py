"""A loopback HTTPS receiver of LFM's alert webhooks (test support only).

It stands for a team's webhook endpoint (a chat bridge, an incident tool): HTTPS with a
certificate of its own private CA, so the collector must be told to trust that CA
(``alert_webhook_ca_file``), as with a receiver inside a company network.

- CA and server certificate (for ``127.0.0.1``, ``::1`` and ``localhost``) are generated once
  with ``cryptography`` into ``$LFM_CACHE/webhook/`` (``ca.pem``, ``server.pem``,
  ``server.key``), with the shared secret (``secret``).
- Every ``POST`` to any other path is a delivery. When it carries ``X-LFM-Signature-256`` the
  receiver checks it: ``sha256=`` + hex HMAC-SHA256(secret, ``"{X-LFM-Timestamp}.{body}"``),
  the timestamp within 5 minutes of now; a bad or stale signature is answered 401 and recorded
  as ``invalid``; no signature is recorded as ``missing`` and accepted (a destination without a
  secret).
- ``POST /fail?times=N[&path=/p]``: the next N deliveries (to ``/p`` only, when given) are
  answered 503, for retry tests.
- ``GET /deliveries[?path=/p]``: every delivery recorded (to ``/p``), oldest first, as JSON:
  ``{"path", "status", "signature": "valid"|"invalid"|"missing", "reason", "idempotency_key",
  "timestamp", "headers", "body" (parsed JSON, or the text), "received_at"}``.
  ``DELETE /deliveries[?path=/p]`` forgets them (and pending failures). Tests share one
  receiver: each posts to a path of its own and filters by it.
- ``GET /health``: 200.

Started and stopped with the rest of the test bed (``python -m lfm_testbed up|down|status``),
exported by ``env`` as ``LFM_WEBHOOK_URL`` (base URL), ``LFM_WEBHOOK_CA_FILE`` and
``LFM_WEBHOOK_SECRET``. By hand: ``python -m lfm_testbed.webhook_receiver --dir DIR [--port 0]``
prints one JSON line ``{"url": ..., "pid": ...}`` once it listens and serves until killed.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import hmac
import ipaddress
import json
import os
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MODULE = "lfm_testbed.webhook_receiver"
MAX_SKEW_S = 300
START_TIMEOUT_S = 30.0


# --- certificates and secret -------------------------------------------------------------

def ensure_material(directory: Path) -> dict:
    """CA, server certificate and key, and secret in ``directory`` (created once, then
    reused); returns their paths and the secret."""
    directory.mkdir(parents=True, exist_ok=True)
    ca, cert, key, secret_file = (directory / n for n in ("ca.pem", "server.pem", "server.key", "secret"))
    if not (ca.exists() and cert.exists() and key.exists()):
        _generate(ca, cert, key)
    if not secret_file.exists():
        tmp = secret_file.with_suffix(f".tmp.{os.getpid()}")
        tmp.write_text(secrets.token_hex(24))
        os.replace(tmp, secret_file)
    return {"ca_file": str(ca), "cert_file": str(cert), "key_file": str(key),
            "secret": secret_file.read_text().strip()}


def _generate(ca_path: Path, cert_path: Path, key_path: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "LFM test bed webhook CA")])
    ca_cert = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=825))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("::1")),
        ]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    for path, data in (
        (key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())),
        (cert_path, cert.public_bytes(serialization.Encoding.PEM)),
        (ca_path, ca_cert.public_bytes(serialization.Encoding.PEM)),
    ):
        tmp = path.with_suffix(f".tmp.{os.getpid()}")
        tmp.write_bytes(data)
        os.replace(tmp, path)


# --- the signature -----------------------------------------------------------------------

def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` + hex HMAC-SHA256(secret, ``"{timestamp}.{body}"``): what LFM sends."""
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def check_signature(secret: str, headers: dict[str, str], body: bytes, now: float | None = None) -> tuple[str, str | None]:
    """(``valid`` | ``invalid`` | ``missing``, why not)."""
    lower = {k.lower(): v for k, v in headers.items()}
    sent = lower.get("x-lfm-signature-256")
    if sent is None:
        return "missing", None
    timestamp = lower.get("x-lfm-timestamp", "")
    if not timestamp.isdigit():
        return "invalid", f"X-LFM-Timestamp {timestamp!r} is not unix seconds"
    if abs((now if now is not None else time.time()) - int(timestamp)) > MAX_SKEW_S:
        return "invalid", f"X-LFM-Timestamp {timestamp} is more than {MAX_SKEW_S} s from now (a replay?)"
    if not hmac.compare_digest(sent, signature(secret, timestamp, body)):
        return "invalid", "X-LFM-Signature-256 does not match HMAC-SHA256(secret, timestamp + '.' + body)"
    return "valid", None


# --- the server ----------------------------------------------------------------------------

class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # A client that refuses the certificate (a test of exactly that) is no server error.
        if isinstance(sys.exc_info()[1], (ssl.SSLError, ConnectionError)):
            return
        super().handle_error(request, client_address)


class Receiver:
    """A running receiver on a loopback port (in a thread of this process)."""

    def __init__(self, material: dict, port: int = 0) -> None:
        self.secret = material["secret"]
        self.lock = threading.Lock()
        self.records: list[dict] = []
        self.failures: list[tuple[str | None, int]] = []  # (path or None for any, remaining)
        self.server = _Server(("127.0.0.1", port), _handler(self))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(material["cert_file"], material["key_file"])
        # The handshake happens in the request's thread: a stuck client does not block accept().
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True, do_handshake_on_connect=False)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "Receiver":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def take_failure(self, path: str) -> bool:
        """True when this delivery must be answered 503 (consumes one planned failure)."""
        with self.lock:
            for i, (only, left) in enumerate(self.failures):
                if only is None or only == path:
                    self.failures[i] = (only, left - 1)
                    if left - 1 <= 0:
                        del self.failures[i]
                    return True
        return False


def _handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet; the records say what happened
            pass

        def answer(self, status: int, payload) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def route(self):
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            return url.path, query

        def do_GET(self) -> None:
            path, query = self.route()
            if path == "/health":
                self.answer(200, {"ok": True})
            elif path == "/deliveries":
                with receiver.lock:
                    records = [r for r in receiver.records if "path" not in query or r["path"] == query["path"]]
                self.answer(200, records)
            else:
                self.answer(404, {"error": f"GET {path}: only /deliveries and /health"})

        def do_DELETE(self) -> None:
            path, query = self.route()
            if path != "/deliveries":
                self.answer(404, {"error": f"DELETE {path}: only /deliveries"})
                return
            only = query.get("path")
            with receiver.lock:
                receiver.records = [r for r in receiver.records if only is not None and r["path"] != only]
                receiver.failures = [f for f in receiver.failures if only is not None and f[0] != only]
            self.answer(200, {"ok": True})

        def do_POST(self) -> None:
            path, query = self.route()
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if path == "/fail":
                times = int(query.get("times", "1"))
                with receiver.lock:
                    receiver.failures.append((query.get("path"), times))
                self.answer(200, {"ok": True, "times": times})
                return
            headers = dict(self.headers.items())
            lower = {k.lower(): v for k, v in headers.items()}
            try:
                parsed = json.loads(body) if body else None
            except ValueError:
                parsed = body.decode("utf-8", "replace")
            record = {"path": path, "idempotency_key": lower.get("x-lfm-idempotency-key"),
                      "timestamp": lower.get("x-lfm-timestamp"), "headers": headers, "body": parsed,
                      "received_at": time.time()}
            if receiver.take_failure(path):
                record.update(status=503, signature="not checked", reason="told to fail (POST /fail)")
                status, payload = 503, {"error": "unavailable (test bed: POST /fail)"}
            else:
                verdict, reason = check_signature(receiver.secret, headers, body)
                record.update(signature=verdict, reason=reason)
                if verdict == "invalid":
                    status, payload = 401, {"error": reason}
                else:
                    status, payload = 200, {"ok": True}
                record["status"] = status
            record.setdefault("status", status)
            with receiver.lock:
                receiver.records.append(record)
            self.answer(status, payload)

    return Handler


# --- lifecycle (as moto_server) -------------------------------------------------------------

def is_healthy(url: str, ca_file: str, timeout: float = 2.0) -> bool:
    import requests

    try:
        return requests.get(url.rstrip("/") + "/health", timeout=timeout, verify=ca_file).status_code == 200
    except requests.RequestException:
        return False


def is_ours(pid: int) -> bool:
    """True when ``pid`` is a live receiver started by this module (guards PID reuse)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return MODULE.encode() in cmdline


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cache: Path, run_dir: Path, timeout: float = START_TIMEOUT_S) -> dict:
    """Start the receiver in its own session; return {"url", "pid", "log", "ca_file", "secret"}
    once healthy. Raises RuntimeError otherwise."""
    directory = cache / "webhook"
    material = ensure_material(directory)
    log = run_dir / "webhook_receiver.log"
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = package_root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    port = _free_port()
    url = f"https://127.0.0.1:{port}"
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", MODULE, "--dir", str(directory), "--port", str(port)],
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True, cwd=str(run_dir))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"webhook receiver exited with {proc.returncode}; see {log}")
        if is_healthy(url, material["ca_file"], timeout=1.0):
            return {"url": url, "pid": proc.pid, "log": str(log), "ca_file": material["ca_file"],
                    "secret": material["secret"]}
        time.sleep(0.1)
    stop(proc.pid)
    raise RuntimeError(f"webhook receiver not healthy after {timeout:.0f} s; see {log}")


def stop(pid: int, timeout: float = 10.0) -> bool:
    """Stop the receiver with this PID if it is ours. True when something was stopped."""
    if not is_ours(pid):
        return False
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    except PermissionError:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and is_ours(pid):
        try:
            if os.waitpid(pid, os.WNOHANG)[0]:
                break
        except ChildProcessError:
            pass
        time.sleep(0.05)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True, help="where the CA, certificate, key and secret live")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    receiver = Receiver(ensure_material(Path(args.dir)), args.port)
    print(json.dumps({"url": receiver.url, "pid": os.getpid()}), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        receiver.server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
