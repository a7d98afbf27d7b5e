"""The webhook receiver of the test bed: TLS with its own CA, the HMAC check, the records, the
planned failures (lfm_testbed.webhook_receiver)."""

from __future__ import annotations

import hashlib
import hmac
import json
import ssl
import time

import pytest
import requests

from lfm_testbed import webhook_receiver


@pytest.fixture(scope="module")
def receiver(tmp_path_factory):
    material = webhook_receiver.ensure_material(tmp_path_factory.mktemp("webhook"))
    r = webhook_receiver.Receiver(material).start()
    try:
        yield r, material
    finally:
        r.stop()


def post(receiver, path, body: bytes, secret=None, timestamp=None, key="k1"):
    r, material = receiver
    ts = str(int(time.time()) if timestamp is None else timestamp)
    headers = {"Content-Type": "application/json", "X-LFM-Idempotency-Key": key, "X-LFM-Timestamp": ts}
    if secret is not None:
        headers["X-LFM-Signature-256"] = "sha256=" + hmac.new(secret.encode(), ts.encode() + b"." + body,
                                                               hashlib.sha256).hexdigest()
    return requests.post(r.url + path, data=body, headers=headers, verify=material["ca_file"], timeout=5)


def deliveries(receiver, path):
    r, material = receiver
    return requests.get(r.url + "/deliveries", params={"path": path}, verify=material["ca_file"], timeout=5).json()


def test_material_is_made_once_and_reused(tmp_path):
    first = webhook_receiver.ensure_material(tmp_path)
    second = webhook_receiver.ensure_material(tmp_path)
    assert first == second and len(first["secret"]) >= 32
    assert "BEGIN CERTIFICATE" in open(first["ca_file"]).read()


def test_tls_needs_the_receivers_ca(receiver):
    r, _ = receiver
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(r.url + "/health", timeout=5)  # public roots only: refused
    context = ssl.create_default_context(cafile=receiver[1]["ca_file"])
    assert context.get_ca_certs()[0]["subject"][0][0][1] == "LFM test bed webhook CA"


def test_signature_is_the_documented_hmac():
    # The same vector the collector's unit test checks (collector/src/notify/webhook.rs).
    body = b'{"rule":"high-errors","functions":1}'
    assert webhook_receiver.signature("s3cr3t", "1767225600", body) == \
        "sha256=f510aa9050d09782c625218d8c4df5277ceba73be82831dce3c3700976fe104e"


def test_valid_signature_is_accepted_and_recorded(receiver):
    body = json.dumps({"rule": "r1", "functions": ["a"]}).encode()
    answer = post(receiver, "/hook/valid", body, secret=receiver[1]["secret"], key="key-1")
    assert answer.status_code == 200
    [record] = deliveries(receiver, "/hook/valid")
    assert (record["signature"], record["status"], record["idempotency_key"]) == ("valid", 200, "key-1")
    assert record["body"] == {"rule": "r1", "functions": ["a"]}


def test_bad_or_stale_signatures_get_401(receiver):
    body = b'{"a": 1}'
    assert post(receiver, "/hook/bad", body, secret="wrong").status_code == 401
    assert post(receiver, "/hook/bad", body, secret=receiver[1]["secret"], timestamp=int(time.time()) - 3600).status_code == 401
    records = deliveries(receiver, "/hook/bad")
    assert [r["signature"] for r in records] == ["invalid", "invalid"]
    assert "does not match" in records[0]["reason"] and "replay" in records[1]["reason"]


def test_no_signature_is_accepted_as_missing(receiver):
    assert post(receiver, "/hook/unsigned", b"{}").status_code == 200
    assert deliveries(receiver, "/hook/unsigned")[0]["signature"] == "missing"


def test_planned_failures_then_success_only_on_their_path(receiver):
    r, material = receiver
    requests.post(r.url + "/fail", params={"times": 2, "path": "/hook/flaky"}, verify=material["ca_file"], timeout=5)
    assert post(receiver, "/hook/other", b"{}").status_code == 200  # another test's path is not affected
    statuses = [post(receiver, "/hook/flaky", b"{}", secret=material["secret"]).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert [d["status"] for d in deliveries(receiver, "/hook/flaky")] == [503, 503, 200]


def test_delete_resets_one_path(receiver):
    r, material = receiver
    post(receiver, "/hook/x", b"{}")
    post(receiver, "/hook/y", b"{}")
    requests.delete(r.url + "/deliveries", params={"path": "/hook/x"}, verify=material["ca_file"], timeout=5)
    assert deliveries(receiver, "/hook/x") == [] and len(deliveries(receiver, "/hook/y")) == 1
