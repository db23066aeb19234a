#!/usr/bin/env bash
# Makes sure the programs the integration tests start are installed: mosquitto (broker),
# mosquitto_sub/mosquitto_passwd (mosquitto-clients / mosquitto), apcupsd, socat.
#
# Idempotent: installs nothing when all are present. Otherwise runs `apt-get update` once and
# installs the Debian packages listed below, with sudo when not root.
# Afterwards it warns about any mosquitto/apcupsd daemon that the tests did not start (an
# install may start packaged services on machines with an init system); it never stops one.
set -euo pipefail

# chromium: the status-page browser test; libusb-1.0-0: node-hid at run time; udev: udevadm
# for serialport's port listing (probe); shellcheck, yamllint: packaging lint tests.
PACKAGES=(mosquitto mosquitto-clients apcupsd socat chromium libusb-1.0-0 udev shellcheck yamllint)
PROGRAMS=(mosquitto mosquitto_sub mosquitto_passwd apcupsd socat chromium udevadm shellcheck yamllint)
# The container test (UPS2MQTT_CONTAINER_TEST=1, the default of scripts/test.sh;
# test/integration/container.test.ts)
# builds and runs the images with podman on stand-in base images made by mmdebstrap.
if [ "${UPS2MQTT_CONTAINER_TEST:-}" = "1" ]; then
  PACKAGES+=(podman buildah runc mmdebstrap)
  PROGRAMS+=(podman buildah runc mmdebstrap)
fi
# Daemons live in /usr/sbin, which is not on every user's PATH.
export PATH="${PATH}:/usr/local/sbin:/usr/sbin:/sbin"

missing_programs() {
  local program
  for program in "${PROGRAMS[@]}"; do
    command -v "$program" >/dev/null 2>&1 || printf '%s\n' "$program"
  done
  # Not grep -q: it exits at the first match, and under pipefail the SIGPIPE that ldconfig
  # then gets would count as "missing".
  ldconfig -p 2>/dev/null | grep 'libusb-1\.0\.so\.0' >/dev/null || printf '%s\n' libusb-1.0
}

run_as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "ensure-test-deps: need root or sudo to run: $*" >&2
    return 1
  fi
}

# Warns about mosquitto/apcupsd processes not started by the test harness (whose configs
# live in private temporary folders named ups2mqtt-*), found by name and by the packaged
# services' PID files. Reports only; kills nothing.
warn_about_services() {
  local pid cmd name pidfile
  local -A seen=()
  for name in mosquitto apcupsd; do
    for pid in $(pgrep -x "$name" 2>/dev/null || true); do seen[$pid]=1; done
  done
  for pidfile in /run/mosquitto/mosquitto.pid /run/apcupsd.pid /var/run/apcupsd.pid; do
    if [ -s "$pidfile" ]; then
      pid=$(tr -dc '0-9' <"$pidfile")
      if [ -n "$pid" ] && [ -d "/proc/${pid}" ]; then seen[$pid]=1; fi
    fi
  done
  for pid in "${!seen[@]}"; do
    cmd=$(tr '\0' ' ' <"/proc/${pid}/cmdline" 2>/dev/null || true)
    case "$cmd" in
      *ups2mqtt-*) ;; # one of the harness's own instances
      *)
        echo "ensure-test-deps: WARNING: pid ${pid} (${cmd:-?}) looks like a packaged" \
          "service started outside the tests. The tests use private instances on free ports;" \
          "stop it yourself if it is not wanted (this script never does)." >&2
        ;;
    esac
  done
}

missing=$(missing_programs)
if [ -n "$missing" ]; then
  echo "ensure-test-deps: missing: $(echo "$missing" | tr '\n' ' ')- installing ${PACKAGES[*]}" >&2
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-test-deps: apt-get not found; install ${PACKAGES[*]} by hand." >&2
    exit 1
  fi
  run_as_root apt-get update
  run_as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${PACKAGES[@]}"
  # dpkg may defer its ldconfig trigger: refresh the cache so the libusb check below sees
  # the library that was just installed (a fresh machine otherwise fails here once).
  run_as_root ldconfig || true
fi

missing=$(missing_programs)
if [ -n "$missing" ]; then
  echo "ensure-test-deps: still missing after install: $(echo "$missing" | tr '\n' ' ')" >&2
  echo "ensure-test-deps: the integration tests need: ${PACKAGES[*]}" >&2
  exit 1
fi

warn_about_services
echo "ensure-test-deps: ok (mosquitto $(mosquitto -h 2>/dev/null | sed -n 's/^mosquitto version //p' | head -n1), $(apcupsd -V 2>/dev/null | head -n1), $(socat -V 2>/dev/null | sed -n 's/^socat version \([^ ]*\).*/socat \1/p' | head -n1))"
