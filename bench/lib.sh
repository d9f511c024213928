# shellcheck shell=bash
# bench/lib.sh: shared by bench/run and scripts/test.d/50-bench-smoke.sh (source it; bash).
# Starts the processes of a load benchmark on loopback (upstream-sim, fake-dd-agent, nginx,
# tokenizer), runs wrk with bench/tokenize.lua, and reads what the processes report.
# Every process started here is recorded in BENCH_PIDS and stopped by bench_cleanup, which
# bench_setup installs as the EXIT/INT/TERM trap.
#
#   BENCH_BIN=/path/to/build/bin bench_setup
#   bench_start_sim;        echo "$SIM_PORT"
#   bench_start_agent;      echo "$AGENT_PORT"
#   bench_start_nginx "$SIM_PORT"; echo "$NGINX_PORT"
#   bench_start_tokenizer c on;   echo "$TOK_PORT $TOK_PID"
#   line=$(bench_wrk "http://127.0.0.1:$TOK_PORT" tokenizer 64 10)
#   bench_field "$line" rps

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_PIDS=()
BENCH_CLIENT_AUTH=$(printf '%s' 'demo:demo-password' | base64)
BENCH_VAULT_AUTH=$(printf '%s' 'demo-key:demo-secret' | base64)

bench_log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
bench_die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

bench_cleanup() {
  local status=$?
  trap - EXIT INT TERM
  local pid
  for pid in "${BENCH_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${BENCH_PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ -n "${BENCH_RUN_DIR:-}" ] && [ -d "$BENCH_RUN_DIR" ]; then
    if [ "${BENCH_KEEP_RUN_DIR:-0}" = 1 ]; then
      echo "bench: logs kept in $BENCH_RUN_DIR" >&2
    else
      rm -rf "$BENCH_RUN_DIR"
    fi
  fi
  exit "$status"
}

