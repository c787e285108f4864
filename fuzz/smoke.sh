#!/usr/bin/env bash
# Builds every fuzz target and runs each one for a short while, starting
# from its committed seeds.
#
#   fuzz/smoke.sh [SECONDS]      # per target; default 30
#
# Each target runs on a scratch corpus, fuzz/corpus/TARGET/ (gitignored),
# that starts as a copy of fuzz/seeds/TARGET/: libFuzzer writes every new
# input into its corpus directory, and the committed seeds must stay the
# small hand-made set. A crash stops the script with a non-zero status and
# leaves the input in fuzz/artifacts/TARGET/.
set -euo pipefail

secs="${1:-30}"
cd "$(dirname "$0")/.."

# cargo-fuzz needs nightly for the sanitizer and coverage flags.
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    echo "smoke.sh: the nightly toolchain is required (rustup toolchain install nightly)" >&2
    exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

cargo +nightly fuzz build
for target in $(cargo +nightly fuzz list); do
    corpus="fuzz/corpus/$target"
    mkdir -p "$corpus"
    if [ -d "fuzz/seeds/$target" ]; then
        cp "fuzz/seeds/$target"/* "$corpus"/
    fi
    echo "== $target: ${secs}s"
    cargo +nightly fuzz run "$target" "$corpus" -- \
        -max_total_time="$secs" -print_final_stats=1
done
