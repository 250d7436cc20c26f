#!/usr/bin/python3
"""A loopback fake of the Qdrant REST API v1.19.0, for tests.

It checks every request against Qdrant's own OpenAPI document (paths, query parameters, JSON bodies with
jsonschema Draft 7) and against behaviours of the real server that the schema cannot express (vector names
and dimensions, point ids, filters), keeps points in memory and answers queries by exact search. Every JSON
answer it sends is validated against the operation's response schema as well; a failure there is a bug in
the fake and is recorded as a violation of kind "response".

    /usr/bin/python3 tests/fake_qdrant.py --spec qdrant-openapi-v1.19.0.json [--port 0] [--host 127.0.0.1]
        [--api-key KEY] [--validate-every N] [--max-body BYTES]

The bound port is printed alone on the first line of stdout. SIGTERM or SIGINT stops the server (exit 0).

Control endpoints (never need an api key, never validated, not counted in the log or in stats.requests):
    POST   /__fake/script   JSON list (or one object) of scripted replies, appended to the queue
    GET    /__fake/script   the scripted replies still pending
    DELETE /__fake/script   drop all pending scripted replies
    GET    /__fake/log      every request in order (?since=N returns entries N.. only)
    GET    /__fake/stats    counters, violations, unsupported features, per-collection point counts
    POST   /__fake/reset    clears collections, log, stats and scripts
See the docstring of FakeQdrant.control for the details.

Only the Python standard library and jsonschema (Debian python3-jsonschema 4.10) are used.
"""

import argparse
import array
import bisect
import datetime
import heapq
import hmac
import json
import math
import operator
import re
import signal
import socket
import struct
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

import jsonschema

QDRANT_VERSION = "1.19.0"
QDRANT_COMMIT = "74f3e85b9473c62560006c043e13737ce6b48412"
DEFAULT_MAX_BODY = 33554432
MAX_LOGGED_IDS = 1000
MAX_RECORDED = 10000  # cap on the violations / unsupported lists
DISTANCES = ("Cosine", "Euclid", "Dot", "Manhattan")
LARGER_IS_BETTER = {"Cosine": True, "Dot": True, "Euclid": False, "Manhattan": False}
FORBIDDEN_NAME_CHARS = frozenset('<>:"/\\|?*\x00\x1f')
U64_MAX = 2**64 - 1
AUTH_WHITELIST = frozenset(("/", "/healthz", "/readyz", "/livez"))
FILTER_KEYS = ("should", "min_should", "must", "must_not")
FIELD_CONDITION_KEYS = frozenset(("key", "match", "range", "geo_bounding_box", "geo_radius", "geo_polygon",
                                  "values_count", "is_empty", "is_null"))
PAYLOAD_TYPES = ("keyword", "integer", "float", "geo", "text", "bool", "datetime", "uuid")
COSINE_EPS = 1.1920929e-07  # f32::EPSILON, below which Qdrant leaves a vector as it is

# Endpoints the server still serves but the 1.19 OpenAPI document no longer lists (PR #9982).
LEGACY_ROUTES = (("post", "/collections/{collection_name}/points/search", "search_points"),)

_UUID_RE = re.compile(
    r"(?i)^(?:urn:uuid:)?(?:[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\})$")
_PATH_SEG_RE = re.compile(r'(?:"((?:[^"\\]|\\.)*)"|([^.\[\]"]+))((?:\[\d*\])*)')
_BRACKET_RE = re.compile(r"\[(\d*)\]")


# ----------------------------------------------------------------------------------------------------------
# Errors


class QError(Exception):
    """An answer other than 200 in Qdrant's error envelope.

    violation: the kind to record in stats.violations when the request broke the API contract (the real
    server would reject it while deserialising); None for the ordinary semantic errors that tests provoke on
    purpose (wrong dimension, unknown vector name, ...). unsupported: the fake cannot emulate the request."""

    def __init__(self, status, message, violation=None, unsupported=False):
        super().__init__(message)
        self.status = status
        self.message = message
        self.violation = violation
        self.unsupported = unsupported


def wrong_input(msg):
    return QError(400, "Wrong input: " + msg)


def format_error(msg, violation="request"):
    return QError(400, "Format error in JSON body: " + msg, violation=violation)


def unsupported(msg):
    return QError(400, "fake qdrant: " + msg, unsupported=True)


def collection_missing(name):
    return QError(404, "Not found: Collection `%s` doesn't exist!" % name)


def bad_point_id(value):
    text = value if isinstance(value, str) else json.dumps(value)
    return QError(400, 'Format error in JSON body: value "%s" is not a valid point ID, valid values are either '
                       'an unsigned integer or a UUID' % text)


# ----------------------------------------------------------------------------------------------------------
# The OpenAPI document


def _strict_int(checker, instance):
    # serde rejects 1.0 where an integer is expected; Draft 7 would accept it
    return isinstance(instance, int) and not isinstance(instance, bool)


StrictDraft7Validator = jsonschema.validators.extend(
    jsonschema.Draft7Validator,
    type_checker=jsonschema.Draft7Validator.TYPE_CHECKER.redefine("integer", _strict_int))

_DATA_KEYS = frozenset(("example", "examples", "default", "enum", "const"))


def openapi_schema_to_draft7(node):
    """Rewrites an OpenAPI 3.0 schema in place so that Draft 7 reads it the same way: `nullable: true` with a
    type also accepts null. A bare {nullable: true} is left alone, so it accepts anything, exactly as the
    permissive `anyOf: [{$ref: X}, {nullable: true}]` pattern of Qdrant's spec does."""
    if isinstance(node, list):
        for item in node:
            openapi_schema_to_draft7(item)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key in _DATA_KEYS:
            continue
        if key == "properties" and isinstance(value, dict):
            for sub in value.values():
                openapi_schema_to_draft7(sub)
        else:
            openapi_schema_to_draft7(value)
    if node.get("nullable") is True:
        kind = node.get("type")
        if isinstance(kind, str):
            node["type"] = [kind, "null"]
            if "enum" in node and None not in node["enum"]:
                node["enum"] = list(node["enum"]) + [None]
        elif kind is None:
            inner = {k: node.pop(k) for k in ("anyOf", "oneOf", "allOf", "$ref", "enum") if k in node}
            if inner:
                node["anyOf"] = [inner, {"type": "null"}]


def describe_error(err):
    where = ""
    for part in err.absolute_path:
        where += "[%d]" % part if isinstance(part, int) else ("." + str(part) if where else str(part))
    msg = err.message
    if len(msg) > 400:
        msg = msg[:400] + "..."
    return "%s: %s" % (where, msg) if where else msg


class Operation:
    __slots__ = ("method", "template", "op_id", "query_params", "body_schema", "body_types", "resp_ok",
                 "resp_err", "legacy")

    def __init__(self, method, template, op, legacy=False):
        self.method = method.upper()
        self.template = template
        self.op_id = op.get("operationId")
        self.legacy = legacy
        self.query_params = {}
        for p in op.get("parameters", []):
            if p.get("in") == "query":
                self.query_params[p["name"]] = (p.get("schema", {}), bool(p.get("required")))
        self.body_schema = None
        self.body_types = ()
        rb = op.get("requestBody")
        if rb:
            content = rb.get("content", {})
            self.body_types = tuple(content)
            if "application/json" in content:
                self.body_schema = content["application/json"].get("schema", {})
        responses = op.get("responses", {})
        self.resp_ok = responses.get("200", {}).get("content", {}).get("application/json", {}).get("schema")
        self.resp_err = None
        for code in ("4XX", "default"):
            sch = responses.get(code, {}).get("content", {}).get("application/json", {}).get("schema")
            if sch is not None:
                self.resp_err = sch
                break


class Route:
    __slots__ = ("template", "regex", "literals", "names", "ops")

    def __init__(self, template):
        self.template = template
        segs = [s for s in template.strip("/").split("/") if s]
        parts, self.names, self.literals = [], [], 0
        for s in segs:
            if s.startswith("{") and s.endswith("}"):
                parts.append("([^/]+)")
                self.names.append(s[1:-1])
            else:
                parts.append(re.escape(s))
                self.literals += 1
        self.regex = re.compile("^/" + "/".join(parts) + "$")
        self.ops = {}


