#!/usr/bin/python3
"""Self-test of tests/fake_qdrant.py.

    /usr/bin/python3 tests/test_fake_qdrant.py /work/shared/specs/qdrant-openapi-v1.19.0.json

Starts the fake as a subprocess (port 0), drives it with urllib / http.client only, checks the answers against
the behaviours in qdrant-rest.md and against brute-force expectations computed here, prints a one-line summary
and exits non-zero on any failure."""

import array
import http.client
import json
import math
import os
import random
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
FAKE = os.path.join(HERE, "fake_qdrant.py")


class Fake:
    def __init__(self, spec, *extra):
        self.proc = subprocess.Popen([sys.executable, FAKE, "--spec", spec, "--port", "0", *extra],
                                     stdout=subprocess.PIPE)
        line = self.proc.stdout.readline().decode().strip()
        if not line.isdigit():
            raise RuntimeError("fake did not print its port (got %r)" % line)
        self.port = int(line)
        self.base = "http://127.0.0.1:%d" % self.port

    def call(self, method, path, body=None, headers=None, raw=None, ctype="application/json"):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None and ctype:
            req.add_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, hdrs, payload = resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as e:
            status, hdrs, payload = e.code, e.headers, e.read()
        ct = hdrs.get("Content-Type", "")
        if ct.startswith("application/json") and payload:
            return status, hdrs, json.loads(payload)
        return status, hdrs, payload.decode("utf-8", "replace")

    def stats(self):
        return self.call("GET", "/__fake/stats")[2]

    def stop(self):
        self.proc.terminate()
        try:
            return self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return -9


class Checks:
    def __init__(self):
        self.passed = 0
        self.failures = []

    def ok(self, cond, name, detail=""):
        if cond:
            self.passed += 1
        else:
            self.failures.append(name)
            print("FAIL %s %s" % (name, str(detail)[:600]))
        return cond

    def eq(self, got, want, name):
        return self.ok(got == want, name, "got %r, want %r" % (got, want))


def f32(v):
    return array.array("f", v).tolist()


def unit(v):
    v = f32(v)
    n = math.hypot(*v)
    return f32([x / n for x in v]) if n > 1.1920929e-07 else v


def id_key(pid):
    return (0, pid) if isinstance(pid, int) else (1, pid)


def error_of(body):
    return body.get("status", {}).get("error") if isinstance(body, dict) else body


