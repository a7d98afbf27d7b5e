"""CloudWatch ListMetrics: ``RecentlyActive=PT3H``, pages of 500, a stable NextToken.

AWS documents (ListMetrics API reference):
- "Up to 500 results are returned for any one call. To retrieve additional results, use the
  returned token with subsequent calls."
- ``RecentlyActive``: "To filter the results to show only metrics that have had data points
  published in the past three hours, specify this parameter with a value of PT3H. This is
  the only valid value for this parameter." (AWS adds: the result is an approximation.)
- "ListMetrics doesn't return information about metrics if those metrics haven't reported
  data in the past two weeks."
- Namespace and MetricName filter by exact match; each DimensionFilter (Name, optional
  Value) must be matched by one of the metric's dimensions.

moto 5.2.5 ignores RecentlyActive, lists metrics older than two weeks, compares every
stored point with every listed metric (quadratic in the number of points) and hands out
single-use random NextTokens. This patch lists each metric (namespace, name, exact
dimension set) once, in a stable order (namespace, name, dimensions), filters as above and
pages with an opaque token naming the last metric returned, so it can be reused and
survives new metrics between pages.

"Published in the past three hours" is taken as "has a datapoint whose timestamp is within
the last three hours" (moto keeps no ingestion time; the simulator writes points stamped
with the time they describe, as Lambda does).
"""

from __future__ import annotations

import base64
import json
import time

PAGE_SIZE = 500
RECENT_S = 3 * 3600
RETENTION_S = 14 * 86400

_original = None


def _key(md) -> tuple:
    dims = tuple(sorted((d.name, d.value) for d in md.dimensions))
    return (md.namespace, md.name, dims)


def encode_token(key: tuple) -> str:
    raw = json.dumps({"v": 1, "after": [key[0], key[1], [list(d) for d in key[2]]]},
                     separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_token(token: str) -> tuple:
    try:
        data = json.loads(base64.urlsafe_b64decode((token + "=" * (-len(token) % 4)).encode()))
        ns, name, dims = data["after"]
        if data.get("v") != 1:
            raise ValueError
        return (ns, name, tuple(tuple(d) for d in dims))
    except Exception as exc:  # noqa: BLE001 - any decoding problem is a bad token
        raise ValueError(token) from exc


def list_metric_keys(all_metrics, namespace, metric_name, dim_filters, recently_active,
                     now: float | None = None) -> list[tuple]:
    """Sorted unique metric keys matching the filters (pure, unit-tested)."""
    from .cloudwatch_alignment import epoch_seconds

    now = time.time() if now is None else now
    newest: dict[tuple, int] = {}
    for md in all_metrics:
        if namespace and md.namespace != namespace:
            continue
        if metric_name and md.name != metric_name:
            continue
        k = _key(md)
        ts = epoch_seconds(md.timestamp)
        if ts > newest.get(k, -1 << 62):
            newest[k] = ts
    out = []
    horizon = now - (RECENT_S if recently_active else RETENTION_S)
    for k, ts in newest.items():
        if ts < horizon:
            continue
        dims = dict(k[2])
        if all(f.get("Name") in dims and (f.get("Value") is None or dims[f["Name"]] == f["Value"])
               for f in dim_filters):
            out.append(k)
    return sorted(out)


def _list_metrics(self):  # replaces CloudWatchResponse.list_metrics
    from moto.cloudwatch.exceptions import InvalidParameterValue, ValidationError
    from moto.core.responses import ActionResult

    namespace = self._get_param("Namespace")
    metric_name = self._get_param("MetricName")
    dim_filters = self._get_params().get("Dimensions", []) or []
    token = self._get_param("NextToken")
    recently = self._get_param("RecentlyActive")
    if recently not in (None, "", "PT3H"):
        raise ValidationError(
            f"1 validation error detected: Value '{recently}' at 'recentlyActive' failed to "
            "satisfy constraint: Member must satisfy enum value set: [PT3H]")
    keys = list_metric_keys(self.cloudwatch_backend.get_all_metrics(), namespace, metric_name,
                            dim_filters, bool(recently))
    if token:
        try:
            after = decode_token(token)
        except ValueError:
            raise InvalidParameterValue("Request parameter NextToken is invalid")
        keys = [k for k in keys if k > after]
    page = keys[:PAGE_SIZE]
    result = {"Metrics": [{"Namespace": ns, "MetricName": name,
                           "Dimensions": [{"Name": n, "Value": v} for n, v in dims]}
                          for ns, name, dims in page]}
    if len(keys) > PAGE_SIZE:
        result["NextToken"] = encode_token(page[-1])
    return ActionResult(result)


def apply() -> None:
    global _original
    from moto.cloudwatch.responses import CloudWatchResponse

    if _original is None:
        _original = CloudWatchResponse.list_metrics
        CloudWatchResponse.list_metrics = _list_metrics
