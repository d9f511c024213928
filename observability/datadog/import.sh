#!/usr/bin/env bash
# Creates or updates the Datadog monitors in observability/datadog/monitors/ through the
# monitor API (idempotent: a monitor with the same name is updated in place).
#
#   DD_API_KEY=... DD_APP_KEY=... observability/datadog/import.sh            import
#   observability/datadog/import.sh --dry-run                                print the bodies
#
# Optional: DD_SITE (datadoghq.com; e.g. datadoghq.eu, us5.datadoghq.com),
#           TOKENIZER_ENV (production): the `env` tag the monitors select.
# Component monitors (type "query alert") go first; the composites reference them as
# ${<file name without .json>}, replaced here by the ids Datadog returned.
# Needs bash, curl and jq.
set -euo pipefail
cd "$(dirname "$0")/monitors"

dry_run=0
[ "${1:-}" = "--dry-run" ] && dry_run=1
site=${DD_SITE:-datadoghq.com}
env_tag=${TOKENIZER_ENV:-production}
api="https://api.$site/api/v1/monitor"
command -v jq >/dev/null || { echo "import.sh: jq is required" >&2; exit 1; }
if [ "$dry_run" -eq 0 ]; then
  : "${DD_API_KEY:?set DD_API_KEY}" "${DD_APP_KEY:?set DD_APP_KEY}"
fi

call() {  # method url [body]
  curl -fsS -X "$1" "$2" -H "DD-API-KEY: $DD_API_KEY" -H "DD-APPLICATION-KEY: $DD_APP_KEY" \
    -H "Content-Type: application/json" ${3:+--data-binary "$3"}
}

declare -A ids=()
upsert() {  # file
  local stem body name existing id
  stem=$(basename "$1" .json)
  body=$(sed "s/env:production/env:$env_tag/g" "$1")
  for ref in "${!ids[@]}"; do
    body=${body//"\${$ref}"/${ids[$ref]}}
  done
  if grep -q '\${' <<<"$(jq -r .query <<<"$body")"; then
    echo "import.sh: $stem references a monitor that was not imported" >&2; exit 1
  fi
  if [ "$dry_run" -eq 1 ]; then
    ids[$stem]="<id of $stem>"
    echo "# $stem"; jq . <<<"$body"; return
  fi
  name=$(jq -r .name <<<"$body")
  existing=$(call GET "$api?name=$(jq -rn --arg n "$name" '$n|@uri')" \
             | jq -r --arg n "$name" '[.[] | select(.name == $n)][0].id // empty')
  if [ -n "$existing" ]; then
    id=$(call PUT "$api/$existing" "$body" | jq -r .id)
    echo "updated $stem (id $id)"
  else
    id=$(call POST "$api" "$body" | jq -r .id)
    echo "created $stem (id $id)"
  fi
  ids[$stem]=$id
}

for f in *.json; do
  [ "$(jq -r .type "$f")" = composite ] || upsert "$f"
done
for f in *.json; do
  [ "$(jq -r .type "$f")" = composite ] && upsert "$f"
done
exit 0