class Spec:
    """The OpenAPI document, converted for Draft 7, with path templates compiled for matching."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.doc = json.load(f)
        for schema in self.doc.get("components", {}).get("schemas", {}).values():
            openapi_schema_to_draft7(schema)
        for item in self.doc.get("paths", {}).values():
            for method, op in item.items():
                if not isinstance(op, dict):
                    continue  # path-level "parameters" list: not used by Qdrant's document
                for p in op.get("parameters", []):
                    if isinstance(p, dict) and "schema" in p:
                        openapi_schema_to_draft7(p["schema"])
                for media in op.get("requestBody", {}).get("content", {}).values():
                    if "schema" in media:
                        openapi_schema_to_draft7(media["schema"])
                for resp in op.get("responses", {}).values():
                    for media in resp.get("content", {}).values():
                        if "schema" in media:
                            openapi_schema_to_draft7(media["schema"])
        self.version = self.doc.get("info", {}).get("version")
        self.resolver = jsonschema.RefResolver("", self.doc)
        self._validators = {}
        self.routes = []
        for template, item in self.doc.get("paths", {}).items():
            route = Route(template)
            for method, op in item.items():
                if method in ("get", "put", "post", "patch", "delete", "head", "options") and isinstance(op, dict):
                    route.ops[method] = Operation(method, template, op)
            self.routes.append(route)
        self.routes.sort(key=lambda r: -r.literals)
        self.legacy = []
        for method, template, op_id in LEGACY_ROUTES:
            if any(r.template == template and method in r.ops for r in self.routes):
                continue  # an older spec (1.18.x) still documents it: validate it normally
            route = Route(template)
            route.ops[method] = Operation(method, template, {
                "operationId": op_id,
                "parameters": [{"name": "consistency", "in": "query", "schema": {}},
                               {"name": "timeout", "in": "query", "schema": {"type": "integer", "minimum": 1}}],
                "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
            }, legacy=True)
            self.legacy.append(route)

    def schema(self, name):
        return {"$ref": "#/components/schemas/" + name}

    def validator(self, schema):
        key = id(schema)
        v = self._validators.get(key)
        if v is None:
            v = StrictDraft7Validator(schema, resolver=self.resolver)
            self._validators[key] = (v, schema)  # keep the schema alive so that id() stays unique
            return v
        return v[0]

    def first_error(self, schema, instance):
        """None when instance is valid, else a short description of the most relevant error."""
        err = jsonschema.exceptions.best_match(self.validator(schema).iter_errors(instance))
        return None if err is None else describe_error(err)

    def match(self, method, raw_path):
        """(operation, path params) for a request; (None, None) for an unknown path or method."""
        method = method.lower()
        for routes in (self.routes, self.legacy):
            for route in routes:
                m = route.regex.match(raw_path)
                if m is None:
                    continue
                op = route.ops.get(method)
                if op is not None:
                    return op, {n: unquote(g) for n, g in zip(route.names, m.groups())}
        return None, None


# ----------------------------------------------------------------------------------------------------------
# Point ids, payload paths, vectors


def id_sort_key(pid):
    return (0, pid) if type(pid) is int else (1, pid)


def parse_point_id(value):
    """An ExtendedPointId from a JSON body: an unsigned 64-bit integer or a UUID string (simple, hyphenated,
    urn or braced form). Returns an int or the lower-case hyphenated UUID."""
    t = type(value)
    if t is int:
        if 0 <= value <= U64_MAX:
            return value
        err = bad_point_id(value)
        if value < 0:
            err.violation = "request"  # the schema says minimum 0
        raise err
    if t is str:
        if _UUID_RE.match(value):
            return str(uuid.UUID(value))
        raise bad_point_id(value)
    raise format_error("data did not match any variant of untagged enum ExtendedPointId: %s" %
                       json.dumps(value)[:80])


def parse_path_point_id(text):
    if text.isdigit():
        n = int(text)
        if n <= U64_MAX:
            return n
    elif _UUID_RE.match(text):
        return str(uuid.UUID(text))
    raise QError(400, 'Format error in path parameters: value "%s" is not a valid point ID, valid values are '
                      'either an unsigned integer or a UUID' % text)


def loggable_id(value):
    if type(value) is str and _UUID_RE.match(value):
        return str(uuid.UUID(value))
    return value


def parse_key_path(key):
    """A payload key such as `a.b`, `items[].sku`, `list[0]` or `"dotted.name".x` as a list of tokens:
    ("k", name), ("a",) for every element of an array, ("i", n) for one element."""
    if not isinstance(key, str) or not key:
        raise QError(400, "Format error in JSON body: invalid payload key %s" % json.dumps(key))
    tokens, pos = [], 0
    while True:
        m = _PATH_SEG_RE.match(key, pos)
        if m is None:
            raise QError(400, "Format error in JSON body: invalid payload key path `%s`" % key)
        tokens.append(("k", m.group(1) if m.group(1) is not None else m.group(2)))
        for b in _BRACKET_RE.findall(m.group(3)):
            tokens.append(("a",) if b == "" else ("i", int(b)))
        pos = m.end()
        if pos == len(key):
            return tokens
        if key[pos] != ".":
            raise QError(400, "Format error in JSON body: invalid payload key path `%s`" % key)
        pos += 1


def values_at(obj, tokens):
    """The values found at a key path (arrays at the end are NOT flattened here)."""
    cur = [obj]
    for tok in tokens:
        nxt = []
        kind = tok[0]
        if kind == "k":
            name = tok[1]
            for v in cur:
                if type(v) is dict and name in v:
                    nxt.append(v[name])
        elif kind == "a":
            for v in cur:
                if type(v) is list:
                    nxt.extend(v)
        else:
            i = tok[1]
            for v in cur:
                if type(v) is list and i < len(v):
                    nxt.append(v[i])
        cur = nxt
        if not cur:
            break
    return cur


def value_getter(tokens):
    if len(tokens) == 1 and tokens[0][0] == "k":
        name = tokens[0][1]

        def get(payload):
            if name in payload:
                return [payload[name]]
            return []
        return get
    return lambda payload: values_at(payload, tokens)


def is_number(x):
    t = type(x)
    return t is float or t is int


def make_dense(raw, cosine):
    try:
        vec = array.array("f", raw)
    except (TypeError, OverflowError):
        raise format_error("invalid type: expected a vector of numbers")
    if not all(map(math.isfinite, vec)):
        raise format_error("vector element out of range for f32")
    if cosine:
        norm = math.hypot(*vec)
        if norm > COSINE_EPS:
            vec = array.array("f", [x / norm for x in vec])
    return vec


def make_sparse(raw):
    idx, vals = raw.get("indices"), raw.get("values")
    if not isinstance(idx, list) or not isinstance(vals, list):
        raise format_error("sparse vector needs `indices` and `values` arrays")
    if len(idx) != len(vals):
        raise QError(422, "Validation error in JSON body: indices and values must have the same length")
    if len(set(idx)) != len(idx):
        raise QError(422, "Validation error in JSON body: indices must be unique")
    try:
        return (array.array("I", idx), array.array("f", vals))
    except (TypeError, OverflowError):
        raise format_error("invalid sparse vector")


_NUMBER_TYPES = frozenset((int, float))


def vector_kind(raw):
    if isinstance(raw, list):
        if raw and isinstance(raw[0], list):
            return "multi"
        if set(map(type, raw)) <= _NUMBER_TYPES:  # no bools, strings, nulls (serde wants f32)
            return "dense"
        return "bad"
    if isinstance(raw, dict):
        if "indices" in raw and "values" in raw:
            return "sparse"
        if "model" in raw or "image" in raw or "object" in raw or "text" in raw:
            return "inference"
    return "bad"


class Point:
    __slots__ = ("vecs", "payload", "version")

    def __init__(self, vecs, payload, version):
        self.vecs = vecs          # list aligned with Collection.names: array('f'), (indices, values) or None
        self.payload = payload    # dict (empty when the point has no payload)
        self.version = version    # operation id of the write that last touched the point


HNSW_DEFAULT = {"m": 16, "ef_construct": 100, "full_scan_threshold": 10000, "max_indexing_threads": 0,
                "on_disk": False}
OPTIMIZER_DEFAULT = {"deleted_threshold": 0.2, "vacuum_min_vector_number": 1000, "default_segment_number": 0,
                     "max_segment_size": None, "memmap_threshold": None, "indexing_threshold": 10000,
                     "flush_interval_sec": 5, "max_optimization_threads": None}
WAL_DEFAULT = {"wal_capacity_mb": 32, "wal_segments_ahead": 0, "wal_retain_closed": 1}


class Collection:
    def __init__(self, name, single, dense, sparse):
        self.name = name
        self.single = single                      # True: one unnamed vector (plain arrays in upserts)
        self.names = [n for n, _, _ in dense] + [n for n, _ in sparse]
        self.slot = {n: i for i, n in enumerate(self.names)}
        self.dims = [d for _, d, _ in dense] + [None] * len(sparse)
        self.dist = [x for _, _, x in dense] + [None] * len(sparse)
        self.sparse = {n for n, _ in sparse}
        self.vectors_out = None                   # config.params.vectors
        self.sparse_out = None                    # config.params.sparse_vectors
        self.metadata = None
        self.hnsw = dict(HNSW_DEFAULT)
        self.optimizer = dict(OPTIMIZER_DEFAULT)
        self.wal = dict(WAL_DEFAULT)
        self.quantization = None
        self.points = {}
        self.next_op = 0
        self.indexes = {}                         # field name -> (data_type, params or None)
        self._sorted = None                       # (sorted int ids, sorted uuids), rebuilt after id changes

    def new_op(self):
        op = self.next_op
        self.next_op += 1
        return op

    def sorted_ids(self):
        if self._sorted is None:
            ints = sorted(k for k in self.points if type(k) is int)
            uuids = sorted(k for k in self.points if type(k) is str)
            self._sorted = (ints, uuids)
        return self._sorted

    def ids_from(self, offset):
        """Point ids in Qdrant's order (integers ascending, then UUIDs), starting at offset inclusive."""
        ints, uuids = self.sorted_ids()
        if offset is None:
            yield from ints
            yield from uuids
        elif type(offset) is int:
            for i in range(bisect.bisect_left(ints, offset), len(ints)):
                yield ints[i]
            yield from uuids
        else:
            for i in range(bisect.bisect_left(uuids, offset), len(uuids)):
                yield uuids[i]

    def put(self, pid, point):
        if pid not in self.points:
            self._sorted = None
        self.points[pid] = point

    def remove(self, pid):
        if self.points.pop(pid, None) is not None:
            self._sorted = None
            return True
        return False


# ----------------------------------------------------------------------------------------------------------
# Filters


def _parse_datetime(text):
    if type(text) is not str:
        return None
    s = text.strip()
    if s[-1:] in ("Z", "z"):
        s = s[:-1] + "+00:00"
    try:
        d = datetime.datetime.fromisoformat(s)
    except ValueError:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=datetime.timezone.utc)
    return d


