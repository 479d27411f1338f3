#!/usr/bin/env bash
# Filesystem-layer benchmark (a measurement, not a test): on the largest
# committed fixture disks, the time of
#   salvage ls -r /                       (every inode and directory of the fs)
#   salvage extract /var/lib/mysql        (the whole datadir copied out)
#   salvage recover                       (with the layer, and --no-layout: raw carving only)
#   cat IMAGE > /dev/null                 (a plain read of the same bytes)
# Whole-process wall times, median of RUNS runs after a warm-up, page cache warm.
#
# Usage: scripts/bench-fs.sh [RUNS]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
BENCH_DIR=${BENCH_DIR:-/tmp/salvage-bench-fs}
mkdir -p "$BENCH_DIR"
cargo build --release --quiet
BIN=${CARGO_TARGET_DIR:-target}/release/salvage

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timeit() { local s e; s=$(date +%s.%N); "$@" > /dev/null 2>&1 || true; e=$(date +%s.%N); echo "$e - $s" | bc -l; }
med() { local t=(); "$@" >/dev/null 2>&1 || true; for _ in $(seq "$RUNS"); do t+=("$(timeit "$@")"); done; printf '%s\n' "${t[@]}" | median; }

printf '%-24s %8s %8s %8s %8s %8s %8s %8s\n' image MiB cat ls-r extract rec rec-raw fs-cost
for name in main-ext4-fragmented main-ext4-2018 main-xfs main-ext4-modern; do
  img="$BENCH_DIR/$name.img"
  [ -f "$img" ] || zstd -qdf "fixtures/images/$name.img.zst" -o "$img"
  out="$BENCH_DIR/out"
  mib=$(( $(stat -c %s "$img") >> 20 ))
  c=$(med sh -c "cat '$img' > /dev/null")
  l=$(med "$BIN" ls "$img" / -r)
  e=$(med sh -c "rm -rf '$out.x' && '$BIN' extract '$img' /var/lib/mysql -o '$out.x'")
  r=$(med "$BIN" recover "$img" -o "$out.r")
  n=$(med "$BIN" recover "$img" -o "$out.n" --no-layout)
  printf '%-24s %8s %8.3f %8.3f %8.3f %8.3f %8.3f %7.0f%%\n' "$name" "$mib" "$c" "$l" "$e" "$r" "$n" \
    "$(echo "($r - $n) / $n * 100" | bc -l)"
done
