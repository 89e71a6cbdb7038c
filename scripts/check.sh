#!/usr/bin/env bash
# `npm run check`: every static check, each run even when an earlier one failed, one summary line each.
#   typecheck  tsc --noEmit over everything, specs and tests included (the build leaves specs out)
#   lint       ESLint with typed rules (eslint.config.mjs)
#   format     Prettier --check (.prettierrc.json)
#   deps       dependency-cruiser: no cycles, the domain a leaf, apps separate, features use only each other's top-level files (.dependency-cruiser.cjs)
set -uo pipefail
cd "$(dirname "$0")/.."

steps=(
  "typecheck|node_modules/.bin/tsc -p tsconfig.json --noEmit"
  "lint|node_modules/.bin/eslint --max-warnings 0 apps libs test bench"
  "format|node_modules/.bin/prettier --check --log-level warn apps libs test bench"
  "deps|node_modules/.bin/depcruise --config .dependency-cruiser.cjs apps libs test bench"
)

summary=()
failed=0
for step in "${steps[@]}"; do
  name=${step%%|*}
  cmd=${step#*|}
  started=$SECONDS
  # shellcheck disable=SC2086
  if $cmd; then
    summary+=("passed  $((SECONDS - started))s  $name")
  else
    summary+=("FAILED  $((SECONDS - started))s  $name")
    failed=1
  fi
done
echo
echo "npm run check:"
printf '  %s\n' "${summary[@]}"
exit "$failed"
