"""STS AssumeRole honours the role's trust policy, as AWS documents it.

AWS: a principal can assume a role only when the role exists and its trust policy (the
role's resource-based policy) allows that principal ``sts:AssumeRole``; trust policies are an
exception to same-account evaluation and must name the principal explicitly (an account
principal ``arn:aws:iam::ACCT:root`` or a bare ``ACCT`` delegates to the identities of that
account). An explicit ``Deny`` overrides any ``Allow``. Otherwise STS answers HTTP 403,
``Sender`` fault, code ``AccessDenied``, message
``User: <caller arn> is not authorized to perform: sts:AssumeRole on resource: <role arn>``,
and it answers the same whether the role is missing or only untrusting.
Sources: IAM User Guide "Troubleshooting IAM roles"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_roles.html), "Update a role
trust policy" (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_update-role-trust-policy.html),
"Policy evaluation logic" (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html)
and the STS API reference for AssumeRole
(https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html).

moto 5.2.5 issues credentials for any role ARN, even a role that does not exist. This patch
checks, before moto's own AssumeRole runs:
- the role (the name after the last ``/`` of the ARN) exists in moto's IAM backend of the
  account the ARN names; and
- the trust policy has an ``Allow`` statement whose ``Action`` (or ``NotAction``) covers
  ``sts:AssumeRole`` and whose ``Principal``/``NotPrincipal`` matches the caller, and no
  matching ``Deny`` statement. An ``AWS`` principal matches when it is ``"*"``, the caller's
  account id, ``arn:<partition>:iam::<caller account>:root``, the caller's IAM user ARN, the
  caller's role ARN (for a role session) or the session ARN itself. ``Service`` and
  ``Federated`` principals never match an AWS caller.

Conditions: ``sts:ExternalId`` (the request's ``ExternalId``) and ``aws:PrincipalOrgID`` (the
organization the caller's account belongs to in moto's Organizations backend, as management
or member account) are evaluated with ``StringEquals``, ``StringLike``, ``StringNotEquals``,
``StringNotLike`` (also ``...IfExists``) and ``Null``; a key absent from the request matches
only the negated operators and ``...IfExists``, as AWS documents. Every other condition key or
operator is NOT evaluated and this layer is permissive there: an ``Allow`` with such a
condition counts as allowing, a ``Deny`` with such a condition is not applied. The caller's own
identity policies and permissions boundary are not evaluated either (moto enforces no IAM
permissions by default).

Everything else is moto's: the credentials issued, the session and the account they act in.
The caller is who moto says it is (``GetCallerIdentity``): an assumed-role session, an IAM
user of the access key, or moto's default ``arn:aws:sts::<account>:user/moto`` for keys
moto does not know (the account comes from moto's usual account resolution).
"""

from __future__ import annotations

import fnmatch
import json
import re
import uuid
from typing import Any
from urllib.parse import unquote

ACTION = "sts:AssumeRole"
STS_XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/"
_ROLE_ARN = re.compile(r"^arn:(?P<partition>[\w-]+):iam::(?P<account>\d{12}):role/(?:.*/)?(?P<name>[^/]+)$")
_SESSION_ARN = re.compile(r"^arn:(?P<partition>[\w-]+):sts::(?P<account>\d{12}):assumed-role/(?P<role>[^/]+)/[^/]+$")

_original = None


class Caller:
    """Who is calling: ``arn`` as STS names it in messages, ``account``, its organization and
    the ARNs a trust-policy principal may name for it."""

    def __init__(self, arn: str, account: str, partition: str = "aws", org_id: str | None = None) -> None:
        self.arn = arn
        self.account = account
        self.partition = partition
        self.org_id = org_id  # the organization of the caller's account (None: in none)
        self.principal_arns = {arn}
        session = _SESSION_ARN.match(arn)
        if session:  # a role session is named in trust policies by its role's ARN
            self.principal_arns.add(f"arn:{session['partition']}:iam::{session['account']}:role/{session['role']}")

    def matches(self, principal: str) -> bool:
        principal = principal.strip()
        if principal == "*":
            return True
        if principal == self.account:
            return True
        if principal == f"arn:{self.partition}:iam::{self.account}:root":
            return True
        return principal in self.principal_arns


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _principal_matches(principal: Any, caller: Caller) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    return any(caller.matches(str(p)) for p in _as_list(principal.get("AWS")))


def _action_matches(patterns: Any) -> bool:
    return any(fnmatch.fnmatchcase(ACTION.lower(), str(p).lower()) for p in _as_list(patterns))


_STRING_OPERATORS = {"stringequals", "stringlike", "stringnotequals", "stringnotlike"}