def _compile_match(m):
    if not isinstance(m, dict):
        raise format_error("match: data did not match any variant of untagged enum Match")
    if "value" in m:
        val = m["value"]
        t = type(val)
        if t is bool:
            return lambda x: type(x) is bool and x == val
        if t is int:
            return lambda x: type(x) is int and x == val
        if t is str:
            return lambda x: type(x) is str and x == val
        raise format_error("match.value: data did not match any variant of untagged enum ValueVariants "
                           "(string, integer or bool; use range for floats)")
    for key in ("text", "phrase"):
        if key in m:
            text = m[key]
            if type(text) is not str:
                raise format_error("match.%s: expected a string" % key)
            return lambda x: type(x) is str and text in x
    if "text_any" in m:
        words = m["text_any"].split() if type(m["text_any"]) is str else None
        if words is None:
            raise format_error("match.text_any: expected a string")
        return lambda x: type(x) is str and any(w in x for w in words)
    if "prefix" in m:
        prefix = m["prefix"]
        if type(prefix) is not str:
            raise format_error("match.prefix: expected a string")
        return lambda x: type(x) is str and x.startswith(prefix)
    for key in ("any", "except"):
        if key not in m:
            continue
        items = m[key]
        if not isinstance(items, list):
            raise format_error("match.%s: expected an array" % key)
        if all(type(x) is str for x in items):
            kind, values = str, frozenset(items)
        elif all(type(x) is int for x in items):
            kind, values = int, frozenset(items)
        else:
            raise format_error("match.%s: data did not match any variant of untagged enum AnyVariants "
                               "(all strings or all integers)" % key)
        if key == "any":
            return lambda x: type(x) is kind and x in values

        def except_check(x):
            if x is None:
                return False
            t = type(x)
            if t is str or t is int:
                return x not in values if t is kind else True
            return True
        return except_check
    raise format_error("match: data did not match any variant of untagged enum Match (keys %s)" % sorted(m))


def _compile_range(r):
    if not isinstance(r, dict):
        raise format_error("range: expected an object")
    extra = set(r) - {"gt", "gte", "lt", "lte"}
    if extra:
        raise format_error("range: unknown field `%s`, expected one of `lt`, `gt`, `gte`, `lte`" % sorted(extra)[0])
    bounds = {k: v for k, v in r.items() if v is not None}
    if any(type(v) is str for v in bounds.values()):
        parsed = {}
        for k, v in bounds.items():
            d = _parse_datetime(v)
            if d is None:
                raise format_error("range.%s: not a number or an RFC 3339 datetime: %s" % (k, json.dumps(v)))
            parsed[k] = d
        gt, gte, lt, lte = (parsed.get(k) for k in ("gt", "gte", "lt", "lte"))
        convert = _parse_datetime
    else:
        for k, v in bounds.items():
            if not is_number(v):
                raise format_error("range.%s: expected a number" % k)
        gt, gte, lt, lte = (bounds.get(k) for k in ("gt", "gte", "lt", "lte"))
        convert = lambda x: x if is_number(x) else None  # noqa: E731

    def check(x):
        x = convert(x)
        if x is None:
            return False
        return ((gt is None or x > gt) and (gte is None or x >= gte) and
                (lt is None or x < lt) and (lte is None or x <= lte))
    return check


def _compile_values_count(vc):
    if not isinstance(vc, dict) or set(vc) - {"gt", "gte", "lt", "lte"}:
        raise format_error("values_count: expected an object with lt, gt, gte, lte")
    gt, gte, lt, lte = (vc.get(k) for k in ("gt", "gte", "lt", "lte"))

    def check(values):
        if not values:
            return False
        n = 0
        for v in values:
            n += len(v) if type(v) is list else (0 if v is None else 1)
        return ((gt is None or n > gt) and (gte is None or n >= gte) and
                (lt is None or n < lt) and (lte is None or n <= lte))
    return check


def _is_empty(values):
    return all(v is None or (type(v) is list and not v) for v in values)


def _is_null(values):
    return any(v is None for v in values)


class FilterCompiler:
    """Turns a Filter object into a predicate f(point_id, payload, point) -> bool. Rejects unknown keys
    (Qdrant's Filter uses deny_unknown_fields, and its Condition is an untagged enum), records nothing."""

    def __init__(self, coll):
        self.coll = coll

    def filter(self, f, nested=False):
        if f is None:
            return None
        if not isinstance(f, dict):
            raise format_error("filter: invalid type %s, expected struct Filter" % type(f).__name__)
        for k in f:
            if k not in FILTER_KEYS:
                raise format_error("unknown field `%s`, expected one of `should`, `min_should`, `must`, "
                                   "`must_not`" % k)
        must = self._clause(f.get("must"), nested)
        should = self._clause(f.get("should"), nested)
        must_not = self._clause(f.get("must_not"), nested)
        min_should = f.get("min_should")
        ms_conds, ms_count = None, 0
        if min_should is not None:
            if (not isinstance(min_should, dict) or set(min_should) - {"conditions", "min_count"}
                    or "conditions" not in min_should or "min_count" not in min_should):
                raise format_error("min_should: expected {conditions, min_count}")
            ms_conds = self._clause(min_should["conditions"], nested) or []
            ms_count = min_should["min_count"]
            if type(ms_count) is not int or ms_count < 1:
                raise QError(422, "Validation error in JSON body: min_should.min_count: value must be 1 or larger")

        def pred(pid, payload, point):
            if must is not None:
                for c in must:
                    if not c(pid, payload, point):
                        return False
            if must_not is not None:
                for c in must_not:
                    if c(pid, payload, point):
                        return False
            if should is not None:
                for c in should:
                    if c(pid, payload, point):
                        break
                else:
                    return False  # Qdrant: any() over the should list, so an empty list matches nothing
            if ms_conds is not None:
                n = 0
                for c in ms_conds:
                    if c(pid, payload, point):
                        n += 1
                        if n >= ms_count:
                            break
                if n < ms_count:
                    return False
            return True
        return pred

    def _clause(self, v, nested):
        if v is None:
            return None
        if isinstance(v, dict):
            v = [v]
        if not isinstance(v, list):
            raise format_error("filter clause: expected a condition or an array of conditions")
        return [self.condition(c, nested) for c in v]

    def condition(self, c, nested):
        if not isinstance(c, dict):
            raise format_error("data did not match any variant of untagged enum Condition")
        if "key" in c:
            return self.field(c)
        keys = set(c)
        if keys == {"has_id"}:
            if nested:
                raise QError(400, "Bad request: has_id is not supported inside a nested filter")
            if not isinstance(c["has_id"], list):
                raise format_error("has_id: expected an array of point ids")
            ids = frozenset(parse_point_id(x) for x in c["has_id"])
            return lambda pid, payload, point: pid in ids
        if keys == {"has_vector"}:
            if nested:
                raise QError(400, "Bad request: has_vector is not supported inside a nested filter")
            name = c["has_vector"]
            if type(name) is not str:
                raise format_error("has_vector: expected a vector name")
            i = self.coll.slot.get(name)
            if i is None:
                raise wrong_input("Not existing vector name error: %s" % name)
            return lambda pid, payload, point: point.vecs[i] is not None
        if keys == {"is_empty"} or keys == {"is_null"}:
            which = "is_empty" if "is_empty" in keys else "is_null"
            field = c[which]
            if not isinstance(field, dict) or set(field) != {"key"}:
                raise format_error("%s: expected {\"key\": ...}" % which)
            get = value_getter(parse_key_path(field["key"]))
            test = _is_empty if which == "is_empty" else _is_null
            return lambda pid, payload, point: test(get(payload))
        if keys == {"nested"}:
            n = c["nested"]
            if not isinstance(n, dict) or set(n) != {"key", "filter"}:
                raise format_error("nested: expected {\"key\": ..., \"filter\": ...}")
            tokens = parse_key_path(n["key"])
            if tokens[-1] != ("a",):
                tokens.append(("a",))
            sub = self.filter(n["filter"], nested=True) or (lambda pid, payload, point: True)

            def nested_check(pid, payload, point):
                for obj in values_at(payload, tokens):
                    if type(obj) is dict and sub(None, obj, None):
                        return True
                return False
            return nested_check
        if keys <= set(FILTER_KEYS):
            sub = self.filter(c, nested)
            return sub
        if "slice" in keys or keys & {"geo_bounding_box", "geo_radius", "geo_polygon"}:
            raise unsupported("unsupported filter condition %s" % sorted(keys))
        raise format_error("data did not match any variant of untagged enum Condition (keys %s)" % sorted(keys))

    def field(self, c):
        extra = set(c) - FIELD_CONDITION_KEYS
        if extra:
            raise format_error("unknown field `%s` in field condition for key %s" %
                               (sorted(extra)[0], json.dumps(c.get("key"))))
        get = value_getter(parse_key_path(c["key"]))
        scalar_checks = []
        if c.get("match") is not None:
            scalar_checks.append(_compile_match(c["match"]))
        if c.get("range") is not None:
            scalar_checks.append(_compile_range(c["range"]))
        for geo in ("geo_bounding_box", "geo_radius", "geo_polygon"):
            if c.get(geo) is not None:
                raise unsupported("unsupported filter condition %s" % geo)
        vc = _compile_values_count(c["values_count"]) if c.get("values_count") is not None else None
        empty, null = c.get("is_empty"), c.get("is_null")
        for name, flag in (("is_empty", empty), ("is_null", null)):
            if flag is not None and type(flag) is not bool:
                raise format_error("%s: expected a boolean" % name)
        if not scalar_checks and vc is None and empty is None and null is None:
            raise QError(422, "Validation error in JSON body: At least one field condition must be specified")

        def check(pid, payload, point):
            values = get(payload)
            # Qdrant ORs the conditions given in one FieldCondition; an array matches if any element does
            for chk in scalar_checks:
                for v in values:
                    if type(v) is list:
                        for x in v:
                            if chk(x):
                                return True
                    elif chk(v):
                        return True
            if vc is not None and vc(values):
                return True
            if empty is not None and _is_empty(values) == empty:
                return True
            if null is not None and _is_null(values) == null:
                return True
            return False
        return check


