#!/usr/bin/env bash
# Checks that a normal build cannot reach the test support (the built-in
# test credentials, whose keys are published, and the sequence-number
# hooks that can reuse nonces): a crate that uses them must fail to build
# against tlspair without feature `test-support`, and build with it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DIR=target/test-support-check
rm -rf "$DIR"
mkdir -p "$DIR/src"
cat >"$DIR/Cargo.toml" <<TOML
[package]
name = "test-support-check"
version = "0.0.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
tlspair = { path = "$ROOT" }

[features]
test-support = ["tlspair/test-support"]
TOML
check() { # name, code
    printf 'fn main() { %s }\n' "$2" >"$DIR/src/main.rs"
    if CARGO_TARGET_DIR="$ROOT/target" cargo check -q --manifest-path "$DIR/Cargo.toml" 2>/dev/null; then
        echo "FAIL: $1 is reachable without feature test-support"; exit 1
    fi
    CARGO_TARGET_DIR="$ROOT/target" cargo check -q --manifest-path "$DIR/Cargo.toml" --features test-support \
        || { echo "FAIL: $1 does not build even with test-support"; exit 1; }
    echo "ok: $1 needs feature test-support"
}
check "test_credentials" 'let _ = tlspair::test_credentials::CA_CERT;'
check "RecordKey::set_sequence" 'let mut k = tlspair::record::protect::RecordKey::new(&tlspair::TLS13_AES_128_GCM_SHA256, &[0; 32]).unwrap(); k.set_sequence(7);'
check "Connection::set_sequence_numbers" 'let mut c = tlspair::Connection::from_traffic_secrets(&tlspair::TLS13_AES_128_GCM_SHA256, &[0; 32], &[0; 32], Default::default()).unwrap(); c.set_sequence_numbers(1, 1);'
rm -rf "$DIR"
