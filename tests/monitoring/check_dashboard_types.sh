#!/usr/bin/env bash
# Type-checks Grafana dashboards against Grafana's own published dashboard types:
# for each dashboard JSON, writes `const d: JsonOf<Dashboard> = <json>;` (Dashboard from
# @grafana/schema) into WORK_DIR and runs `tsc --noEmit --strict` over them. Object
# literals are checked exactly, so an unknown or misspelt key fails as well as a wrong type.
# JsonOf<T> is T with each string enum replaced by the union of its values: Grafana's types
# use string enums (ThresholdsMode.Absolute = "absolute") and dashboard JSON stores the
# values; keys, required fields, numbers and nesting are checked unchanged.
#   check_dashboard_types.sh WORK_DIR [dashboard.json ...]   (default: grafana/dashboards/*.json)
# Needs node and the packages of tests/monitoring/grafana-types (scripts/monitoring/bootstrap-npm).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=${1:?usage: check_dashboard_types.sh WORK_DIR [dashboard.json ...]}
shift
modules=$here/grafana-types/node_modules
if [ ! -f "$modules/typescript/bin/tsc" ] || [ ! -f "$modules/@grafana/schema/package.json" ]; then
  echo "FAIL: $modules is missing @grafana/schema or typescript: run scripts/monitoring/bootstrap-npm" >&2
  exit 1
fi
command -v node >/dev/null || { echo "FAIL: node is not installed" >&2; exit 1; }

files=("$@")
[ ${#files[@]} -gt 0 ] || files=("$root"/grafana/dashboards/*.json)
rm -rf "$work" && mkdir -p "$work"
cat > "$work/json_of.ts" <<'TS'
// The JSON form of a Grafana type: string enums become the union of their values.
export type JsonOf<T> = T extends string
  ? `${T}`
  : T extends (infer U)[]
    ? JsonOf<U>[]
    : T extends object
      ? { [K in keyof T]: JsonOf<T[K]> }
      : T;
TS
ts_files=("\"json_of.ts\"")
for f in "${files[@]}"; do
  stem=$(basename "$f" .json | tr -c 'A-Za-z0-9_\n' '_')
  {
    echo "// Generated from $(realpath --relative-to="$root" "$f") by tests/monitoring/check_dashboard_types.sh"
    echo "import type { Dashboard } from '@grafana/schema';"
    echo "import type { JsonOf } from './json_of';"
    printf 'const dashboard: JsonOf<Dashboard> = '
    cat "$f"
    echo ";"
    echo "export default dashboard;"
  } > "$work/$stem.ts"
  ts_files+=("\"$stem.ts\"")
done
cat > "$work/tsconfig.json" <<JSON
{
  "compilerOptions": {
    "strict": true,
    "noEmit": true,
    "target": "es2020",
    "module": "esnext",
    "moduleResolution": "bundler",
    "skipLibCheck": false,
    "types": [],
    "baseUrl": "$modules",
    "paths": { "@grafana/schema": ["$modules/@grafana/schema"] }
  },
  "files": [$(IFS=,; echo "${ts_files[*]}")]
}
JSON
if node "$modules/typescript/bin/tsc" --noEmit --strict -p "$work/tsconfig.json"; then
  echo "${#files[@]} dashboard(s) type-check against @grafana/schema $(node -p "require('$modules/@grafana/schema/package.json').version")"
else
  echo "FAIL: dashboards do not type-check against @grafana/schema (errors above)" >&2
  exit 1
fi
