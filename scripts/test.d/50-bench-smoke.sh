#!/usr/bin/env bash
# scripts/test extra: the performance guard (under a minute). On loopback, against the Release
# binaries in build/bin: nginx proxying to upstream-sim (b) and tokenizer with everything on
# (c: metrics, tracing to fake-dd-agent at sample rate 1, access logs to a file), each driven by
# wrk -t2 -c64 in interleaved 5 s runs. Fails when tokenizer's requests/s fall below
# BENCH_SMOKE_MIN_RATIO × nginx's (median of the runs), or when any tokenizer reply is not
# a 2xx or any socket error occurs: a change that loses keep-alive, serialises requests or
# blocks a server thread on the vault fails here. This is the suite's only timing check; the
# full comparison is bench/run (bench/README.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

# The floor is issue 7's 0.4×. The service measures 0.45–0.55× in this smoke (median of three
# interleaved rounds) and 0.49–0.52× in bench/run's median of five, on a machine shared with the
# simulator, nginx and wrk. What the guard is for — lost keep-alive, requests serialised on one
# thread, a server thread blocked on the vault — each costs far more than that margin.
min_ratio=${BENCH_SMOKE_MIN_RATIO:-0.4}
rounds=${BENCH_SMOKE_ROUNDS:-3}
seconds=${BENCH_SMOKE_SECONDS:-5}
export BENCH_BIN=${BENCH_BIN:-$root/build/bin}

# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
bench_setup
bench_start_sim
bench_start_agent
bench_start_nginx "$SIM_PORT"
bench_start_tokenizer c on

nginx_url="http://127.0.0.1:$NGINX_PORT"
tokenizer_url="http://127.0.0.1:$TOK_PORT"
bench_wrk "$nginx_url" vault 64 2 >/dev/null
bench_wrk "$tokenizer_url" tokenizer 64 2 >/dev/null

ratios=()
errors=0
for round in $(seq 1 "$rounds"); do
  b=$(bench_wrk "$nginx_url" vault 64 "$seconds" | grep '^BENCH_RESULT')
  c=$(bench_wrk "$tokenizer_url" tokenizer 64 "$seconds" | grep '^BENCH_RESULT')
  b_rps=$(bench_field "$b" rps) c_rps=$(bench_field "$c" rps)
  c_errors=$(bench_errors "$c")
  errors=$((errors + c_errors))
  ratio=$(awk -v c="$c_rps" -v b="$b_rps" 'BEGIN { printf "%.3f", (b > 0 ? c / b : 0) }')
  ratios+=("$ratio")
  printf 'bench smoke round %d: nginx %.0f req/s, tokenizer %.0f req/s (%s×), tokenizer errors %d (non-2xx %s, socket %d)\n' \
    "$round" "$b_rps" "$c_rps" "$ratio" "$c_errors" "$(bench_field "$c" non2xx)" \
    $((c_errors - $(bench_field "$c" non2xx)))
done
median=$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }')

failed=0
if [ "$errors" -ne 0 ]; then
  echo "bench smoke: FAIL: tokenizer answered $errors requests with an error (non-2xx or socket error); see the runs above" >&2
  failed=1
fi
if ! awk -v m="$median" -v t="$min_ratio" 'BEGIN { exit !(m >= t) }'; then
  echo "bench smoke: FAIL: tokenizer reached ${median}× nginx's requests/s (median of $rounds runs), below the ${min_ratio}× floor:" >&2
  echo "  look for lost keep-alive, requests serialised on one thread or a server thread blocked on the vault (bench/README.md)" >&2
  failed=1
fi
[ "$failed" -eq 0 ] && echo "bench smoke: ok (tokenizer at ${median}× nginx, floor ${min_ratio}×, no errors)"
exit "$failed"
