#!/usr/bin/env bash
# Repair cost per damaged page, two ways:
# 1. the repair alone: the ignored unit test repair::tests::repair_cost
#    times innodb::repair::repair on real fixture pages with one damaged
#    byte (median and 90th percentile of 400 each);
# 2. the whole scan: salvage scan of real tablespaces intact and with one
#    byte XORed in every page, the difference divided by the damaged pages
#    (this includes what a damaged page cost before repair existed: the
#    sparse-file hole search tried on every page whose checksum fails).
#
# The tablespaces are the fixtures' MariaDB files (main: full_crc32,
# ROW_FORMAT=COMPRESSED, PAGE_COMPRESSED; crc32: classic crc32), laid one
# after the other in one image, copied RUNS times. The damaged copy has one
# byte of every page XORed at a random position (seed 1). Each image is
# scanned RUNS times with `--no-layout` (the carver only); the medians of
# the whole-process times are compared. A measurement, not a test.
#
# Usage: scripts/bench-repair.sh [COPIES]   (default 8)
set -euo pipefail
cd "$(dirname "$0")/.."
COPIES=${1:-8}
BENCH_DIR=${BENCH_DIR:-/tmp/salvage-bench-repair}
RUNS=7
mkdir -p "$BENCH_DIR"

cargo build --release --quiet
BIN=${CARGO_TARGET_DIR:-target}/release/salvage

CLEAN="$BENCH_DIR/clean-$COPIES.img"
DAMAGED="$BENCH_DIR/damaged-$COPIES.img"
if [ ! -f "$DAMAGED" ]; then
  SRC="$BENCH_DIR/src"
  rm -rf "$SRC" && mkdir -p "$SRC"
  for inst in main crc32; do
    mkdir -p "$SRC/$inst" && tar -I zstd -xf "fixtures/$inst/datadir.tar.zst" -C "$SRC/$inst"
  done
  python3 - "$SRC" "$CLEAN" "$DAMAGED" "$COPIES" <<'PY'
import os, random, sys
src, clean, damaged, copies = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
blob = bytearray()
for d, _, names in sorted(os.walk(src)):
    for n in sorted(names):
        if n.endswith('.ibd') or n == 'ibdata1':
            data = open(os.path.join(d, n), 'rb').read()
            blob += data + bytes(-len(data) % 65536)
blob = bytes(blob) * copies
open(clean, 'wb').write(blob)
rng = random.Random(1)
dam = bytearray(blob)
# One byte in every 16 KiB (every page of the 16 KiB tablespaces, every
# other one of the 8 KiB compressed ones, and so on).
for base in range(0, len(dam), 16384):
    dam[base + rng.randrange(16384)] ^= rng.randint(1, 255)
open(damaged, 'wb').write(dam)
PY
fi

cargo test --release --quiet --lib repair::tests::repair_cost -- --ignored --nocapture 2>&1 | grep '^repair '

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_scan() {
  for _ in $(seq $RUNS); do
    /usr/bin/time -f %e "$BIN" scan --no-layout --no-redo "$1" 2>&1 >/dev/null | tail -1
  done | median
}
count() { "$BIN" scan --no-layout --no-redo --list-pages "$1" 2>/dev/null | grep -c "\"status\":\"$2\"" || true; }

cat "$CLEAN" "$DAMAGED" > /dev/null
t_clean=$(time_scan "$CLEAN")
t_damaged=$(time_scan "$DAMAGED")
repaired=$(count "$DAMAGED" repaired)
damaged=$(count "$DAMAGED" damaged)
size=$(stat -c %s "$CLEAN")
echo "image: $((size >> 20)) MiB of tablespaces, one byte XORed in every 16 KiB"
echo "scan intact:  ${t_clean} s (median of $RUNS)"
echo "scan damaged: ${t_damaged} s; ${repaired} pages repaired, ${damaged} left damaged"
python3 -c "
tc, td, n = $t_clean, $t_damaged, $repaired
print(f'repair cost: {(td - tc) * 1e6 / max(n + $damaged, 1):.0f} us per damaged page ({n} repaired, {(td - tc):.3f} s more)')
"
