#!/usr/bin/env bash
# Makes docs/report.png: the report.html of a recovery of the demo disk
# (fixtures/demo.img.zst), rendered by headless Chromium at 1200x1500.
# Needs zstd and chromium (scripts/test.sh installs both).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v chromium >/dev/null || { echo "chromium missing: apt-get install chromium" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build --release --quiet
zstd -q -d -f fixtures/demo.img.zst -o "$work/demo.img"
target/release/salvage recover "$work/demo.img" -o "$work/out" >/dev/null
mkdir -p docs
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --user-data-dir="$work/profile" --screenshot="$PWD/docs/report.png" \
  --window-size=1200,1500 "file://$work/out/report.html" 2>/dev/null
ls -l docs/report.png
