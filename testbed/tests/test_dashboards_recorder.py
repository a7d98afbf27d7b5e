"""The saved-objects recorder enforces what OpenSearch Dashboards enforces (osd-xsrf on writes,
basic auth, multipart ndjson with type/id/attributes, resolvable references) and stores
objects so that reads, bulk reads, finds and deletes behave."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lfm_testbed.dashboards_recorder import Recorder  # noqa: E402

XSRF = {"osd-xsrf": "true"}
PATTERN = {"type": "index-pattern", "id": "t-metrics", "attributes": {"title": "t-metrics-*"}, "references": []}
VIS = {"type": "visualization", "id": "t-vis", "attributes": {"title": "T vis"},
       "references": [{"name": "kibanaSavedObjectMeta.searchSourceJSON.index", "type": "index-pattern", "id": "t-metrics"}]}


def ndjson(*objects) -> bytes:
    return "".join(json.dumps(o) + "\n" for o in objects).encode()


@pytest.fixture()
def recorder():
    r = Recorder().start()
    yield r
    r.stop()


def import_(url, data: bytes, overwrite=True, headers=XSRF, auth=None):
    query = "?overwrite=true" if overwrite else ""
    return requests.post(f"{url}/api/saved_objects/_import{query}", headers=headers, auth=auth,
                         files={"file": ("export.ndjson", data, "application/ndjson")}, timeout=10)


def test_import_then_get_bulk_get_find_delete(recorder):
    r = import_(recorder.url, ndjson(PATTERN, VIS))
    assert r.status_code == 200
    assert r.json() == {"success": True, "successCount": 2}
    got = requests.get(f"{recorder.url}/api/saved_objects/visualization/t-vis", timeout=10).json()
    assert got["attributes"] == {"title": "T vis"} and got["references"] == VIS["references"]
    bulk = requests.post(f"{recorder.url}/api/saved_objects/_bulk_get", headers=XSRF, timeout=10,
                         json=[{"type": "visualization", "id": "t-vis"}, {"type": "dashboard", "id": "nope"}]).json()
    assert bulk["saved_objects"][0]["id"] == "t-vis"
    assert bulk["saved_objects"][1] == {"id": "nope", "type": "dashboard", "error": {"statusCode": 404, "message": "Not found"}}
    found = requests.get(f"{recorder.url}/api/saved_objects/_find?type=index-pattern", timeout=10).json()
    assert [o["id"] for o in found["saved_objects"]] == ["t-metrics"] and found["total"] == 1
    assert requests.delete(f"{recorder.url}/api/saved_objects/visualization/t-vis", headers=XSRF, timeout=10).status_code == 200
    gone = requests.get(f"{recorder.url}/api/saved_objects/visualization/t-vis", timeout=10)
    assert gone.status_code == 404
    assert gone.json()["message"] == "Saved object [visualization/t-vis] not found"
    assert requests.delete(f"{recorder.url}/api/saved_objects/visualization/t-vis", headers=XSRF, timeout=10).status_code == 404


def test_writes_without_osd_xsrf_are_refused_and_store_nothing(recorder):
    r = import_(recorder.url, ndjson(PATTERN), headers={})
    assert r.status_code == 400
    assert "osd-xsrf" in r.json()["message"]
    assert requests.get(f"{recorder.url}/api/saved_objects/index-pattern/t-metrics", timeout=10).status_code == 404
    import_(recorder.url, ndjson(PATTERN))
    assert requests.delete(f"{recorder.url}/api/saved_objects/index-pattern/t-metrics", timeout=10).status_code == 400


def test_missing_reference_is_an_import_error_like_dashboards(recorder):
    r = import_(recorder.url, ndjson(VIS)).json()
    assert r["success"] is False and r["successCount"] == 0
    assert r["errors"] == [{"id": "t-vis", "type": "visualization", "title": "T vis",
                            "error": {"type": "missing_references", "references": [{"type": "index-pattern", "id": "t-metrics"}],
                                      "blocking": []}}]
    # A reference to an object stored earlier resolves.
    import_(recorder.url, ndjson(PATTERN))
    assert import_(recorder.url, ndjson(VIS)).json() == {"success": True, "successCount": 1}


def test_overwrite_false_reports_conflicts(recorder):
    import_(recorder.url, ndjson(PATTERN))
    r = import_(recorder.url, ndjson(PATTERN), overwrite=False).json()
    assert r["success"] is False and r["errors"][0]["error"] == {"type": "conflict"}


@pytest.mark.parametrize("body, field", [
    (b"{not json}\n", "not JSON"),
    (ndjson({"type": "visualization", "id": "x"}), "attributes"),
    (ndjson({"type": "visualization", "id": "x", "attributes": {}, "references": [{"id": "y"}]}), "references"),
])
def test_malformed_ndjson_is_a_bad_request(recorder, body, field):
    r = import_(recorder.url, body)
    assert r.status_code == 400 and field in r.json()["message"]


def test_import_needs_a_multipart_file_part(recorder):
    r = requests.post(f"{recorder.url}/api/saved_objects/_import?overwrite=true", headers={**XSRF, "content-type": "application/ndjson"},
                      data=ndjson(PATTERN), timeout=10)
    assert r.status_code == 400 and "file" in r.json()["message"]


def test_basic_auth_is_enforced():
    r = Recorder(username="admin", password="s3cret").start()
    try:
        assert import_(r.url, ndjson(PATTERN)).status_code == 401
        assert import_(r.url, ndjson(PATTERN), auth=("admin", "wrong")).status_code == 401
        assert import_(r.url, ndjson(PATTERN), auth=("admin", "s3cret")).json()["success"] is True
    finally:
        r.stop()


def test_requests_are_recorded_with_headers_query_and_body(recorder):
    import_(recorder.url, ndjson(PATTERN))
    records = requests.get(f"{recorder.url}/_recorder/requests", timeout=10).json()
    assert len(records) == 1
    rec = records[0]
    assert rec["method"] == "POST" and rec["path"] == "/api/saved_objects/_import"
    assert rec["query"] == {"overwrite": "true"}
    assert rec["headers"]["osd-xsrf"] == "true"
    assert rec["headers"]["content-type"].startswith("multipart/form-data; boundary=")
    assert '"id": "t-metrics"' in rec["body"]
    requests.post(f"{recorder.url}/_recorder/reset", timeout=10)
    assert requests.get(f"{recorder.url}/_recorder/requests", timeout=10).json() == []


def test_command_line_prints_its_url_and_serves():
    proc = subprocess.Popen([sys.executable, "-m", "lfm_testbed.dashboards_recorder", "--port", "0"], stdout=subprocess.PIPE,
                            cwd=Path(__file__).resolve().parent.parent, text=True)
    try:
        info = json.loads(proc.stdout.readline())
        assert info["pid"] == proc.pid
        assert import_(info["url"], ndjson(PATTERN)).json()["success"] is True
    finally:
        proc.terminate()
        proc.wait(timeout=10)
