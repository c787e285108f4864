#!/usr/bin/env bash
# The test command: installs what the tests need on a fresh machine
# (scripts/install-deps.sh: the real peers), then
# runs the whole test suite. Arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cargo test "$@"
