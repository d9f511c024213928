#!/usr/bin/env bash
# Runs the pistache_race regression tests against Pistache 0.4.26 without and with the
# patches in patches/, and prints per-run results (see README.md, "How the patches were
# tested"). Downloads nothing: pass the orig tarball that scripts/bootstrap fetches.
#
#   third_party/pistache/compare.sh <pistache_0.4.26+ds.orig.tar.xz> [runs] [build dir]
#
# The build dir (default build) must hold bin/pistache-race-client. Builds two static
# Pistache copies and two race servers in a temporary directory (about 2 minutes on 2
# cores), removed at the end. Needs meson, ninja, g++ and the project's Debian packages.
set -euo pipefail
orig=${1:?usage: compare.sh <orig tarball> [runs] [build dir]}
runs=${2:-5}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${3:-$root/build}" && pwd)
client=$build/bin/pistache-race-client
[ -x "$client" ] || { echo "compare.sh: build pistache-race-client in $build first" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

build_variant() {  # name, apply patches (yes/no)
  local name=$1 src
  mkdir -p "$work/$name"
  tar -C "$work/$name" -xf "$orig"
  src=$(find "$work/$name" -mindepth 1 -maxdepth 1 -type d | head -n1)
  if [ "$2" = yes ]; then
    for p in "$here"/patches/*.patch; do patch -d "$src" -p1 --quiet --forward < "$p"; done
  fi
  meson setup "$work/$name-build" "$src" --prefix="$work/$name-prefix" --libdir=lib \
    --buildtype=release --default-library=static -DPISTACHE_USE_SSL=true \
    -DPISTACHE_BUILD_TESTS=false -DPISTACHE_BUILD_EXAMPLES=false -DPISTACHE_BUILD_DOCS=false >/dev/null
  ninja -C "$work/$name-build" -j2 >/dev/null
  ninja -C "$work/$name-build" install >/dev/null
  local t=$root/tests/integration/pistache_race
  # shellcheck disable=SC2046
  g++ -std=c++17 -O2 -I"$root/src" "$t/race_server_main.cpp" "$t/delayed_responder.cpp" \
    "$t/race_reply.cpp" "$root/src/common/random.cpp" \
    $(PKG_CONFIG_PATH=$work/$name-prefix/lib/pkgconfig pkg-config --cflags --libs libpistache) \
    -lcrypto -pthread -o "$work/server-$name"
}

echo "compare.sh: building unpatched and patched Pistache in $work"
build_variant unpatched no
build_variant patched yes

common=(--parallel 32 --close-jitter-us 1000 --body-contains-id --expect-status 200 --deadline-s 40)
for variant in unpatched patched; do
  server=$work/server-$variant
  for test in pistache_race pistache_race_async; do
    results=()
    for _ in $(seq "$runs"); do
      if [ "$test" = pistache_race ]; then
        out=$("$client" --clients 8000 "${common[@]}" -- "$server" --listen 127.0.0.1:0 --threads 2 \
                --sync-share 0.5 --min-delay-us 1000 --max-delay-us 4000 2>&1) && rc=0 || rc=$?
      else
        out=$("$client" --clients 20000 "${common[@]}" -- "$server" --listen 127.0.0.1:0 --threads 1 \
                --min-delay-us 0 --max-delay-us 300 2>&1) && rc=0 || rc=$?
      fi
      mis=$(grep -oE 'misdelivered=[0-9]+' <<<"$out" | tail -n1 | cut -d= -f2)
      died=$(grep -oE 'server died: .*' <<<"$out" || true)
      results+=("$([ "$rc" = 0 ] && echo PASS || echo FAIL)(misdelivered=${mis:-?}${died:+, $died})")
    done
    echo "$variant $test: ${results[*]}"
  done
done
