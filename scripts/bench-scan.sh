#!/usr/bin/env bash
# Scan throughput benchmark: salvage scan vs `cat IMAGE > /dev/null`.
#
# Generates a 2 GiB image (once, kept in $BENCH_DIR) holding real InnoDB
# tablespaces (the shared corpus and the MariaDB fixtures, repeated) at
# random 512-byte offsets between random bytes and zeros, warms the page
# cache, then times each command 5 times and prints the medians and the
# ratio of salvage's throughput to cat's. Whole-process times, no timing
# thresholds: this is a measurement, not a test.
#
# `random` mode (issue 10's hardest content for a carver): 7/8 random bytes
# and 1/8 the .ibd files of fixtures/main, repeated at random 512-byte
# offsets. Both modes print the thread scaling (1 thread vs all) and the
# peak resident memory of a scan (mapped image pages included).
#
# Usage: scripts/bench-scan.sh [SIZE_MIB]          (default 2048)
#        scripts/bench-scan.sh random [SIZE_MIB]   (default 2048)
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=mixed
if [ "${1:-}" = random ]; then MODE=random; shift; fi
SIZE_MIB=${1:-2048}
BENCH_DIR=${BENCH_DIR:-/tmp/salvage-bench}
IMG="$BENCH_DIR/bench-${SIZE_MIB}M.img"
[ "$MODE" = random ] && IMG="$BENCH_DIR/random-${SIZE_MIB}M.img"
RUNS=5
mkdir -p "$BENCH_DIR"

# SALVAGE_BIN: a binary to measure instead of this checkout's build.
if [ -z "${SALVAGE_BIN:-}" ]; then cargo build --release --quiet; fi
BIN=${SALVAGE_BIN:-${CARGO_TARGET_DIR:-target}/release/salvage}

if [ "$MODE" = random ] && [ ! -f "$IMG" ]; then
  echo "generating $IMG ..." >&2
  SRC="$BENCH_DIR/src-main"
  rm -rf "$SRC" && mkdir -p "$SRC"
  tar -I zstd -xf fixtures/main/datadir.tar.zst -C "$SRC"
  python3 - "$IMG" "$SIZE_MIB" "$SRC" <<'PY'
import os, random, sys
img, size_mib, root = sys.argv[1], int(sys.argv[2]), sys.argv[3]
size = size_mib << 20
rng = random.Random(2027)
files = []
for d, _, names in os.walk(root):
    for n in sorted(names):
        if n.endswith('.ibd'):
            files.append(open(os.path.join(d, n), 'rb').read())
with open(img, 'wb') as f:
    stretch = 8 << 20
    for i in range(size // stretch):
        f.write(rng.randbytes(stretch))
    placed, budget = 0, size // 8
    while placed < budget:
        data = rng.choice(files)
        off = rng.randrange(0, (size - len(data)) // 512) * 512
        f.seek(off); f.write(data); placed += len(data)
print(f"{len(files)} tablespaces, {placed >> 20} MiB of them placed", file=sys.stderr)
PY
fi

if [ ! -f "$IMG" ]; then
  echo "generating $IMG ..." >&2
  SRC="$BENCH_DIR/src"
  rm -rf "$SRC" && mkdir -p "$SRC"
  for inst in main crc32 p4k p8k p32k p64k; do
    mkdir -p "$SRC/$inst" && tar -I zstd -xf "fixtures/$inst/datadir.tar.zst" -C "$SRC/$inst"
  done
  python3 - "$IMG" "$SIZE_MIB" "$SRC" ../shared/corpus <<'PY'
import os, random, sys
img, size_mib, roots = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
size = size_mib << 20
rng = random.Random(2026)
files = []
for root in roots:
    for d, _, names in os.walk(root):
        for n in names:
            if n.endswith('.ibd') or n == 'ibdata1':
                files.append(open(os.path.join(d, n), 'rb').read())
with open(img, 'wb') as f:
    # Background: 3/4 random bytes, 1/4 zeros, in 8 MiB stretches.
    stretch = 8 << 20
    for i in range(size // stretch):
        f.write(rng.randbytes(stretch) if i % 4 else bytes(stretch))
    # A quarter of the image is real tablespaces, at 512-byte offsets.
    placed, budget = 0, size // 4
    while placed < budget:
        data = rng.choice(files)
        off = rng.randrange(0, (size - len(data)) // 512) * 512
        f.seek(off); f.write(data); placed += len(data)
print(f"{len(files)} tablespaces, {placed >> 20} MiB of them placed", file=sys.stderr)
PY
fi

cat "$IMG" > /dev/null; cat "$IMG" > /dev/null   # warm the page cache

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timeit() { local s e; s=$(date +%s.%N); "$@" > /dev/null; e=$(date +%s.%N); echo "$e - $s" | bc -l; }

cat_t=$(for i in $(seq $RUNS); do timeit cat "$IMG"; done | median)
scan_t=$(for i in $(seq $RUNS); do timeit "$BIN" scan "$IMG"; done | median)
scan1_t=$(for i in $(seq $RUNS); do timeit "$BIN" scan -t 1 "$IMG"; done | median)
pages=$("$BIN" scan --json "$IMG" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pages_found"])')

mib=$SIZE_MIB
printf 'image            %s (%s MiB, %s pages found)\n' "$IMG" "$mib" "$pages"
printf 'machine          %s cores, %s\n' "$(nproc)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
printf 'cat > /dev/null  %.3f s  %8.0f MiB/s\n' "$cat_t" "$(echo "$mib / $cat_t" | bc -l)"
printf 'salvage scan     %.3f s  %8.0f MiB/s  ratio %.2f\n' "$scan_t" "$(echo "$mib / $scan_t" | bc -l)" "$(echo "$cat_t / $scan_t" | bc -l)"
printf 'salvage scan -t1 %.3f s  %8.0f MiB/s  ratio %.2f\n' "$scan1_t" "$(echo "$mib / $scan1_t" | bc -l)" "$(echo "$cat_t / $scan1_t" | bc -l)"
# Peak resident memory of the whole process (mapped image pages included:
# the scanner releases each chunk's pages once scanned).
peak=$(python3 -c 'import resource,subprocess,sys; subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss//1024)' "$BIN" scan "$IMG")
printf 'salvage scan     peak resident %s MiB (image %s MiB)\n' "$peak" "$mib"
printf 'thread scaling   %.2fx from 1 to %s threads\n' "$(echo "$scan1_t / $scan_t" | bc -l)" "$(nproc)"
