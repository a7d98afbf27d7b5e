"""CloudWatch Logs Insights: a documented subset of the query language, evaluated server-side.

moto 5.2.5's StartQuery/GetQueryResults apply only ``fields``/``sort``/``limit`` and ignore
``filter``, ``parse``, ``stats``. This patch replaces both operations (and DescribeQueries'
source of queries) with an evaluator of the subset below, over the events of the queried
log groups of the caller's account and region.

StartQuery (as the API reference documents it)
- exactly one of ``logGroupName``, ``logGroupNames`` (1..50) or ``logGroupIdentifiers``
  (1..50 names or ARNs ``arn:aws:logs:REGION:ACCOUNT:log-group:NAME``, no trailing ``*``);
  otherwise InvalidParameterException. A group that does not exist in the caller's account
  and region: ResourceNotFoundException.
- ``startTime``/``endTime`` in epoch seconds, both inclusive: an event with timestamp t ms is
  scanned when ``startTime*1000 <= t <= endTime*1000``. endTime < startTime:
  InvalidParameterException.
- ``limit`` (1..10000) caps the rows like a trailing ``limit`` command; without either at
  most 10,000 rows are returned (the documented default of the ``limit`` command).
- The query is parsed before anything runs; unsupported or invalid syntax raises
  **MalformedQueryException** with ``queryCompileError`` {location {startCharOffset,
  endCharOffset}, message} and a message naming the offending token, e.g.
  ``unexpected symbol found 'dedup' at line 1 and position 1``.
- The query runs synchronously; GetQueryResults answers ``status: Complete``, ``results``
  (a list of rows, each a list of ``{field, value}``; every value a string, fields with no
  value omitted) and ``statistics`` {recordsMatched, recordsScanned, bytesScanned}:
  recordsScanned = events in the time range of the groups, bytesScanned = sum of the UTF-8
  sizes of their messages, recordsMatched = records left after the filters that precede
  the first ``stats`` (all filters when there is none). A query ID of another account or
  region: ResourceNotFoundException.

Fields of every event: ``@timestamp``, ``@ingestionTime`` (shown as ``YYYY-MM-DD
HH:MM:SS.mmm`` UTC, compared and sorted as epoch ms), ``@message``, ``@logStream``,
``@log`` (``ACCOUNT_ID:LOG_GROUP_NAME``), ``@ptr`` (opaque). Discovered fields:
- Lambda REPORT text lines ``REPORT RequestId: ID<TAB>Duration: X ms<TAB>Billed Duration: Y
  ms<TAB>Memory Size: M MB<TAB>Max Memory Used: U MB[<TAB>Init Duration: I ms]...``:
  ``@type="REPORT"``, ``@requestId``, ``@duration``, ``@billedDuration``, ``@memorySize``,
  ``@maxMemoryUsed`` (numbers) and ``@initDuration`` only when the line has one. Each key is
  matched at the start of a tab-separated item, so "Memory Used" never matches inside
  "Max Memory Used". A line starting ``REPORT RequestId:`` without a parsable ``Duration``
  is malformed and gets no discovered fields (``filter @type = "REPORT"`` skips it).
  ``Restore Duration``, ``Billed Restore Duration`` and ``Status`` are not discovered: use
  ``parse`` (as on AWS, where only the fields above are documented).
- JSON objects (the message, stripped, starts with ``{`` and parses): every leaf under its
  dotted path (``type``, ``record.metrics.durationMs``; array items as ``list.0``), numbers
  as numbers, booleans as ``true``/``false``. This covers Lambda's JSON log format
  (``platform.report`` records).
Discovery is applied to every log group (AWS does it for Lambda's groups; a REPORT line or
JSON object elsewhere is improbable in tests).

Supported query language (commands separated by ``|``, keywords case-insensitive, ``#``
starts a comment to the end of the line):
- ``fields EXPR [as NAME], ...``: adds/keeps fields; the rows of a query without ``stats``
  carry exactly the fields named by its ``fields`` commands (plus ``@ptr``); without any
  ``fields`` they carry @timestamp, @message, @logStream, @log, @ptr and ``parse`` fields.
- ``display FIELD, ...``: the rows carry exactly these fields.
- ``filter EXPR``
- ``parse FIELD /REGEX/`` with named groups ``(?<name>...)`` (each becomes a field), or
  ``parse FIELD "glob with * wildcards" as f1, f2, ...``. No match: no fields set.
- ``stats AGG [as NAME], ... [by EXPR [as NAME], ...]`` with AGG among ``count(*)``,
  ``count()``, ``count(EXPR)`` (non-null values), ``count_distinct(EXPR)``, ``sum``,
  ``avg``, ``min``, ``max``, ``pct(EXPR, N)`` (alias ``percentile``), and arithmetic over
  them (``sum(a) / count(*)``); ``by`` may use ``bin(N ms|s|m|h|d)`` (buckets of
  @timestamp since the epoch, shown as timestamps). A group's rows carry the ``by`` fields,
  then the aggregates; an unnamed column is named by its source text (``count(*)``,
  ``bin(5m)``). Groups are ordered by their ``by`` values ascending; aggregates of no
  values are omitted (count gives 0). Only one ``stats`` per query; ``filter``, ``fields``,
  ``sort``, ``limit`` may follow it and then act on its rows.
- ``sort FIELD [asc|desc], ...`` (default asc; missing values last) and ``limit N``
  (1..10000). Without ``sort``, rows of a query without ``stats`` are newest first.
- Expressions: literals (numbers, 'single' or "double" quoted strings), fields (``@x``,
  dotted names, or backquoted), parentheses, ``+ - * / %``, comparisons ``= != < <= > >=``
  (numeric when both sides are numbers or numeric strings and one side is a number, else
  string comparison; any comparison with a missing field is false), ``and``, ``or``,
  ``not``, ``like`` / ``not like`` / ``=~`` against ``/regex/`` (flag ``i`` allowed) or a
  string (substring), ``in [lit, ...]``, and the functions ``ispresent(f)``,
  ``coalesce(a, b, ...)``, ``isempty``, ``isblank``, ``abs``, ``ceil``, ``floor``,
  ``strlen``, ``tolower``, ``toupper``, ``concat``.
- Percentiles (``pct``) use the nearest-rank definition of ``cloudwatch_percentiles``
  (real Logs Insights percentiles may be approximate for large inputs).
Numbers are rendered as strings with Python's shortest round-trip form, integral values
without a fraction ("12", "12.5").
Anything else (other commands such as ``dedup``, ``unmask``, ``filterIndex``, ``SOURCE``,
``diff``, pattern, other functions) is a MalformedQueryException here, so a collector that
relies on it fails loudly instead of silently getting wrong numbers.
"""

