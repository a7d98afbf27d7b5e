"""motoext STS AssumeRole: the role must exist and trust the caller (boto3 against a
private, patched moto server), plus the trust evaluation on policy documents (principals,
explicit Deny, sts:ExternalId and aws:PrincipalOrgID conditions, permissive elsewhere)."""

from __future__ import annotations

import json

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from lfm_testbed.motoext.sts_assume_role import Caller, trust_allows

KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
CALLER_ACCOUNT = "123456789012"  # moto's account for keys it does not know
CALLER_ARN = f"arn:aws:sts::{CALLER_ACCOUNT}:user/moto"
MEMBER = "210987654321"


def client(url, service, account=None):
    c = boto3.client(service, endpoint_url=url, region_name="us-east-1", **KEYS)
    if account:  # act in another account (moto's documented header), as its admin would
        c.meta.events.register("before-sign.*.*", lambda request, **_: request.headers.__setitem__(
            "x-moto-account-id", account))
    return c


def trust(principal, effect="Allow", action="sts:AssumeRole", **extra):
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": effect, "Principal": principal, "Action": action, **extra}]}


def make_role(url, name, policy, account=MEMBER):
    return client(url, "iam", account).create_role(
        RoleName=name, AssumeRolePolicyDocument=json.dumps(policy))["Role"]["Arn"]


def assume(url, role_arn, **kwargs):
    return client(url, "sts").assume_role(RoleArn=role_arn, RoleSessionName="ts", **kwargs)


def denied(url, role_arn, **kwargs):
    with pytest.raises(ClientError) as err:
        assume(url, role_arn, **kwargs)
    return err.value.response


def assert_access_denied(response, role_arn):
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert response["Error"]["Code"] == "AccessDenied"
    assert response["Error"]["Type"] == "Sender"
    assert response["Error"]["Message"] == (
        f"User: {CALLER_ARN} is not authorized to perform: sts:AssumeRole on resource: {role_arn}")


def test_nonexistent_role_is_access_denied(clean_moto):
    arn = "arn:aws:iam::999999999999:role/Nope"
    assert_access_denied(denied(clean_moto, arn), arn)


def test_role_missing_in_an_account_that_has_others(clean_moto):
    make_role(clean_moto, "Other", trust({"AWS": f"arn:aws:iam::{CALLER_ACCOUNT}:root"}))
    arn = f"arn:aws:iam::{MEMBER}:role/Missing"
    assert_access_denied(denied(clean_moto, arn), arn)


def test_trust_for_another_account_is_access_denied(clean_moto):
    arn = make_role(clean_moto, "Mon", trust({"AWS": "arn:aws:iam::444455556666:root"}))
    assert_access_denied(denied(clean_moto, arn), arn)


def test_service_principal_does_not_trust_an_account(clean_moto):
    arn = make_role(clean_moto, "Exec", trust({"Service": "lambda.amazonaws.com"}))
    assert_access_denied(denied(clean_moto, arn), arn)


@pytest.mark.parametrize("principal", [
    {"AWS": f"arn:aws:iam::{CALLER_ACCOUNT}:root"},
    {"AWS": CALLER_ACCOUNT},
    {"AWS": ["arn:aws:iam::444455556666:root", CALLER_ARN]},
    {"AWS": "*"},
    "*",
])
def test_trust_for_the_caller_succeeds(clean_moto, principal):
    arn = make_role(clean_moto, "Mon", trust(principal))
    out = assume(clean_moto, arn)
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{MEMBER}:assumed-role/Mon/ts"
    # the keys act in the member account, as before the patch
    member = boto3.client("sts", endpoint_url=clean_moto, region_name="us-east-1",
                          aws_access_key_id=out["Credentials"]["AccessKeyId"],
                          aws_secret_access_key=out["Credentials"]["SecretAccessKey"],
                          aws_session_token=out["Credentials"]["SessionToken"])
    assert member.get_caller_identity()["Account"] == MEMBER


def test_explicit_deny_wins(clean_moto):
    policy = trust({"AWS": f"arn:aws:iam::{CALLER_ACCOUNT}:root"})
    policy["Statement"].append({"Effect": "Deny", "Principal": {"AWS": CALLER_ACCOUNT},
                                "Action": "sts:*"})
    arn = make_role(clean_moto, "Mon", policy)
    assert_access_denied(denied(clean_moto, arn), arn)


def test_allow_for_another_action_only_is_access_denied(clean_moto):
    arn = make_role(clean_moto, "Mon", trust({"AWS": CALLER_ACCOUNT}, action="sts:TagSession"))
    assert_access_denied(denied(clean_moto, arn), arn)


def test_external_id_condition(clean_moto):
    arn = make_role(clean_moto, "Mon", trust({"AWS": CALLER_ACCOUNT}, Condition={
        "StringEquals": {"sts:ExternalId": "lfm-7"}}))
    assert_access_denied(denied(clean_moto, arn), arn)
    assert_access_denied(denied(clean_moto, arn, ExternalId="other"), arn)
    assert assume(clean_moto, arn, ExternalId="lfm-7")["Credentials"]["AccessKeyId"]


