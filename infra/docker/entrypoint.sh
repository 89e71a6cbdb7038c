#!/bin/sh
# The image's entrypoint (Dockerfile): the first argument picks what runs.
#   proxy | broker-api | broker-store   that component (dist/apps/<component>/src/main.js)
#   anything else                       the `beamline` CLI with those arguments
# BEAMLINE_HOME is where the build lives (/app in the image); test/packaging.spec.ts points it at a checkout.
set -eu
home=${BEAMLINE_HOME:-/app}
case "${1:-}" in
  proxy | broker-api | broker-store)
    component=$1
    shift
    exec node "$home/dist/apps/$component/src/main.js" "$@"
    ;;
  *)
    exec node "$home/dist/apps/cli/src/main.js" "$@"
    ;;
esac