from __future__ import annotations

import base64
import json
import math
import re
import uuid
from collections import OrderedDict
from datetime import datetime, timezone
from typing import Any

from .cloudwatch_percentiles import percentile

MAX_ROWS = 10000
MAX_GROUPS = 50
MAX_QUERY_LEN = 10000

COMMANDS = {"fields", "filter", "parse", "stats", "sort", "limit", "display"}
AGGREGATES = {"count", "count_distinct", "sum", "avg", "min", "max", "pct", "percentile"}
FUNCTIONS = {"ispresent", "coalesce", "isempty", "isblank", "abs", "ceil", "floor", "strlen",
             "tolower", "toupper", "concat", "bin"}
KEYWORDS = {"and", "or", "not", "like", "in", "as", "by", "asc", "desc", "with"}
BIN_UNITS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


class QueryError(Exception):
    def __init__(self, message: str, start: int = 0, end: int = 0):
        super().__init__(message)
        self.message, self.start, self.end = message, start, end


class Ts(int):
    """Epoch milliseconds shown as a Logs Insights timestamp."""


# ---- tokens ---------------------------------------------------------------------------

class Tok:
    __slots__ = ("kind", "value", "pos", "end")

    def __init__(self, kind, value, pos, end):
        self.kind, self.value, self.pos, self.end = kind, value, pos, end

    def __repr__(self):
        return f"Tok({self.kind},{self.value!r})"