# ----------------------------------------------------------------------------------------------------------
# Payload and vector selectors


def _simple_tokens(key):
    tokens = parse_key_path(key)
    if any(t[0] != "k" for t in tokens):
        tokens = tokens[:1]
    return [t[1] for t in tokens]


def select_payload(payload, selector):
    """None when the payload key must be left out, else the (possibly reduced) payload."""
    if selector is None or selector is False:
        return None
    if selector is True:
        return payload
    if isinstance(selector, list):
        include, exclude = selector, None
    elif isinstance(selector, dict) and "include" in selector:
        include, exclude = selector["include"], None
    elif isinstance(selector, dict) and "exclude" in selector:
        include, exclude = None, selector["exclude"]
    else:
        raise format_error("with_payload: data did not match any variant of untagged enum WithPayloadInterface")
    if include is not None:
        out = {}
        for key in include:
            names = _simple_tokens(key)
            src, ok = payload, True
            for n in names:
                if type(src) is dict and n in src:
                    src = src[n]
                else:
                    ok = False
                    break
            if not ok:
                continue
            dst = out
            for n in names[:-1]:
                dst = dst.setdefault(n, {})
            dst[names[-1]] = src
        return out
    out = dict(payload)
    for key in exclude:
        names = _simple_tokens(key)
        parent = out
        for n in names[:-1]:
            child = parent.get(n)
            if type(child) is not dict:
                parent = None
                break
            child = dict(child)
            parent[n] = child
            parent = child
        if parent is not None:
            parent.pop(names[-1], None)
    return out


def check_vector_selector(coll, selector):
    if isinstance(selector, list):
        for name in selector:
            if name not in coll.slot:
                raise wrong_input("Not existing vector name error: %s" % name)
    elif selector is not None and type(selector) is not bool:
        raise format_error("with_vector: expected a boolean or an array of vector names")


def vector_output(coll, point, selector):
    if not selector:
        return None
    names = coll.names if selector is True else selector
    out = {}
    for name in names:
        v = point.vecs[coll.slot[name]]
        if v is None:
            continue
        if type(v) is tuple:
            out[name] = {"indices": v[0].tolist(), "values": v[1].tolist()}
        else:
            out[name] = v.tolist()
    if coll.single and len(out) == 1 and "" in out and type(out[""]) is list:
        return out[""]
    return out


def record_output(coll, pid, point, with_payload, with_vector, score=None):
    r = {"id": pid}
    if score is not None:
        r["version"] = point.version
        r["score"] = score
    pl = select_payload(point.payload, with_payload)
    if pl is not None:
        r["payload"] = pl
    vo = vector_output(coll, point, with_vector)
    if vo is not None:
        r["vector"] = vo
    return r


def body_option(body, name, default, alias=None):
    v = body.get(name)
    if v is None and alias is not None:
        v = body.get(alias)
    return default if v is None else v


# ----------------------------------------------------------------------------------------------------------
# The fake server state


class Response:
    __slots__ = ("status", "ctype", "body", "headers", "action")

    def __init__(self, status, ctype, body, headers=(), action=None):
        self.status = status
        self.ctype = ctype
        self.body = body
        self.headers = headers
        self.action = action


