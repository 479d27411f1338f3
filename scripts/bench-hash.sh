#!/usr/bin/env bash
# `recover --hash` throughput: the image's SHA-256 against coreutils'
# `sha256sum` and `cat IMAGE > /dev/null` on the same file.
#
# Makes a file of random bytes (once, kept in $BENCH_DIR; random so that
# the scan finds nothing and the run is mostly the hash), warms the page
# cache, then times each command RUNS times, in turn, as whole processes
# and prints the medians. The hash's own time is the median of
# `recover --hash` less the median of the same `recover` without it (with
# and without `--no-mmap`);
# `SALVAGE_SHA256=portable` measures the portable compression function
# instead of the SHA extensions. A measurement, not a test: no thresholds.
#
# Usage: scripts/bench-hash.sh [SIZE_MIB]   (default 2048; RUNS=5)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB=${1:-2048}
RUNS=${RUNS:-5}
BENCH_DIR=${BENCH_DIR:-/tmp/salvage-bench}
IMG="$BENCH_DIR/hash-${SIZE_MIB}M.img"
mkdir -p "$BENCH_DIR"

# SALVAGE_BIN: a binary to measure instead of this checkout's build.
if [ -z "${SALVAGE_BIN:-}" ]; then cargo build --release --quiet; fi
BIN=${SALVAGE_BIN:-${CARGO_TARGET_DIR:-target}/release/salvage}

if [ ! -f "$IMG" ]; then
  echo "generating $IMG ..." >&2
  head -c "$((SIZE_MIB << 20))" /dev/urandom >"$IMG.tmp"
  mv "$IMG.tmp" "$IMG"
fi
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
cat "$IMG" >/dev/null

# Each command's wall seconds, one line per run, in $OUT/<name>.
NAMES=(cat sha256sum recover recover-hash recover-hash-portable recover-no-mmap recover-hash-no-mmap)
run() {
  case $1 in
    cat) cat "$IMG" >/dev/null ;;
    sha256sum) sha256sum "$IMG" >/dev/null ;;
    # recover exits 1 here (no tables in random bytes): not a failure.
    recover) "$BIN" recover "$IMG" -o "$OUT/o" >/dev/null 2>&1 || true ;;
    recover-hash) "$BIN" recover "$IMG" -o "$OUT/o" --hash >/dev/null 2>&1 || true ;;
    recover-hash-portable)
      SALVAGE_SHA256=portable "$BIN" recover "$IMG" -o "$OUT/o" --hash >/dev/null 2>&1 || true ;;
    recover-no-mmap) "$BIN" recover "$IMG" -o "$OUT/o" --no-mmap >/dev/null 2>&1 || true ;;
    recover-hash-no-mmap)
      "$BIN" recover "$IMG" -o "$OUT/o" --hash --no-mmap >/dev/null 2>&1 || true ;;
  esac
}
for name in "${NAMES[@]}"; do run "$name"; done # warm-up
for ((i = 0; i < RUNS; i++)); do
  for name in "${NAMES[@]}"; do
    rm -rf "$OUT/o"
    t0=$EPOCHREALTIME
    run "$name"
    t1=$EPOCHREALTIME
    echo "$t1 - $t0" | bc -l >>"$OUT/$name"
  done
done

# The digest is the one sha256sum gives.
"$BIN" recover "$IMG" -o "$OUT/o" --hash >/dev/null 2>&1 || true
want=$(sha256sum "$IMG" | cut -d' ' -f1)
got=$(grep -o '"sha256": "[0-9a-f]*"' "$OUT/o/report.json" | cut -d'"' -f4)
[ "$got" = "$want" ] || { echo "digest differs: $got, sha256sum $want" >&2; exit 1; }

median() { sort -n "$OUT/$1" | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mbs() { echo "$SIZE_MIB * 1.048576 / $1" | bc -l; }
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cpus," \
  "sha_ni: $(grep -qw sha_ni /proc/cpuinfo && echo yes || echo no);" \
  "${SIZE_MIB} MiB of random bytes in the page cache; median of $RUNS runs"
printf '%-24s %8s %9s\n' command seconds MB/s
for name in "${NAMES[@]}"; do
  m=$(median "$name")
  printf '%-24s %8.3f %9.0f\n' "$name" "$m" "$(mbs "$m")"
done
sum=$(median sha256sum)
catm=$(median cat)
echo "the hash alone (recover --hash less the same recover without it):"
for name in recover-hash recover-hash-portable recover-hash-no-mmap; do
  base=$(median recover)
  [ "$name" = recover-hash-no-mmap ] && base=$(median recover-no-mmap)
  h=$(echo "$(median "$name") - $base" | bc -l)
  printf '  %-22s %6.3f s %6.0f MB/s, %5.2fx the speed of sha256sum, %5.2fx the time of cat\n' \
    "$name" "$h" "$(mbs "$h")" "$(echo "$sum / $h" | bc -l)" "$(echo "$h / $catm" | bc -l)"
done
