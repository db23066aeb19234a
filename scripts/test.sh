#!/usr/bin/env bash
# The one test command (README "Quick start", .ci/run): installs what the tests need,
# type-checks, lints, and runs every unit and integration test with node:test.
set -euo pipefail
cd "$(dirname "$0")/.."

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
mapfile -t files < <(find test bench/test -name '*.test.ts' -not -path '*/node_modules/*' | sort)
node --import tsx --test --test-concurrency=2 --test-timeout=120000 --test-reporter=spec "${files[@]}"