_NUM = re.compile(r"\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_DUR = re.compile(r"(\d+)(ms|s|m|h|d)\b")
_IDENT = re.compile(r"@?[A-Za-z_][\w.]*|@[\w.]+")
_OPS = ["=~", "!=", "<=", ">=", "=", "<", ">", "+", "-", "*", "/", "%", "(", ")", ",", "[", "]", "|"]


def _position(query: str, pos: int) -> tuple[int, int]:
    line = query.count("\n", 0, pos) + 1
    col = pos - (query.rfind("\n", 0, pos) + 1) + 1
    return line, col


def unexpected(query: str, tok_text: str, pos: int, end: int | None = None) -> QueryError:
    line, col = _position(query, pos)
    return QueryError(f"unexpected symbol found '{tok_text}' at line {line} and position {col}",
                      pos, end if end is not None else pos + len(tok_text))


def tokenize(query: str) -> list[Tok]:
    toks: list[Tok] = []
    i, n = 0, len(query)

    def regex_allowed() -> bool:
        if not toks:
            return True
        last = toks[-1]
        if last.kind == "op" and last.value not in (")", "]"):
            return True
        if last.kind == "ident" and last.value.lower() in ("like", "not", "and", "or", "filter"):
            return True
        # parse FIELD /regex/
        return (last.kind == "ident" and len(toks) >= 2 and toks[-2].kind == "ident"
                and toks[-2].value.lower() == "parse")

    while i < n:
        c = query[i]
        if c.isspace():
            i += 1
            continue
        if c == "#":
            while i < n and query[i] != "\n":
                i += 1
            continue
        if c in "'\"":
            j, buf = i + 1, []
            while j < n and query[j] != c:
                if query[j] == "\\" and j + 1 < n:
                    buf.append(query[j + 1])
                    j += 2
                    continue
                buf.append(query[j])
                j += 1
            if j >= n:
                raise unexpected(query, query[i:], i, n)
            toks.append(Tok("str", "".join(buf), i, j + 1))
            i = j + 1
            continue
        if c == "`":
            j = query.find("`", i + 1)
            if j < 0:
                raise unexpected(query, query[i:], i, n)
            toks.append(Tok("ident", query[i + 1:j], i, j + 1))
            toks[-1].kind = "qident"
            i = j + 1
            continue
        if c == "/" and regex_allowed():
            j, buf = i + 1, []
            while j < n and query[j] != "/":
                if query[j] == "\\" and j + 1 < n:
                    buf.append(query[j:j + 2])
                    j += 2
                    continue
                buf.append(query[j])
                j += 1
            if j >= n:
                raise unexpected(query, query[i:], i, n)
            j += 1
            flags = ""
            while j < n and query[j].isalpha():
                flags += query[j]
                j += 1
            if flags not in ("", "i"):
                raise unexpected(query, flags, j - len(flags), j)
            toks.append(Tok("regex", ("".join(buf), flags), i, j))
            i = j
            continue
        m = _DUR.match(query, i)
        if m and (m.end() >= n or not (query[m.end()].isalnum() or query[m.end()] == "_")):
            toks.append(Tok("dur", (int(m.group(1)), m.group(2)), i, m.end()))
            i = m.end()
            continue
        m = _NUM.match(query, i)
        if m:
            text = m.group(0)
            val = float(text) if any(ch in text for ch in ".eE") else int(text)
            toks.append(Tok("num", val, i, m.end()))
            i = m.end()
            continue
        m = _IDENT.match(query, i)
        if m:
            toks.append(Tok("ident", m.group(0), i, m.end()))
            i = m.end()
            continue
        for op in _OPS:
            if query.startswith(op, i):
                toks.append(Tok("op", op, i, i + len(op)))
                i += len(op)
                break
        else:
            raise unexpected(query, c, i)
    return toks


# ---- parser ---------------------------------------------------------------------------

def _py_regex(pattern: str, flags: str, query: str, pos: int):
    py = re.sub(r"\(\?<(?![=!])", "(?P<", pattern)
    try:
        return re.compile(py, re.IGNORECASE if "i" in flags else 0)
    except re.error as exc:
        raise QueryError(f"invalid regular expression /{pattern}/: {exc}", pos, pos + len(pattern) + 2)


class Parser:
    def __init__(self, query: str, toks: list[Tok]):
        self.q, self.toks, self.i = query, toks, 0

    # helpers
    def peek(self, k=0):
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    def at_kw(self, *words, k=0):
        t = self.peek(k)
        return t is not None and t.kind == "ident" and t.value.lower() in words

    def at_op(self, *ops):
        t = self.peek()
        return t is not None and t.kind == "op" and t.value in ops

    def next(self):
        t = self.peek()
        if t is None:
            raise QueryError("unexpected end of query", len(self.q), len(self.q))
        self.i += 1
        return t

    def fail(self, t=None):
        t = t or self.peek()
        if t is None:
            raise QueryError("unexpected end of query", len(self.q), len(self.q))
        raise unexpected(self.q, self.q[t.pos:t.end], t.pos, t.end)

    def expect_op(self, op):
        t = self.next()
        if t.kind != "op" or t.value != op:
            self.fail(t)
        return t

    def text(self, start, end):
        return " ".join(self.q[start:end].split())

    # grammar
    def query(self):
        cmds = []
        while True:
            cmds.append(self.command())
            if self.peek() is None:
                return cmds
            self.expect_op("|")

    def command(self):
        t = self.next()
        if t.kind != "ident" or t.value.lower() not in COMMANDS:
            self.fail(t)
        name = t.value.lower()
        if name in ("fields", "display"):
            items = [self.named_expr(plain_only=(name == "display"))]
            while self.at_op(","):
                self.next()
                items.append(self.named_expr(plain_only=(name == "display")))
            return (name, items)
        if name == "filter":
            return ("filter", self.expr())
        if name == "parse":
            f = self.next()
            if f.kind not in ("ident", "qident"):
                self.fail(f)
            src = self.next()
            if src.kind == "regex":
                rx = _py_regex(src.value[0], src.value[1], self.q, src.pos)
                if not rx.groupindex:
                    raise QueryError("parse regex needs named groups (?<name>...)", src.pos, src.end)
                return ("parse", f.value, rx, list(rx.groupindex))
            if src.kind == "str":
                if not self.at_kw("as"):
                    self.fail()
                self.next()
                names = [self.field_name()]
                while self.at_op(","):
                    self.next()
                    names.append(self.field_name())
                parts = src.value.split("*")
                if len(parts) - 1 != len(names):
                    raise QueryError("number of fields does not match the wildcards of the pattern",
                                     src.pos, self.toks[self.i - 1].end)
                body = ""
                for k, part in enumerate(parts):
                    body += re.escape(part)
                    if k < len(names):
                        body += f"(?P<g{k}>.*)" if k == len(names) - 1 and parts[-1] == "" else f"(?P<g{k}>.*?)"
                rx = re.compile(body, re.DOTALL)
                return ("parse_glob", f.value, rx, names)
            self.fail(src)
        if name == "stats":
            items = [self.named_expr(agg=True)]
            while self.at_op(","):
                self.next()
                items.append(self.named_expr(agg=True))
            groups = []
            if self.at_kw("by"):
                self.next()
                groups.append(self.named_expr(by=True))
                while self.at_op(","):
                    self.next()
                    groups.append(self.named_expr(by=True))
            for _, e in items:
                if not _contains_agg(e):
                    raise QueryError("stats needs an aggregate function", 0, 0)
            return ("stats", items, groups)
        if name == "sort":
            keys = [self.sort_key()]
            while self.at_op(","):
                self.next()
                keys.append(self.sort_key())
            return ("sort", keys)
        if name == "limit":
            t = self.next()
            if t.kind != "num" or not isinstance(t.value, int) or not 1 <= t.value <= MAX_ROWS:
                self.fail(t)
            return ("limit", t.value)
        self.fail(t)

    def field_name(self):
        t = self.next()
        if t.kind not in ("ident", "qident") or (t.kind == "ident" and t.value.lower() in KEYWORDS):
            self.fail(t)
        return t.value

    def sort_key(self):
        name = self.field_name()
        desc = False
        if self.at_kw("asc", "desc"):
            desc = self.next().value.lower() == "desc"
        return (name, desc)

    def named_expr(self, agg=False, by=False, plain_only=False):
        start_tok = self.peek()
        if start_tok is None:
            self.fail()
        if plain_only:
            return (self.field_name(), ("field", self.toks[self.i - 1].value))
        e = self.expr(agg=agg, by=by)
        end = self.toks[self.i - 1].end
        if self.at_kw("as"):
            self.next()
            return (self.field_name(), e)
        if e[0] == "field":
            return (e[1], e)
        return (self.text(start_tok.pos, end), e)

    def expr(self, agg=False, by=False):
        self.agg, self.by = agg, by
        return self.or_expr()

    def or_expr(self):
        e = self.and_expr()
        while self.at_kw("or"):
            self.next()
            e = ("or", e, self.and_expr())
        return e

    def and_expr(self):
        e = self.not_expr()
        while self.at_kw("and"):
            self.next()
            e = ("and", e, self.not_expr())
        return e

    def not_expr(self):
        if self.at_kw("not") and not self.at_kw("like", k=1):
            self.next()
            return ("not", self.not_expr())
        return self.comparison()

    def comparison(self):
        e = self.additive()
        t = self.peek()
        if t is None:
            return e
        if t.kind == "op" and t.value in ("=", "!=", "<", "<=", ">", ">="):
            self.next()
            return ("cmp", t.value, e, self.additive())
        negate = False
        if self.at_kw("not") and self.at_kw("like", k=1):
            self.next()
            negate = True
        if self.at_kw("like") or (t.kind == "op" and t.value == "=~"):
            self.next()
            p = self.next()
            if p.kind == "regex":
                return ("match", e, _py_regex(p.value[0], p.value[1], self.q, p.pos), negate)
            if p.kind == "str":
                return ("match", e, re.compile(re.escape(p.value)), negate)
            self.fail(p)
        if negate:
            self.fail()
        if self.at_kw("in"):
            self.next()
            self.expect_op("[")
            vals = [self.literal()]
            while self.at_op(","):
                self.next()
                vals.append(self.literal())
            self.expect_op("]")
            return ("in", e, vals)
        return e

    def literal(self):
        t = self.next()
        if t.kind in ("num", "str"):
            return t.value
        if t.kind == "op" and t.value == "-":
            n = self.next()
            if n.kind == "num":
                return -n.value
        self.fail(t)

    def additive(self):
        e = self.term()
        while self.at_op("+", "-"):
            op = self.next().value
            e = ("arith", op, e, self.term())
        return e

    def term(self):
        e = self.unary()
        while self.at_op("*", "/", "%"):
            op = self.next().value
            e = ("arith", op, e, self.unary())
        return e

    def unary(self):
        if self.at_op("-"):
            self.next()
            return ("neg", self.unary())
        return self.primary()

    def primary(self):
        t = self.next()
        if t.kind in ("num", "str"):
            return ("lit", t.value)
        if t.kind == "op" and t.value == "(":
            e = self.or_expr()
            self.expect_op(")")
            return e
        if t.kind == "qident":
            return ("field", t.value)
        if t.kind == "ident":
            low = t.value.lower()
            if self.at_op("("):
                return self.call(t, low)
            if low in KEYWORDS or low in COMMANDS:
                self.fail(t)
            return ("field", t.value)
        self.fail(t)

    def call(self, name_tok, low):
        self.expect_op("(")
        if low in AGGREGATES:
            if not self.agg:
                self.fail(name_tok)
            if low == "count" and (self.at_op("*") or self.at_op(")")):
                if self.at_op("*"):
                    self.next()
                self.expect_op(")")
                return ("agg", "count", None, None)
            saved = self.agg
            self.agg = False  # no aggregate inside an aggregate
            arg = self.or_expr()
            param = None
            if low in ("pct", "percentile"):
                self.expect_op(",")
                p = self.next()
                if p.kind != "num" or not 0 <= p.value <= 100:
                    self.fail(p)
                param = float(p.value)
            self.agg = saved
            self.expect_op(")")
            return ("agg", "pct" if low == "percentile" else low, arg, param)
        if low == "bin":
            if not self.by:
                self.fail(name_tok)
            d = self.next()
            if d.kind != "dur":
                self.fail(d)
            self.expect_op(")")
            return ("bin", d.value[0] * BIN_UNITS[d.value[1]])
        if low not in FUNCTIONS:
            self.fail(name_tok)
        args = []
        if not self.at_op(")"):
            args.append(self.or_expr())
            while self.at_op(","):
                self.next()
                args.append(self.or_expr())
        self.expect_op(")")
        want = {"ispresent": 1, "isempty": 1, "isblank": 1, "abs": 1, "ceil": 1, "floor": 1,
                "strlen": 1, "tolower": 1, "toupper": 1}
        if (low in want and len(args) != want[low]) or (low in ("coalesce", "concat") and not args):
            raise QueryError(f"wrong number of arguments to {low}", name_tok.pos, self.toks[self.i - 1].end)
        return ("call", low, args)


def _contains_agg(e) -> bool:
    if not isinstance(e, tuple):
        return False
    if e[0] == "agg":
        return True
    return any(_contains_agg(x) for x in e[1:] if isinstance(x, tuple)) or \
        any(_contains_agg(x) for x in e[1:] if isinstance(x, list) for x in x)


def parse_query(query: str):
    """The commands of ``query``; QueryError (-> MalformedQueryException) when unsupported."""
    toks = tokenize(query)
    if not toks:
        raise QueryError("query is empty", 0, 0)
    cmds = Parser(query, toks).query()
    if sum(1 for c in cmds if c[0] == "stats") > 1:
        raise QueryError("only one stats command is supported", 0, len(query))
    return cmds


# ---- discovered fields ----------------------------------------------------------------

_REPORT_KEYS = {
    "Duration": ("@duration", r"([\d.]+) ms"),
    "Billed Duration": ("@billedDuration", r"(\d+(?:\.\d+)?) ms"),
    "Memory Size": ("@memorySize", r"(\d+) MB"),
    "Max Memory Used": ("@maxMemoryUsed", r"(\d+) MB"),
    "Init Duration": ("@initDuration", r"([\d.]+) ms"),
}
_REPORT_ITEM = re.compile(r"^([A-Za-z ]+): (.*?)\s*$")


def _num(text: str):
    try:
        v = float(text)
    except ValueError:
        return None
    return int(v) if v.is_integer() and "." not in text else v


def parse_report(message: str) -> dict | None:
    """Discovered fields of a Lambda REPORT text line, None when it is not a valid one."""
    if not message.startswith("REPORT RequestId: "):
        return None
    items = message.rstrip("\n").split("\t")
    first = items[0][len("REPORT RequestId: "):].strip()
    if not first or " " in first:
        return None
    out: dict[str, Any] = {"@type": "REPORT", "@requestId": first}
    for item in items[1:]:
        m = _REPORT_ITEM.match(item.strip())
        if not m or m.group(1) not in _REPORT_KEYS:
            continue
        field, pattern = _REPORT_KEYS[m.group(1)]
        vm = re.fullmatch(pattern, m.group(2))
        if vm:
            v = _num(vm.group(1))
            if v is not None:
                out[field] = v
    if "@duration" not in out:
        return None
    return out


def flatten_json(obj: dict) -> dict:
    """Leaves of a JSON object under their dotted paths."""
    out: dict = {}
    for k, v in obj.items():
        _flat_item(str(k), v, out)
    return out


def _flat_item(path: str, v, out: dict) -> None:
    if isinstance(v, dict):
        for k, x in v.items():
            _flat_item(f"{path}.{k}", x, out)
    elif isinstance(v, list):
        for k, x in enumerate(v):
            _flat_item(f"{path}.{k}", x, out)
    elif isinstance(v, bool):
        out[path] = "true" if v else "false"
    elif v is not None:
        out[path] = v


def discovered_fields(message: str) -> dict:
    report = parse_report(message)
    if report is not None:
        return report
    s = message.strip()
    if s.startswith("{"):
        try:
            obj = json.loads(s)
        except ValueError:
            return {}
        if isinstance(obj, dict):
            return flatten_json(obj)
    return {}


def _event_discovered(event) -> dict:
    cached = getattr(event, "_lfm_fields", None)
    if cached is None:
        cached = discovered_fields(event.message)
        try:
            event._lfm_fields = cached
        except AttributeError:
            pass
    return cached


# ---- evaluation -----------------------------------------------------------------------

def _as_num(v):
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return v
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return None
    return None


def _compare(op, a, b) -> bool:
    if a is None or b is None:
        return False
    na, nb = _as_num(a), _as_num(b)
    if na is not None and nb is not None and (isinstance(a, (int, float)) or isinstance(b, (int, float))):
        x, y = na, nb
    else:
        x, y = fmt(a), fmt(b)
    return {"=": x == y, "!=": x != y, "<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]


def evaluate(e, rec: dict, aggs: dict | None = None):
    kind = e[0]
    if kind == "lit":
        return e[1]
    if kind == "field":
        return rec.get(e[1])
    if kind == "and":
        return bool(evaluate(e[1], rec, aggs)) and bool(evaluate(e[2], rec, aggs))
    if kind == "or":
        return bool(evaluate(e[1], rec, aggs)) or bool(evaluate(e[2], rec, aggs))
    if kind == "not":
        return not evaluate(e[1], rec, aggs)
    if kind == "cmp":
        return _compare(e[1], evaluate(e[2], rec, aggs), evaluate(e[3], rec, aggs))
    if kind == "match":
        v = evaluate(e[1], rec, aggs)
        if v is None:
            return False
        hit = e[2].search(fmt(v)) is not None
        return hit != e[3]
    if kind == "in":
        v = evaluate(e[1], rec, aggs)
        return v is not None and any(_compare("=", v, x) for x in e[2])
    if kind == "neg":
        v = _as_num(evaluate(e[1], rec, aggs))
        return None if v is None else -v
    if kind == "arith":
        a, b = _as_num(evaluate(e[2], rec, aggs)), _as_num(evaluate(e[3], rec, aggs))
        if a is None or b is None:
            return None
        op = e[1]
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if b == 0:
            return None
        return a / b if op == "/" else a % b
    if kind == "agg":
        return aggs.get(id(e)) if aggs is not None else None
    if kind == "bin":
        ts = rec.get("@timestamp")
        return None if ts is None else Ts(int(ts) - int(ts) % e[1])
    if kind == "call":
        name, args = e[1], e[2]
        vals = [evaluate(a, rec, aggs) for a in args]
        if name == "ispresent":
            return vals[0] is not None
        if name == "coalesce":
            return next((v for v in vals if v is not None), None)
        if name == "isempty":
            return vals[0] is None or fmt(vals[0]) == ""
        if name == "isblank":
            return vals[0] is None or fmt(vals[0]).strip() == ""
        if name in ("abs", "ceil", "floor"):
            v = _as_num(vals[0])
            if v is None:
                return None
            return abs(v) if name == "abs" else (math.ceil(v) if name == "ceil" else math.floor(v))
        if name == "strlen":
            return None if vals[0] is None else len(fmt(vals[0]))
        if name in ("tolower", "toupper"):
            return None if vals[0] is None else (fmt(vals[0]).lower() if name == "tolower" else fmt(vals[0]).upper())
        if name == "concat":
            return "".join(fmt(v) for v in vals if v is not None)
    raise AssertionError(e)


def _collect_aggs(e, out: list):
    if not isinstance(e, tuple):
        return
    if e[0] == "agg":
        out.append(e)
        return
    for x in e[1:]:
        if isinstance(x, tuple):
            _collect_aggs(x, out)
        elif isinstance(x, list):
            for y in x:
                _collect_aggs(y, out)


def _aggregate(node, recs: list[dict]):
    _, fn, arg, param = node
    if fn == "count" and arg is None:
        return len(recs)
    vals = [evaluate(arg, r) for r in recs]
    vals = [v for v in vals if v is not None]
    if fn == "count":
        return len(vals)
    if fn == "count_distinct":
        return len({fmt(v) for v in vals})
    nums = [n for n in (_as_num(v) for v in vals) if n is not None]
    if fn == "sum":
        return sum(nums) if nums else None
    if fn == "avg":
        return sum(nums) / len(nums) if nums else None
    if fn in ("min", "max"):
        if nums:
            return min(nums) if fn == "min" else max(nums)
        return None
    if fn == "pct":
        return percentile(nums, param)
    raise AssertionError(fn)


def _sort_key(v):
    if v is None:
        return (2, 0, "")
    n = _as_num(v) if isinstance(v, (int, float)) else None
    if n is not None:
        return (0, n, "")
    return (1, 0, fmt(v))


def fmt(v) -> str:
    if isinstance(v, Ts):
        return datetime.fromtimestamp(int(v) / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S.") + \
            f"{int(v) % 1000:03d}"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e16:
            return str(int(v))
        return repr(v)
    return str(v)


def run(commands, sources, limit: int | None = None):
    """Evaluate parsed ``commands`` over ``sources``: an iterable of (account_id, group,
    stream, event) whose events are already in the time range.
    Returns (rows as lists of (field, value-string), statistics dict)."""
    scanned = 0
    nbytes = 0
    recs: list[dict] = []
    for account_id, group, stream, ev in sources:
        scanned += 1
        nbytes += len(ev.message.encode("utf-8"))
        rec = {"@timestamp": Ts(ev.timestamp), "@ingestionTime": Ts(ev.ingestion_time),
               "@message": ev.message, "@logStream": stream.log_stream_name,
               "@log": f"{account_id}:{group.name}",
               "@ptr": base64.b64encode(f"{account_id}:{group.name}:{ev.event_id}".encode()).decode()}
        rec.update(_event_discovered(ev))
        recs.append(rec)

    projection: list[str] | None = None
    parsed_fields: list[str] = []
    matched = None
    stats_done = False
    sorted_ = False
    row_limit = min(limit or MAX_ROWS, MAX_ROWS)
    for cmd in commands:
        kind = cmd[0]
        if kind == "filter":
            recs = [r for r in recs if evaluate(cmd[1], r)]
        elif kind == "fields":
            for name, e in cmd[1]:
                if e != ("field", name):
                    for r in recs:
                        v = evaluate(e, r)
                        if v is None:
                            r.pop(name, None)
                        else:
                            r[name] = v
            names = [name for name, _ in cmd[1]]
            projection = (projection or []) + [n for n in names if n not in (projection or [])]
        elif kind == "display":
            projection = [name for name, _ in cmd[1]]
        elif kind in ("parse", "parse_glob"):
            _, src, rx, names = cmd
            for name in names:
                if name not in parsed_fields:
                    parsed_fields.append(name)
            for r in recs:
                v = r.get(src)
                m = rx.search(fmt(v)) if v is not None else None
                if m is None:
                    continue
                for k, name in enumerate(names):
                    g = m.group(name) if kind == "parse" else m.group(f"g{k}")
                    if g is not None:
                        r[name] = g
        elif kind == "stats":
            matched = len(recs)
            _, items, groups = cmd
            nodes: list = []
            for _, e in items:
                _collect_aggs(e, nodes)
            buckets: "OrderedDict[tuple, list]" = OrderedDict()
            for r in recs:
                key = tuple(evaluate(e, r) for _, e in groups)
                if groups and all(k is None for k in key):
                    continue
                buckets.setdefault(key, []).append(r)
            if not groups and not buckets:
                buckets[()] = []
            out = []
            for key in sorted(buckets, key=lambda k: tuple(_sort_key(v) for v in k)):
                members = buckets[key]
                aggs = {id(n): _aggregate(n, members) for n in nodes}
                row: dict = {}
                for (name, _), v in zip(groups, key):
                    if v is not None:
                        row[name] = v
                for name, e in items:
                    v = evaluate(e, {}, aggs)
                    if v is not None:
                        row[name] = v
                out.append(row)
            recs = out
            projection = [n for n, _ in groups] + [n for n, _ in items]
            stats_done = True
        elif kind == "sort":
            for name, desc in reversed(cmd[1]):
                present = [r for r in recs if r.get(name) is not None]
                missing = [r for r in recs if r.get(name) is None]
                present.sort(key=lambda r: _sort_key(r.get(name)), reverse=desc)
                recs = present + missing
            sorted_ = True
        elif kind == "limit":
            row_limit = min(row_limit, cmd[1])
    if matched is None:
        matched = len(recs)
    if not stats_done and not sorted_:
        recs.sort(key=lambda r: int(r["@timestamp"]), reverse=True)
    recs = recs[:row_limit]
    if projection is None:
        projection = ["@timestamp", "@message", "@logStream", "@log"] + parsed_fields
    if not stats_done and "@ptr" not in projection:
        projection = projection + ["@ptr"]
    rows = [[(name, fmt(r[name])) for name in projection if r.get(name) is not None] for r in recs]
    stats = {"recordsMatched": float(matched), "recordsScanned": float(scanned),
             "bytesScanned": float(nbytes)}
    return rows, stats


# ---- the moto patch -------------------------------------------------------------------

class InsightsQuery:
    """Stored like moto's LogQuery (DescribeQueries reads these attributes)."""

    def __init__(self, query_id, query, log_group_names, start_time, end_time, rows, stats):
        self.query_id, self.query = query_id, query
        self.log_group_names = log_group_names
        self.start_time, self.end_time = start_time, end_time
        self.create_time = datetime.now(timezone.utc).replace(tzinfo=None)
        self.status = "Complete"
        self.rows, self.stats = rows, stats

    def to_json(self, log_group_name):
        return {"queryId": self.query_id, "queryString": self.query, "status": self.status,
                "createTime": int(self.create_time.replace(tzinfo=timezone.utc).timestamp() * 1000),
                "logGroupName": log_group_name}

    def to_result_json(self):
        return {"results": [[{"field": f, "value": v} for f, v in row] for row in self.rows],
                "statistics": self.stats, "status": self.status}


def _malformed(err: QueryError):
    from moto.logs.exceptions import LogsClientError

    exc = LogsClientError("MalformedQueryException", err.message)
    exc.description = json.dumps({
        "__type": "MalformedQueryException", "message": err.message,
        "queryCompileError": {"location": {"startCharOffset": err.start, "endCharOffset": err.end},
                              "message": err.message}})
    return exc


def _resolve_groups(backend, names: list[str]) -> list:
    from moto.logs.exceptions import ResourceNotFoundException

    groups = []
    for ident in names:
        name = ident
        if ident.startswith("arn:"):
            parts = ident.split(":", 6)
            if len(parts) < 7 or parts[5] != "log-group" or ident.endswith("*"):
                from moto.logs.exceptions import InvalidParameterException

                raise InvalidParameterException(f"Invalid log group identifier {ident}")
            if parts[3] != backend.region_name or parts[4] != backend.account_id:
                raise ResourceNotFoundException(
                    f"Log group '{ident}' does not exist for account ID '{backend.account_id}'")
            name = parts[6]
        group = backend.groups.get(name)
        if group is None:
            raise ResourceNotFoundException(
                f"Log group '{name}' does not exist for account ID '{backend.account_id}'")
        groups.append(group)
    return groups


def _start_query(self) -> str:  # replaces LogsResponse.start_query
    from moto.logs.exceptions import InvalidParameterException

    backend = self.logs_backend
    name = self._get_param("logGroupName")
    names = self._get_param("logGroupNames")
    idents = self._get_param("logGroupIdentifiers")
    start_time = self._get_param("startTime")
    end_time = self._get_param("endTime")
    query = self._get_param("queryString")
    limit = self._get_param("limit")
    given = [x for x in (name, names, idents) if x]
    if len(given) != 1:
        raise InvalidParameterException(
            "A StartQuery operation must include exactly one of the following parameters: "
            "logGroupName, logGroupNames or logGroupIdentifiers")
    wanted = [name] if name else list(names or idents)
    if len(wanted) > MAX_GROUPS:
        raise InvalidParameterException(
            f"1 validation error detected: Value at 'logGroupNames' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_GROUPS}")
    if start_time is None or end_time is None or not query:
        raise InvalidParameterException("startTime, endTime and queryString are required")
    start_time, end_time = int(start_time), int(end_time)
    if end_time < start_time:
        raise InvalidParameterException("End time should not be before the start time")
    if len(query) > MAX_QUERY_LEN:
        raise InvalidParameterException(
            f"1 validation error detected: Value at 'queryString' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_QUERY_LEN}")
    if limit is not None and not 1 <= int(limit) <= MAX_ROWS:
        raise InvalidParameterException(
            f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
            f"constraint: Member must have value less than or equal to {MAX_ROWS}")
    try:
        commands = parse_query(query)
    except QueryError as err:
        raise _malformed(err)
    groups = _resolve_groups(backend, wanted)
    lo, hi = start_time * 1000, end_time * 1000

    def sources():
        for g in groups:
            for stream in list(g.streams.values()):
                for ev in stream.events:
                    if lo <= ev.timestamp <= hi:
                        yield backend.account_id, g, stream, ev

    rows, stats = run(commands, sources(), int(limit) if limit is not None else None)
    query_id = str(uuid.uuid4())
    backend.queries[query_id] = InsightsQuery(query_id, query, [g.name for g in groups],
                                              start_time, end_time, rows, stats)
    return json.dumps({"queryId": query_id})


def _get_query_results(self) -> str:  # replaces LogsResponse.get_query_results
    from moto.logs.exceptions import ResourceNotFoundException

    query_id = self._get_param("queryId")
    q = self.logs_backend.queries.get(query_id)
    if q is None:
        raise ResourceNotFoundException("Query does not exist.")
    return json.dumps(q.to_result_json())


_original = None


def apply() -> None:
    global _original
    from moto.logs.responses import LogsResponse

    if _original is None:
        _original = (LogsResponse.start_query, LogsResponse.get_query_results)
        LogsResponse.start_query = _start_query
        LogsResponse.get_query_results = _get_query_results


__all__ = ["apply", "parse_query", "run", "parse_report", "discovered_fields", "fmt", "QueryError"]
