#!/usr/bin/env python3
"""Reads a GET /metrics answer with Prometheus' own text parser (Debian's
python3-prometheus-client) and prints its samples as one JSON list of
{"name", "labels", "value"}. Exits 1 on a parse error, and on what the parser forgives but a
Prometheus server would not take well: a family without HELP, of a type other than counter or
gauge (what the parser makes of samples with no TYPE line before them), or seen twice (its
samples were split by another family's).

usage: parse_metrics.py FILE
"""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        text = f.read()
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as e:  # the parser raises ValueError and others on a malformed line
        print("parse error: %s" % e, file=sys.stderr)
        return 1
    seen, samples, problems = set(), [], []
    for fam in families:
        if fam.type not in ("counter", "gauge"):
            problems.append("%s: type %s" % (fam.name, fam.type))
        if not fam.documentation:
            problems.append("%s: no HELP" % fam.name)
        if fam.name in seen:
            problems.append("%s: appears twice" % fam.name)
        seen.add(fam.name)
        for s in fam.samples:
            samples.append({"name": s.name, "labels": s.labels, "value": s.value})
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    print(json.dumps(samples))
    return 0


if __name__ == "__main__":
    sys.exit(main())
