"""motoext.lambda_last_modified: LastModified as AWS writes it, moved by updates, and the test
header that dates an update."""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone

import boto3
import pytest
from botocore.exceptions import ClientError

from lfm_testbed.motoext.lambda_last_modified import HEADER, aws_timestamp, parse_timestamp
from test_motoext import client, make_functions

AWS_FORMAT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")


def dated(lam, when: str):
    lam.meta.events.register("before-sign.lambda.UpdateFunctionCode",
                             lambda request, **_: request.headers.__setitem__(HEADER, when))
    lam.meta.events.register("before-sign.lambda.UpdateFunctionConfiguration",
                             lambda request, **_: request.headers.__setitem__(HEADER, when))
    return lam


def test_formats():
    moment = datetime(2026, 11, 26, 14, 5, 0, 250_999, tzinfo=timezone.utc)
    assert aws_timestamp(moment) == "2026-11-26T14:05:00.250+0000"
    assert parse_timestamp("2026-11-26T14:05:00.250+0000") == moment.replace(microsecond=250_000)
    assert parse_timestamp("2026-11-26T14:05:00Z") == moment.replace(microsecond=0)
    with pytest.raises(ValueError):
        parse_timestamp("yesterday")


def test_last_modified_in_aws_format_and_moved_by_updates(clean_moto):
    lam, names = make_functions(clean_moto, 1)
    created = lam.get_function_configuration(FunctionName=names[0])["LastModified"]
    assert AWS_FORMAT.match(created), created
    listed = lam.list_functions()["Functions"][0]["LastModified"]
    assert listed == created
    time.sleep(0.01)
    updated = lam.update_function_configuration(FunctionName=names[0], MemorySize=512)["LastModified"]
    assert AWS_FORMAT.match(updated) and updated > created
    assert lam.get_function_configuration(FunctionName=names[0])["LastModified"] == updated
    time.sleep(0.01)
    coded = lam.update_function_code(FunctionName=names[0], ZipFile=b"PK\x05\x06" + b"\0" * 18)["LastModified"]
    assert coded > updated


def test_header_dates_an_update(clean_moto):
    lam, names = make_functions(clean_moto, 2)
    before = lam.get_function_configuration(FunctionName=names[0])
    when = "2026-11-26T14:05:00.250+0000"
    answer = dated(client(clean_moto, "lambda"), when).update_function_code(
        FunctionName=names[0], ZipFile=b"PK\x05\x06" + b"\0" * 18)
    assert answer["LastModified"] == when and answer["CodeSha256"] != before["CodeSha256"]
    listed = {f["FunctionName"]: f for f in lam.list_functions()["Functions"]}
    assert listed[names[0]]["LastModified"] == when
    assert listed[names[1]]["LastModified"] != when  # only the updated function
    # RFC 3339 accepted, written in AWS's format.
    dated(client(clean_moto, "lambda"), "2026-11-26T15:00:00Z").update_function_configuration(
        FunctionName=names[1], Timeout=10)
    assert lam.get_function_configuration(FunctionName=names[1])["LastModified"] == "2026-11-26T15:00:00.000+0000"


def test_bad_header_is_refused(clean_moto):
    _, names = make_functions(clean_moto, 1)
    with pytest.raises(ClientError) as err:
        dated(client(clean_moto, "lambda"), "yesterday").update_function_configuration(FunctionName=names[0], Timeout=9)
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert HEADER in err.value.response["Error"]["Message"]
