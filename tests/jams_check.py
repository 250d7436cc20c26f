#!/usr/bin/python3
"""Validates a JAMS document against the JAMS schema and namespace definitions, and scores its
beats and segment boundaries with mir_eval against a truth made by construction.

    jams_check.py SCHEMA_DIR JAMS_FILE [TRUTH_JSON]

SCHEMA_DIR holds jams_schema.json and one JSON file per namespace ({"name": {"value": ...,
"confidence": ...}}). TRUTH_JSON: {"beats_s": [...], "boundaries_s": [0, ..., end]}.
Prints one JSON object: valid, annotations, and with a truth beat_f (mir_eval.beat.f_measure,
both sides trimmed of their first 5 s as mir_eval.beat.evaluate does), boundary_f / precision /
recall (mir_eval.segment.detection, 3 s window, trim=True: the song's own start and end are not
counted). Exits 1 with the first validation error.
"""
import glob
import json
import os
import sys

import jsonschema


def fail(msg):
    print(json.dumps({"valid": False, "error": msg}))
    sys.exit(1)


def main():
    schema_dir, jams_file = sys.argv[1], sys.argv[2]
    with open(os.path.join(schema_dir, "jams_schema.json")) as f:
        schema = json.load(f)
    namespaces = {}
    for path in glob.glob(os.path.join(schema_dir, "*.json")):
        if os.path.basename(path) == "jams_schema.json":
            continue
        with open(path) as f:
            namespaces.update(json.load(f))
    with open(jams_file) as f:
        doc = json.load(f)
    try:
        jsonschema.Draft4Validator(schema).validate(doc)
    except jsonschema.ValidationError as e:
        fail("schema: %s at %s" % (e.message, list(e.absolute_path)))
    counts = {}
    for a in doc.get("annotations", []):
        ns = a["namespace"]
        if ns not in namespaces:
            fail("namespace %s is not defined in %s" % (ns, schema_dir))
        spec = namespaces[ns]
        for i, obs in enumerate(a["data"]):
            for field in ("value", "confidence"):
                if field in spec:
                    try:
                        jsonschema.Draft4Validator(spec[field]).validate(obs[field])
                    except jsonschema.ValidationError as e:
                        fail("%s observation %d: %s %r: %s" % (ns, i, field, obs[field], e.message))
        counts[ns] = counts.get(ns, 0) + 1
    out = {"valid": True, "annotations": counts}
    if len(sys.argv) > 3:
        import numpy as np
        import mir_eval
        with open(sys.argv[3]) as f:
            truth = json.load(f)
        by_ns = {}
        for a in doc["annotations"]:
            by_ns.setdefault(a["namespace"], a)
        est_beats = np.array([o["time"] for o in by_ns["beat"]["data"]]) if "beat" in by_ns else np.array([])
        ref_beats = np.array(truth["beats_s"])
        out["beat_f"] = mir_eval.beat.f_measure(mir_eval.beat.trim_beats(ref_beats), mir_eval.beat.trim_beats(est_beats))
        seg = by_ns.get("segment_open", {"data": []})["data"]
        est_int = np.array([[o["time"], o["time"] + o["duration"]] for o in seg]) if seg else np.array([[0.0, truth["boundaries_s"][-1]]])
        b = truth["boundaries_s"]
        ref_int = np.array([[b[i], b[i + 1]] for i in range(len(b) - 1)])
        p, r, f = mir_eval.segment.detection(ref_int, est_int, window=3.0, trim=True)
        out.update({"boundary_f": f, "boundary_precision": p, "boundary_recall": r})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
