# ASan+UBSan over the unit and integration tests; TSan over the suites where threads meet
# (curl event loop, retry executor and timers, breaker, idempotency stores, tracer buffer).
# TSan runs only suites that do not load Pistache, which is built without instrumentation
# (test_pistache_promise uses only its header-only promises, instrumented in the test itself).
set -euo pipefail
flags=(-G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1)

cmake -S . -B build-asan "${flags[@]}" -DTOKENIZER_SANITIZE=ON >/dev/null
cmake --build build-asan -j2
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j2 --timeout 300 -LE 'monitoring|bench|race'

tsan_targets=(test_upstream test_resilience test_idempotency test_telemetry test_pistache_promise)
cmake -S . -B build-tsan "${flags[@]}" -DTOKENIZER_TSAN=ON >/dev/null
cmake --build build-tsan -j2 --target "${tsan_targets[@]}"
for t in "${tsan_targets[@]}"; do
  bin=$(find build-tsan/tests -type f -name "$t" -perm -u+x | head -n1)
  echo "TSan: $t"
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 "$bin" --gtest_brief=1
done
