"""Lambda ``LastModified`` as AWS documents it, plus a test-support header to date a change.

AWS (https://docs.aws.amazon.com/lambda/latest/api/API_FunctionConfiguration.html):
``LastModified`` is "The date and time that the function was last updated, in ISO-8601 format
(YYYY-MM-DDThh:mm:ss.sTZD)", e.g. ``2026-11-26T14:05:00.000+0000``; UpdateFunctionCode and
UpdateFunctionConfiguration update it.

moto 5.2.5 writes ``2026-11-26T14:05:00.123456000Z`` at creation and never moves it again.
This patch writes AWS's format (milliseconds, ``+0000``) at creation and on every code or
configuration update.

Test support (not AWS): the simulator builds a window of metrics in the past and a change at
a time T inside it, while moto stamps the real clock. An UpdateFunctionCode or
UpdateFunctionConfiguration request carrying the header ``X-LFM-Testbed-Last-Modified: <T>``
(AWS format or RFC 3339) sets LastModified to T instead of now. Without the header nothing
differs from AWS.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

HEADER = "X-LFM-Testbed-Last-Modified"

_originals: dict[str, object] = {}


def aws_timestamp(moment: datetime) -> str:
    """``2026-11-26T14:05:00.000+0000``: what Lambda returns."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def parse_timestamp(text: str) -> datetime:
    """AWS format or RFC 3339 (``Z`` or ``+00:00``); ValueError otherwise."""
    text = text.strip()
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(text.replace("Z", "+0000"), fmt)
        except ValueError:
            continue
    raise ValueError(f"{HEADER}: {text!r} is not a timestamp like 2026-11-26T14:05:00.000+0000")


def _now() -> str:
    return aws_timestamp(datetime.now(timezone.utc))


def _patch_model() -> None:
    from moto.awslambda.models import LambdaFunction

    init = LambdaFunction.__init__
    update_configuration = LambdaFunction.update_configuration
    update_function_code = LambdaFunction.update_function_code
    set_version = LambdaFunction.set_version
    _originals.update(init=init, update_configuration=update_configuration,
                      update_function_code=update_function_code, set_version=set_version)

    def __init__(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.last_modified = _now()

    def _update_configuration(self, config_updates):
        update_configuration(self, config_updates)
        self.last_modified = _now()
        return self.get_configuration()

    def _update_function_code(self, updated_spec):
        update_function_code(self, updated_spec)
        if not updated_spec.get("DryRun"):
            self.last_modified = _now()
        return self.get_configuration()

    def _set_version(self, version):
        set_version(self, version)
        self.last_modified = _now()

    LambdaFunction.__init__ = __init__
    LambdaFunction.update_configuration = _update_configuration
    LambdaFunction.update_function_code = _update_function_code
    LambdaFunction.set_version = _set_version


def _dated(original):
    """Wrap a LambdaResponse update handler: after the update, honour the test header."""

    def handler(self):
        from moto.awslambda.exceptions import InvalidParameterValueException
        from urllib.parse import unquote

        wanted = self.headers.get(HEADER)
        when = None
        if wanted:
            try:
                when = aws_timestamp(parse_timestamp(wanted))
            except ValueError as exc:
                raise InvalidParameterValueException(str(exc))
        status, headers, body = original(self)
        if when is None or status != 200:
            return status, headers, body
        function_name = unquote(self.path.rsplit("/", 2)[-2])
        fn = self.backend.get_function(function_name, self._get_param("Qualifier", None))
        fn.last_modified = when
        config = json.loads(body)
        config["LastModified"] = when
        return status, headers, json.dumps(config)

    return handler


def apply() -> None:
    from moto.awslambda.responses import LambdaResponse

    if "responses" in _originals:
        return
    _patch_model()
    _originals["responses"] = (LambdaResponse.update_function_configuration, LambdaResponse.update_function_code)
    LambdaResponse.update_function_configuration = _dated(LambdaResponse.update_function_configuration)
    LambdaResponse.update_function_code = _dated(LambdaResponse.update_function_code)
