#!/usr/bin/env bash
# Memory of a recovery when most records are not live rows: a MariaDB table of ROWS rows
# (the scripts/bench-recover.py schema) with every second row deleted and purged, made
# once with a real server and kept in the cache directory, recovered by each binary given
# (median of RUNS whole-process runs; binaries alternate run by run's median, A then B).
# Prints a Markdown table: rows written, deleted rows found, wall s, cpu s, peak RssAnon
# and RssFile (MiB). A measurement, not a test.
#
# Usage: scripts/bench-deleted.sh [BIN...]      (default: target/release/salvage)
# Env:   SALVAGE_BENCH_CACHE (~/.cache/salvage-bench), ROWS (4000000), RUNS (3),
#        SALVAGE_ARGS (options for recover, e.g. "--max-memory 256M")
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${SALVAGE_BENCH_CACHE:-$HOME/.cache/salvage-bench}
ROWS=${ROWS:-4000000}
RUNS=${RUNS:-3}
BINS=("$@")
if [ ${#BINS[@]} -eq 0 ]; then
  cargo build --release --quiet
  BINS=("${CARGO_TARGET_DIR:-target}/release/salvage")
fi
python3 scripts/bench_deleted.py make "$CACHE" "$ROWS" >&2
echo "$(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1), load $(cut -d' ' -f1-3 /proc/loadavg); median of $RUNS"
echo
echo "| table | salvage | rows | deleted rows | wall s | cpu s | peak anon MiB | peak file MiB |"
echo "|---|---|---|---|---|---|---|---|"
# shellcheck disable=SC2086
for b in "${BINS[@]}"; do
  python3 scripts/bench_deleted.py run "$CACHE" "$ROWS" "$RUNS" "$(realpath "$b")" ${SALVAGE_ARGS:-}
done
