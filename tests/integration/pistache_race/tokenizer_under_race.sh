#!/usr/bin/env bash
# Runs the real tokenizer in front of upstream-sim answering after a few milliseconds, for
# pistache-race-client: `tokenizer_under_race.sh TOKENIZER UPSTREAM_SIM`. The sim is a child
# of this script and is stopped with it; the tokenizer replaces the shell (exec) so the race
# client watches its descriptors and signals it directly.
set -euo pipefail
tokenizer=$1
sim=$2
log=$(mktemp /tmp/race-sim.XXXXXX)
"$sim" --listen 127.0.0.1:0 --environment-key k --access-secret s --threads 2 \
  --faults '{"latency_ms": 3}' >"$log" 2>&1 &
sim_pid=$!
port=""
for _ in $(seq 1 500); do
  port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log")
  [ -n "$port" ] && break
  sleep 0.01
done
[ -n "$port" ] || { echo "upstream-sim did not start" >&2; kill "$sim_pid"; exit 1; }
# The sim dies with the tokenizer: a watcher kills it when this process (exec'ed) exits.
( while kill -0 $$ 2>/dev/null; do sleep 0.2; done; kill "$sim_pid" 2>/dev/null; rm -f "$log" ) &
exec "$tokenizer" --listen 127.0.0.1:0 --threads 2 --access-log false --upstream-max-connections 64 \
  --upstream-url "http://127.0.0.1:$port" --upstream-key k --upstream-secret s \
  --basic-auth race:race-password
