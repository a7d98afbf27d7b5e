"""The SigV4 proxy lets through exactly the requests AWS would: signed for its key, service and
region, with the right session token, payload hash and signature over what was sent; anything
else is a 403 with AWS's message and never reaches the upstream."""

from __future__ import annotations

import datetime
import hashlib
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lfm_testbed.sigv4_proxy import Identity, Proxy, verify  # noqa: E402

KEY, SECRET, TOKEN = "AKIDPROXYTEST", "proxy/secret+key", "session-token/1="


class Upstream:
    """Answers every request with what it received, as JSON."""

    def __init__(self) -> None:
        seen = self.seen = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def handle_any(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                seen.append({"method": self.command, "path": self.path, "body": body.decode(),
                             "headers": {k.lower(): v for k, v in self.headers.items()}})
                payload = json.dumps({"ok": True}).encode()
                self.send_response(201 if self.command == "PUT" else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_PUT = do_POST = do_DELETE = handle_any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def upstream():
    u = Upstream()
    yield u
    u.stop()


@pytest.fixture()
def proxy(upstream):
    p = Proxy(upstream.url, Identity(KEY, SECRET, TOKEN, "es", "eu-west-1")).start()
    yield p
    p.stop()


def signed(method, url, body=b"", service="es", region="eu-west-1", token=TOKEN, secret=SECRET, when=None,
           payload_hash=True):
    """Headers botocore's SigV4Auth adds for this request (the way AWS SDKs sign)."""
    headers = {"content-type": "application/json"}
    if payload_hash:
        headers["x-amz-content-sha256"] = hashlib.sha256(body).hexdigest()
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    auth = SigV4Auth(Credentials(KEY, secret, token), service, region)
    if when is None:
        auth.add_auth(request)
    else:
        from unittest import mock
        with mock.patch("botocore.auth.get_current_datetime", return_value=when):
            auth.add_auth(request)
    return dict(request.headers.items())


def test_a_correctly_signed_request_reaches_the_upstream_without_its_signature(proxy, upstream):
    url = f"{proxy.url}/lfm-test.proxy-metrics-2026.11.26/_bulk?refresh=false&expand_wildcards=open%2Cclosed"
    body = b'{"index":{}}\n{"a":1}\n'
    response = requests.post(url, data=body, headers=signed("POST", url, body), timeout=10)
    assert response.status_code == 200, response.text
    assert response.json() == {"ok": True}
    [seen] = upstream.seen
    assert seen["method"] == "POST" and seen["body"] == body.decode()
    assert seen["path"] == "/lfm-test.proxy-metrics-2026.11.26/_bulk?refresh=false&expand_wildcards=open%2Cclosed"
    assert not {"authorization", "x-amz-date", "x-amz-security-token"} & set(seen["headers"])
    records = requests.get(f"{proxy.url}/_sigv4_proxy/requests", timeout=10).json()
    assert records == [{"method": "POST", "path": seen["path"], "verified": True, "reason": None, "service": "es",
                        "session_token": True, "status": 200}]


def test_the_upstreams_status_is_relayed(proxy, upstream):
    url = f"{proxy.url}/_index_template/lfm-test"
    body = b'{"index_patterns":["x-*"]}'
    response = requests.put(url, data=body, headers=signed("PUT", url, body), timeout=10)
    assert response.status_code == 201


@pytest.mark.parametrize("case, expect", [
    ("unsigned", "Missing Authentication Token"),
    ("body changed after signing", "signature we calculated does not match"),
    ("path changed after signing", "signature we calculated does not match"),
    ("query changed after signing", "signature we calculated does not match"),
    ("signed for aoss", "Credential should be scoped to correct service: 'es'"),
    ("signed for another region", "region 'eu-west-1'"),
    ("wrong secret", "signature we calculated does not match"),
    ("no session token", "security token included in the request is invalid"),
    ("an hour old", "Signature expired"),
])
def test_a_wrongly_signed_request_is_refused_like_aws_does(proxy, upstream, case, expect):
    url = f"{proxy.url}/lfm-test/_doc/1?refresh=false"
    body = b'{"a":1}'
    send_url, send_body = url, body
    if case == "unsigned":
        headers = {"content-type": "application/json"}
    elif case == "body changed after signing":
        # Without the payload hash header the signature alone covers the body.
        headers = signed("PUT", url, body, payload_hash=False)
        send_body = b'{"a":2}'
    elif case == "path changed after signing":
        headers = signed("PUT", url, body)
        send_url = url.replace("/_doc/1", "/_doc/2")
    elif case == "query changed after signing":
        headers = signed("PUT", url, body)
        send_url = url.replace("refresh=false", "refresh=true")
    elif case == "signed for aoss":
        headers = signed("PUT", url, body, service="aoss")
    elif case == "signed for another region":
        headers = signed("PUT", url, body, region="us-east-1")
    elif case == "wrong secret":
        headers = signed("PUT", url, body, secret="not-the-secret")
    elif case == "no session token":
        headers = signed("PUT", url, body, token=None)
    else:
        when = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(hours=1)
        headers = signed("PUT", url, body, when=when)
    response = requests.put(send_url, data=send_body, headers=headers, timeout=10)
    assert response.status_code == 403, response.text
    assert expect in response.json()["message"], response.json()
    assert upstream.seen == [], "a refused request never reaches OpenSearch"
    [record] = requests.get(f"{proxy.url}/_sigv4_proxy/requests", timeout=10).json()
    assert record["verified"] is False and expect in record["reason"]


def test_a_payload_hash_that_is_not_the_bodys_is_refused():
    identity = Identity(KEY, SECRET, None, "aoss", "eu-west-1")
    url = "http://127.0.0.1:9/x/_search"
    headers = signed("POST", url, b"{}", service="aoss", token=None)
    headers["X-Amz-Content-SHA256"] = hashlib.sha256(b"other").hexdigest()
    headers["Host"] = "127.0.0.1:9"  # as sent on the wire (botocore signs it without adding it)
    reason = verify(identity, "POST", "/x/_search", headers, b"{}")
    assert reason and "x-amz-content-sha256" in reason
    # The same request with its own hash verifies (aoss, no session token).
    headers = dict(signed("POST", url, b"{}", service="aoss", token=None), Host="127.0.0.1:9")
    assert verify(identity, "POST", "/x/_search", headers, b"{}") is None


def test_the_command_line_prints_where_it_listens(upstream):
    proc = subprocess.Popen([sys.executable, "-m", "lfm_testbed.sigv4_proxy", "--upstream", upstream.url,
                             "--access-key-id", KEY, "--secret-access-key", SECRET, "--region", "eu-west-1"],
                            stdout=subprocess.PIPE, cwd=Path(__file__).resolve().parent.parent)
    try:
        info = json.loads(proc.stdout.readline())
        url = f"{info['url']}/lfm-test"
        response = requests.get(url, headers=signed("GET", url, token=None), timeout=10)
        assert response.status_code == 200, response.text
    finally:
        proc.kill()
        proc.wait()
