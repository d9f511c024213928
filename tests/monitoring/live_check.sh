#!/usr/bin/env bash
# Live check of the monitoring code against the running service, without Docker.
#
#   tests/monitoring/live_check.sh BUILD_DIR      (needs BUILD_DIR/bin/{tokenizer,upstream-sim})
#
# Starts upstream-sim and tokenizer on loopback ports the OS picks, and Debian's
# `prometheus` with the repository's prometheus.yml and rules (targets rewritten to those
# ports, 1 s scrape and evaluation interval, a temporary data dir). Drives a short, bounded
# load with failures (valid, invalid and unauthenticated requests, idempotent replays, then
# vault faults injected through upstream-sim's POST /__sim/faults: 30 % 503s, 100 % 503s
# that open the circuit breaker, slow replies), waits for a few scrapes, and then runs
# through Prometheus' HTTP API (live_queries.py):
#   - every alerting and recording rule expression, and every dashboard panel query: all
#     must parse and evaluate;
#   - every rule must be healthy in /api/v1/rules;
#   - every panel query of dashboards 1-3 (overview, vault, SLOs) must return data.
# Everything it starts is stopped on exit (trap). Bounded: about a minute, 150 s at most.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:?usage: live_check.sh BUILD_DIR}" && pwd)
bin=$build/bin
for b in tokenizer upstream-sim; do
  [ -x "$bin/$b" ] || { echo "FAIL: $bin/$b is missing (build the tokenizer and upstream-sim targets)" >&2; exit 1; }
done
command -v prometheus >/dev/null || { echo "FAIL: Debian's prometheus is not installed" >&2; exit 1; }
command -v curl >/dev/null || { echo "FAIL: curl is not installed" >&2; exit 1; }

