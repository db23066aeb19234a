#!/usr/bin/env bash
# Makes NUT's upsd, dummy-ups driver and clients (upsc, upscmd, upsmon) available to the
# tests WITHOUT installing them: Debian's nut-server/nut-client conflict with apcupsd (both
# provide ups-monitor), so the .debs are fetched with `apt-get download` and unpacked with
# `dpkg-deb -x` into a private folder. Prints that folder on stdout (last line).
#
# Folder: $UPS2MQTT_NUT_ROOT, else ${XDG_CACHE_HOME:-$HOME/.cache}/ups2mqtt-test/nut.
# Idempotent: does nothing when the programs are already unpacked there.
set -euo pipefail

ROOT="${UPS2MQTT_NUT_ROOT:-${XDG_CACHE_HOME:-${HOME}/.cache}/ups2mqtt-test/nut}"
PACKAGES=(nut-server nut-client libupsclient6 libnutscan2)

have_all() {
  [ -x "${ROOT}/sbin/upsd" ] && [ -x "${ROOT}/lib/nut/dummy-ups" ] &&
    [ -x "${ROOT}/bin/upsc" ] && [ -x "${ROOT}/bin/upscmd" ] && [ -x "${ROOT}/sbin/upsmon" ]
}

if ! have_all; then
  work=$(mktemp -d)
  trap 'rm -rf "${work}"' EXIT
  # _apt cannot write into a private temporary folder; let it own one.
  chmod 0777 "${work}"
  (
    cd "${work}"
    if ! apt-get download "${PACKAGES[@]}" >/dev/null 2>"${work}/err"; then
      # A fresh machine may not have package lists yet.
      if [ "$(id -u)" -eq 0 ]; then apt-get update >/dev/null; elif command -v sudo >/dev/null; then sudo apt-get update >/dev/null; fi
      apt-get download "${PACKAGES[@]}" >/dev/null
    fi
  )
  mkdir -p "${ROOT}"
  for deb in "${work}"/*.deb; do dpkg-deb -x "${deb}" "${ROOT}"; done
fi

if ! have_all; then
  echo "ensure-nut: NUT programs missing under ${ROOT} after unpacking" >&2
  exit 1
fi
echo "${ROOT}"
