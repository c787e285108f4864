#!/usr/bin/env bash
# Instructions per handshake and per MiB, tlspair against rustls 0.23 and
# raw ring, counted by callgrind on examples/count.rs. Each workload runs
# twice, with N units and with 0, so the setup cancels:
#   per unit = (Ir(N) - Ir(0)) / N
# Usage: scripts/count-instructions.sh [handshakes [MiB]]   (default 20 16)
# Needs valgrind. Takes about two minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

HS=${1:-20}
MIB=${2:-16}
cargo build --release --example count >&2
BIN=target/release/examples/count
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

# Total instructions of one run (callgrind's "summary:" line).
ir() {
    valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.out" "$BIN" "$1" "$2" 2>/dev/null >/dev/null
    awk '/^summary:/ { print $2 }' "$OUT/cg.out"
}

per_unit() {
    local base full
    base=$(ir "$1" 0)
    full=$(ir "$1" "$2")
    echo $(((full - base) / $2))
}

printf '%-28s %15s\n' workload instructions
for w in full-tlspair full-rustls pk-limit resumed-tlspair resumed-rustls; do
    printf '%-28s %15s  per handshake\n' "$w" "$(per_unit "$w" "$HS")"
done
for w in transfer-ring transfer-tlspair-in-place transfer-tlspair transfer-rustls-unbuffered transfer-rustls; do
    printf '%-28s %15s  per MiB\n' "$w" "$(per_unit "$w" "$MIB")"
done
