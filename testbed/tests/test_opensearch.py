"""The test bed's OpenSearch node: installs from Maven Central jars, starts, indexes, searches, stops."""

import json
import sys
import time
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lfm_testbed import opensearch  # noqa: E402

INDEX = "lfm-test-opensearch"
JSON = {"Content-Type": "application/json"}
NDJSON = {"Content-Type": "application/x-ndjson"}


@pytest.fixture(scope="module")
def cache() -> Path:
    return opensearch.default_cache()


@pytest.fixture(scope="module")
def node(cache, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("opensearch-run")
    info = opensearch.start(cache, run_dir)
    try:
        yield info
    finally:
        opensearch.stop(info["pid"])


def test_second_install_is_a_no_op(cache, node):
    # The node fixture installed everything; doing it again must only check stamps.
    t0 = time.monotonic()
    home = opensearch.ensure_installed(cache)
    assert time.monotonic() - t0 < 1.0
    assert (home / "lib" / f"opensearch-{opensearch.version()}.jar").is_file()
    assert (home / "classes" / "LfmOpenSearchNode.class").is_file()


def test_node_is_healthy_and_real(node):
    assert opensearch.is_healthy(node["url"])
    info = requests.get(node["url"], timeout=10).json()
    assert info["version"]["number"] == opensearch.version()
    assert info["cluster_name"] == "lfm-testbed"
    assert isinstance(opensearch.has_ism(node["url"]), bool)


def test_index_bulk_search_aggregate(node):
    url = node["url"]
    r = requests.put(
        f"{url}/{INDEX}",
        headers=JSON,
        timeout=30,
        json={
            "settings": {"number_of_shards": 1, "number_of_replicas": 0},
            "mappings": {
                "properties": {
                    "function_name": {"type": "keyword"},
                    "account_id": {"type": "keyword"},
                    "invocations": {"type": "long"},
                    "duration_avg_ms": {"type": "double"},
                    "@timestamp": {"type": "date"},
                    "note": {"type": "text"},
                }
            },
        },
    )
    assert r.status_code == 200, r.text
    mapping = requests.get(f"{url}/{INDEX}/_mapping", timeout=10).json()
    assert mapping[INDEX]["mappings"]["properties"]["invocations"]["type"] == "long"

    docs = [
        {"function_name": "f1", "account_id": "111111111111", "invocations": 10,
         "duration_avg_ms": 12.5, "@timestamp": "2026-11-26T15:05:00Z", "note": "Hello World"},
        {"function_name": "f1", "account_id": "111111111111", "invocations": 5,
         "duration_avg_ms": 20.0, "@timestamp": "2026-11-26T15:10:00Z", "note": "hello again"},
        {"function_name": "f2", "account_id": "222222222222", "invocations": 7,
         "duration_avg_ms": 3.0, "@timestamp": "2026-11-26T15:05:00Z", "note": "other"},
    ]
    lines = []
    for i, doc in enumerate(docs):
        lines.append({"index": {"_index": INDEX, "_id": f"d{i}"}})
        lines.append(doc)
    body = "".join(json.dumps(x) + "\n" for x in lines)
    r = requests.post(f"{url}/_bulk", params={"refresh": "true"}, data=body, headers=NDJSON, timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["errors"] is False, r.text

    r = requests.post(
        f"{url}/{INDEX}/_search",
        headers=JSON,
        timeout=30,
        json={
            "size": 10,
            "query": {"match_all": {}},
            "aggs": {
                "per_function": {
                    "terms": {"field": "function_name"},
                    "aggs": {"invocations": {"sum": {"field": "invocations"}}},
                },
                "max_duration": {"max": {"field": "duration_avg_ms"}},
            },
        },
    )
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["hits"]["total"]["value"] == 3
    buckets = {b["key"]: b for b in result["aggregations"]["per_function"]["buckets"]}
    assert buckets["f1"]["doc_count"] == 2
    assert buckets["f1"]["invocations"]["value"] == 15
    assert buckets["f2"]["invocations"]["value"] == 7
    assert result["aggregations"]["max_duration"]["value"] == 20.0

    # Full-text search goes through the analyzers (lowercasing "Hello").
    r = requests.post(f"{url}/{INDEX}/_search", headers=JSON, timeout=30,
                      json={"query": {"match": {"note": "hello"}}})
    assert r.json()["hits"]["total"]["value"] == 2

    # Module plugins are loaded: painless (script query) and analysis-common (a filter from it).
    r = requests.post(f"{url}/{INDEX}/_search", headers=JSON, timeout=30, json={
        "query": {"script": {"script": {"source": "doc['invocations'].value > 6"}}}})
    assert r.status_code == 200, r.text
    assert r.json()["hits"]["total"]["value"] == 2
    r = requests.post(f"{url}/_analyze", headers=JSON, timeout=30, json={
        "tokenizer": "standard", "filter": ["lowercase", "asciifolding"], "text": "Héllo"})
    assert r.status_code == 200, r.text
    assert [t["token"] for t in r.json()["tokens"]] == ["hello"]


def test_stop_ends_the_process(node):
    # Runs last in this module: stops the module's node and checks it is gone.
    pid = node["pid"]
    opensearch.stop(pid)
    assert not opensearch._process_alive(pid)
    assert not opensearch.is_healthy(node["url"])
    assert "closed" in Path(node["log"]).read_text()  # it shut down cleanly on SIGTERM
