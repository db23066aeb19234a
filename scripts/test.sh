#!/usr/bin/env bash
# The one test command (README "Quick start", .ci/run): installs what the tests need,
# type-checks, lints, and runs every unit and integration test with node:test.
set -euo pipefail
cd "$(dirname "$0")/.."

# The container test (build both images with podman and run them) is part of the test
# command; UPS2MQTT_CONTAINER_TEST=0 leaves it out for a quick local run.
export UPS2MQTT_CONTAINER_TEST="${UPS2MQTT_CONTAINER_TEST:-1}"

echo "== system packages (mosquitto, apcupsd, socat)"
bash scripts/ensure-test-deps.sh

echo "== NUT programs (unpacked, not installed)"
bash scripts/ensure-nut.sh

echo "== npm ci"
npm ci --no-audit --no-fund --loglevel=error

echo "== type-check"
npx tsc -p tsconfig.json --noEmit

echo "== lint"
npx biome check .

export UPS2MQTT_REQUIRE_BROWSER=1
echo "== tests"
mapfile -t files < <(find test bench/test -name '*.test.ts' -not -path '*/node_modules/*' \
  -not -name 'container.test.ts' | sort)
node --import tsx --test --test-concurrency=2 --test-timeout=120000 --test-reporter=spec "${files[@]}"

if [ "${UPS2MQTT_CONTAINER_TEST}" = "1" ]; then
  # Alone and without the per-test limit: image builds take minutes on two cores.
  echo "== container images (podman)"
  node --import tsx --test --test-reporter=spec test/integration/container.test.ts
fi
