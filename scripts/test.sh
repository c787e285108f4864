#!/usr/bin/env bash
# The test command: installs what the tests need on a fresh machine (the
# real peers: the `openssl` tool for tests/interop_openssl.rs, GnuTLS's
# gnutls-cli/gnutls-serv for tests/interop_gnutls.rs, NSS's
# tstclnt/selfserv/certutil/pk12util for tests/interop_nss.rs, headless
# Chromium for tests/programs.rs), then runs the whole test suite.
# Arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

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

cargo test "$@"
