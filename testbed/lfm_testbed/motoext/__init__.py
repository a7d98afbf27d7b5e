"""motoext: a test-support layer that extends moto where it lacks AWS behaviour LFM relies on.

It is not product code and LFM never special-cases the emulator: these patches make moto
behave like AWS documents, so the product can be tested as it will run against AWS.
Each patch is a separate module with an ``apply()``; ``apply_all()`` applies them all,
idempotently. ``python -m lfm_testbed.motoext.server`` applies them and then runs moto's own
server main, so they are active inside the moto server process.

Patches:
- ``lambda_pagination``: Lambda ListFunctions honours ``MaxItems`` (default and maximum 50
  per page) and the opaque ``Marker``/``NextMarker`` (moto returns everything at once).
- ``cloudwatch_alignment``: CloudWatch GetMetricData buckets datapoints on period
  boundaries (multiples of Period since the epoch), as AWS does; moto starts buckets at
  StartTime. It also matches a metric by its exact dimension set and namespace, and groups
  the stored points once per request (moto scans every point for every period).

Not covered (known moto gaps, see shared guide): percentile statistics (moto answers 500),
metric math beyond moto's parser, Logs Insights stats.
"""

from __future__ import annotations

_applied = False


def apply_all() -> None:
    """Apply every patch once (safe to call repeatedly)."""
    global _applied
    if _applied:
        return
    from . import cloudwatch_alignment, lambda_pagination

    lambda_pagination.apply()
    cloudwatch_alignment.apply()
    _applied = True