def json_bytes(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class Raw:
    """A handler result sent as it is (no {result, status, time} envelope), e.g. GET /."""
    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj


class Request:
    __slots__ = ("method", "raw_path", "raw_query", "headers", "raw_body", "nbytes", "op", "params", "query",
                 "body", "validate", "entry", "t0")


def _reject_constant(name):
    raise ValueError("invalid number %s" % name)


class FakeQdrant:
    def __init__(self, spec, api_key=None, validate_every=1, max_body=DEFAULT_MAX_BODY):
        self.spec = spec
        self.api_key = api_key
        self.validate_every = max(1, int(validate_every))
        self.max_body = max_body
        self.lock = threading.RLock()
        self.handlers = {
            "root": self.h_root, "healthz": self.h_healthz, "livez": self.h_healthz, "readyz": self.h_readyz,
            "get_collections": self.h_get_collections, "get_collection": self.h_get_collection,
            "create_collection": self.h_create_collection, "update_collection": self.h_update_collection,
            "delete_collection": self.h_delete_collection, "collection_exists": self.h_collection_exists,
            "create_field_index": self.h_create_field_index, "delete_field_index": self.h_delete_field_index,
            "upsert_points": self.h_upsert_points, "delete_points": self.h_delete_points,
            "get_points": self.h_get_points, "get_point": self.h_get_point, "scroll_points": self.h_scroll_points,
            "count_points": self.h_count_points, "query_points": self.h_query_points,
            "query_batch_points": self.h_query_batch_points, "search_points": self.h_search_points,
            "set_payload": self.h_set_payload, "overwrite_payload": self.h_overwrite_payload,
            "delete_payload": self.h_delete_payload, "clear_payload": self.h_clear_payload,
            "update_vectors": self.h_update_vectors, "delete_vectors": self.h_delete_vectors,
        }
        self.reset()

    def reset(self):
        with self.lock:
            self.collections = {}
            self.log = []
            self.scripts = []
            self.requests = 0
            self.body_counter = 0
            self.violations = []
            self.unsupported = []
            self.dropped_records = 0
            self.upserted_points = 0
            self.upsert_counts = {}
            self.upserts_per_id_max = 0
            self.resent_points = 0
            self.max_body_bytes = 0

    # ---- bookkeeping -------------------------------------------------------------------------------------

    def _record(self, lst, item):
        if len(lst) < MAX_RECORDED:
            lst.append(item)
        else:
            self.dropped_records += 1

    def violation(self, kind, req, message):
        self._record(self.violations, {"kind": kind, "method": req.method, "path": req.raw_path,
                                       "message": message})

    def note_error(self, req, err):
        if err.violation:
            self.violation(err.violation, req, err.message)
        if err.unsupported:
            self._record(self.unsupported, {"method": req.method, "path": req.raw_path, "message": err.message})

    # ---- scripted replies ----------------------------------------------------------------------------------

    def take_script(self, method, raw_path):
        with self.lock:
            for i, s in enumerate(self.scripts):
                m = s.get("method")
                if m and m.upper() != method.upper():
                    continue
                rx = s.get("path_regex")
                if rx and not re.search(rx, raw_path):
                    continue
                s["times"] -= 1
                if s["times"] <= 0:
                    del self.scripts[i]
                return s
        return None

    @staticmethod
    def scripted_response(script):
        if script.get("action") == "close":
            return Response(0, "", b"", action="close")
        status = int(script.get("status", 200))
        body = script.get("body")
        if body is None:
            if status >= 400:
                body = json_bytes({"status": {"error": "scripted %d reply from fake qdrant" % status}, "time": 0.0})
            else:
                body = json_bytes({"result": True, "status": "ok", "time": 0.0})
        elif isinstance(body, str):
            body = body.encode("utf-8")
        else:
            body = json_bytes(body)
        headers = tuple((str(k), str(v)) for k, v in (script.get("headers") or {}).items())
        return Response(status, script.get("content_type", "application/json"), body, headers)

    @staticmethod
    def is_passthrough(script):
        if script.get("passthrough") is True:
            return True
        return script.get("action") != "close" and "status" not in script and "body" not in script

    # ---- control endpoints ---------------------------------------------------------------------------------

    def control(self, method, raw_path, raw_query, raw_body):
        """The /__fake/ endpoints.

        POST /__fake/script: a JSON list (or one object) of scripted replies, appended to the queue. Each is
          {"method": "PUT", "path_regex": "/points$", "status": 429, "headers": {"Retry-After": "1"},
           "body": "<raw text>" or any JSON value (serialised), "content_type": "application/json",
           "times": 1, "delay_s": 0}
          or {"action": "close", ...} to drop the connection without answering (TCP reset). All keys are
          optional: method and path_regex match anything when left out (path_regex is re.search on the
          path without the query string); times defaults to 1; status defaults to 200; without body an
          error envelope (status >= 400) or {"result":true} is sent. An entry with "passthrough": true (or
          with neither status, body nor action) only delays the request (delay_s) and then lets the normal
          handling answer.
          The next request that matches takes the first matching entry. The scripted request is still
          validated (violations recorded) and logged, but it changes no state. Answer: {"pending": n}.
        GET /__fake/script: the pending entries. DELETE /__fake/script: drop them all.
        GET /__fake/log[?since=N]: list of {"method","path","query","status","bytes","points","ids","n_ids",
          "time","duration_s"[,"error"][,"scripted"][,"dropped"]}: query is the raw query string, bytes the
          request body size, points the number of points in an upsert body (0 for other requests), ids the
          ids upserted or deleted (null when there are more than 1000 or none), n_ids their count, time the
          arrival time (Unix seconds), error the message of every 4xx/5xx (or of a silent wait=false drop).
          status 0 = connection closed by a script.
        GET /__fake/stats, POST /__fake/reset."""
        with self.lock:
            try:
                if raw_path == "/__fake/script":
                    if method == "POST":
                        items = json.loads(raw_body or b"[]")
                        if isinstance(items, dict):
                            items = [items]
                        if not isinstance(items, list) or not all(isinstance(x, dict) for x in items):
                            return self._control_error(400, "expected a JSON list of objects")
                        for item in items:
                            if item.get("path_regex"):
                                re.compile(item["path_regex"])
                            entry = dict(item)
                            entry["times"] = int(entry.get("times", 1))
                            if entry["times"] > 0:
                                self.scripts.append(entry)
                        return self._control_ok({"pending": len(self.scripts)})
                    if method == "GET":
                        return self._control_ok(self.scripts)
                    if method == "DELETE":
                        self.scripts = []
                        return self._control_ok({"pending": 0})
                elif raw_path == "/__fake/log" and method == "GET":
                    q = dict(parse_qsl(raw_query))
                    return self._control_ok(self.log[int(q.get("since", 0)):])
                elif raw_path == "/__fake/stats" and method == "GET":
                    return self._control_ok(self.stats())
                elif raw_path == "/__fake/reset" and method == "POST":
                    self.reset()
                    return self._control_ok({"reset": True})
            except (ValueError, re.error) as e:
                return self._control_error(400, str(e))
            return self._control_error(404, "unknown control endpoint %s %s" % (method, raw_path))

    @staticmethod
    def _control_ok(obj):
        return Response(200, "application/json", json_bytes(obj))

    @staticmethod
    def _control_error(status, msg):
        return Response(status, "application/json", json_bytes({"error": msg}))

    def stats(self):
        return {
            "requests": self.requests,
            "violations": list(self.violations),
            "unsupported": list(self.unsupported),
            "dropped_records": self.dropped_records,
            "upserted_points": self.upserted_points,
            "upserts_per_id_max": self.upserts_per_id_max,
            "resent_points": self.resent_points,
            "max_body_bytes": self.max_body_bytes,
            "collections": {name: {"points": len(c.points), "operations": c.next_op}
                            for name, c in self.collections.items()},
        }

    # ---- request processing --------------------------------------------------------------------------------

    def process(self, method, raw_path, raw_query, headers, raw_body, nbytes, arrived, script=None):
        t0 = time.perf_counter()
        req = Request()
        req.method, req.raw_path, req.raw_query, req.headers = method, raw_path, raw_query, headers
        req.raw_body, req.nbytes, req.t0 = raw_body, nbytes, t0
        req.op = req.params = req.query = req.body = None
        req.validate = True
        entry = {"method": method, "path": raw_path, "query": raw_query, "status": None, "bytes": nbytes,
                 "points": 0, "ids": None, "n_ids": 0, "time": arrived}
        req.entry = entry
        with self.lock:
            self.requests += 1
            self.max_body_bytes = max(self.max_body_bytes, nbytes)
            try:
                resp = self._process(req, script)
            except Exception as e:  # a bug in the fake: answer 500 and record it
                msg = "fake qdrant internal error: %s: %s" % (type(e).__name__, e)
                self.violation("internal", req, msg)
                resp = self._error_response(req, QError(500, "Service internal error: " + msg))
            entry["status"] = resp.status
            entry["duration_s"] = round(time.perf_counter() - t0, 6)
            if script is not None:
                entry["scripted"] = True
                if resp.action == "close":
                    entry["error"] = "connection closed by script"
            elif resp.status >= 400 and "error" not in entry:
                entry["error"] = self._error_text(resp)
            self.log.append(entry)
        return resp

    @staticmethod
    def _error_text(resp):
        if resp.ctype.startswith("application/json"):
            try:
                return json.loads(resp.body)["status"]["error"]
            except (ValueError, KeyError, TypeError):
                pass
        return resp.body.decode("utf-8", "replace")[:500]

    def _process(self, req, script):
        if script is not None:
            try:
                self._validate(req)
            except QError as e:
                self.note_error(req, e)
            self._log_points(req)
            return self.scripted_response(script)
        bad_auth = self._auth_error(req)
        if bad_auth is not None:
            return Response(401, "text/plain; charset=utf-8", bad_auth.encode("utf-8"))
        try:
            self._validate(req)
            self._log_points(req)
            handler = self.handlers.get(req.op.op_id)
            if handler is None:
                raise unsupported("unsupported endpoint %s %s" % (req.op.method, req.op.template))
            result = handler(req)
            if isinstance(result, Response):
                return result
            if isinstance(result, Raw):
                obj = result.obj
            else:
                obj = {"result": result, "status": "ok", "time": round(time.perf_counter() - req.t0, 6)}
            if req.validate and req.op.resp_ok is not None:
                err = self.spec.first_error(req.op.resp_ok, obj)
                if err is not None:
                    self.violation("response", req, "%s %s: %s" % (req.op.method, req.op.template, err))
            return Response(200, "application/json", json_bytes(obj))
        except QError as e:
            if req.entry["ids"] is None and not req.entry["n_ids"]:
                self._log_points(req)
            self.note_error(req, e)
            return self._error_response(req, e)

    def _error_response(self, req, err):
        obj = {"status": {"error": err.message}, "time": round(time.perf_counter() - req.t0, 6)}
        if req.op is not None and req.op.resp_err is not None:
            problem = self.spec.first_error(req.op.resp_err, obj)
            if problem is not None:
                self.violation("response", req, "error envelope: " + problem)
        return Response(err.status, "application/json", json_bytes(obj))

    def _auth_error(self, req):
        if not self.api_key or req.raw_path in AUTH_WHITELIST:
            return None
        key = req.headers.get("api-key")
        bearer = req.headers.get("Authorization")
        if key is None and bearer is None:
            return "Must provide an API key or an Authorization bearer token"
        if key is not None and hmac.compare_digest(key.encode(), self.api_key.encode()):
            return None
        if bearer is not None:
            parts = bearer.split(None, 1)
            if (len(parts) == 2 and parts[0].lower() == "bearer"
                    and hmac.compare_digest(parts[1].strip().encode(), self.api_key.encode())):
                return None
        return "Invalid API key or JWT"

    def _validate(self, req):
        """Route, query parameters and body against the OpenAPI document. Raises QError."""
        op, params = self.spec.match(req.method, req.raw_path)
        if op is None:
            raise QError(404, "Not found: no route for %s %s in the OpenAPI document" % (req.method, req.raw_path),
                         violation="path")
        req.op, req.params = op, params
        if op.legacy:
            self.violation("legacy", req, "%s %s is not in the OpenAPI document %s (removed from the spec in 1.19; "
                           "the server still serves it): use POST /collections/{collection_name}/points/query"
                           % (op.method, op.template, self.spec.version))
        # query parameters
        query = {}
        for name, raw in parse_qsl(req.raw_query, keep_blank_values=True):
            decl = op.query_params.get(name)
            if decl is None:
                raise QError(400, "Bad request: unknown query parameter %s" % name, violation="query")
            value = self._query_value(decl[0], raw)
            if value is _INVALID:
                raise QError(400, "Bad request: invalid value %s for query parameter %s" % (json.dumps(raw), name),
                             violation="query")
            query[name] = value
        for name, (_, required) in op.query_params.items():
            if required and name not in query:
                raise QError(400, "Bad request: missing query parameter %s" % name, violation="query")
        req.query = query
        # body
        if op.body_schema is None and not op.body_types:
            return
        self.body_counter += 1
        req.validate = (self.body_counter - 1) % self.validate_every == 0
        if req.nbytes > self.max_body:
            raise QError(400, "JSON payload (%d bytes) is larger than allowed (limit: %d bytes)." %
                         (req.nbytes, self.max_body))
        if op.body_schema is None:
            raise unsupported("request body type %s" % ", ".join(op.body_types))
        ctype = (req.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise QError(400, "Bad request: Content type error: expected application/json, got %s" %
                         (ctype or "no Content-Type"), violation="request")
        if not req.raw_body:
            raise format_error("EOF while parsing a value at line 1 column 0")
        try:
            req.body = json.loads(req.raw_body.decode("utf-8"), parse_constant=_reject_constant)
        except (UnicodeDecodeError, ValueError) as e:
            raise format_error(str(e))
        if req.validate:
            err = self.spec.first_error(op.body_schema, req.body)
            if err is not None:
                raise format_error(err)
        if not isinstance(req.body, dict):
            raise format_error("invalid type: expected a JSON object")

    def _query_value(self, schema, raw):
        candidates = []
        if re.fullmatch(r"-?\d+", raw):
            candidates.append(int(raw))
        if raw in ("true", "false"):
            candidates.append(raw == "true")
        candidates.append(raw)
        for c in candidates:
            if self.spec.first_error(schema, c) is None:
                return c
        return _INVALID

    def _log_points(self, req):
        body, op = req.body, req.op
        if not isinstance(body, dict) or op is None:
            return
        ids = None
        if op.op_id == "upsert_points":
            if isinstance(body.get("batch"), dict) and isinstance(body["batch"].get("ids"), list):
                ids = body["batch"]["ids"]
            elif isinstance(body.get("points"), list):
                ids = [p.get("id") if isinstance(p, dict) else None for p in body["points"]]
            if ids is not None:
                req.entry["points"] = len(ids)
        elif op.op_id == "delete_points" and isinstance(body.get("points"), list):
            ids = body["points"]
        if ids is not None:
            self._log_ids(req, ids)

    @staticmethod
    def _log_ids(req, ids):
        req.entry["n_ids"] = len(ids)
        req.entry["ids"] = [loggable_id(i) for i in ids] if len(ids) <= MAX_LOGGED_IDS else None

    # ---- helpers for handlers ------------------------------------------------------------------------------

    def coll(self, req):
        name = req.params["collection_name"]
        c = self.collections.get(name)
        if c is None:
            raise collection_missing(name)
        return c

    @staticmethod
    def update_result(req, op_id):
        return {"operation_id": op_id, "status": "completed" if req.query.get("wait") is True else "acknowledged"}

    @staticmethod
    def check_name(kind, name, where, limit):
        if len(name.encode("utf-8")) > limit or (kind == "collection" and not name):
            raise QError(422, "Validation error in %s: %s name must be between 1 and %d bytes long"
                         % (where, kind, limit))
        for ch in name:
            if ch in FORBIDDEN_NAME_CHARS:
                raise QError(422, "Validation error in %s: %s name cannot contain %s char"
                             % (where, kind, json.dumps(ch)))

    def selection(self, req, coll, body, fc):
        """Point ids chosen by a PointsSelector-like body: {"points": [...]} or {"filter": {...}}."""
        if body.get("points") is not None:
            if not isinstance(body["points"], list):
                raise format_error("points: expected an array of point ids")
            return [parse_point_id(x) for x in body["points"]]
        if body.get("filter") is not None:
            pred = fc.filter(body["filter"])
            return [pid for pid, p in coll.points.items() if pred(pid, p.payload, p)]
        raise format_error("data did not match any variant of untagged enum PointsSelector")

    # ---- service endpoints ---------------------------------------------------------------------------------

    def h_root(self, req):
        return Raw({"title": "qdrant - vector search engine", "version": QDRANT_VERSION, "commit": QDRANT_COMMIT})

    def h_healthz(self, req):
        return Response(200, "text/plain; charset=utf-8", b"healthz check passed")

    def h_readyz(self, req):
        return Response(200, "text/plain; charset=utf-8", b"all shards are ready")

    # ---- collections ---------------------------------------------------------------------------------------

    def h_get_collections(self, req):
        return {"collections": [{"name": n} for n in self.collections]}

    def h_collection_exists(self, req):
        return {"exists": req.params["collection_name"] in self.collections}

    def h_delete_collection(self, req):
        return self.collections.pop(req.params["collection_name"], None) is not None

    def _vector_params(self, name, vp):
        if not isinstance(vp, dict):
            raise format_error("vectors: expected VectorParams")
        size, distance = vp.get("size"), vp.get("distance")
        if type(size) is not int:
            raise format_error("vectors%s: missing or invalid field `size`" % ("." + name if name else ""))
        if size < 1:
            raise QError(422, "Validation error in JSON body: vectors.size: value 0 invalid, must be 1 or larger")
        if distance not in DISTANCES:
            raise format_error("unknown variant `%s`, expected one of `Cosine`, `Euclid`, `Dot`, `Manhattan`"
                               % distance)
        allowed = self.spec.doc["components"]["schemas"]["VectorParams"].get("properties", {})
        out = {k: v for k, v in vp.items() if k in allowed and v is not None}
        return size, distance, out

    def _merge_config(self, current, diff, schema_name):
        """Applies the keys of a *Diff object that keep the output schema valid."""
        if not isinstance(diff, dict):
            return current
        merged = dict(current)
        schema = self.spec.schema(schema_name)
        for k, v in diff.items():
            if v is None:
                continue
            trial = dict(merged)
            trial[k] = v
            if self.spec.first_error(schema, trial) is None:
                merged = trial
        return merged

    def h_create_collection(self, req):
        name = req.params["collection_name"]
        self.check_name("collection", name, "path parameters", 255)
        body = req.body
        if name in self.collections:
            raise QError(409, "Wrong input: Collection `%s` already exists!" % name)
        vectors = body.get("vectors")
        dense, single, vectors_out = [], False, {}
        if vectors is None:
            pass  # a collection without dense vectors (for example when the key was misspelled)
        elif isinstance(vectors, dict) and not all(isinstance(v, dict) for v in vectors.values()):
            size, distance, out = self._vector_params("", vectors)
            dense, single, vectors_out = [("", size, distance)], True, out
        elif isinstance(vectors, dict):
            for vname, vp in vectors.items():
                self.check_name("vector", vname, "JSON body", 200)
                size, distance, out = self._vector_params(vname, vp)
                dense.append((vname, size, distance))
                vectors_out[vname] = out
        else:
            raise format_error("vectors: data did not match any variant of untagged enum VectorsConfig")
        sparse_cfg = body.get("sparse_vectors")
        sparse = []
        if sparse_cfg is not None:
            if not isinstance(sparse_cfg, dict):
                raise format_error("sparse_vectors: expected a map")
            for sname, sp in sparse_cfg.items():
                self.check_name("vector", sname, "JSON body", 200)
                if any(sname == d[0] for d in dense):
                    raise wrong_input("Vector name %s is used by both a dense and a sparse vector" % sname)
                sparse.append((sname, sp or {}))
        metadata = body.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise format_error("metadata: expected a JSON object")
        c = Collection(name, single, dense, sparse)
        c.vectors_out = vectors_out
        c.sparse_out = {n: {k: v for k, v in sp.items() if v is not None} for n, sp in sparse} if sparse else None
        c.metadata = metadata
        c.hnsw = self._merge_config(c.hnsw, body.get("hnsw_config"), "HnswConfig")
        c.optimizer = self._merge_config(c.optimizer, body.get("optimizers_config"), "OptimizersConfig")
        c.wal = self._merge_config(c.wal, body.get("wal_config"), "WalConfig")
        if body.get("quantization_config") is not None:
            c.quantization = body["quantization_config"]
        self.collections[name] = c
        return True

    def h_update_collection(self, req):
        c = self.coll(req)
        body = req.body
        meta = body.get("metadata")
        if meta is not None:
            if not isinstance(meta, dict):
                raise format_error("metadata: expected a JSON object")
            merged = dict(c.metadata or {})
            for k, v in meta.items():
                if v is None:
                    merged.pop(k, None)  # "Individual keys can be removed by setting their value to null"
                else:
                    merged[k] = v
            c.metadata = merged
        vectors = body.get("vectors")
        if isinstance(vectors, dict):
            for vname, diff in vectors.items():
                if vname not in c.slot or vname in c.sparse:
                    raise wrong_input("Not existing vector name error: %s" % vname)
                if isinstance(diff, dict):
                    target = c.vectors_out if c.single else c.vectors_out[vname]
                    for k in ("hnsw_config", "quantization_config", "on_disk", "memory"):
                        if diff.get(k) is not None:
                            target[k] = diff[k]
        c.hnsw = self._merge_config(c.hnsw, body.get("hnsw_config"), "HnswConfig")
        c.optimizer = self._merge_config(c.optimizer, body.get("optimizers_config"), "OptimizersConfig")
        if isinstance(body.get("quantization_config"), dict):
            c.quantization = body["quantization_config"]
        return True

    def h_get_collection(self, req):
        c = self.coll(req)
        params = {"vectors": c.vectors_out, "shard_number": 1, "replication_factor": 1,
                  "write_consistency_factor": 1, "on_disk_payload": True}
        if c.sparse_out:
            params["sparse_vectors"] = c.sparse_out
        config = {"params": params, "hnsw_config": c.hnsw, "optimizer_config": c.optimizer, "wal_config": c.wal}
        if c.quantization is not None:
            config["quantization_config"] = c.quantization
        if c.metadata is not None:
            config["metadata"] = c.metadata
        schema = {}
        for field, (data_type, fparams) in c.indexes.items():
            get = value_getter(parse_key_path(field))
            n = 0
            for p in c.points.values():
                for v in get(p.payload):
                    if v is not None and v != []:
                        n += 1
                        break
            info = {"data_type": data_type, "points": n}
            if fparams is not None:
                info["params"] = fparams
            schema[field] = info
        return {"status": "green", "optimizer_status": "ok", "indexed_vectors_count": 0,
                "points_count": len(c.points), "segments_count": 1, "config": config, "payload_schema": schema}

    def h_create_field_index(self, req):
        c = self.coll(req)
        body = req.body
        field = body.get("field_name")
        if type(field) is not str:
            raise format_error("missing field `field_name`")
        parse_key_path(field)
        fs = body.get("field_schema")
        if fs is None:
            get = value_getter(parse_key_path(field))
            fs = None
            for p in c.points.values():
                for v in get(p.payload):
                    x = v[0] if type(v) is list and v else v
                    fs = ("bool" if type(x) is bool else "integer" if type(x) is int else
                          "float" if type(x) is float else "keyword" if type(x) is str else None)
                    if fs:
                        break
                if fs:
                    break
            if fs is None:
                raise QError(400, "Bad request: Can't infer type of field `%s`: specify field_schema" % field)
            data_type, fparams = fs, None
        elif type(fs) is str:
            data_type, fparams = fs, None
        elif isinstance(fs, dict):
            data_type, fparams = fs.get("type"), fs
        else:
            raise format_error("field_schema: data did not match any variant of untagged enum PayloadFieldSchema")
        if data_type not in PAYLOAD_TYPES:
            raise format_error("unknown variant `%s`, expected one of %s" %
                               (data_type, ", ".join("`%s`" % t for t in PAYLOAD_TYPES)))
        c.indexes[field] = (data_type, fparams)
        return self.update_result(req, c.new_op())

    def h_delete_field_index(self, req):
        c = self.coll(req)
        c.indexes.pop(req.params["field_name"], None)
        return self.update_result(req, c.new_op())

    # ---- point writes --------------------------------------------------------------------------------------

    def _named_vectors(self, raw, where):
        """VectorStruct -> {name: raw vector}."""
        if isinstance(raw, list):
            if raw and isinstance(raw[0], list):
                raise unsupported("unsupported vector kind: multivector (%s)" % where)
            return {"": raw}
        if isinstance(raw, dict):
            if "model" in raw and ("text" in raw or "image" in raw or "object" in raw):
                raise unsupported("unsupported vector kind: inference object (%s)" % where)
            return raw
        raise format_error("%s: data did not match any variant of untagged enum VectorStruct" % where)

    def _build_vectors(self, c, named, where):
        """{name: raw} -> (vecs aligned with the collection's slots, first unknown name or None). Raises for
        wrong dimensions and malformed vectors (checked before the WAL write, so also with wait=false)."""
        vecs = [None] * len(c.names)
        unknown = None
        for name, raw in named.items():
            kind = vector_kind(raw)
            if kind == "multi":
                raise unsupported("unsupported vector kind: multivector (%s)" % where)
            if kind == "inference":
                raise unsupported("unsupported vector kind: inference object (%s)" % where)
            if kind == "bad":
                raise format_error("%s%s: data did not match any variant of untagged enum Vector"
                                   % (where, "." + name if name else ""))
            i = c.slot.get(name)
            if i is None:
                if unknown is None:
                    unknown = name
                continue
            if name in c.sparse:
                if kind != "sparse":
                    raise wrong_input("Conversion between sparse and regular vectors failed")
                vecs[i] = make_sparse(raw)
            else:
                if kind != "dense":
                    raise wrong_input("Conversion between sparse and regular vectors failed")
                if len(raw) != c.dims[i]:
                    raise wrong_input("Vector dimension error: expected dim: %d, got %d" % (c.dims[i], len(raw)))
                vecs[i] = make_dense(raw, c.dist[i] == "Cosine")
        return vecs, unknown

    def h_upsert_points(self, req):
        c = self.coll(req)
        body = req.body
        wait = req.query.get("wait") is True
        items = []  # (id, {name: raw vector}, payload)
        if isinstance(body.get("batch"), dict):
            b = body["batch"]
            ids, vectors, payloads = b.get("ids"), b.get("vectors"), b.get("payloads")
            if not isinstance(ids, list):
                raise format_error("batch: missing field `ids`")
            n = len(ids)
            if isinstance(vectors, list):
                if vectors and isinstance(vectors[0], list) and vectors[0] and isinstance(vectors[0][0], list):
                    raise unsupported("unsupported vector kind: multivector (batch)")
                if len(vectors) != n:
                    raise QError(422, "Validation error in JSON body: batch: number of ids and vectors must be equal")
                per_point = [{"": v} for v in vectors]
            elif isinstance(vectors, dict):
                for vname, lst in vectors.items():
                    if not isinstance(lst, list):
                        raise format_error("batch.vectors.%s: expected an array of vectors" % vname)
                    if len(lst) != n:
                        raise QError(422, "Validation error in JSON body: batch: number of ids and vectors must "
                                          "be equal")
                per_point = [{vname: lst[i] for vname, lst in vectors.items()} for i in range(n)]
            else:
                raise format_error("batch: data did not match any variant of untagged enum BatchVectorStruct")
            if payloads is not None:
                if not isinstance(payloads, list):
                    raise format_error("batch.payloads: expected an array")
                if len(payloads) != n:
                    raise QError(422, "Validation error in JSON body: batch: number of ids and payloads must be "
                                      "equal")
            for i in range(n):
                items.append((ids[i], per_point[i], payloads[i] if payloads is not None else None))
        elif isinstance(body.get("points"), list):
            for k, p in enumerate(body["points"]):
                if not isinstance(p, dict) or "id" not in p or "vector" not in p:
                    raise format_error("points[%d]: missing field `%s`" %
                                       (k, "id" if not isinstance(p, dict) or "id" not in p else "vector"))
                items.append((p["id"], self._named_vectors(p["vector"], "points[%d].vector" % k), p.get("payload")))
        else:
            raise format_error("data did not match any variant of untagged enum PointInsertOperations")
        mode = body.get("update_mode") or "upsert"
        if mode not in ("upsert", "insert_only", "update_only"):
            raise format_error("update_mode: unknown variant `%s`" % mode)
        fc = FilterCompiler(c)
        update_filter = fc.filter(body.get("update_filter"))
        built, unknown = [], None
        for k, (raw_id, named, payload) in enumerate(items):
            pid = parse_point_id(raw_id)
            if not isinstance(named, dict):
                raise format_error("vectors of point %s: expected a map" % json.dumps(raw_id))
            vecs, unk = self._build_vectors(c, named, "points[%d].vector" % k)
            if unk is not None and unknown is None:
                unknown = unk
            if payload is None:
                payload = {}
            elif not isinstance(payload, dict):
                raise format_error("payload of point %s: expected a JSON object" % json.dumps(raw_id))
            built.append((pid, vecs, payload))
        op_id = c.new_op()
        if unknown is not None:
            msg = "Wrong input: Not existing vector name error: %s" % unknown
            if wait:
                raise QError(400, msg)
            # wait=false: the server acknowledges, then fails while applying; the points are lost (issue 9521)
            req.entry["error"] = "silently dropped (wait=false): " + msg
            req.entry["dropped"] = len(built)
            return self.update_result(req, op_id)
        counts = self.upsert_counts.setdefault(c.name, {})
        for pid, vecs, payload in built:
            self.upserted_points += 1
            n = counts.get(pid, 0) + 1
            counts[pid] = n
            if n > self.upserts_per_id_max:
                self.upserts_per_id_max = n
            old = c.points.get(pid)
            if old is not None and old.vecs == vecs and old.payload == payload:
                self.resent_points += 1
            if mode == "insert_only" and old is not None:
                continue
            if mode == "update_only" and old is None:
                continue
            if update_filter is not None and old is not None and not update_filter(pid, old.payload, old):
                continue
            c.put(pid, Point(vecs, payload, op_id))
        return self.update_result(req, op_id)

    def h_delete_points(self, req):
        c = self.coll(req)
        ids = self.selection(req, c, req.body, FilterCompiler(c))
        if req.body.get("points") is None:
            self._log_ids(req, ids)
        op_id = c.new_op()
        for pid in ids:
            c.remove(pid)
        return self.update_result(req, op_id)

    def _selected_points(self, c, body, fc):
        return [(pid, c.points[pid]) for pid in self.selection(None, c, body, fc) if pid in c.points]

    def h_set_payload(self, req, overwrite=False):
        c = self.coll(req)
        body = req.body
        payload = body.get("payload")
        if not isinstance(payload, dict):
            raise format_error("payload: expected a JSON object")
        if body.get("key") is not None:
            raise unsupported("set payload with `key`")
        chosen = self._selected_points(c, body, FilterCompiler(c))
        op_id = c.new_op()
        for pid, p in chosen:
            new = dict(payload) if overwrite else {**p.payload, **payload}
            c.points[pid] = Point(p.vecs, new, op_id)
        return self.update_result(req, op_id)

    def h_overwrite_payload(self, req):
        return self.h_set_payload(req, overwrite=True)

    def h_delete_payload(self, req):
        c = self.coll(req)
        keys = req.body.get("keys")
        if not isinstance(keys, list):
            raise format_error("missing field `keys`")
        chosen = self._selected_points(c, req.body, FilterCompiler(c))
        op_id = c.new_op()
        for pid, p in chosen:
            c.points[pid] = Point(p.vecs, select_payload(p.payload, {"exclude": keys}), op_id)
        return self.update_result(req, op_id)

    def h_clear_payload(self, req):
        c = self.coll(req)
        chosen = self._selected_points(c, req.body, FilterCompiler(c))
        op_id = c.new_op()
        for pid, p in chosen:
            c.points[pid] = Point(p.vecs, {}, op_id)
        return self.update_result(req, op_id)

    def h_update_vectors(self, req):
        c = self.coll(req)
        pts = req.body.get("points")
        if not isinstance(pts, list):
            raise format_error("missing field `points`")
        updates = []
        for k, p in enumerate(pts):
            if not isinstance(p, dict) or "id" not in p or "vector" not in p:
                raise format_error("points[%d]: missing field `id` or `vector`" % k)
            pid = parse_point_id(p["id"])
            vecs, unknown = self._build_vectors(c, self._named_vectors(p["vector"], "points[%d].vector" % k),
                                                "points[%d].vector" % k)
            if unknown is not None:
                raise wrong_input("Not existing vector name error: %s" % unknown)
            if pid not in c.points:
                raise QError(404, "Not found: No point with id %s found" % pid)
            updates.append((pid, vecs))
        op_id = c.new_op()
        for pid, vecs in updates:
            old = c.points[pid]
            merged = [n if n is not None else o for n, o in zip(vecs, old.vecs)]
            c.points[pid] = Point(merged, old.payload, op_id)
        return self.update_result(req, op_id)

    def h_delete_vectors(self, req):
        c = self.coll(req)
        names = req.body.get("vector")
        if not isinstance(names, list):
            raise format_error("missing field `vector`")
        slots = []
        for name in names:
            if name not in c.slot:
                raise wrong_input("Not existing vector name error: %s" % name)
            slots.append(c.slot[name])
        chosen = self._selected_points(c, req.body, FilterCompiler(c))
        op_id = c.new_op()
        for pid, p in chosen:
            vecs = list(p.vecs)
            for i in slots:
                vecs[i] = None
            c.points[pid] = Point(vecs, p.payload, op_id)
        return self.update_result(req, op_id)

    # ---- point reads ---------------------------------------------------------------------------------------

    def h_get_point(self, req):
        c = self.coll(req)
        pid = parse_path_point_id(req.params["id"])
        p = c.points.get(pid)
        if p is None:
            raise QError(404, "Not found: No point with id %s found" % pid)
        return record_output(c, pid, p, True, True)

    def h_get_points(self, req):
        c = self.coll(req)
        body = req.body
        ids = body.get("ids")
        if not isinstance(ids, list):
            raise format_error("missing field `ids`")
        wp = body_option(body, "with_payload", True)
        wv = body_option(body, "with_vector", False, "with_vectors")
        check_vector_selector(c, wv)
        out, seen = [], set()
        for raw in ids:
            pid = parse_point_id(raw)
            if pid in seen:
                continue
            seen.add(pid)
            p = c.points.get(pid)
            if p is not None:
                out.append(record_output(c, pid, p, wp, wv))
        return out

    @staticmethod
    def _limit(body, name="limit", default=10):
        v = body.get(name)
        if v is None:
            return default
        if type(v) is not int:
            raise format_error("%s: invalid type, expected an unsigned integer" % name)
        if v < 1:
            raise QError(422, "Validation error in JSON body: %s: value %d invalid, must be 1 or larger" % (name, v))
        return v

    def h_scroll_points(self, req):
        c = self.coll(req)
        body = req.body
        if body.get("order_by") is not None:
            raise unsupported("scroll with order_by")
        limit = self._limit(body)
        offset = body.get("offset")
        offset = None if offset is None else parse_point_id(offset)
        pred = FilterCompiler(c).filter(body.get("filter"))
        wp = body_option(body, "with_payload", True)
        wv = body_option(body, "with_vector", False, "with_vectors")
        check_vector_selector(c, wv)
        points, out, next_offset = c.points, [], None
        for pid in c.ids_from(offset):
            p = points[pid]
            if pred is not None and not pred(pid, p.payload, p):
                continue
            if len(out) == limit:
                next_offset = pid
                break
            out.append(record_output(c, pid, p, wp, wv))
        return {"points": out, "next_page_offset": next_offset}

    def h_count_points(self, req):
        c = self.coll(req)
        pred = FilterCompiler(c).filter(req.body.get("filter"))
        if pred is None:
            return {"count": len(c.points)}
        return {"count": sum(1 for pid, p in c.points.items() if pred(pid, p.payload, p))}

    def _query(self, c, body):
        """One QueryRequest -> list of ScoredPoint."""
        if body.get("prefetch") not in (None, []) or body.get("lookup_from") is not None:
            raise unsupported("unsupported query kind")
        limit = self._limit(body)
        offset = body.get("offset") or 0
        if type(offset) is not int or offset < 0:
            raise format_error("offset: expected an unsigned integer")
        threshold = body.get("score_threshold")
        if threshold is not None and not is_number(threshold):
            raise format_error("score_threshold: expected a number")
        wp = body_option(body, "with_payload", False)
        wv = body_option(body, "with_vector", False, "with_vectors")
        check_vector_selector(c, wv)
        pred = FilterCompiler(c).filter(body.get("filter"))
        query = body.get("query")
        using = body.get("using")
        name = "" if using is None else using
        if type(name) is not str:
            raise format_error("using: expected a string")
        if query is None:
            # without a query the points come back ordered by id
            out = []
            for pid in c.ids_from(None):
                p = c.points[pid]
                if pred is not None and not pred(pid, p.payload, p):
                    continue
                if offset:
                    offset -= 1
                    continue
                out.append(record_output(c, pid, p, wp, wv, score=0.0))
                if len(out) == limit:
                    break
            return out
        if isinstance(query, dict):
            if set(query) - {"mmr"} == {"nearest"} and query.get("mmr") is None:
                query = query["nearest"]
            else:
                raise unsupported("unsupported query kind")
        if not isinstance(query, list) or not query or not set(map(type, query)) <= _NUMBER_TYPES:
            raise unsupported("unsupported query kind")
        i = c.slot.get(name)
        if i is None:
            raise wrong_input("Not existing vector name error: %s" % name)
        if name in c.sparse:
            raise unsupported("unsupported query kind")
        if len(query) != c.dims[i]:
            raise wrong_input("Vector dimension error: expected dim: %d, got %d" % (c.dims[i], len(query)))
        hits = self._exact_search(c, i, query, pred, offset + limit, threshold)
        return [record_output(c, pid, p, wp, wv, score=score) for _, _, pid, score, p in hits[offset:]]

    @staticmethod
    def _exact_search(c, i, query, pred, k, threshold):
        distance = c.dist[i]
        q = make_dense(query, distance == "Cosine").tolist()
        larger = LARGER_IS_BETTER[distance]
        if distance == "Euclid":
            dist = math.dist
            score_of = lambda v: dist(q, v)  # noqa: E731
        elif distance == "Manhattan":
            sub = operator.sub
            score_of = lambda v: sum(map(abs, map(sub, q, v)))  # noqa: E731
        else:
            mul = operator.mul
            score_of = lambda v: sum(map(mul, q, v))  # noqa: E731

        def candidates():
            for pid, p in c.points.items():
                v = p.vecs[i]
                if v is None:
                    continue
                if pred is not None and not pred(pid, p.payload, p):
                    continue
                s = score_of(v)
                if threshold is not None and not (s > threshold if larger else s < threshold):
                    continue
                yield (-s if larger else s, (0, pid) if type(pid) is int else (1, pid), pid, s, p)
        return heapq.nsmallest(k, candidates())

    def h_query_points(self, req):
        c = self.coll(req)
        return {"points": self._query(c, req.body)}

    def h_query_batch_points(self, req):
        c = self.coll(req)
        searches = req.body.get("searches")
        if not isinstance(searches, list):
            raise format_error("missing field `searches`")
        return [{"points": self._query(c, s if isinstance(s, dict) else {})} for s in searches]

    def h_search_points(self, req):
        """Legacy POST /points/search: {"vector": [..] | {"name", "vector"}, "limit"|"top", ...}; bare list."""
        c = self.coll(req)
        body = req.body
        vec = body.get("vector")
        if vec is None:
            raise format_error("missing field `vector`")
        if isinstance(vec, dict):
            if set(vec) - {"name", "vector"} or not isinstance(vec.get("vector"), list):
                raise unsupported("unsupported query kind")
            query = {"query": vec["vector"], "using": vec.get("name")}
        else:
            query = {"query": vec}
        limit = body.get("limit", body.get("top"))
        if limit is None:
            raise format_error("missing field `limit`")
        query["limit"] = limit
        for k in ("filter", "offset", "score_threshold", "with_payload", "params"):
            if k in body:
                query[k] = body[k]
        query["with_vector"] = body_option(body, "with_vector", False, "with_vectors")
        return self._query(c, query)


_INVALID = object()


# ----------------------------------------------------------------------------------------------------------
# HTTP


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-qdrant/" + QDRANT_VERSION
    sys_version = ""

    def log_message(self, fmt, *args):  # keep stderr quiet
        pass

    def setup(self):
        super().setup()
        # Headers and body leave in two writes; without TCP_NODELAY the second waits for the
        # client's delayed ACK (40 ms a request), which would make every client look slow.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self):
        self._dispatch()

    do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _read_body(self, limit):
        """Reads the whole body (Content-Length or chunked). Bytes beyond limit are read and discarded.
        Returns (bytes or None when too large, number of bytes)."""
        chunks, total = [], 0
        rfile = self.rfile
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            while True:
                line = rfile.readline(65537)
                if not line:
                    raise ConnectionError("EOF in chunked body")
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                left = size
                while left:
                    data = rfile.read(min(left, 1 << 20))
                    if not data:
                        raise ConnectionError("EOF in chunked body")
                    left -= len(data)
                    total += len(data)
                    if total <= limit:
                        chunks.append(data)
                rfile.readline(65537)
        else:
            left = int(self.headers.get("Content-Length") or 0)
            while left > 0:
                data = rfile.read(min(left, 1 << 20))
                if not data:
                    raise ConnectionError("EOF in body")
                left -= len(data)
                total += len(data)
                if total <= limit:
                    chunks.append(data)
        return (b"".join(chunks) if total <= limit else None), total

    def _dispatch(self):
        fake = self.server.fake
        arrived = time.time()
        try:
            raw_body, nbytes = self._read_body(fake.max_body)
        except (ConnectionError, ValueError, OSError):
            self.close_connection = True
            return
        split = urlsplit(self.path)
        raw_path, raw_query = split.path, split.query
        method = self.command
        if raw_path.startswith("/__fake/"):
            self._send(fake.control(method, raw_path, raw_query, raw_body))
            return
        script = fake.take_script(method, raw_path)
        if script is not None:
            delay = float(script.get("delay_s") or 0)
            if delay > 0:
                time.sleep(delay)
            if fake.is_passthrough(script):
                script = None
        resp = fake.process(method, raw_path, raw_query, self.headers, raw_body, nbytes, arrived, script)
        if resp.action == "close":
            try:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
            self.close_connection = True
            return
        self._send(resp)

    def _send(self, resp):
        try:
            self.send_response(resp.status)
            self.send_header("Content-Type", resp.ctype)
            self.send_header("Content-Length", str(len(resp.body)))
            for k, v in resp.headers:
                self.send_header(k, v)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(resp.body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main(argv=None):
    ap = argparse.ArgumentParser(description="Loopback fake of the Qdrant REST API v1.19.0")
    ap.add_argument("--spec", required=True, help="path to Qdrant's OpenAPI document (JSON)")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--api-key", default=None)
    ap.add_argument("--validate-every", type=int, default=1,
                    help="validate 1 request body (and its answer) in N against the schema")
    ap.add_argument("--max-body", type=int, default=DEFAULT_MAX_BODY)
    args = ap.parse_args(argv)
    fake = FakeQdrant(Spec(args.spec), api_key=args.api_key, validate_every=args.validate_every,
                      max_body=args.max_body)
    server = Server((args.host, args.port), Handler)
    server.fake = fake

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stdout.write("%d\n" % server.server_address[1])
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    except (SystemExit, KeyboardInterrupt):
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
