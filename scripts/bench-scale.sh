#!/usr/bin/env bash
# Size tiers of the recovery benchmark: memory and speed as tables grow.
#
# Makes (once, kept in the cache directory, never committed) MariaDB tables of 1 M, 8 M
# and 30 M rows of the scripts/bench-recover.py schema with a real server, each in its
# own datadir, and from them these images:
#   t1m, t8m, t30m   the tier's ibdata1 and .ibd at 1 MiB-aligned offsets;
#   sparse-1t        a 1 TiB sparse file with every tier's ibdata1 and .ibd at scattered
#                    offsets (it costs only the bytes written);
#   mixed-2g         2 GiB of 7/8 random bytes and 1/8 pages of the 1 M tier.
# Then, median of RUNS whole-process runs each: `salvage scan` and `salvage recover -o OUT`
# (scan -t 1 and -t 2 on mixed-2g), with wall time, rows/s, peak RSS (getrusage of the
# child, as `/usr/bin/time -v` prints it), the high-water marks of RssAnon and RssFile
# (from /proc/PID/status every 50 ms), CSV bytes written per second, and the time `cat`
# takes to read the same data (for the sparse image: its data ranges, not its holes).
# Prints a Markdown table and writes it to $CACHE/bench-scale.md.
#
# A measurement, not a test: no thresholds. Page cache warm by default; COLD=1 drops the
# caches (root only) before every timed run.
#
# Usage: scripts/bench-scale.sh [ROWS...]     (default: 1000000 8000000 30000000)
# Env:   SALVAGE_BENCH_CACHE (default ~/.cache/salvage-bench), RUNS (3), COLD (0),
#        SALVAGE_BIN (a salvage binary to measure instead of building target/release),
#        SALVAGE_ARGS (options for both scan and recover, e.g. --no-mmap)
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${SALVAGE_BENCH_CACHE:-$HOME/.cache/salvage-bench}
RUNS=${RUNS:-3}
TIERS=("$@")
[ ${#TIERS[@]} -gt 0 ] || TIERS=(1000000 8000000 30000000)
mkdir -p "$CACHE"

if [ -n "${SALVAGE_BIN:-}" ]; then
  BIN=$(realpath "$SALVAGE_BIN")
  BUILD="$(basename "$BIN")"
else
  cargo build --release --quiet
  # Measure a copy: the shared target/ may be rebuilt while the benchmark runs.
  BUILD="$(git describe --always --dirty)"
  BIN="$CACHE/salvage-$BUILD"
  cp "${CARGO_TARGET_DIR:-target}/release/salvage" "$BIN"
fi

# Disk space: a tier costs about 330 bytes a row (datadir, its image, and the CSV of a
# recover, deleted after each input) plus 600 MiB of redo log; the sparse image holds
# every tier's data once more.
avail_kib() { df -Pk "$CACHE" | awk 'NR==2 {print $4}'; }
made=()
for rows in "${TIERS[@]}"; do
  name="t$((rows / 1000000))m"
  if [ -f "$CACHE/tiers/$name/DONE" ]; then
    echo "$name: present ($(cat "$CACHE/tiers/$name/DONE"))" >&2
    made+=("$rows")
    continue
  fi
  need=$(( (rows * 450 + (600 << 20)) >> 10 ))
  if [ "$(avail_kib)" -lt "$need" ]; then
    echo "$name: skipped, needs $((need >> 20)) GiB free in $CACHE, $(($(avail_kib) >> 20)) GiB free" >&2
    continue
  fi
  echo "$name: making $rows rows with mariadbd in $CACHE/tiers/$name ..." >&2
  start=$(date +%s)
  python3 scripts/bench_scale.py tier "$CACHE" "$rows" >&2
  echo "$name: built in $(( $(date +%s) - start )) s" >&2
  made+=("$rows")
done
python3 scripts/bench_scale.py images "$CACHE" "${made[@]}" >&2
du -sh "$CACHE"/tiers/* "$CACHE"/images/*.img >&2

md=bench-scale.md
[ -z "${SALVAGE_ARGS:-}" ] || md="bench-scale$(echo " $SALVAGE_ARGS" | tr -cs 'a-z0-9' '-' | sed 's/-*$//').md"
mode=warm; [ "${COLD:-0}" = 1 ] && mode=cold
machine="$(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1), \
$(awk '/MemTotal/ {printf "%.1f GiB RAM", $2 / 1048576}' /proc/meminfo), load average \
$(cut -d' ' -f1-3 /proc/loadavg) at the start"
table=$(python3 scripts/bench_scale.py run "$CACHE" "$BIN" "$RUNS")
{
  echo "salvage $BUILD on $(date -u +%F), $machine;"
  echo "page cache $mode, median of $RUNS whole-process runs${SALVAGE_ARGS:+, salvage $SALVAGE_ARGS}; the 1 TiB image's 'cat' is its data ranges read with dd."
  echo
  echo "$table"
} | tee "$CACHE/$md"
echo "written to $CACHE/$md" >&2
