#!/usr/bin/python3
"""Checks the Datadog monitors in observability/datadog/monitors/*.json (monitor API format).

Each file parses and carries a name, a type, a query and a message. A metric monitor
("query alert") carries options.thresholds with a numeric critical equal to the threshold at
the end of its query, and queries the APM trace metrics of the service
(trace.http.request.*, scoped by service: and env:). A composite's query references other
monitors in this folder as ${<file name without .json>} (import.sh substitutes their ids);
its thresholds are those of the monitors it combines, which must be metric monitors. Every
runbook link in a message points at a heading of ALERTS.md.
Usage: check_datadog_monitors.py [monitor.json ...]
"""
import glob
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from monitoring_common import RUNBOOK_BASE, ROOT, Failures, load_json, markdown_anchors

TYPES = {"query alert", "composite"}


def main(argv):
    fail = Failures()
    files = argv or sorted(glob.glob(os.path.join(ROOT, "observability/datadog/monitors/*.json")))
    if not files:
        fail.add("observability/datadog/monitors", "no monitors")
    anchors = markdown_anchors(os.path.join(ROOT, "ALERTS.md"))
    monitors = {}
    for path in files:
        name = os.path.relpath(path, ROOT)
        try:
            doc = load_json(path)
        except (OSError, ValueError) as e:
            fail.add(name, f"does not parse: {e}")
            continue
        if not isinstance(doc, dict):
            fail.add(name, "is not a JSON object")
            continue
        monitors[os.path.basename(path)[:-5]] = (name, doc)
        for key in ("name", "type", "query", "message"):
            if not isinstance(doc.get(key), str) or not doc[key].strip():
                fail.add(name, f"has no {key}")
        if doc.get("type") not in TYPES:
            fail.add(name, f"type {doc.get('type')!r} is not one of {sorted(TYPES)}")
        for url in re.findall(r"https://\S+?ALERTS\.md#[\w-]+", str(doc.get("message", ""))):
            if not url.startswith(RUNBOOK_BASE) or url[len(RUNBOOK_BASE):] not in anchors:
                fail.add(name, f"runbook link {url} does not point at a heading of ALERTS.md")

    for stem, (name, doc) in monitors.items():
        query = str(doc.get("query", ""))
        if doc.get("type") == "query alert":
            thresholds = (doc.get("options") or {}).get("thresholds") or {}
            critical = thresholds.get("critical")
            if not isinstance(critical, (int, float)) or isinstance(critical, bool):
                fail.add(name, "options.thresholds.critical is missing or not a number")
            m = re.search(r"([<>]=?)\s*(-?[0-9.eE+-]+)\s*$", query)
            if not m:
                fail.add(name, "query does not end with a comparison to a threshold")
            elif isinstance(critical, (int, float)) and float(m.group(2)) != float(critical):
                fail.add(name, f"query threshold {m.group(2)} differs from options.thresholds.critical {critical}")
            if "trace.http.request" not in query:
                fail.add(name, "does not query the APM trace metrics trace.http.request.*")
            for tag in ("service:tokenizer", "env:"):
                if tag not in query:
                    fail.add(name, f"query is not scoped by {tag}")
        elif doc.get("type") == "composite":
            refs = re.findall(r"\$\{([\w.-]+)\}", query)
            if not refs:
                fail.add(name, "composite references no monitor")
            leftover = re.sub(r"\$\{[\w.-]+\}|&&|\|\||!|\(|\)|\s", "", query)
            if leftover:
                fail.add(name, f"composite query has unexpected text {leftover!r}")
            for ref in refs:
                if ref not in monitors:
                    fail.add(name, f"references ${{{ref}}}, which is not a file in this folder")
                elif monitors[ref][1].get("type") != "query alert":
                    fail.add(name, f"references ${{{ref}}}, which is not a metric monitor")
    return fail.report(f"{len(monitors)} Datadog monitor(s) OK")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
