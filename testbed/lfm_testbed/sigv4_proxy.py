"""A loopback stand-in for Amazon OpenSearch Service's IAM check in front of the real OpenSearch
node (test support only).

The test bed's OpenSearch has no IAM. This HTTP proxy does what the AWS endpoint does before a
request reaches the cluster: it checks the AWS Signature Version 4 of every request and answers
403 when it does not verify; a request that verifies is forwarded to ``--upstream`` (the real
node) without its signing headers, and the node's answer is relayed. So a client that signs
wrongly (path, query, body, headers, service, region, session token) fails here as it would on
AWS, and one that signs rightly gets real OpenSearch behaviour.

The check follows AWS's documented SigV4 ("Create a signed AWS API request",
https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html) and recomputes the
signature with botocore's ``SigV4Auth``, an implementation independent of the Rust clients
under test:

- ``Authorization: AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request,
  SignedHeaders=...,Signature=...``: the key must be the configured one, the scope's service
  and region the configured ones (``es`` by default, as a managed domain; ``aoss`` for
  Serverless), and ``host`` and ``x-amz-date`` must be signed;
- ``X-Amz-Date`` within 15 minutes of now (AWS's allowed clock skew);
- ``X-Amz-Security-Token`` equal to the configured session token when there is one;
- ``X-Amz-Content-SHA256``, when sent (Serverless requires it), equal to the body's SHA-256;
- the signature equal to botocore's over the request as received (method, raw path and query,
  the signed headers, the body).

AWS answers a failed check with 403 and ``{"message": "The request signature we calculated
does not match the signature you provided. ..."}`` (or ``"Missing Authentication Token"``,
``"The security token included in the request is invalid."``); the proxy answers the same way.

Every request is recorded (method, path, service, verified, reason); ``GET
/_sigv4_proxy/requests`` reads them back (that path is answered by the proxy itself, unsigned).
Run it with ``python -m lfm_testbed.sigv4_proxy --upstream URL --access-key-id K
--secret-access-key S [--session-token T] [--service es|aoss] [--region R] [--port 0]``: it
prints one JSON line ``{"url": ..., "pid": ...}`` once it listens and serves until killed.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import re
import sys
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

RECORDS_PATH = "/_sigv4_proxy/requests"
MAX_SKEW = datetime.timedelta(minutes=15)
AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request,"
    r"\s*SignedHeaders=(?P<signed>[a-z0-9;-]+),\s*Signature=(?P<signature>[0-9a-f]{64})$"
)
MISMATCH = ("The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
# Headers a proxy does not pass on: hop-by-hop ones, and the signature (the node has no IAM).
NOT_FORWARDED = {"host", "connection", "keep-alive", "transfer-encoding", "te", "upgrade", "proxy-authorization",
                 "authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256", "content-length"}


@dataclass
class Identity:
    """Who may call, and for which service and region."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None
    service: str = "es"
    region: str = "us-east-1"


