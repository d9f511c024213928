#!/usr/bin/python3
"""Checks prometheus/rules/alerts.yml against its runbook and its unit tests.

Every alert has `severity` page or ticket, a `summary`, a `description`, and a
`runbook_url` of the form https://github.com/example/tokenizer/blob/main/ALERTS.md#<anchor>
whose anchor is a heading in ALERTS.md (GitHub's heading ids). Every alert has, in
prometheus/tests/*.yml, at least one alert_rule_test that expects it to fire and one that
expects it not to.
Usage: check_alerts.py [alerts.yml [ALERTS.md [tests_dir]]]
"""
import glob
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from monitoring_common import RUNBOOK_BASE, ROOT, Failures, alert_rules, load_yaml, markdown_anchors


def main(argv):
    alerts_path = argv[0] if len(argv) > 0 else os.path.join(ROOT, "prometheus/rules/alerts.yml")
    doc_path = argv[1] if len(argv) > 1 else os.path.join(ROOT, "ALERTS.md")
    tests_dir = argv[2] if len(argv) > 2 else os.path.join(ROOT, "prometheus/tests")
    fail = Failures()
    anchors = markdown_anchors(doc_path)
    rules = alert_rules(alerts_path)
    if not rules:
        fail.add(alerts_path, "no alerts")

    fires, quiet = set(), set()
    for test_file in sorted(glob.glob(os.path.join(tests_dir, "*.yml"))):
        for test in load_yaml(test_file).get("tests", []):
            for case in test.get("alert_rule_test", []) or []:
                (fires if case.get("exp_alerts") else quiet).add(case.get("alertname"))

    names = set()
    for rule in rules:
        name = rule["alert"]
        if name in names:
            fail.add(name, "defined twice")
        names.add(name)
        labels = rule.get("labels", {}) or {}
        annotations = rule.get("annotations", {}) or {}
        if labels.get("severity") not in ("page", "ticket"):
            fail.add(name, f"severity must be page or ticket, got {labels.get('severity')!r}")
        for key in ("summary", "description", "runbook_url"):
            if not str(annotations.get(key, "")).strip():
                fail.add(name, f"no {key} annotation")
        url = str(annotations.get("runbook_url", ""))
        if not url.startswith(RUNBOOK_BASE):
            fail.add(name, f"runbook_url {url!r} does not start with {RUNBOOK_BASE}")
        else:
            anchor = url[len(RUNBOOK_BASE):]
            if anchor not in anchors:
                fail.add(name, f"runbook anchor #{anchor} is not a heading in {os.path.basename(doc_path)}")
            if anchor != name.lower():
                fail.add(name, f"runbook anchor #{anchor} should be #{name.lower()}")
        if name not in fires:
            fail.add(name, "no promtool test expects it to fire")
        if name not in quiet:
            fail.add(name, "no promtool test expects it to stay quiet")
    for tested in (fires | quiet) - names:
        fail.add(tests_dir, f"tests an alert that does not exist: {tested}")
    return fail.report(f"{len(rules)} alert(s): labels, annotations, runbook anchors and tests OK")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