def main():
    if len(sys.argv) != 2:
        print("usage: test_fake_qdrant.py PATH_TO_OPENAPI_JSON")
        return 2
    spec_path = sys.argv[1]
    sys.path.insert(0, HERE)
    import fake_qdrant  # for an independent look at the spec's schemas

    spec = fake_qdrant.Spec(spec_path)
    t = Checks()
    started = time.time()
    fake = guarded = None
    expected_request_violations = 0
    try:
        fake = Fake(spec_path)
        guarded = Fake(spec_path, "--api-key", "s3cret", "--max-body", "1000")
        rng = random.Random(20240519)

        # ---- service ------------------------------------------------------------------------------------
        st, _, body = fake.call("GET", "/")
        t.eq((st, body.get("title"), body.get("version")), (200, "qdrant - vector search engine", "1.19.0"), "GET /")
        t.eq(spec.first_error(spec.schema("VersionInfo"), body), None, "GET / validates")
        st, hdrs, body = fake.call("GET", "/healthz")
        t.ok(st == 200 and hdrs.get("Content-Type", "").startswith("text/plain"), "healthz", (st, body))

        # ---- collections --------------------------------------------------------------------------------
        create = {"vectors": {"a": {"size": 28, "distance": "Euclid"}, "b": {"size": 8, "distance": "Cosine"}},
                  "metadata": {"source": "self-test", "v": 1}}
        st, _, body = fake.call("PUT", "/collections/docs", create)
        t.eq((st, body.get("result"), body.get("status")), (200, True, "ok"), "create collection")
        st, _, body = fake.call("PUT", "/collections/docs", create)
        t.eq((st, error_of(body)), (409, "Wrong input: Collection `docs` already exists!"), "409 on re-create")
        t.ok("result" not in body and isinstance(body.get("time"), float), "error envelope shape", body)
        t.eq(fake.call("GET", "/collections/docs/exists")[2].get("result"), {"exists": True}, "exists true")
        t.eq(fake.call("GET", "/collections/nope/exists")[2].get("result"), {"exists": False}, "exists false")
        st, _, body = fake.call("GET", "/collections/nope")
        t.eq((st, error_of(body)), (404, "Not found: Collection `nope` doesn't exist!"), "unknown collection 404")
        t.ok("result" not in body, "404 envelope has no result", body)
        st, _, body = fake.call("DELETE", "/collections/nope")
        t.eq((st, body.get("result")), (200, False), "delete missing collection -> false")
        st, _, body = fake.call("GET", "/collections")
        t.eq(body.get("result"), {"collections": [{"name": "docs"}]}, "list collections")

        st, _, body = fake.call("PATCH", "/collections/docs", {"metadata": {"v": 2, "added": "yes"}})
        t.eq((st, body.get("result")), (200, True), "PATCH metadata")
        for field, schema in (("lang", "keyword"), ("year", {"type": "integer", "range": True, "lookup": False})):
            st, _, body = fake.call("PUT", "/collections/docs/index?wait=true",
                                    {"field_name": field, "field_schema": schema})
            t.ok(st == 200 and body["result"]["status"] == "completed", "create index " + field, body)

        # ---- data ---------------------------------------------------------------------------------------
        uuids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(40)]
        ids = list(range(1, 201)) + uuids
        points = {}
        for n, pid in enumerate(ids):
            payload = {"year": rng.randint(1990, 2024), "tags": rng.sample("abcd", rng.randint(0, 3)),
                       "items": [{"sku": "s%d" % rng.randint(0, 3), "qty": rng.randint(0, 5)}
                                 for _ in range(rng.randint(0, 3))],
                       "meta": {"author": rng.choice(["alice", "bob", "charlie", "li"])}}
            if n % 7:
                payload["lang"] = rng.choice(["en", "de", "fr"])
            if n % 11 == 0:
                payload["note"] = None
            vec = {"a": [rng.uniform(-1, 1) for _ in range(28)]}
            if n % 5:
                vec["b"] = [rng.uniform(-1, 1) for _ in range(8)]
            points[pid] = (vec, payload)

        def wire_id(pid, k):
            if isinstance(pid, int):
                return pid
            return [pid, pid.replace("-", ""), "urn:uuid:" + pid, pid.upper()][k % 4]

        with_b = [pid for pid in ids if "b" in points[pid][0]]
        without_b = [pid for pid in ids if "b" not in points[pid][0]]
        # list shape, wait=true
        st, _, body = fake.call("PUT", "/collections/docs/points?wait=true", {"points": [
            {"id": wire_id(pid, k), "vector": points[pid][0], "payload": points[pid][1]}
            for k, pid in enumerate(without_b)]})
        t.eq((st, body.get("result", {}).get("status")), (200, "completed"), "upsert list wait=true -> completed")
        # batch shape, wait=false, two requests (one with null payloads)
        half = len(with_b) // 2
        versions = {}
        for chunk in (with_b[:half], with_b[half:]):
            batch = {"ids": [wire_id(pid, k) for k, pid in enumerate(chunk)],
                     "vectors": {"a": [points[pid][0]["a"] for pid in chunk],
                                 "b": [points[pid][0]["b"] for pid in chunk]},
                     "payloads": [points[pid][1] for pid in chunk]}
            st, _, body = fake.call("PUT", "/collections/docs/points", {"batch": batch})
            t.eq((st, body.get("result", {}).get("status")), (200, "acknowledged"),
                 "upsert batch wait=false -> acknowledged")
            for pid in chunk:
                versions[pid] = body["result"]["operation_id"]
        st, _, body = fake.call("POST", "/collections/docs/points/count", {"exact": True})
        t.eq(body.get("result"), {"count": len(ids)}, "count after upserts")

        st, _, info = fake.call("GET", "/collections/docs")
        res = info.get("result", {})
        t.eq(spec.first_error(spec.schema("CollectionInfo"), res), None, "collection info validates")
        t.eq((res.get("status"), res.get("optimizer_status"), res.get("points_count"), res.get("segments_count")),
             ("green", "ok", len(ids), 1), "collection info counts")
        t.eq(res.get("config", {}).get("params", {}).get("vectors"),
             {"a": {"size": 28, "distance": "Euclid"}, "b": {"size": 8, "distance": "Cosine"}}, "info vectors")
        t.eq(res.get("config", {}).get("metadata"), {"source": "self-test", "v": 2, "added": "yes"},
             "info metadata after PATCH (merged)")
        with_lang = sum(1 for pid in ids if "lang" in points[pid][1])
        t.eq(res.get("payload_schema", {}).get("lang"), {"data_type": "keyword", "points": with_lang},
             "payload_schema lang")
        t.eq(res.get("payload_schema", {}).get("year", {}).get("data_type"), "integer", "payload_schema year")

        # ---- semantic errors ----------------------------------------------------------------------------
        def upsert(pts, wait=True, path="/collections/docs/points"):
            return fake.call("PUT", path + ("?wait=true" if wait else ""), {"points": pts})

        st, _, body = upsert([{"id": 5000, "vector": {"a": [0.1, 0.2, 0.3]}}])
        t.eq((st, error_of(body)), (400, "Wrong input: Vector dimension error: expected dim: 28, got 3"),
             "dimension error")
        st, _, body = upsert([{"id": 5000, "vector": {"a": [0.1, 0.2, 0.3]}}], wait=False)
        t.eq(st, 400, "dimension error also with wait=false")
        st, _, body = upsert([{"id": 5001, "vector": {"foo": [0.1] * 28}}])
        t.eq((st, error_of(body)), (400, "Wrong input: Not existing vector name error: foo"), "unknown name wait=true")
        st, _, body = upsert([{"id": 5002, "vector": {"foo": [0.1] * 28}}], wait=False)
        t.eq((st, body.get("result", {}).get("status")), (200, "acknowledged"), "unknown name wait=false -> 200")
        st, _, body = fake.call("GET", "/collections/docs/points/5002")
        t.eq(st, 404, "unknown name wait=false: point silently dropped")
        st, _, body = upsert([{"id": 5003, "vector": [0.1] * 28}])
        t.eq((st, error_of(body)), (400, "Wrong input: Not existing vector name error: "),
             "plain array to named collection -> empty name")
        st, _, body = upsert([{"id": "12", "vector": {"a": [0.1] * 28}}])
        t.ok(st == 400 and 'value "12" is not a valid point ID, valid values are either an unsigned integer or '
             'a UUID' in error_of(body), "numeric string id rejected", body)
        st, _, body = fake.call("POST", "/collections/docs/points/query",
                                {"query": [0.1] * 28, "filter": {"must": [{"key": "lang"}]}, "using": "a"})
        t.eq((st, error_of(body)), (422, "Validation error in JSON body: At least one field condition must be "
                                         "specified"), "empty field condition -> 422")
        # wait in the BODY is ignored
        st, _, body = fake.call("PUT", "/collections/docs/points",
                                {"points": [{"id": 7777, "vector": {"a": [0.5] * 28}}], "wait": True})
        t.eq(body.get("result", {}).get("status"), "acknowledged", "wait in body ignored")
        fake.call("POST", "/collections/docs/points/delete?wait=true", {"points": [7777]})

        # ---- upsert replaces the whole point -----------------------------------------------------------
        st, _, body = upsert([{"id": 9001, "vector": {"a": [0.25] * 28, "b": [1, 2, 3, 4, 5, 6, 7, 8]},
                               "payload": {"x": 1}}])
        st, _, body = upsert([{"id": 9001, "vector": {"a": [0.5] * 28}}])
        second_op = body["result"]["operation_id"]
        st, _, body = fake.call("GET", "/collections/docs/points/9001")
        rec = body.get("result", {})
        t.eq((sorted(rec.get("vector", {})), rec.get("payload")), (["a"], {}), "upsert replaces vectors and payload")
        st, _, body = fake.call("POST", "/collections/docs/points/query",
                                {"query": [0.5] * 28, "using": "a", "limit": 1, "filter": {"must": {"has_id": [9001]}}})
        t.eq([(p["id"], p["version"]) for p in body["result"]["points"]], [(9001, second_op)],
             "version = operation id of last upsert")
        st, _, body = fake.call("PUT", "/collections/docs/points?wait=true", {"update_mode": "insert_only", "points": [
            {"id": 9001, "vector": {"a": [0.75] * 28}}, {"id": 9002, "vector": {"a": [0.75] * 28}}]})
        st, _, body = fake.call("PUT", "/collections/docs/points?wait=true", {"update_mode": "update_only", "points": [
            {"id": 9003, "vector": {"a": [0.75] * 28}}]})
        st, _, body = fake.call("POST", "/collections/docs/points", {"ids": [9001, 9002, 9003], "with_vector": True})
        t.eq([(r["id"], r["vector"]["a"][0]) for r in body["result"]], [(9001, 0.5), (9002, 0.75)],
             "update_mode insert_only / update_only")
        fake.call("POST", "/collections/docs/points/delete?wait=true", {"points": [9002]})
        st, _, body = fake.call("GET", "/collections/docs/points/424242")
        t.eq((st, error_of(body)), (404, "Not found: No point with id 424242 found"), "GET missing point 404")

        # ---- retrieve -----------------------------------------------------------------------------------
        u = uuids[3]
        st, _, body = fake.call("POST", "/collections/docs/points",
                                {"ids": [1, "urn:uuid:" + u.upper(), 999999]})
        recs = body.get("result", [])
        t.eq([r["id"] for r in recs], [1, u], "retrieve: urn/upper-case uuid returned hyphenated lower-case")
        t.ok(all("payload" in r and "vector" not in r for r in recs), "retrieve defaults: payload yes, vector no", recs)
        t.eq(recs[0].get("payload"), points[1][1], "retrieve payload")
        st, _, body = fake.call("POST", "/collections/docs/points",
                                {"ids": [with_b[0]], "with_payload": False, "with_vector": ["b"]})
        r = body["result"][0]
        t.ok("payload" not in r and list(r.get("vector", {})) == ["b"], "retrieve with_vector [b]", r)
        t.ok(abs(math.hypot(*r["vector"]["b"]) - 1) < 1e-5, "Cosine vector returned normalised", r)
        t.ok(all(abs(x - y) < 1e-6 for x, y in zip(r["vector"]["b"], unit(points[with_b[0]][0]["b"]))),
             "Cosine vector = normalised input")
        st, _, body = fake.call("POST", "/collections/docs/points", {"ids": [1], "with_vector": ["nope"]})
        t.eq((st, error_of(body)), (400, "Wrong input: Not existing vector name error: nope"), "with_vector unknown")

        # ---- scroll -------------------------------------------------------------------------------------
        all_ids = sorted(list(ids) + [9001], key=id_key)
        seen, offset, pages, inclusive = [], None, 0, True
        while True:
            req = {"limit": 37, "with_payload": False}
            if offset is not None:
                req["offset"] = offset
            st, _, body = fake.call("POST", "/collections/docs/points/scroll", req)
            page = body["result"]
            if offset is not None and page["points"] and page["points"][0]["id"] != offset:
                inclusive = False
            seen += [p["id"] for p in page["points"]]
            offset = page["next_page_offset"]
            pages += 1
            if offset is None or pages > 100:
                break
        t.eq(seen, all_ids, "scroll order: integers ascending then uuids")
        t.ok(inclusive and pages == math.ceil(len(all_ids) / 37), "scroll offset inclusive, null at the end", pages)
        st, _, body = fake.call("POST", "/collections/docs/points/scroll", {"offset": uuids[5].replace("-", ""),
                                                                            "limit": 2})
        t.eq([p["id"] for p in body["result"]["points"]][0], uuids[5], "scroll from a uuid offset (simple form)")
        st, _, body = fake.call("POST", "/collections/docs/points/scroll",
                                {"filter": {"must": [{"key": "lang", "match": {"value": "de"}}]}, "limit": 1000})
        want = [pid for pid in all_ids if pid in points and points[pid][1].get("lang") == "de"]
        t.eq(([p["id"] for p in body["result"]["points"]], body["result"]["next_page_offset"]), (want, None),
             "scroll with filter")

        # ---- query vs brute force ----------------------------------------------------------------------
        stored = {pid: {"a": f32(v["a"]), **({"b": unit(v["b"])} if "b" in v else {})}
                  for pid, (v, _) in points.items()}
        payloads = {pid: p for pid, (_, p) in points.items()}
        stored[9001] = {"a": f32([0.5] * 28)}
        payloads[9001] = {}

        def vals(pl, key):
            v = pl.get(key)
            return v if isinstance(v, list) else ([] if key not in pl else [v])

        filters = [
            ({"must": [{"key": "lang", "match": {"value": "en"}}]}, lambda i, p: p.get("lang") == "en"),
            ({"must": {"key": "lang", "match": {"value": "de"}}}, lambda i, p: p.get("lang") == "de"),
            ({"should": [{"key": "tags", "match": {"value": "a"}}, {"key": "year", "range": {"gte": 2010, "lt": 2020}}],
              "must_not": [{"key": "lang", "match": {"any": ["fr"]}}]},
             lambda i, p: ("a" in p.get("tags", []) or 2010 <= p.get("year", 0) < 2020) and p.get("lang") != "fr"),
            ({"must": [{"key": "lang", "match": {"except": ["en"]}}]}, lambda i, p: p.get("lang") in ("de", "fr")),
            ({"must": [{"has_id": [3, 17, uuids[0].replace("-", ""), uuids[9], 9001]}]},
             lambda i, p: i in (3, 17, uuids[0], uuids[9], 9001)),
            ({"must": [{"key": "items[].qty", "range": {"gte": 4}}]},
             lambda i, p: any(it["qty"] >= 4 for it in p.get("items", []))),
            ({"must": [{"nested": {"key": "items", "filter": {"must": [{"key": "sku", "match": {"value": "s1"}},
                                                                        {"key": "qty", "range": {"lte": 2}}]}}}]},
             lambda i, p: any(it["sku"] == "s1" and it["qty"] <= 2 for it in p.get("items", []))),
            ({"must": [{"key": "items[].sku", "match": {"value": "s1"}}, {"key": "items[].qty", "range": {"lte": 2}}]},
             lambda i, p: any(it["sku"] == "s1" for it in p.get("items", []))
             and any(it["qty"] <= 2 for it in p.get("items", []))),
            ({"must": [{"has_vector": "b"}], "must_not": [{"is_empty": {"key": "tags"}}]},
             lambda i, p: "b" in stored[i] and bool(p.get("tags"))),
            ({"min_should": {"conditions": [{"key": "tags", "match": {"any": ["b"]}},
                                            {"key": "lang", "match": {"value": "en"}},
                                            {"key": "year", "range": {"gt": 2005}}], "min_count": 2}},
             lambda i, p: ("b" in p.get("tags", [])) + (p.get("lang") == "en") + (p.get("year", 0) > 2005) >= 2),
            ({"must": [{"key": "meta.author", "match": {"text": "li"}}]},
             lambda i, p: "li" in p.get("meta", {}).get("author", "")),
            ({"must": [{"key": "tags", "values_count": {"gte": 2}}]}, lambda i, p: len(vals(p, "tags")) >= 2),
            ({"must": [{"is_null": {"key": "note"}}]}, lambda i, p: "note" in p and p["note"] is None),
            ({"must": [{"key": "lang", "is_empty": True}]}, lambda i, p: "lang" not in p),
            ({"must_not": [{"key": "year", "range": {"lt": 2000}}], "must": [{"key": "lang", "match": {"any": ["en", "de"]}}]},
             lambda i, p: p.get("year", 0) >= 2000 and p.get("lang") in ("en", "de")),
        ]
        for name, dist in (("a", "Euclid"), ("b", "Cosine")):
            dim = 28 if name == "a" else 8
            for k, (flt, pred) in enumerate(filters):
                q = [rng.uniform(-1, 1) for _ in range(dim)]
                qs = f32(q) if dist == "Euclid" else unit(q)
                cands = []
                for pid, vecs in stored.items():
                    if name not in vecs or not pred(pid, payloads[pid]):
                        continue
                    v = vecs[name]
                    if dist == "Euclid":
                        s = math.dist(qs, v)
                        cands.append((s, id_key(pid), pid, s))
                    else:
                        s = sum(x * y for x, y in zip(qs, v))
                        cands.append((-s, id_key(pid), pid, s))
                cands.sort()
                want = cands[:15]
                st, _, body = fake.call("POST", "/collections/docs/points/query",
                                        {"query": q if k % 2 else {"nearest": q}, "using": name, "filter": flt,
                                         "limit": 15})
                got = body.get("result", {}).get("points", []) if st == 200 else []
                ok = ([p["id"] for p in got] == [w[2] for w in want]
                      and all(abs(p["score"] - w[3]) < 1e-5 for p, w in zip(got, want)))
                t.ok(ok, "query %s filter #%d = brute force" % (name, k),
                     (st, body if st != 200 else [(p["id"], p["score"]) for p in got][:5], [w[2:] for w in want][:5]))
                t.ok(all(set(p) == {"id", "version", "score"} for p in got), "query leaves payload/vector out", got[:1])
                if dist == "Euclid":
                    t.ok(all(got[j]["score"] <= got[j + 1]["score"] for j in range(len(got) - 1)),
                         "Euclid scores ascending")
        q = [rng.uniform(-1, 1) for _ in range(28)]
        st, _, body = fake.call("POST", "/collections/docs/points/query",
                                {"query": q, "using": "a", "limit": 10, "with_payload": True})
        full = body["result"]["points"]
        t.ok(all("payload" in p and "vector" not in p for p in full), "query with_payload true", full[:1])
        st, _, body = fake.call("POST", "/collections/docs/points/query",
                                {"query": q, "using": "a", "limit": 4, "offset": 3})
        t.eq([p["id"] for p in body["result"]["points"]], [p["id"] for p in full[3:7]], "query offset")
        thr = full[5]["score"]
        st, _, body = fake.call("POST", "/collections/docs/points/query",
                                {"query": q, "using": "a", "limit": 10, "score_threshold": thr})
        t.eq([p["id"] for p in body["result"]["points"]], [p["id"] for p in full if p["score"] < thr],
             "Euclid score_threshold keeps smaller distances")
        st, _, body = fake.call("POST", "/collections/docs/points/query",
                                {"query": [0.1] * 8, "using": "b", "limit": 3, "with_vector": True})
        t.ok(all(abs(math.hypot(*p["vector"]["b"]) - 1) < 1e-5 for p in body["result"]["points"]),
             "query Cosine with_vector normalised")
        t.ok(all(versions.get(p["id"], -1) == p["version"] for p in body["result"]["points"]),
             "query version = batch operation id", body["result"]["points"])
        st, _, body = fake.call("POST", "/collections/docs/points/query", {"query": [0.1] * 28})
        t.eq((st, error_of(body)), (400, "Wrong input: Not existing vector name error: "), "query without using")
        st, _, body = fake.call("POST", "/collections/docs/points/query", {"query": [0.1] * 3, "using": "a"})
        t.eq((st, error_of(body)), (400, "Wrong input: Vector dimension error: expected dim: 28, got 3"),
             "query dimension error")
        before = fake.stats()
        st, _, body = fake.call("POST", "/collections/docs/points/query",
                                {"query": {"recommend": {"positive": [1]}}, "using": "a"})
        after = fake.stats()
        t.eq((st, error_of(body)), (400, "fake qdrant: unsupported query kind"), "unsupported query kind")
        t.ok(len(after["unsupported"]) == len(before["unsupported"]) + 1
             and len(after["violations"]) == len(before["violations"]), "unsupported recorded, not a violation")
        st, _, body = fake.call("POST", "/collections/docs/points/search", {"vector": {"name": "a", "vector": q},
                                                                            "limit": 3})
        t.ok(st == 200 and [p["id"] for p in body["result"]] == [p["id"] for p in full[:3]],
             "legacy /search returns a bare list", body)

        # ---- deletes ------------------------------------------------------------------------------------
        st, _, body = fake.call("POST", "/collections/docs/points/delete?wait=true", {"points": [7, uuids[1]]})
        t.eq(body.get("result", {}).get("status"), "completed", "delete by ids")
        st, _, body = fake.call("GET", "/collections/docs/points/7")
        t.eq((st, error_of(body)), (404, "Not found: No point with id 7 found"), "deleted point 404")
        doomed = [pid for pid in all_ids if pid in points and points[pid][1].get("lang") == "fr"
                  and pid not in (7, uuids[1])]
        st, _, body = fake.call("POST", "/collections/docs/points/delete?wait=true",
                                {"filter": {"must": [{"key": "lang", "match": {"value": "fr"}}]}})
        st, _, body = fake.call("POST", "/collections/docs/points/count", {})
        t.eq(body.get("result"), {"count": len(all_ids) - 2 - len(doomed)}, "count after deletes")
        st, _, body = fake.call("POST", "/collections/docs/points/count",
                                {"filter": {"must": [{"key": "lang", "match": {"value": "fr"}}]}})
        t.eq(body.get("result"), {"count": 0}, "delete by filter")
        log = fake.call("GET", "/__fake/log")[2]
        dels = [e for e in log if e["path"].endswith("/points/delete") and e["status"] == 200]
        t.eq(sorted(dels[-1]["ids"], key=id_key), sorted(doomed, key=id_key), "log: ids deleted by filter")
        ups = [e for e in log if e["method"] == "PUT" and e["path"] == "/collections/docs/points"]
        t.eq((ups[0]["points"], ups[0]["status"], ups[0]["ids"][:2]), (len(without_b), 200, without_b[:2]),
             "log: upsert points and ids")

        # ---- violations ---------------------------------------------------------------------------------
        def violations():
            return fake.stats()["violations"]

        v0 = len(violations())
        st, _, body = upsert([{"id": 77, "vector": {"a": [0.0] * 28}, "payload": {"k": "v"}}])
        t.eq((st, len(violations())), (200, v0), "valid body records no violation")
        bad = [
            ("PUT", "/collections/docs/points?wait=true", {"points": [{"id": 1}]}, 400, "request"),
            ("POST", "/collections/docs/points/delete", {"filter": {"muts": [{"has_id": [1]}]}}, 400, "request"),
            ("POST", "/collections/docs/points/query",
             {"query": [0.0] * 28, "using": "a", "filter": {"must": [{"key": "lang", "matc": {"value": "en"}}]}},
             400, "request"),
            ("POST", "/collections/docs/points/scroll", {"filter": {"must": [{"key": "lang", "match": {"valu": 1}}]}},
             400, "request"),
            ("PUT", "/collections/lower", {"vectors": {"size": 4, "distance": "cosine"}}, 400, "request"),
            ("PUT", "/collections/docs/points?wiat=true", {"points": []}, 400, "query"),
            ("PUT", "/collections/docs/points?wait=yes", {"points": []}, 400, "query"),
            ("GET", "/collections/docs/pointz", None, 404, "path"),
        ]
        for method, path, payload, want_status, kind in bad:
            n = len(violations())
            st, _, body = fake.call(method, path, payload)
            vs = violations()
            t.ok(st == want_status and len(vs) == n + 1 and vs[-1]["kind"] == kind,
                 "violation %s %s" % (method, path), (st, body, vs[n:]))
            if kind == "request":
                expected_request_violations += 1
                t.ok(isinstance(body, dict) and error_of(body).startswith("Format error in JSON body: "),
                     "format error text for %s" % path, body)
        st, _, body = fake.call("PUT", "/collections/docs/points?wiat=true", {"points": []})
        t.eq(error_of(body), "Bad request: unknown query parameter wiat", "unknown query parameter text")
        n = len(violations())
        st, _, body = fake.call("PUT", "/collections/docs/points?wait=true", raw=b'{"points":[]}', ctype="text/plain")
        t.ok(st == 400 and len(violations()) == n + 1, "wrong content type -> 400 + violation", body)
        expected_request_violations += 1

        # ---- resends, scripts -----------------------------------------------------------------------------
        s0 = fake.stats()
        pt = {"id": uuids[20], "vector": points[uuids[20]][0], "payload": points[uuids[20]][1]}
        upsert([pt])
        upsert([pt])
        s1 = fake.stats()
        t.eq(s1["resent_points"] - s0["resent_points"], 2, "resent_points counts pure resends")
        t.ok(s1["upserts_per_id_max"] >= 3 and s1["upserted_points"] == s0["upserted_points"] + 2,
             "upsert counters", s1)
        upsert([dict(pt, payload={"changed": True})])
        upsert([dict(pt, vector={"a": [x + 1 for x in points[uuids[20]][0]["a"]]}, payload={"changed": True})])
        s2 = fake.stats()
        t.eq(s2["resent_points"], s1["resent_points"], "changed payload or vectors is not a resend")
        st, _, body = fake.call("POST", "/__fake/script", [
            {"method": "PUT", "path_regex": "/points$", "status": 429, "headers": {"Retry-After": "1"},
             "body": '{"status":{"error":"Rate limiting exceeded: scripted"},"time":0.0}', "times": 1}])
        t.eq(body, {"pending": 1}, "script accepted")
        st, hdrs, body = upsert([{"id": 31337, "vector": {"a": [0.3] * 28}}])
        t.eq((st, hdrs.get("Retry-After"), error_of(body)), (429, "1", "Rate limiting exceeded: scripted"),
             "scripted 429 with Retry-After")
        t.eq(fake.call("GET", "/collections/docs/points/31337")[0], 404, "scripted reply changes nothing")
        st, _, body = upsert([{"id": 31337, "vector": {"a": [0.3] * 28}}])
        t.eq((st, body.get("result", {}).get("status")), (200, "completed"), "normal handling after the script")
        fake.call("POST", "/__fake/script", {"path_regex": "/collections$", "action": "close"})
        try:
            fake.call("GET", "/collections")
            closed = False
        except (urllib.error.URLError, ConnectionError, http.client.HTTPException):
            closed = True
        t.ok(closed, "scripted close drops the connection")
        t.eq(fake.call("GET", "/collections")[0], 200, "next request after close is normal")
        fake.call("POST", "/__fake/script", {"path_regex": "^/$", "delay_s": 0.3, "passthrough": True})
        t0 = time.time()
        st = fake.call("GET", "/")[0]
        t.ok(st == 200 and time.time() - t0 >= 0.3, "delay-only script then normal answer")
        log = fake.call("GET", "/__fake/log")[2]
        scripted = [e for e in log if e.get("scripted")]
        t.eq([e["status"] for e in scripted], [429, 0], "log marks scripted replies")
        t.ok(all(isinstance(e["points"], int) for e in log), "log points is always an integer")

        # ---- keep-alive and Content-Length ----------------------------------------------------------------
        conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=10)
        for _ in range(3):
            conn.request("GET", "/collections/docs/exists")
            r = conn.getresponse()
            data = r.read()
            t.ok(r.status == 200 and int(r.headers["Content-Length"]) == len(data), "keep-alive + Content-Length")
        conn.close()

        # ---- api key and body limit (second fake) ---------------------------------------------------------
        st, hdrs, body = guarded.call("GET", "/collections")
        t.eq((st, hdrs.get("Content-Type", "").split(";")[0], body),
             (401, "text/plain", "Must provide an API key or an Authorization bearer token"), "401 missing key")
        st, _, body = guarded.call("GET", "/collections", headers={"api-key": "wrong"})
        t.eq((st, body), (401, "Invalid API key or JWT"), "401 wrong key")
        st, _, body = guarded.call("GET", "/collections", headers={"Authorization": "Bearer wrong"})
        t.eq((st, body), (401, "Invalid API key or JWT"), "401 wrong bearer")
        t.eq(guarded.call("GET", "/collections", headers={"api-key": "s3cret"})[0], 200, "api-key header OK")
        t.eq(guarded.call("GET", "/collections", headers={"Authorization": "Bearer s3cret"})[0], 200, "bearer OK")
        t.eq([guarded.call("GET", p)[0] for p in ("/", "/healthz", "/readyz", "/livez", "/__fake/stats")],
             [200] * 5, "whitelisted paths need no key")
        key = {"api-key": "s3cret"}
        guarded.call("PUT", "/collections/small", {"vectors": {"size": 4, "distance": "Dot"}}, headers=key)
        big = json.dumps({"points": [{"id": i, "vector": [0.123456] * 4, "payload": {"pad": "x" * 40}}
                                     for i in range(20)]}).encode()
        conn = http.client.HTTPConnection("127.0.0.1", guarded.port, timeout=10)
        conn.request("PUT", "/collections/small/points?wait=true", body=big,
                     headers={"Content-Type": "application/json", "api-key": "s3cret"})
        r = conn.getresponse()
        body = json.loads(r.read())
        t.eq((r.status, error_of(body)),
             (400, "JSON payload (%d bytes) is larger than allowed (limit: 1000 bytes)." % len(big)), "body limit")
        conn.request("GET", "/collections/small", headers={"api-key": "s3cret"})
        r = conn.getresponse()
        body = json.loads(r.read())
        t.ok(r.status == 200 and body["result"]["points_count"] == 0, "connection usable after oversized body")
        conn.close()
        st, _, body = guarded.call("PUT", "/collections/small/points?wait=true",
                                   {"points": [{"id": 1, "vector": [1, 2, 3, 4]}]}, headers=key)
        t.eq((st, body.get("result", {}).get("status")), (200, "completed"), "unnamed vector upsert")
        st, _, body = guarded.call("POST", "/collections/small/points/query",
                                   {"query": [1, 1, 1, 1], "with_vector": True}, headers=key)
        t.eq(body.get("result", {}).get("points"), [{"id": 1, "version": 0, "score": 10.0, "vector": [1, 2, 3, 4]}],
             "unnamed vector query (Dot) returns a plain vector")
        gs = guarded.stats()
        t.eq(gs["max_body_bytes"], len(big), "stats max_body_bytes")

        # ---- the end: the fake's own answers validated ------------------------------------------------------
        st, _, body = fake.call("DELETE", "/collections/docs")
        t.eq(body.get("result"), True, "delete collection")
        for f, name in ((fake, "main"), (guarded, "guarded")):
            vs = f.stats()["violations"]
            t.eq([v for v in vs if v["kind"] in ("response", "internal")], [], "no response violations (%s)" % name)
        vs = fake.stats()["violations"]
        t.eq(sum(1 for v in vs if v["kind"] == "request"), expected_request_violations,
             "request violations = deliberately bad requests")
        t.eq(sum(1 for v in vs if v["kind"] == "legacy"), 1, "legacy endpoint recorded")
        t.eq(fake.stop(), 0, "SIGTERM -> exit 0")
    finally:
        for f in (fake, guarded):
            if f is not None and f.proc.poll() is None:
                f.stop()
    elapsed = time.time() - started
    print("test_fake_qdrant: %d passed, %d failed in %.1f s%s" %
          (t.passed, len(t.failures), elapsed, "" if not t.failures else " (" + ", ".join(t.failures[:8]) + ")"))
    return 1 if t.failures else 0


if __name__ == "__main__":
    sys.exit(main())
