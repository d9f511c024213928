#!/usr/bin/env bash
# Validates docker-compose.yml without a Docker engine (Debian's docker-compose 1.29), with
# and without the `datadog` profile, and checks the properties the deployment relies on:
# Grafana's admin password is required from the environment, Grafana and Prometheus publish
# on 127.0.0.1 only, anonymous Grafana access is off, only Prometheus joins both networks.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v docker-compose >/dev/null || { echo "FAIL: docker-compose is not installed" >&2; exit 1; }
export GRAFANA_ADMIN_PASSWORD=check-only
docker-compose -f docker-compose.yml config -q
docker-compose -f docker-compose.yml --profile datadog config -q
if env -u GRAFANA_ADMIN_PASSWORD docker-compose -f docker-compose.yml config -q 2>/dev/null; then
  echo "FAIL: the compose file must refuse to start without GRAFANA_ADMIN_PASSWORD" >&2; exit 1
fi
resolved=$(docker-compose -f docker-compose.yml --profile datadog config)
/usr/bin/python3 - "$resolved" <<'PY'
import sys, yaml
doc = yaml.safe_load(sys.argv[1])
s = doc["services"]
problems = []
def ports(name):
    return [str(p.get("host_ip", "")) + ":" + str(p.get("published", "")) if isinstance(p, dict) else str(p)
            for p in s[name].get("ports", [])]
for name in ("grafana", "prometheus"):
    for p in s[name].get("ports", []):
        host_ip = p.get("host_ip") if isinstance(p, dict) else str(p).split(":")[0]
        if host_ip != "127.0.0.1":
            problems.append(f"{name} publishes {p} beyond 127.0.0.1")
env = s["grafana"].get("environment", {})
if str(env.get("GF_AUTH_ANONYMOUS_ENABLED", "")).lower() != "false":
    problems.append("grafana anonymous access is not off")
if env.get("GF_SECURITY_ADMIN_PASSWORD") != "check-only":
    problems.append("grafana admin password does not come from GRAFANA_ADMIN_PASSWORD")
def nets(name):
    n = s[name].get("networks", {})
    if s[name].get("network_mode", "").startswith("service:"):
        return nets(s[name]["network_mode"].split(":", 1)[1])
    return set(n if isinstance(n, list) else n.keys())
want = {"tokenizer": {"app"}, "upstream-sim": {"app"}, "datadog-agent": {"app"},
        "prometheus": {"app", "monitoring"}, "alertmanager": {"monitoring"},
        "grafana": {"monitoring"}, "node-exporter": {"monitoring"}}
for name, expected in want.items():
    if nets(name) != expected:
        problems.append(f"{name} is on networks {sorted(nets(name))}, expected {sorted(expected)}")
for name, svc in s.items():
    if svc.get("restart") not in ("always", "unless-stopped", "on-failure"):
        problems.append(f"{name} has no restart policy")
if s["datadog-agent"].get("profiles") != ["datadog"]:
    problems.append("datadog-agent is not in the datadog profile")
if problems:
    print("\n".join("FAIL " + p for p in problems)); sys.exit(1)
print(f"docker-compose.yml OK: {len(s)} services, networks and exposure as intended")
PY
