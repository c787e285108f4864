#!/usr/bin/env bash
# The load test of docs/performance.md: examples/server (one thread, mio)
# and `openssl s_server -www` on loopback, driven by examples/load (the
# engine's client on mio), on the same machine, one after the other.
#
#   scripts/load-test.sh [CONNECTIONS]     (default 10000)
#
# For each server: full and resumed handshakes per second, p50/p99
# handshake latency; for ours also 10,000 connections held open at once
# and the server's resident bytes per connection (s_server serves one
# connection at a time, so it is driven with requests: each connection
# sends GET / and reads the page). Prints the rows; takes about a minute.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-10000}
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
cargo build --release --example server --example load >&2
LOAD=target/release/examples/load
PORT=4600
OPORT=4601

target/release/examples/server --port "$PORT" --quiet --max-connections $((N + 100)) >/dev/null 2>&1 &
SERVER=$!
openssl s_server -www -accept "$OPORT" -quiet \
    -cert testdata/certs/server-p256.pem -key testdata/certs/server-p256.key.pem >/dev/null 2>&1 &
OSSL=$!
trap 'kill $SERVER $OSSL 2>/dev/null || true' EXIT
sleep 1

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

echo "== tlspair examples/server: $N connections held at once (concurrency 200)"
"$LOAD" --addr "127.0.0.1:$PORT" --connections "$N" --concurrency 200 --hold --server-pid "$SERVER"
sleep 3
before=$(ticks "$SERVER")
sleep 5
echo "idle CPU: $(($(ticks "$SERVER") - before)) ticks in 5 s (100 ticks = 1 s of a core)"

for c in 1 200; do
    echo "== tlspair examples/server: 2000 requests, concurrency $c"
    "$LOAD" --addr "127.0.0.1:$PORT" --connections 2000 --concurrency "$c"
    echo "== openssl s_server -www: 2000 requests, concurrency $c"
    "$LOAD" --addr "127.0.0.1:$OPORT" --connections 2000 --concurrency "$c" --server-pid "$OSSL"
done
