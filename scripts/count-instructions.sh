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
# count-copies: the engine counts the bytes it copies (copies per byte).
cargo build --release --example count --features count-copies >&2
BIN=target/release/examples/count
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

# One run under callgrind: "<total Ir> <Ir in libc's memcpy/memmove>".
ir() {
    valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.out" "$BIN" "$1" "$2" 2>/dev/null >/dev/null
    local total copy
    total=$(awk '/^summary:/ { print $2 }' "$OUT/cg.out")
    copy=$(callgrind_annotate --threshold=100 "$OUT/cg.out" 2>/dev/null |
        awk '/libc[.]so/ && /__mem(cpy|move)/ { gsub(",", "", $1); s += $1 } END { print s + 0 }')
    echo "$total $copy"
}

# "<Ir per unit> <memcpy Ir per unit>" from runs with N units and with 0.
per_unit() {
    local b0 c0 b1 c1
    read -r b0 c0 <<<"$(ir "$1" 0)"
    read -r b1 c1 <<<"$(ir "$1" "$2")"
    echo "$(((b1 - b0) / $2)) $(((c1 - c0) / $2))"
}

printf '%-28s %14s %14s\n' workload instructions 'in memcpy'
for w in full-tlspair full-rustls pk-limit resumed-tlspair resumed-rustls; do
    read -r n c <<<"$(per_unit "$w" "$HS")"
    printf '%-28s %14s %14s  per handshake\n' "$w" "$n" "$c"
done
# Copies per payload byte. tlspair's: the bytes its copies moved
# (`copied`, printed by the example, counted by the engine under
# test-support), with N MiB minus with 0, over N MiB: exact, however libc
# copies. rustls's and ring's: glibc copies 16 KiB with `rep movsb`, which
# callgrind counts once per byte, so the memcpy column over 2^20 (the
# engine cuts some copies into 1 KiB pieces that take the vector loop,
# which callgrind counts far less than once per byte: for tlspair that
# column is no longer a byte count).
copied() {
    "$BIN" "$1" "$2" | awk '/^copied / { print $2 }'
}
for w in transfer-ring transfer-tlspair-zero-copy transfer-tlspair-in-place transfer-tlspair-swap transfer-tlspair-in-place-copy transfer-tlspair transfer-rustls-unbuffered transfer-rustls; do
    read -r n c <<<"$(per_unit "$w" "$MIB")"
    case "$w" in
    transfer-tlspair*)
        b0=$(copied "$w" 0)
        b1=$(copied "$w" "$MIB")
        per=$(awk -v a="$b0" -v b="$b1" -v m="$MIB" 'BEGIN { v = (b - a) / (m * 1048576); if (v < 0 && v > -0.001) v = 0; printf "%.3f", v }')
        printf '%-32s %14s %14s  per MiB (%s copies per byte, counted by the engine)\n' "$w" "$n" "$c" "$per"
        ;;
    *)
        printf '%-32s %14s %14s  per MiB (%s copies per byte, from the memcpy column)\n' "$w" "$n" "$c" \
            "$(awk -v c="$c" 'BEGIN { printf "%.2f", c / 1048576 }')"
        ;;
    esac
done
