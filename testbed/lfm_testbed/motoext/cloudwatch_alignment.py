"""CloudWatch GetMetricData: datapoints on period boundaries, as AWS returns them.

AWS aggregates a metric into periods whose boundaries are multiples of the Period since
the epoch (for Period >= 60 s: a 300 s period's datapoints are stamped hh:00, hh:05, ...),
whatever StartTime was, and StartTime is rounded down to the whole minute (the documented
rounding for data less than 15 days old). moto 5.2.5 starts its buckets at StartTime, so an
unaligned StartTime yields unaligned timestamps and points split across the wrong buckets.

This patch replaces ``CloudWatchBackend.get_metric_data`` for MetricStat queries:
- a point with timestamp t (StartTime' <= t < EndTime, StartTime' = StartTime rounded down
  to the minute) falls in the bucket floor(t / Period) * Period, and the datapoint carries
  that bucket's start as its timestamp;
- a query matches metrics by namespace, name and the exact dimension set (AWS identifies a
  metric by all three; moto ignored the namespace when dimensions were given, and matched
  any dimensions when none were given), and by Unit when one is given;
- statistics are computed by moto's own ``Statistics`` helper (Sum, Average, Minimum,
  Maximum, SampleCount), so values are exactly what moto computes;
- points are grouped once per request instead of once per query and period.
Metric math expressions are evaluated by moto's parser on these results; Metrics Insights
queries (SELECT ...) are passed to moto's original implementation unchanged.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import datetime, timezone
from typing import Any

_original = None


def epoch_seconds(dt: datetime) -> int:
    """Whole seconds since the epoch; a naive datetime is taken as UTC (moto stores UTC)."""
    if dt.tzinfo is not None:
        return calendar.timegm(dt.utctimetuple())
    return calendar.timegm(dt.timetuple())


def _like(dt_epoch: int, template: datetime) -> datetime:
    out = datetime.fromtimestamp(dt_epoch, tz=timezone.utc)
    return out if template.tzinfo is not None else out.replace(tzinfo=None)


def bucket_start(ts_epoch: int, period: int) -> int:
    return ts_epoch - (ts_epoch % period)


def _metric_key(namespace: str, name: str, dimensions) -> tuple:
    dims = frozenset((d.name, d.value) if hasattr(d, "name") else (d["Name"], d["Value"])
                     for d in dimensions)
    return (namespace, name, dims)


def _get_metric_data(self, queries: list[dict[str, Any]], start_time: datetime,
                     end_time: datetime, scan_by: str = "TimestampAscending"):
    from moto.cloudwatch.exceptions import ValidationError
    from moto.cloudwatch.metric_data_expression_parser import parse_expression
    from moto.cloudwatch.models import Statistics

    start_time = start_time.replace(microsecond=0)
    end_time = end_time.replace(microsecond=0)
    if start_time > end_time:
        raise ValidationError("The parameter EndTime must be greater than StartTime.")
    if start_time == end_time:
        raise ValidationError("The parameter StartTime must not equal parameter EndTime.")

    start_epoch = epoch_seconds(start_time)
    start_epoch -= start_epoch % 60
    end_epoch = epoch_seconds(end_time)

    stat_queries = [q for q in queries if "MetricStat" in q]
    math_queries = [q for q in queries if "Expression" in q and not q["Expression"].startswith("SELECT")]
    insights_queries = [q for q in queries if "Expression" in q and q["Expression"].startswith("SELECT")]

    # Group the points of the window once: metric identity -> [(epoch, datum)] in stored order.
    by_metric: dict[tuple, list] = defaultdict(list)
    if stat_queries:
        for md in self.get_all_metrics():
            ts = epoch_seconds(md.timestamp)
            if start_epoch <= ts < end_epoch:
                by_metric[_metric_key(md.namespace, md.name, md.dimensions)].append((ts, md))

    results: list[dict[str, Any]] = []
    to_return: list[dict[str, Any]] = []
    for query in stat_queries:
        metric_stat = query["MetricStat"]
        metric = metric_stat["Metric"]
        period = int(metric_stat["Period"])
        stat = metric_stat["Stat"]
        unit = metric_stat.get("Unit")
        key = _metric_key(metric["Namespace"], metric["MetricName"], metric.get("Dimensions", []))
        buckets: dict[int, list] = defaultdict(list)
        for ts, md in by_metric.get(key, []):
            if unit and md.unit != unit:
                continue
            buckets[bucket_start(ts, period)].append(md)
        timestamps: list[datetime] = []
        values: list[Any] = []
        for b in sorted(buckets):
            stats = Statistics([stat], _like(b, start_time))
            stats.metric_data = buckets[b]
            value = stats.get_statistics_for_type(stat)
            if value is None:  # unknown stat, or a percentile without raw samples: no datapoint
                continue
            timestamps.append(stats.timestamp)
            values.append(value)
        if scan_by == "TimestampDescending":
            timestamps.reverse()
            values.reverse()
        label = query.get("Label") or f"{metric['MetricName']} {stat}"
        entry = {"id": query["Id"], "label": label, "values": values,
                 "timestamps": timestamps, "status_code": "Complete"}
        results.append(entry)
        if query.get("ReturnData", True):
            to_return.append(dict(entry))

    for query in math_queries:
        values, timestamps = parse_expression(query["Expression"], results)
        to_return.append({"id": query["Id"], "label": query.get("Label") or query["Id"],
                          "values": values, "timestamps": timestamps, "status_code": "Complete"})

    if insights_queries:
        to_return.extend(_original(self, insights_queries, start_time, end_time, scan_by))
    return to_return


def apply() -> None:
    global _original
    from moto.cloudwatch.models import CloudWatchBackend

    if _original is None:
        _original = CloudWatchBackend.get_metric_data
        CloudWatchBackend.get_metric_data = _get_metric_data
