#!/usr/bin/env python3
"""Parses a Prometheus text exposition with the reference parser of the
official Python client and prints what it read as JSON, for the C++ test
that compares it with what the registry recorded.

Usage: parse_exposition.py FILE

Prints a list of families in the order read, each
{"name", "type", "documentation", "samples": [{"name", "labels", "value"}]};
values that JSON cannot hold are spelled "+Inf", "-Inf" and "NaN".
"""

import json
import math
import sys

from prometheus_client.parser import text_string_to_metric_families


def json_value(value):
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return value


def main():
    # newline="\n": lines end at line feeds only, and nothing is translated.
    with open(sys.argv[1], encoding="utf-8", newline="\n") as exposition:
        text = exposition.read()
    families = []
    for family in text_string_to_metric_families(text):
        families.append({
            "name": family.name,
            "type": family.type,
            "documentation": family.documentation,
            "samples": [{"name": s.name, "labels": s.labels, "value": json_value(s.value)}
                        for s in family.samples],
        })
    json.dump(families, sys.stdout, sort_keys=True)


if __name__ == "__main__":
    main()
