"""CloudWatch percentile statistics (``pNN``, ``pNN.NN``, ``tmNN``) for GetMetricData.

AWS serves any percentile ``pNN.NN`` (0..100, up to two decimals) as a statistic, and the
trimmed mean ``tmNN`` (= ``TM(0%:NN%)``, the mean of the values at or below the NNth
percentile). moto 5.2.5 does not know them (the whole request answered HTTP 500 before
``cloudwatch_alignment``; with it, no datapoint). This patch teaches moto's ``Statistics``
helper these statistics, so both GetMetricData (through ``cloudwatch_alignment``) and any
other moto path that uses the helper serve them.

Definition used here (and by the simulator's ground truth, and by the Logs Insights
``pct`` of ``logs_insights``): **nearest rank over the expanded sample multiset**. Every
value published with ``Values``/``Counts`` counts ``Counts[i]`` times, a single ``Value``
once; sort ascending (x_1 <= ... <= x_n); ``pP = x_k`` with ``k = max(1, ceil(P/100 * n))``.
``tmP`` is the arithmetic mean of x_1..x_k (same k).
Real CloudWatch computes percentiles from its internal representation of the samples and,
for large sample counts or high-resolution data, serves approximations (documented as
such); a collector must therefore compare real percentiles with a tolerance, while against
this emulator the values are exact and reproducible.

Data published only as statistic sets (``StatisticValues``): AWS "needs raw data points to
calculate percentile statistics"; a statistic set can serve percentiles only when its
SampleCount is 1 or its Minimum equals its Maximum (then it stands for SampleCount copies
of that value). A bucket containing any other statistic set has no percentile datapoint.
AWS also says percentiles are not available when any value is negative: no datapoint then.
"""

from __future__ import annotations

import math
import re
from typing import Iterable

PERCENTILE_RE = re.compile(r"^(p|tm)(\d{1,3}(?:\.\d{1,2})?)$")

_original = None


def parse_stat(stat: str) -> tuple[str, float] | None:
    """("p", 99.9) for "p99.9", ("tm", 99.0) for "tm99"; None for anything else."""
    m = PERCENTILE_RE.match(stat or "")
    if not m:
        return None
    p = float(m.group(2))
    if not 0.0 <= p <= 100.0:
        return None
    return m.group(1), p


def nearest_rank_index(n: int, p: float) -> int:
    """0-based index of the nearest-rank pP in a sorted list of n >= 1 values."""
    # round() guards against p/100*n landing a hair above an integer (e.g. 0.29*100)
    k = math.ceil(round(p / 100.0 * n, 9))
    return min(n, max(1, k)) - 1


def percentile(values: Iterable[float], p: float) -> float | None:
    """Nearest-rank pP of the values (None for no values)."""
    xs = sorted(values)
    if not xs:
        return None
    return xs[nearest_rank_index(len(xs), p)]


def trimmed_mean(values: Iterable[float], p: float) -> float | None:
    xs = sorted(values)
    if not xs:
        return None
    part = xs[: nearest_rank_index(len(xs), p) + 1]
    return sum(part) / len(part)


def expanded_samples(metric_data) -> list[float] | None:
    """The raw samples behind moto's stored datums, or None when a percentile cannot be
    computed (a statistic set that does not stand for identical values; negatives)."""
    from moto.cloudwatch.models import MetricAggregatedDatum, MetricDatum

    out: list[float] = []
    for md in metric_data:
        if isinstance(md, MetricDatum):
            out.append(float(md.value))
        elif isinstance(md, MetricAggregatedDatum):
            count = float(md.sample_count)
            if count == 1 or md.min == md.max:
                if count != int(count):
                    return None
                out.extend([float(md.min)] * int(count))
            else:
                return None
    if any(v < 0 for v in out):
        return None
    return out


def compute(stat: str, metric_data) -> float | None:
    """The percentile statistic ``stat`` over moto datums, or None (no datapoint)."""
    parsed = parse_stat(stat)
    if parsed is None:
        return None
    samples = expanded_samples(metric_data)
    if not samples:
        return None
    kind, p = parsed
    return percentile(samples, p) if kind == "p" else trimmed_mean(samples, p)


def _get_statistics_for_type(self, stat: str):
    if parse_stat(stat) is not None:
        return compute(stat, self.metric_data)
    return _original(self, stat)


def apply() -> None:
    global _original
    from moto.cloudwatch.models import Statistics

    if _original is None:
        _original = Statistics.get_statistics_for_type
        Statistics.get_statistics_for_type = _get_statistics_for_type