# Checks the tools and binaries, creates the run directory and installs the cleanup trap.
bench_setup() {
  [ -n "${BENCH_BIN:-}" ] || bench_die "BENCH_BIN is not set"
  local b
  for b in tokenizer upstream-sim fake-dd-agent; do
    [ -x "$BENCH_BIN/$b" ] || bench_die "$BENCH_BIN/$b is missing (build it first)"
  done
  command -v wrk >/dev/null || bench_die "wrk is not installed (apt-get install wrk)"
  command -v curl >/dev/null || bench_die "curl is not installed"
  BENCH_RUN_DIR=$(mktemp -d /tmp/tokenizer-bench.XXXXXX)
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# bench_wait_for FILE EXTENDED-REGEX [SECONDS]: prints the first match once FILE has one.
bench_wait_for() {
  local file=$1 regex=$2 seconds=${3:-20} match
  for _ in $(seq 1 $((seconds * 20))); do
    match=$(grep -m1 -oE "$regex" "$file" 2>/dev/null || true)
    if [ -n "$match" ]; then printf '%s\n' "$match"; return 0; fi
    sleep 0.05
  done
  echo "bench: timed out waiting for /$regex/ in $file:" >&2
  tail -n 20 "$file" >&2 || true
  return 1
}

# Starts upstream-sim on an OS-chosen port: SIM_PORT, SIM_PID.
bench_start_sim() {
  local log="$BENCH_RUN_DIR/upstream-sim.log"
  "$BENCH_BIN/upstream-sim" --listen 127.0.0.1:0 --environment-key demo-key \
    --access-secret demo-secret --threads "${BENCH_SIM_THREADS:-2}" >"$log" 2>&1 &
  SIM_PID=$!
  BENCH_PIDS+=("$SIM_PID")
  SIM_PORT=$(bench_wait_for "$log" 'listening on http://127\.0\.0\.1:[0-9]+' | sed 's/.*://') ||
    bench_die "upstream-sim did not start"
}

# bench_sim_faults JSON: replaces the simulator's fault set ('{}' = healthy).
bench_sim_faults() {
  curl -fsS -o /dev/null -X POST -H 'Content-Type: application/json' -d "$1" \
    "http://127.0.0.1:$SIM_PORT/__sim/faults" || bench_die "could not set sim faults $1"
}

# Starts fake-dd-agent on an OS-chosen port: AGENT_PORT, AGENT_PID (for its CPU time).
# In --sink mode (the default here) it answers like the agent without decoding the payloads,
# so the test double's own CPU does not crowd the service on the shared cores;
# BENCH_AGENT_CHECK=1 makes it decode and check every span as the integration tests do.
bench_start_agent() {
  local log="$BENCH_RUN_DIR/fake-dd-agent.log" mode=(--sink)
  [ "${BENCH_AGENT_CHECK:-0}" = 1 ] && mode=()
  "$BENCH_BIN/fake-dd-agent" --port 0 "${mode[@]}" >"$log" 2>&1 &
  # shellcheck disable=SC2034 # read by bench/run
  AGENT_PID=$!
  BENCH_PIDS+=("$AGENT_PID")
  AGENT_PORT=$(bench_wait_for "$log" 'listening on http://127\.0\.0\.1:[0-9]+' | sed 's/.*://') ||
    bench_die "fake-dd-agent did not start"
}

# Traces the fake agent received so far (sink mode; empty in checking mode).
bench_agent_traces() {
  curl -fs "http://127.0.0.1:$AGENT_PORT/test/stats" 2>/dev/null | grep -oE '"traces":[0-9]+' | cut -d: -f2
}

# A TCP port nothing listens on (nginx needs its port in its configuration).
bench_free_port() {
  local port
  for _ in $(seq 1 100); do
    port=$((20000 + RANDOM % 30000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
  done
  return 1
}

# bench_start_nginx SIM_PORT: nginx-light proxying to the simulator with upstream keep-alive,
# from bench/nginx.conf.in, all its files in the run directory: NGINX_PORT.
bench_start_nginx() {
  local sim_port=$1 nginx conf attempt
  nginx=$(command -v nginx || echo /usr/sbin/nginx)
  [ -x "$nginx" ] || bench_die "nginx is not installed (apt-get install nginx-light)"
  conf="$BENCH_RUN_DIR/nginx.conf"
  for attempt in 1 2 3 4 5; do
    NGINX_PORT=$(bench_free_port) || bench_die "no free port for nginx"
    sed -e "s#@RUN_DIR@#$BENCH_RUN_DIR#g" -e "s#@LISTEN_PORT@#$NGINX_PORT#g" \
        -e "s#@SIM_PORT@#$sim_port#g" -e "s#@WORKERS@#${BENCH_NGINX_WORKERS:-2}#g" \
        "$BENCH_DIR/nginx.conf.in" >"$conf"
    "$nginx" -p "$BENCH_RUN_DIR" -e "$BENCH_RUN_DIR/nginx-error.log" -c "$conf" \
      >"$BENCH_RUN_DIR/nginx.out" 2>&1 &
    NGINX_PID=$!
    BENCH_PIDS+=("$NGINX_PID")
    for _ in $(seq 1 100); do
      if (exec 3<>"/dev/tcp/127.0.0.1/$NGINX_PORT") 2>/dev/null; then return 0; fi
      kill -0 "$NGINX_PID" 2>/dev/null || break
      sleep 0.05
    done
    kill -TERM "$NGINX_PID" 2>/dev/null || true
    wait "$NGINX_PID" 2>/dev/null || true
    bench_log "nginx did not start on port $NGINX_PORT (attempt $attempt): $(tail -n 2 "$BENCH_RUN_DIR/nginx-error.log" 2>/dev/null)"
  done
  bench_die "nginx did not start (see $BENCH_RUN_DIR/nginx-error.log)"
}

# bench_start_tokenizer NAME on|off [EXTRA FLAGS...]: tokenizer in front of the simulator.
#   on:  metrics, tracing to the fake agent at sample rate 1, access logs to NAME.log
#   off: metrics only (tracing and access logs off)
# Sets TOK_PORT, TOK_PID, TOK_LOG.
bench_start_tokenizer() {
  local name=$1 telemetry=$2
  shift 2
  TOK_LOG="$BENCH_RUN_DIR/tokenizer-$name.log"
  local env_vars=() flags=()
  if [ "$telemetry" = on ]; then
    [ -n "${AGENT_PORT:-}" ] || bench_die "start the fake agent before a traced tokenizer"
    env_vars=(DD_TRACE_ENABLED=true "DD_TRACE_AGENT_URL=http://127.0.0.1:$AGENT_PORT"
              DD_TRACE_SAMPLE_RATE=1 DD_ENV=bench DD_SERVICE=tokenizer)
    flags=(--access-log true)
  else
    env_vars=(DD_TRACE_ENABLED=false)
    flags=(--access-log false)
  fi
  env "${env_vars[@]}" "$BENCH_BIN/tokenizer" --listen 127.0.0.1:0 \
    --upstream-url "http://127.0.0.1:$SIM_PORT" --upstream-key demo-key --upstream-secret demo-secret \
    --basic-auth demo:demo-password --threads "${BENCH_TOKENIZER_THREADS:-2}" \
    "${flags[@]}" "$@" >"$TOK_LOG" 2>&1 &
  TOK_PID=$!
  BENCH_PIDS+=("$TOK_PID")
  TOK_PORT=$(bench_wait_for "$TOK_LOG" '"message":"listening".*"port":[0-9]+' |
             grep -oE '"port":[0-9]+' | cut -d: -f2) || bench_die "tokenizer $name did not start"
  for _ in $(seq 1 100); do
    curl -fs -o /dev/null "http://127.0.0.1:$TOK_PORT/readyz" && return 0
    sleep 0.05
  done
  bench_die "tokenizer $name never became ready"
}

# bench_start_relay [NAME [ARGS...]]: bench-relay (bench/relay/) in front of the simulator, with
# the tokenizer's thread counts and ARGS (e.g. --header): RELAY_PORT, RELAY_PID. Clients talk
# to it as to the vault.
bench_start_relay() {
  local name=${1:-r}
  shift $(($# > 0 ? 1 : 0))
  local log="$BENCH_RUN_DIR/bench-relay-$name.log"
  [ -x "$BENCH_BIN/bench-relay" ] || bench_die "$BENCH_BIN/bench-relay is missing (build it first)"
  "$BENCH_BIN/bench-relay" --upstream-url "http://127.0.0.1:$SIM_PORT" \
    --threads "${BENCH_TOKENIZER_THREADS:-2}" "$@" >"$log" 2>&1 &
  RELAY_PID=$!
  BENCH_PIDS+=("$RELAY_PID")
  RELAY_PORT=$(bench_wait_for "$log" '"message":"listening".*"port":[0-9]+' |
               grep -oE '"port":[0-9]+' | cut -d: -f2) || bench_die "bench-relay $name did not start"
}

# bench_propagation_headers PORT: one tokenize request through the traced tokenizer at PORT;
# prints, one per line as "name: value", the trace-propagation headers it sent the vault
# (x-datadog-*, traceparent, tracestate), read back from the simulator's request log.
bench_propagation_headers() {
  local port=$1 payload
  curl -fs -o /dev/null -X DELETE "http://127.0.0.1:$SIM_PORT/__sim/requests" ||
    bench_die "could not clear the simulator's request log"
  payload='{"payment_method":{"card_number":"4111111111111111","month":"12","year":"2030",'
  payload+='"first_name":"Ada","last_name":"Lovelace","cvv":"123"}}'
  curl -fs -o /dev/null -u demo:demo-password \
    -H 'Content-Type: application/json' -d "$payload" \
    "http://127.0.0.1:$port/api/v1/payment_methods/tokenize" ||
    bench_die "the tokenize request for the propagation headers failed"
  curl -fs "http://127.0.0.1:$SIM_PORT/__sim/requests" | python3 -c '
import json, sys
for request in json.load(sys.stdin)["requests"]:
    if request["path"] != "/v1/payment_methods.json":
        continue
    for name, value in sorted(request["headers"].items()):
        if name.startswith("x-datadog-") or name in ("traceparent", "tracestate"):
            print("%s: %s" % (name, value))
    break'
}

# bench_wrk URL tokenizer|vault CONNECTIONS SECONDS [LUA ARGS...]: one wrk run (-t2); prints
# its BENCH_RESULT line (and BENCH_STATUS lines with classify=1); full output in the run dir.
bench_wrk() {
  local url=$1 mode=$2 conns=$3 seconds=$4
  shift 4
  local auth=$BENCH_CLIENT_AUTH threads=${BENCH_WRK_THREADS:-2} out
  [ "$mode" = vault ] && auth=$BENCH_VAULT_AUTH
  out="$BENCH_RUN_DIR/wrk-$(date +%s%N).txt"
  wrk -t"$threads" -c"$conns" -d"${seconds}s" --timeout "${BENCH_WRK_TIMEOUT:-10}s" \
    -s "$BENCH_DIR/tokenize.lua" "$url" -- "mode=$mode" "auth=$auth" "threads=$threads" "$@" \
    >"$out" 2>&1 || { cat "$out" >&2; bench_die "wrk failed against $url"; }
  grep -E '^BENCH_(RESULT|STATUS) ' "$out" || { cat "$out" >&2; bench_die "wrk printed no result"; }
}

# bench_field LINE KEY: the value of key=value in a BENCH_RESULT line.
bench_field() { printf '%s\n' "$1" | grep -m1 '^BENCH_RESULT' | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# Errors of a BENCH_RESULT line: non-2xx replies plus socket errors of every kind.
bench_errors() {
  local l=$1
  echo $(( $(bench_field "$l" non2xx) + $(bench_field "$l" connect) + $(bench_field "$l" read) +
           $(bench_field "$l" write) + $(bench_field "$l" timeout) ))
}

# bench_proc_kb PID VmHWM|VmRSS: from /proc/PID/status, in kB.
bench_proc_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