def verify(identity: Identity, method: str, raw_path: str, headers: dict[str, str], body: bytes,
           now: datetime.datetime | None = None) -> str | None:
    """None when the request is signed as AWS requires for ``identity``; else why not (the
    message AWS would answer with, plus the detail)."""
    lower = {k.lower(): v for k, v in headers.items()}
    authorization = lower.get("authorization")
    if not authorization:
        return "Missing Authentication Token"
    match = AUTH_RE.match(authorization.strip())
    if not match:
        return f"Authorization header requires Credential, SignedHeaders and Signature: {authorization[:80]!r}"
    if match["key"] != identity.access_key_id:
        return f"The security token included in the request is invalid. (unknown access key {match['key']})"
    if (match["service"], match["region"]) != (identity.service, identity.region):
        return (f"Credential should be scoped to correct service: '{identity.service}' and region "
                f"'{identity.region}', not '{match['service']}' in '{match['region']}'")
    signed = match["signed"].split(";")
    for required in ("host", "x-amz-date"):
        if required not in signed:
            return f"{MISMATCH} ({required} is not signed)"
    missing = [h for h in signed if h not in lower]
    if missing:
        return f"{MISMATCH} (signed headers not sent: {', '.join(missing)})"
    try:
        at = datetime.datetime.strptime(lower["x-amz-date"], "%Y%m%dT%H%M%SZ")
    except ValueError:
        return f"X-Amz-Date {lower['x-amz-date']!r} is not YYYYMMDDTHHMMSSZ"
    now = now or datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    if abs(now - at) > MAX_SKEW:
        return f"Signature expired: {lower['x-amz-date']} is now earlier than {(now - MAX_SKEW):%Y%m%dT%H%M%SZ}"
    if match["date"] != lower["x-amz-date"][:8]:
        return f"{MISMATCH} (credential date {match['date']} is not the day of X-Amz-Date)"
    if identity.session_token is not None and lower.get("x-amz-security-token") != identity.session_token:
        return "The security token included in the request is invalid. (X-Amz-Security-Token missing or wrong)"
    if "x-amz-content-sha256" in lower and lower["x-amz-content-sha256"] != hashlib.sha256(body).hexdigest():
        return "The provided 'x-amz-content-sha256' header does not match what was computed."
    # Recompute over the request as received: its signed headers only, its raw path and query.
    request = AWSRequest(method=method, url=f"http://{lower['host']}{raw_path}", data=body,
                         headers={h: lower[h] for h in signed})
    credentials = Credentials(identity.access_key_id, identity.secret_access_key,
                              lower.get("x-amz-security-token"))
    with mock.patch("botocore.auth.get_current_datetime", return_value=at):
        SigV4Auth(credentials, identity.service, identity.region).add_auth(request)
    expected = AUTH_RE.match(request.headers["Authorization"])
    if expected is None or expected["signed"] != match["signed"] or expected["signature"] != match["signature"]:
        return f"{MISMATCH} (canonical request: {SigV4Auth(credentials, identity.service, identity.region).canonical_request(request)!r})"
    return None


class Proxy:
    """A running proxy on a loopback port (in a thread of this process)."""

    def __init__(self, upstream: str, identity: Identity, port: int = 0) -> None:
        self.upstream = upstream.rstrip("/")
        self.identity = identity
        self.lock = threading.Lock()
        self.records: list[dict] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(self))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "Proxy":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def record(self, entry: dict) -> None:
        with self.lock:
            self.records.append(entry)


def make_handler(proxy: Proxy):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet; the records say what happened
            pass

        def answer(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def handle_any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.command == "GET" and self.path == RECORDS_PATH:
                with proxy.lock:
                    records = list(proxy.records)
                self.answer(200, json.dumps(records).encode())
                return
            headers = {k: v for k, v in self.headers.items()}
            reason = verify(proxy.identity, self.command, self.path, headers, body)
            entry = {"method": self.command, "path": self.path, "verified": reason is None, "reason": reason,
                     "service": proxy.identity.service,
                     "session_token": "x-amz-security-token" in {k.lower() for k in headers}}
            if reason is not None:
                entry["status"] = 403
                proxy.record(entry)
                self.answer(403, json.dumps({"message": reason}).encode())
                return
            forward = {k: v for k, v in headers.items() if k.lower() not in NOT_FORWARDED}
            request = urllib.request.Request(proxy.upstream + self.path, data=body if body else None,
                                             headers=forward, method=self.command)
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    status, payload, ctype = response.status, response.read(), response.headers.get("Content-Type")
            except urllib.error.HTTPError as error:
                status, payload, ctype = error.code, error.read(), error.headers.get("Content-Type")
            except OSError as error:
                status, payload, ctype = 502, json.dumps({"message": f"upstream: {error}"}).encode(), None
            entry["status"] = status
            proxy.record(entry)
            self.answer(status, payload, ctype or "application/json")

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="the OpenSearch node requests go to once verified")
    parser.add_argument("--access-key-id", required=True)
    parser.add_argument("--secret-access-key", required=True)
    parser.add_argument("--session-token")
    parser.add_argument("--service", choices=["es", "aoss"], default="es")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    identity = Identity(args.access_key_id, args.secret_access_key, args.session_token, args.service, args.region)
    proxy = Proxy(args.upstream, identity, args.port)
    print(json.dumps({"url": proxy.url, "pid": os.getpid()}), flush=True)
    try:
        proxy.server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
