"""Helpers shared by the monitoring-as-code checks in tests/monitoring (python3-yaml)."""
import json
import os
import re

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUNBOOK_BASE = "https://github.com/example/tokenizer/blob/main/ALERTS.md#"
DATASOURCE_UID = "tokenizer-prometheus"


def load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def github_anchor(heading):
    """The id GitHub gives a Markdown heading: lower case, punctuation dropped, spaces to '-'."""
    text = re.sub(r"[`*_~]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def markdown_anchors(path):
    anchors = set()
    in_code = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("```"):
                in_code = not in_code
                continue
            m = None if in_code else re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
            if m:
                anchors.add(github_anchor(m.group(1)))
    return anchors


def alert_rules(path=None):
    doc = load_yaml(path or os.path.join(ROOT, "prometheus/rules/alerts.yml"))
    return [r for g in doc["groups"] for r in g["rules"] if "alert" in r]


def recorded_names(path=None):
    doc = load_yaml(path or os.path.join(ROOT, "prometheus/rules/recording.yml"))
    return {r["record"] for g in doc["groups"] for r in g["rules"] if "record" in r}


def catalogued_metrics(path=None):
    """Family names from observability/METRICS.md rows that start with | `name` |."""
    names = {}
    with open(path or os.path.join(ROOT, "observability/METRICS.md"), encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^\|\s*`([a-zA-Z_:][a-zA-Z0-9_:]*)`\s*\|\s*(\w+)\s*\|", line)
            if m:
                names[m.group(1)] = m.group(2)
    return names


class Failures:
    def __init__(self):
        self.items = []

    def add(self, where, what):
        self.items.append(f"{where}: {what}")

    def report(self, ok_message):
        if self.items:
            for item in self.items:
                print("FAIL", item)
            print(f"{len(self.items)} problem(s)")
            return 1
        print(ok_message)
        return 0
