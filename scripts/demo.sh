#!/usr/bin/env bash
# Builds salvage and runs it on the demo disk image shipped in fixtures/:
# a GPT disk with an ext4 partition holding a MariaDB data directory, with
# 64 KiB holes punched over 5 % of the partition (fixtures/README.md).
# Output goes to ./demo-out (override with OUT=...).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-demo-out}
IMG=${TMPDIR:-/tmp}/salvage-demo.img
command -v zstd >/dev/null || { apt-get update -qq && apt-get install -y -qq zstd >/dev/null; }
cargo build --release --quiet
zstd -q -d -f fixtures/demo.img.zst -o "$IMG"
echo "== salvage scan $IMG" >&2
target/release/salvage scan "$IMG"
if target/release/salvage help recover >/dev/null 2>&1; then
  echo "== salvage recover $IMG -o $OUT" >&2
  target/release/salvage recover "$IMG" -o "$OUT"
fi