def test_role_session_caller_is_trusted_by_its_role_arn(clean_moto):
    # a session of role A in the member account assumes role B there; B trusts A's role ARN
    a = make_role(clean_moto, "A", trust({"AWS": CALLER_ACCOUNT}))
    b = make_role(clean_moto, "B", trust({"AWS": a}))
    c = make_role(clean_moto, "C", trust({"AWS": f"arn:aws:iam::{MEMBER}:role/Someone"}))
    keys = assume(clean_moto, a)["Credentials"]
    session = boto3.client("sts", endpoint_url=clean_moto, region_name="us-east-1",
                           aws_access_key_id=keys["AccessKeyId"],
                           aws_secret_access_key=keys["SecretAccessKey"],
                           aws_session_token=keys["SessionToken"])
    assert session.assume_role(RoleArn=b, RoleSessionName="ss")["AssumedRoleUser"]["Arn"].endswith(
        "assumed-role/B/ss")
    with pytest.raises(ClientError) as err:
        session.assume_role(RoleArn=c, RoleSessionName="ss")
    assert err.value.response["Error"]["Code"] == "AccessDenied"
    assert f"User: arn:aws:sts::{MEMBER}:assumed-role/A/ts is not authorized" in \
        err.value.response["Error"]["Message"]


def make_member(url):
    org = client(url, "organizations")
    org_id = org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    status = org.create_account(AccountName="m", Email="m@example.com")["CreateAccountStatus"]
    account = org.describe_create_account_status(
        CreateAccountRequestId=status["Id"])["CreateAccountStatus"]["AccountId"]
    return org_id, account


def test_organization_account_access_role_trusts_the_management_account(clean_moto):
    _, account = make_member(clean_moto)
    out = assume(clean_moto, f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole")
    assert out["AssumedRoleUser"]["Arn"].startswith(f"arn:aws:sts::{account}:assumed-role/")


def test_principal_org_id_condition(clean_moto):
    # The management account (the caller) is in the organization; a role trusting any
    # principal of that organization lets it in, one naming another organization does not.
    org_id, account = make_member(clean_moto)
    ours = make_role(clean_moto, "Ours", trust({"AWS": "*"}, Condition={
        "StringEquals": {"aws:PrincipalOrgID": org_id}}), account=account)
    theirs = make_role(clean_moto, "Theirs", trust({"AWS": "*"}, Condition={
        "StringEquals": {"aws:PrincipalOrgID": "o-zzzzzzzzzz"}}), account=account)
    assert assume(clean_moto, ours)["Credentials"]["AccessKeyId"]
    assert_access_denied(denied(clean_moto, theirs), theirs)
    # A session in the member account is in the organization too.
    keys = assume(clean_moto, f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole")["Credentials"]
    member = boto3.client("sts", endpoint_url=clean_moto, region_name="us-east-1",
                          aws_access_key_id=keys["AccessKeyId"],
                          aws_secret_access_key=keys["SecretAccessKey"],
                          aws_session_token=keys["SessionToken"])
    assert member.assume_role(RoleArn=ours, RoleSessionName="ss")["Credentials"]["AccessKeyId"]


def test_principal_org_id_without_an_organization_is_access_denied(clean_moto):
    arn = make_role(clean_moto, "Mon", trust({"AWS": "*"}, Condition={
        "StringEquals": {"aws:PrincipalOrgID": "o-abc123defg"}}))
    assert_access_denied(denied(clean_moto, arn), arn)


def test_error_is_the_query_protocol_xml_shape(clean_moto):
    body = requests.post(clean_moto + "/", data={
        "Action": "AssumeRole", "Version": "2011-06-15",
        "RoleArn": "arn:aws:iam::999999999999:role/Nope", "RoleSessionName": "ts"},
        headers={"Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/sts/aws4_request"},
        timeout=30)
    assert body.status_code == 403
    text = body.text
    assert text.startswith('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">')
    assert "<Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: " in text
    assert "<RequestId>" in text


# ---- trust evaluation on documents (pure) ----------------------------------------------

CALLER = Caller(CALLER_ARN, CALLER_ACCOUNT)


def test_pure_unevaluated_conditions_are_permissive():
    tagged = trust({"AWS": "*"}, Condition={"StringEquals": {"aws:PrincipalTag/team": "x"}})
    assert trust_allows(tagged, CALLER)
    deny_tagged = trust({"AWS": "*"})
    deny_tagged["Statement"].append({"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole",
                                     "Condition": {"StringNotEquals": {"aws:PrincipalTag/team": "x"}}})
    assert trust_allows(deny_tagged, CALLER)


def test_pure_principal_org_id():
    in_org = Caller(CALLER_ARN, CALLER_ACCOUNT, org_id="o-abc123")
    equals = trust({"AWS": "*"}, Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}})
    assert trust_allows(equals, in_org)
    assert not trust_allows(equals, Caller(CALLER_ARN, CALLER_ACCOUNT, org_id="o-other"))
    assert not trust_allows(equals, CALLER), "no organization: StringEquals does not match"
    like = trust({"AWS": "*"}, Condition={"StringLike": {"aws:PrincipalOrgID": "o-abc*"}})
    assert trust_allows(like, in_org)
    deny_outsiders = trust({"AWS": "*"})
    deny_outsiders["Statement"].append({"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole",
                                        "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}}})
    assert trust_allows(deny_outsiders, in_org)
    assert not trust_allows(deny_outsiders, CALLER), "absent key: the negated operator matches"
    if_exists = trust({"AWS": "*"}, Condition={"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-abc123"}})
    assert trust_allows(if_exists, CALLER)


def test_pure_not_principal_and_not_action():
    allow_all_but = {"Statement": [{"Effect": "Allow", "NotPrincipal": {"AWS": "111111111111"},
                                    "Action": "sts:AssumeRole"}]}
    assert trust_allows(allow_all_but, CALLER)
    assert not trust_allows(allow_all_but, Caller("arn:aws:iam::111111111111:user/x", "111111111111"))
    not_action = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": CALLER_ACCOUNT},
                                 "NotAction": "sts:AssumeRole"}]}
    assert not trust_allows(not_action, CALLER)


def test_pure_empty_or_statementless_policy_denies():
    assert not trust_allows({"Version": "2012-10-17", "Statement": []}, CALLER)
    assert not trust_allows({}, CALLER)