def _operator(operator: str, value: str | None, values: list[str]) -> bool | None:
    """One condition operator on one context value (None: absent from the request context).
    None when the operator is not one this layer evaluates."""
    op = operator.lower()
    if op == "null":
        return (value is None) == (values[0].lower() == "true")
    if_exists = op.endswith("ifexists")
    op = op.removesuffix("ifexists")
    if op not in _STRING_OPERATORS:
        return None
    if value is None:  # AWS: a missing key matches only negated operators and ...IfExists
        return if_exists or op.startswith("stringnot")
    if op.endswith("like"):
        hit = any(fnmatch.fnmatchcase(value, v) for v in values)
    else:
        hit = value in values
    return not hit if op.startswith("stringnot") else hit


def _condition(condition: Any, context: dict[str, str | None]) -> bool | None:
    """True/False when every condition is one this layer evaluates; None when some is not
    (the caller then decides permissively). ``context`` holds the evaluated keys, lower case."""
    if not condition:
        return True
    result, unknown = True, False
    for operator, block in condition.items():
        if not isinstance(block, dict):
            return None
        for key, values in block.items():
            values = [str(v) for v in _as_list(values)]
            ok = _operator(operator, context.get(key.lower()), values) if key.lower() in context else None
            if ok is None:
                unknown = True
            else:
                result = result and ok
    if not result:
        return False
    return None if unknown else True


def trust_allows(policy: dict[str, Any], caller: Caller, external_id: str | None = None) -> bool:
    """Whether trust policy ``policy`` lets ``caller`` assume the role (pure; unit-tested)."""
    allowed = False
    for statement in _as_list(policy.get("Statement")):
        if not isinstance(statement, dict):
            continue
        effect = statement.get("Effect")
        if "Action" in statement:
            action_ok = _action_matches(statement["Action"])
        else:
            action_ok = "NotAction" in statement and not _action_matches(statement["NotAction"])
        if "Principal" in statement:
            principal_ok = _principal_matches(statement["Principal"], caller)
        else:
            principal_ok = "NotPrincipal" in statement and not _principal_matches(statement["NotPrincipal"], caller)
        if not (action_ok and principal_ok):
            continue
        context = {"sts:externalid": external_id, "aws:principalorgid": caller.org_id}
        condition = _condition(statement.get("Condition"), context)
        if effect == "Deny" and condition is True:
            return False
        if effect == "Allow" and condition is not False:
            allowed = True
    return allowed


def denial(caller: Caller, role_arn: str, policy_document: str | None, external_id: str | None) -> str | None:
    """The AccessDenied message for this request, or None when STS lets it through.
    ``policy_document`` is the role's trust policy as IAM stores it; None: no such role."""
    message = f"User: {caller.arn} is not authorized to perform: {ACTION} on resource: {role_arn}"
    if policy_document is None:
        return message
    try:
        policy = json.loads(policy_document)
    except ValueError:
        try:
            policy = json.loads(unquote(policy_document))
        except ValueError:
            return message
    return None if trust_allows(policy, caller, external_id) else message


def error_body(message: str, request_id: str | None = None) -> str:
    """The query-protocol error document STS sends (HTTP 403)."""
    from xml.sax.saxutils import escape

    return (
        f'<ErrorResponse xmlns="{STS_XMLNS}">'
        f"<Error><Type>Sender</Type><Code>AccessDenied</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>{request_id or uuid.uuid4()}</RequestId></ErrorResponse>"
    )


def _trust_policy(role_arn: str) -> str | None:
    """The trust policy of ``role_arn`` in moto's IAM backend of the account the ARN names
    (None: malformed ARN, unknown account or no such role)."""
    from moto.iam.models import iam_backends

    match = _ROLE_ARN.match(role_arn or "")
    if not match or match["account"] not in iam_backends:
        return None
    try:
        iam = iam_backends[match["account"]][match["partition"]]
    except KeyError:
        return None
    for role in iam.roles.values():
        if role.name == match["name"]:
            return role.assume_role_policy_document
    return None


def _organization_of(account: str, partition: str) -> str | None:
    """The id of the organization ``account`` belongs to in moto's Organizations backend, as
    its management account or as a member (None: in no organization)."""
    from moto.organizations.models import organizations_backends

    management = account
    if account in organizations_backends.master_accounts:
        management, partition = organizations_backends.master_accounts[account]
    if management not in organizations_backends:
        return None
    try:
        org = organizations_backends[management][partition].org
    except KeyError:
        return None
    return org.id if org is not None else None


def _assume_role(self):  # replaces TokenResponse.assume_role
    role_arn = self._get_param("RoleArn")
    external_id = self._get_param("ExternalId")
    _, caller_arn, caller_account = self.backend.get_caller_identity(self.get_access_key(), self.region)
    caller = Caller(caller_arn, caller_account, self.partition, _organization_of(caller_account, self.partition))
    message = denial(caller, role_arn, _trust_policy(role_arn), external_id)
    if message is not None:
        return 403, {"Content-Type": "text/xml", "status": 403}, error_body(message)
    return _original(self)


def apply() -> None:
    global _original
    from moto.sts.responses import TokenResponse

    if _original is not None:
        return
    _original = TokenResponse.assume_role
    TokenResponse.assume_role = _assume_role
