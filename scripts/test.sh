#!/usr/bin/env bash
# The test command: installs what the tests need on a fresh machine (the
# `openssl` tool, a real peer for tests/interop_openssl.rs), then runs the
# whole test suite. Arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v openssl >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq openssl
  else
    sudo apt-get update -qq && sudo apt-get install -y -qq openssl
  fi
fi

cargo test "$@"