work=$(mktemp -d /tmp/tokenizer-live-check.XXXXXX)
pids=()
status=1
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ "$status" -ne 0 ]; then
    for log in "$work"/*.log; do
      [ -f "$log" ] || continue
      echo "--- last lines of $(basename "$log")"
      tail -n 15 "$log"
    done
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }

# wait_for_line FILE REGEX SECONDS: prints the first matching line.
wait_for_line() {
  local end=$((SECONDS + $3)) line
  while [ $SECONDS -lt $end ]; do
    line=$(grep -m1 -E "$2" "$1" 2>/dev/null || true)
    [ -n "$line" ] && { echo "$line"; return 0; }
    sleep 0.1
  done
  return 1
}

# A loopback port nothing listens on now (Prometheus cannot be asked to pick its own),
# below the kernel's ephemeral range so no outgoing connection holds it.
free_port() {
  local p low
  low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  for _ in $(seq 1 200); do
    p=$((10000 + RANDOM % (low - 10000)))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

# --- the service ------------------------------------------------------------------------
"$bin/upstream-sim" --listen 127.0.0.1:0 --environment-key demo-key --access-secret demo-secret \
  >"$work/upstream-sim.log" 2>&1 &
pids+=($!)
sim_line=$(wait_for_line "$work/upstream-sim.log" 'listening on http://127\.0\.0\.1:[0-9]+' 10) \
  || fail "upstream-sim did not start"
sim_port=$(grep -oE '[0-9]+$' <<<"$sim_line")

DD_TRACE_ENABLED=false "$bin/tokenizer" --listen 127.0.0.1:0 \
  --upstream-url "http://127.0.0.1:$sim_port" --upstream-key demo-key --upstream-secret demo-secret \
  --basic-auth demo:demo-password >"$work/tokenizer.log" 2>&1 &
pids+=($!)
tok_line=$(wait_for_line "$work/tokenizer.log" '"listening".*"port":[0-9]+' 10) || fail "tokenizer did not start"
tok_port=$(grep -oE '"port":[0-9]+' <<<"$tok_line" | grep -oE '[0-9]+')
echo "upstream-sim on 127.0.0.1:$sim_port, tokenizer on 127.0.0.1:$tok_port"

# --- Prometheus with the repository's configuration and rules ---------------------------
# Prometheus with a port chosen here: retried on another port if it cannot bind that one.
start_prometheus() {
  prom_port=$(free_port) || fail "no free port for prometheus"
  sed -e "s/tokenizer:3000/127.0.0.1:$tok_port/g" -e "s/upstream-sim:8081/127.0.0.1:$sim_port/g" \
      -e "s/localhost:9090/127.0.0.1:$prom_port/g" -e "s#rules/#$root/prometheus/rules/#g" \
      -e "s/alertmanager:9093/127.0.0.1:9/g" -e "s/node-exporter:9100/127.0.0.1:9/g" \
      -e "s/scrape_interval: 15s/scrape_interval: 1s/" -e "s/scrape_timeout: 10s/scrape_timeout: 1s/" \
      -e "s/evaluation_interval: 15s/evaluation_interval: 1s/" \
      "$root/prometheus/prometheus.yml" >"$work/prometheus.yml"
  grep -q "scrape_interval: 1s" "$work/prometheus.yml" || fail "could not rewrite the scrape interval"
  rm -rf "$work/data"
  prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
    --web.listen-address="127.0.0.1:$prom_port" --log.level=warn >"$work/prometheus.log" 2>&1 &
  prom_pid=$!
  pids+=("$prom_pid")
  prom=http://127.0.0.1:$prom_port
  local end=$((SECONDS + 20))
  until curl -fs "$prom/-/ready" >/dev/null 2>&1; do
    kill -0 "$prom_pid" 2>/dev/null || return 1
    [ $SECONDS -lt $end ] || fail "prometheus did not become ready"
    sleep 0.2
  done
}
for attempt in 1 2 3; do
  start_prometheus && break
  echo "prometheus exited at start (attempt $attempt):"; tail -n 3 "$work/prometheus.log"
  [ "$attempt" -lt 3 ] || fail "prometheus would not start"
done
echo "prometheus on $prom"

# --- load with failures (bounded: about 200 requests) -------------------------------------
api=http://127.0.0.1:$tok_port/api/v1/payment_methods/tokenize
declare -A seen=()
tokenize() {  # card cvv [extra curl args...]
  local card=$1 cvv=$2 code
  shift 2
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -u demo:demo-password \
    -H 'Content-Type: application/json' "$@" \
    -d "{\"payment_method\":{\"card_number\":\"$card\",\"month\":\"12\",\"year\":\"2031\",\"first_name\":\"Ada\",\"last_name\":\"Lovelace\",\"cvv\":\"$cvv\",\"email\":\"ada@example.com\"}}" \
    "$api" || true)
  seen[$code]=$(( ${seen[$code]:-0} + 1 ))
}
faults() {
  curl -fsS -o /dev/null --max-time 5 -H 'Content-Type: application/json' -d "$1" \
    "http://127.0.0.1:$sim_port/__sim/faults" || fail "could not set faults $1 on upstream-sim"
}
cards=(4111111111111111 5555555555554444 378282246310005 6011111111111117)
# Healthy vault: valid cards, invalid ones (Luhn, CVV), a wrong password, idempotent replays.
for i in $(seq 1 24); do tokenize "${cards[$((i % 4))]}" 123; done
for _ in $(seq 1 6); do tokenize 4111111111111112 123; tokenize 4111111111111111 12; done
curl -s -o /dev/null --max-time 5 -u demo:wrong -H 'Content-Type: application/json' -d '{}' "$api" || true
for k in 1 2 3; do
  tokenize 4111111111111111 123 -H "Idempotency-Key: live-check-$k"
  tokenize 4111111111111111 123 -H "Idempotency-Key: live-check-$k"
done
# A vault answering 503 to 30 % of calls (retried), then to all of them (the breaker opens).
faults '{"status":503,"error_rate":0.3}'
for i in $(seq 1 40); do tokenize "${cards[$((i % 4))]}" 123; done
faults '{"status":503,"error_rate":1}'
# ... until the breaker has opened (it needs 50 % failures among the last 10 s of calls),
# at most 300 requests.
opened=0
for batch in $(seq 1 30); do
  for i in $(seq 1 10); do tokenize "${cards[$((i % 4))]}" 123; done
  if curl -s --max-time 5 "http://127.0.0.1:$tok_port/metrics" \
     | grep -qE '^tokenizer_circuit_breaker_transitions_total\{[^}]*to="open"[^}]*\} [1-9]'; then
    opened=1; break
  fi
done
[ "$opened" -eq 1 ] || fail "the circuit breaker did not open under 100 % vault failures"
# A slow vault (over the 500 ms latency objective), a few requests in parallel.
faults '{"latency_ms":600}'
sleep 5.5  # let the breaker leave the open state so these reach the vault
slow=()
for i in $(seq 1 6); do tokenize "${cards[$((i % 4))]}" 123 & slow+=($!); done
for pid in "${slow[@]}"; do wait "$pid" || true; done
faults '{}'
for i in $(seq 1 10); do tokenize "${cards[$((i % 4))]}" 123; done
printf 'load done, statuses:'; for c in "${!seen[@]}"; do printf ' %s×%s' "$c" "${seen[$c]}"; done; echo

# A few scrapes and rule evaluations of the final state.
sleep 4
if [ -n "${LIVE_CHECK_DEBUG:-}" ]; then
  curl -s "http://127.0.0.1:$tok_port/metrics" | grep -E '^tokenizer_(circuit|upstream_requests_total|upstream_retries|retry_budget)' || true
fi
/usr/bin/python3 "$here/live_queries.py" "$prom" "$root"
status=0
