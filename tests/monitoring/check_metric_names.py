#!/usr/bin/python3
"""Checks that every metric the monitoring code queries exists.

Scans the PromQL of prometheus/rules/*.yml and grafana/dashboards/*.json:
  - tokenizer_* and process_* families must be rows of observability/METRICS.md (the
    catalogue the service's own test keeps true against a live scrape); _bucket, _sum and
    _count must belong to a histogram there;
  - upstream_sim_* families must be registered in src/sim/sim_stats.cpp;
  - level:metric:operation names must be recorded in prometheus/rules/recording.yml.
A renamed metric then fails here instead of leaving a panel or an alert silently empty.
"""
import glob
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from monitoring_common import ROOT, Failures, catalogued_metrics, load_json, load_yaml, recorded_names

IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def strip_promql(expr):
    expr = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    return expr


def names_in(expr):
    return {m.group(0) for m in IDENT.finditer(strip_promql(expr))}


def expressions():
    for path in sorted(glob.glob(os.path.join(ROOT, "prometheus/rules/*.yml"))):
        for group in load_yaml(path)["groups"]:
            for rule in group["rules"]:
                yield os.path.relpath(path, ROOT) + ":" + rule.get("alert", rule.get("record", "?")), rule["expr"]
    for path in sorted(glob.glob(os.path.join(ROOT, "grafana/dashboards/*.json"))):
        for panel in load_json(path).get("panels", []):
            for target in panel.get("targets", []) or []:
                yield f"{os.path.relpath(path, ROOT)}: panel {panel.get('title')!r}", target.get("expr", "")


def sim_families():
    with open(os.path.join(ROOT, "src/sim/sim_stats.cpp"), encoding="utf-8") as f:
        return set(re.findall(r'\.Name\("([a-z_]+)"\)', f.read()))


def main():
    fail = Failures()
    catalogue = catalogued_metrics()
    recorded = recorded_names()
    sim = sim_families()
    checked = set()
    for where, expr in expressions():
        for name in names_in(expr):
            if ":" in name:
                checked.add(name)
                if name not in recorded:
                    fail.add(where, f"{name} is not recorded in prometheus/rules/recording.yml")
            elif name.startswith(("tokenizer_", "process_")):
                checked.add(name)
                base, suffix = name, None
                for s in ("_bucket", "_sum", "_count"):
                    if name.endswith(s) and name[: -len(s)] in catalogue:
                        base, suffix = name[: -len(s)], s
                if base not in catalogue:
                    fail.add(where, f"{name} is not in observability/METRICS.md")
                elif suffix and catalogue[base] != "histogram":
                    fail.add(where, f"{name}: {base} is a {catalogue[base]}, not a histogram")
            elif name.startswith("upstream_sim_"):
                checked.add(name)
                base = re.sub(r"_(bucket|sum|count)$", "", name)
                if name not in sim and base not in sim:
                    fail.add(where, f"{name} is not registered by upstream-sim (src/sim/sim_stats.cpp)")
    return fail.report(f"{len(checked)} metric and recording-rule names used by rules and dashboards all exist")


if __name__ == "__main__":
    sys.exit(main())
