"""A recording stand-in for the OpenSearch Dashboards saved-objects API (test support only).

No OpenSearch Dashboards server can run in the test bed, so the provider's import client is
tested against this small HTTP server. It implements only the endpoints the provider uses and
enforces what real Dashboards enforces on them, so a malformed request or a broken bundle is
refused here as it would be there. Whether the visualisations work is proved elsewhere, against
the real OpenSearch node (``schema/tests/dashboards_live.rs``).

The documented API (OpenSearch Dashboards forked Kibana 7.10.2 and keeps these routes in
``src/core/server/saved_objects/routes/``: ``import.ts``, ``get.ts``, ``bulk_get.ts``,
``find.ts``, ``delete.ts``; request/response shapes as in Kibana 7.x "Saved objects APIs",
e.g. https://www.elastic.co/guide/en/kibana/7.3/saved-objects-api-import.html):

- ``POST /api/saved_objects/_import?overwrite=true``: body ``multipart/form-data`` with a
  ``file`` part holding ndjson, one ``{"type","id","attributes","references"}`` per line.
  Answer 200 ``{"success": bool, "successCount": n, "errors": [...]}``. An object whose
  references name an object neither in the file nor already stored is not imported; its error
  is ``{"id","type","title","error": {"type": "missing_references", "references":
  [{"type","id"}], "blocking": []}}`` (``validateReferences`` in ``import/validate_references``).
  Without ``overwrite`` an existing ID gives ``{"error": {"type": "conflict"}}``. A line that is
  not JSON, or a file part that is missing, is a 400 (``Bad Request``).
- ``GET /api/saved_objects/<type>/<id>``: the object, or 404
  ``{"statusCode":404,"error":"Not Found","message":"Saved object [<type>/<id>] not found"}``.
- ``POST /api/saved_objects/_bulk_get`` with ``[{"type","id"}]``: ``{"saved_objects": [...]}``
  in request order, a missing one as ``{"id","type","error": {"statusCode": 404, "message":
  "Not found"}}``.
- ``GET /api/saved_objects/_find?type=<t>[&per_page=n]``: ``{"page","per_page","total",
  "saved_objects"}``.
- ``DELETE /api/saved_objects/<type>/<id>``: ``{}``, or the 404 above.

Every request that is not GET/HEAD must carry ``osd-xsrf`` (any value; ``kbn-xsrf`` is also
accepted, as Dashboards does for Kibana clients), else 400 ``{"statusCode":400,"error":"Bad
Request","message":"Request must contain a osd-xsrf header."}`` (the core HTTP server's XSRF
pre-routing handler). With ``username``/``password`` configured (the security plugin's basic
auth) a request without matching ``Authorization: Basic`` gets 401.

Every request is recorded (method, path, query, headers, body) and can be read back with
``GET /_recorder/requests``; ``POST /_recorder/reset`` clears objects and records. Run it with
``python -m lfm_testbed.dashboards_recorder [--port 0] [--username U --password P]``: it prints
one JSON line ``{"url": ..., "pid": ...}`` once it listens and serves until killed.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import threading
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

API = "/api/saved_objects"
XSRF_HEADERS = ("osd-xsrf", "kbn-xsrf")


class Store:
    """Saved objects by (type, id), and the requests seen."""

    def __init__(self, username: str | None = None, password: str | None = None) -> None:
        self.lock = threading.Lock()
        self.objects: dict[tuple[str, str], dict] = {}
        self.requests: list[dict] = []
        self.username = username
        self.password = password

    def reset(self) -> None:
        with self.lock:
            self.objects.clear()
            self.requests.clear()


def parse_multipart_file(content_type: str, body: bytes) -> bytes | None:
    """The ``file`` part of a multipart/form-data body, or None when there is none."""
    if not content_type.lower().startswith("multipart/form-data"):
        return None
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    if not message.is_multipart():
        return None
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "file":
            return part.get_payload(decode=True)
    return None


def import_objects(store: Store, ndjson: bytes, overwrite: bool) -> tuple[int, dict]:
    """Apply an import like Dashboards: returns (HTTP status, response body)."""
    objects = []
    for number, line in enumerate(ndjson.decode("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            return 400, bad_request(f"line {number} of the file is not JSON: {e}")
        if not isinstance(obj, dict) or not isinstance(obj.get("type"), str) or not isinstance(obj.get("id"), str) \
                or not isinstance(obj.get("attributes"), dict):
            return 400, bad_request(f"line {number}: a saved object needs string type and id and an attributes object")
        refs = obj.get("references", [])
        if not isinstance(refs, list) or any(not isinstance(r, dict) or not {"name", "type", "id"} <= r.keys() for r in refs):
            return 400, bad_request(f"line {number}: references must be a list of {{name, type, id}}")
        objects.append(obj)
    in_file = {(o["type"], o["id"]) for o in objects}
    errors = []
    imported = 0
    with store.lock:
        for obj in objects:
            missing = [
                {"type": r["type"], "id": r["id"]}
                for r in obj.get("references", [])
                if (r["type"], r["id"]) not in in_file and (r["type"], r["id"]) not in store.objects
            ]
            key = (obj["type"], obj["id"])
            title = obj["attributes"].get("title")
            if missing:
                errors.append({"id": obj["id"], "type": obj["type"], "title": title,
                               "error": {"type": "missing_references", "references": missing, "blocking": []}})
                continue
            if key in store.objects and not overwrite:
                errors.append({"id": obj["id"], "type": obj["type"], "title": title, "error": {"type": "conflict"}})
                continue
            store.objects[key] = {"type": obj["type"], "id": obj["id"], "attributes": obj["attributes"],
                                  "references": obj.get("references", []), "version": "WzEsMV0="}
            imported += 1
    body: dict = {"success": not errors, "successCount": imported}
    if errors:
        body["errors"] = errors
    return 200, body


def bad_request(message: str) -> dict:
    return {"statusCode": 400, "error": "Bad Request", "message": message}


def not_found(obj_type: str, obj_id: str) -> dict:
    return {"statusCode": 404, "error": "Not Found", "message": f"Saved object [{obj_type}/{obj_id}] not found"}


def make_handler(store: Store):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet: tests read the records instead
            pass

        def _reply(self, status: int, body) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json; charset=utf-8")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            if url.path.startswith("/_recorder/"):
                return self._recorder(url.path)
            with store.lock:
                store.requests.append({
                    "method": self.command, "path": url.path, "query": {k: v[-1] for k, v in query.items()},
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body.decode("utf-8", errors="replace"),
                })
            if store.username is not None:
                expected = "Basic " + base64.b64encode(f"{store.username}:{store.password}".encode()).decode()
                if self.headers.get("authorization") != expected:
                    return self._reply(401, {"statusCode": 401, "error": "Unauthorized", "message": "Authentication Exception"})
            if self.command not in ("GET", "HEAD") and not any(h in self.headers for h in XSRF_HEADERS):
                return self._reply(400, bad_request("Request must contain a osd-xsrf header."))
            if not url.path.startswith(API + "/"):
                return self._reply(404, {"statusCode": 404, "error": "Not Found", "message": "Not Found"})
            rest = url.path[len(API) + 1:]
            parts = [unquote(p) for p in rest.split("/")]
            if self.command == "POST" and rest == "_import":
                file = parse_multipart_file(self.headers.get("content-type", ""), body)
                if file is None:
                    return self._reply(400, bad_request("[request body.file]: expected value of type [Stream] but got [undefined]"))
                overwrite = query.get("overwrite", ["false"])[-1] == "true"
                return self._reply(*import_objects(store, file, overwrite))
            if self.command == "POST" and rest == "_bulk_get":
                try:
                    wanted = json.loads(body or b"[]")
                    keys = [(w["type"], w["id"]) for w in wanted]
                except (ValueError, KeyError, TypeError) as e:
                    return self._reply(400, bad_request(f"[request body]: {e}"))
                with store.lock:
                    found = [store.objects.get(k) or {"id": k[1], "type": k[0], "error": {"statusCode": 404, "message": "Not found"}}
                             for k in keys]
                return self._reply(200, {"saved_objects": found})
            if self.command == "GET" and rest == "_find":
                types = query.get("type", [])
                per_page = int(query.get("per_page", ["20"])[-1])
                with store.lock:
                    hits = [o for (t, _), o in sorted(store.objects.items()) if not types or t in types]
                return self._reply(200, {"page": 1, "per_page": per_page, "total": len(hits), "saved_objects": hits[:per_page]})
            if len(parts) == 2 and self.command in ("GET", "DELETE"):
                key = (parts[0], parts[1])
                with store.lock:
                    obj = store.objects.get(key)
                    if obj is not None and self.command == "DELETE":
                        del store.objects[key]
                if obj is None:
                    return self._reply(404, not_found(*key))
                return self._reply(200, obj if self.command == "GET" else {})
            return self._reply(404, {"statusCode": 404, "error": "Not Found", "message": "Not Found"})

        def _recorder(self, path: str) -> None:
            if path == "/_recorder/requests":
                with store.lock:
                    return self._reply(200, list(store.requests))
            if path == "/_recorder/reset":
                store.reset()
                return self._reply(200, {})
            return self._reply(404, {"message": "unknown recorder path"})

        do_GET = do_POST = do_DELETE = do_PUT = _handle

    return Handler


class Recorder:
    """A running recorder on a loopback port (in a thread of this process)."""

    def __init__(self, port: int = 0, username: str | None = None, password: str | None = None) -> None:
        self.store = Store(username, password)
        self.server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(self.store))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "Recorder":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--username")
    parser.add_argument("--password")
    args = parser.parse_args(argv)
    recorder = Recorder(args.port, args.username, args.password)
    print(json.dumps({"url": recorder.url, "pid": os.getpid()}), flush=True)
    try:
        recorder.server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
