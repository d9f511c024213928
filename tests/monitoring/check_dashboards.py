#!/usr/bin/python3
"""Checks the provisioned Grafana dashboards (grafana/dashboards/*.json, or the files given).

Every dashboard parses, has a title and a unique uid (at most 40 characters), refers to no
datasource but the provisioned one (uid tokenizer-prometheus, from
grafana/provisioning/datasources/prometheus.yml), and every panel (rows excepted) has a
title, unique id and at least one query with a PromQL expression and a unique refId.
Usage: check_dashboards.py [dashboard.json ...]
"""
import glob
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from monitoring_common import DATASOURCE_UID, ROOT, Failures, load_json, load_yaml


def datasource_refs(node, path="$"):
    """Every value under a "datasource" key, anywhere in the document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "datasource":
                yield path + ".datasource", value
            yield from datasource_refs(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from datasource_refs(value, f"{path}[{i}]")


def panels_of(dashboard):
    for panel in dashboard.get("panels", []):
        yield panel
        for inner in panel.get("panels", []) or []:
            yield inner


def main(argv):
    fail = Failures()
    provisioned = load_yaml(os.path.join(ROOT, "grafana/provisioning/datasources/prometheus.yml"))
    uids = [d.get("uid") for d in provisioned.get("datasources", [])]
    if uids != [DATASOURCE_UID]:
        fail.add("grafana/provisioning/datasources/prometheus.yml",
                 f"expected exactly one datasource with uid {DATASOURCE_UID}, got {uids}")

    files = argv or sorted(glob.glob(os.path.join(ROOT, "grafana/dashboards/*.json")))
    if not files:
        fail.add("grafana/dashboards", "no dashboards")
    seen_uids = {}
    for path in files:
        name = os.path.relpath(path, ROOT)
        try:
            dash = load_json(path)
        except (OSError, ValueError) as e:
            fail.add(name, f"does not parse: {e}")
            continue
        uid = dash.get("uid")
        if not isinstance(uid, str) or not uid or len(uid) > 40:
            fail.add(name, f"uid must be a string of 1-40 characters, got {uid!r}")
        elif uid in seen_uids:
            fail.add(name, f"uid {uid} is also used by {seen_uids[uid]}")
        else:
            seen_uids[uid] = name
        if not dash.get("title"):
            fail.add(name, "has no title")
        for where, ref in datasource_refs(dash):
            if not (isinstance(ref, dict) and ref.get("uid") == DATASOURCE_UID
                    and ref.get("type") in (None, "prometheus")):
                fail.add(name, f"{where} is {ref!r}, not the provisioned datasource {DATASOURCE_UID}")
        panel_ids = set()
        panels = list(panels_of(dash))
        if not panels:
            fail.add(name, "has no panels")
        for panel in panels:
            label = f"panel {panel.get('id')} ({panel.get('title')!r})"
            if panel.get("id") in panel_ids:
                fail.add(name, f"{label}: duplicate panel id")
            panel_ids.add(panel.get("id"))
            if panel.get("type") == "row":
                continue
            if not str(panel.get("title", "")).strip():
                fail.add(name, f"{label}: no title")
            targets = panel.get("targets") or []
            if not targets:
                fail.add(name, f"{label}: no query")
            ref_ids = set()
            for t in targets:
                if not str(t.get("expr", "")).strip():
                    fail.add(name, f"{label}: target {t.get('refId')} has no expr")
                if t.get("refId") in ref_ids or not t.get("refId"):
                    fail.add(name, f"{label}: missing or duplicate refId {t.get('refId')!r}")
                ref_ids.add(t.get("refId"))
    return fail.report(f"{len(files)} dashboard(s) OK: uids {sorted(seen_uids)}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
