#!/usr/bin/python3
"""Second half of live_check.sh: runs the monitoring code's PromQL against a live Prometheus.

  live_queries.py PROMETHEUS_URL REPO_ROOT

- every alerting and recording rule expression and every dashboard panel query must parse
  and evaluate (instant query through /api/v1/query);
- every rule loaded by Prometheus must report health "ok" in /api/v1/rules, and every rule
  of prometheus/rules/ must be loaded;
- every panel query of dashboards 1-3 (overview, vault and resilience, SLOs) must return
  data. Grafana's variables are substituted first: $__rate_interval -> 1m, $__interval ->
  15s, $__range -> 5m.
"""
import glob
import json
import os
import sys
import urllib.parse
import urllib.request

import yaml

MUST_HAVE_DATA = {"tokenizer-overview", "tokenizer-vault", "tokenizer-slo"}
GRAFANA_VARS = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "5m"}


def query(prom, expr):
    data = urllib.parse.urlencode({"query": expr}).encode()
    req = urllib.request.Request(prom + "/api/v1/query", data=data)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.load(resp)
    except urllib.error.HTTPError as e:
        return json.load(e)


def main(prom, root):
    problems = []
    checked = 0
    rule_names = []
    for path in sorted(glob.glob(os.path.join(root, "prometheus/rules/*.yml"))):
        with open(path, encoding="utf-8") as f:
            for group in yaml.safe_load(f)["groups"]:
                for rule in group["rules"]:
                    name = rule.get("alert") or rule.get("record")
                    rule_names.append(name)
                    reply = query(prom, rule["expr"])
                    checked += 1
                    if reply.get("status") != "success":
                        problems.append(f"{os.path.basename(path)} {name}: {reply.get('error')}")

    with urllib.request.urlopen(prom + "/api/v1/rules", timeout=10) as resp:
        loaded = json.load(resp)["data"]["groups"]
    loaded_names = []
    for group in loaded:
        for rule in group["rules"]:
            loaded_names.append(rule["name"])
            if rule.get("health") != "ok":
                problems.append(f"rule {rule['name']} is {rule.get('health')}: {rule.get('lastError')}")
    for name in set(rule_names) - set(loaded_names):
        problems.append(f"rule {name} is not loaded by Prometheus")

    empty_panels = 0
    for path in sorted(glob.glob(os.path.join(root, "grafana/dashboards/*.json"))):
        with open(path, encoding="utf-8") as f:
            dash = json.load(f)
        for panel in dash.get("panels", []):
            for target in panel.get("targets", []) or []:
                expr = target.get("expr", "")
                for var, value in GRAFANA_VARS.items():
                    expr = expr.replace(var, value)
                reply = query(prom, expr)
                checked += 1
                where = f"{dash['uid']} / {panel.get('title')} / {target.get('refId')}"
                if reply.get("status") != "success":
                    problems.append(f"{where}: {reply.get('error')}")
                elif dash["uid"] in MUST_HAVE_DATA and not reply["data"]["result"]:
                    empty_panels += 1
                    problems.append(f"{where}: no data for {expr}")
    for p in problems:
        print("FAIL", p)
    if problems:
        print(f"{len(problems)} problem(s) in {checked} queries ({empty_panels} without data)")
        return 1
    print(f"{checked} queries OK: every rule and panel query evaluates, "
          f"{len(loaded_names)} rules healthy, dashboards 1-3 return data")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1].rstrip("/"), sys.argv[2]))
