#!/usr/bin/env bash
# The core and the embedded-io adapters build without std and without
# alloc, and no dependency turns std (or alloc) on: other targets cannot
# be installed here, so the feature graph is what is checked (cargo tree,
# normal dependencies only: build scripts run on the host).
set -euo pipefail
cd "$(dirname "$0")/.."

for features in "" "embedded-io" "embedded-io-async" "embedded-io,embedded-io-async"; do
    echo "== --no-default-features --features '$features'"
    cargo build --quiet --no-default-features --features "$features" --lib
    cargo clippy --quiet --no-default-features --features "$features" --lib -- -D warnings
    tree=$(cargo tree -e normal,features --no-default-features --features "$features")
    if grep -E 'feature "(std|alloc)"' <<<"$tree"; then
        echo "check-no-std: a dependency turns std or alloc on (above)" >&2
        exit 1
    fi
done
echo "ok: no std, no alloc"
