"""Lambda ListFunctions pagination, as AWS documents it.

AWS: "ListFunctions returns a maximum of 50 items in each response, even if you set the
number higher" (MaxItems, 1..10000; default page size 50). When more items remain the
response carries ``NextMarker``, an opaque token to pass back as ``Marker``.

moto 5.2.5 ignores MaxItems and Marker and returns every function in one response.
This patch pages moto's list in a stable order (function name, then version; ``$LATEST``
first) and encodes the position in an opaque base64 marker that names the last item
returned, so functions created or deleted between pages neither repeat nor vanish from
the remaining pages. An unparsable marker gets InvalidParameterValueException.
"""

from __future__ import annotations

import base64
import json
from typing import Any

PAGE_MAX = 50
MAX_ITEMS_LIMIT = 10000

_original = None


def _version_rank(version: str) -> int:
    if version == "$LATEST":
        return -1
    try:
        return int(version)
    except (TypeError, ValueError):
        return 1 << 62


def sort_key(config: dict[str, Any]) -> tuple[str, int]:
    return (config.get("FunctionName", ""), _version_rank(config.get("Version", "$LATEST")))


def encode_marker(key: tuple[str, int]) -> str:
    raw = json.dumps({"v": 1, "after": [key[0], key[1]]}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_marker(marker: str) -> tuple[str, int]:
    """Inverse of encode_marker; ValueError when it is not one of ours."""
    try:
        padded = marker + "=" * (-len(marker) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        name, rank = data["after"]
        if data.get("v") != 1 or not isinstance(name, str) or not isinstance(rank, int):
            raise ValueError
        return (name, rank)
    except Exception as exc:  # noqa: BLE001 - any decoding problem is a bad marker
        raise ValueError(f"invalid marker {marker!r}") from exc


def paginate(configs: list[dict[str, Any]], max_items: int | None, marker: str | None):
    """Return (page, next_marker) for configurations ``configs`` (pure; used by the patch
    and unit-tested directly)."""
    ordered = sorted(configs, key=sort_key)
    if marker:
        after = decode_marker(marker)
        ordered = [c for c in ordered if sort_key(c) > after]
    size = PAGE_MAX if max_items is None else min(max_items, PAGE_MAX)
    page = ordered[:size]
    next_marker = encode_marker(sort_key(page[-1])) if len(ordered) > size and page else None
    return page, next_marker


def _list_functions(self) -> str:  # replaces LambdaResponse.list_functions
    from moto.awslambda.exceptions import InvalidParameterValueException

    querystring = self.querystring
    func_version = querystring.get("FunctionVersion", [None])[0]
    marker = querystring.get("Marker", [None])[0]
    raw_max = querystring.get("MaxItems", [None])[0]
    max_items = None
    if raw_max not in (None, ""):
        try:
            max_items = int(raw_max)
        except ValueError:
            raise InvalidParameterValueException(f"Invalid MaxItems: {raw_max}")
        if not 1 <= max_items <= MAX_ITEMS_LIMIT:
            raise InvalidParameterValueException(
                f"1 validation error detected: Value '{max_items}' at 'maxItems' failed to "
                f"satisfy constraint: Member must have value between 1 and {MAX_ITEMS_LIMIT}"
            )
    configs = [fn.get_configuration() for fn in self.backend.list_functions(func_version)]
    try:
        page, next_marker = paginate(configs, max_items, marker)
    except ValueError:
        raise InvalidParameterValueException("Invalid Marker value")
    result: dict[str, Any] = {"Functions": page}
    if next_marker:
        result["NextMarker"] = next_marker
    return json.dumps(result)


def apply() -> None:
    global _original
    from moto.awslambda.responses import LambdaResponse

    if _original is None:
        _original = LambdaResponse.list_functions
        LambdaResponse.list_functions = _list_functions
