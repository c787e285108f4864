#!/usr/bin/env bash
# Installs what the build and the tests need on a fresh machine, from
# Debian's packages, if missing:
# - the real peers: the `openssl` tool (tests/interop_openssl.rs), GnuTLS's
#   gnutls-cli/gnutls-serv (tests/interop_gnutls.rs), NSS's
#   tstclnt/selfserv/certutil/pk12util (tests/interop_nss.rs), headless
#   Chromium and curl (tests/programs.rs);
# (The benches' third stack, OpenSSL, loads the libssl.so.3 that the
# `openssl` tool brings; no build needs OpenSSL's headers.)
# Called by scripts/test.sh and .ci/run.
set -euo pipefail

# tool -> Debian package
declare -A need=(
  [openssl]=openssl
  [gnutls-cli]=gnutls-bin
  [gnutls-serv]=gnutls-bin
  [tstclnt]=libnss3-tools
  [selfserv]=libnss3-tools
  [certutil]=libnss3-tools
  [pk12util]=libnss3-tools
  [chromium]=chromium
  [curl]=curl
)
missing=()
for tool in "${!need[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("${need[$tool]}")
done
if [ ${#missing[@]} -gt 0 ]; then
  packages=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  # shellcheck disable=SC2086
  $sudo apt-get install -y -qq $packages
fi
