"""motoext: a test-support layer that extends moto where it lacks AWS behaviour LFM relies on.

It is not product code and LFM never special-cases the emulator: these patches make moto
behave like AWS documents, so the product can be tested as it will run against AWS.
Each patch is a separate module with an ``apply()``; ``apply_all()`` applies them all,
idempotently. ``python -m lfm_testbed.motoext.server`` applies them and then runs moto's own
server main, so they are active inside the moto server process.

Patches:
- ``lambda_pagination``: Lambda ListFunctions honours ``MaxItems`` (default and maximum 50
  per page) and the opaque ``Marker``/``NextMarker`` (moto returns everything at once).
- ``lambda_last_modified``: Lambda LastModified in AWS's format (``...000+0000``), moved by
  UpdateFunctionCode and UpdateFunctionConfiguration (moto kept the creation time); test
  support: the header ``X-LFM-Testbed-Last-Modified`` on such an update dates it (the
  simulator's deployments in the past).
- ``cloudwatch_alignment``: CloudWatch GetMetricData buckets datapoints on period
  boundaries (multiples of Period since the epoch), as AWS does; moto starts buckets at
  StartTime. It also matches a metric by its exact dimension set and namespace, and groups
  the stored points once per request (moto scans every point for every period).

- ``cloudwatch_percentiles``: percentile (``pNN.NN``) and trimmed-mean (``tmNN``) statistics,
  nearest rank over the expanded raw samples (moto answered 500 / no datapoint).
- ``cloudwatch_list_metrics``: ListMetrics ``RecentlyActive=PT3H``, two-week horizon, pages
  of 500 with a reusable NextToken, linear in the number of stored points.
- ``logs_insights``: CloudWatch Logs StartQuery/GetQueryResults evaluate a documented subset
  of the Logs Insights query language (fields, filter, parse, stats with bin/pct, sort,
  limit) over the queried groups' events, with Lambda REPORT and JSON field discovery and
  MalformedQueryException for anything unsupported.
- ``sts_assume_role``: STS AssumeRole answers AccessDenied (403) when the role does not exist
  or its trust policy does not allow the caller (explicit Deny wins; sts:ExternalId and
  aws:PrincipalOrgID conditions evaluated, other conditions permissive); moto issued
  credentials for any role ARN.

Not covered (known moto gaps, see shared guide): metric math beyond moto's parser.
"""

from __future__ import annotations

_applied = False


def apply_all() -> None:
    """Apply every patch once (safe to call repeatedly)."""
    global _applied
    if _applied:
        return
    from . import (cloudwatch_alignment, cloudwatch_list_metrics, cloudwatch_percentiles,
                   lambda_last_modified, lambda_pagination, logs_insights, sts_assume_role)

    lambda_pagination.apply()
    lambda_last_modified.apply()
    cloudwatch_alignment.apply()
    cloudwatch_percentiles.apply()
    cloudwatch_list_metrics.apply()
    logs_insights.apply()
    sts_assume_role.apply()
    _applied = True
