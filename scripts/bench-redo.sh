#!/usr/bin/env bash
# Redo apply throughput: MB of redo log applied per second, whole process.
#
# Makes (once, in $BENCH_DIR) a crashed MariaDB data directory whose
# ib_logfile0 holds about TARGET_MB of log after its checkpoint: a real
# workload (multi-row INSERTs, UPDATEs of random rows, some DELETEs) on a
# server with a 512 MiB log and no eager page flushing, killed with SIGKILL
# (by the pid it started). Then times `salvage scan IMAGE --redo LOG`
# against `salvage scan IMAGE --no-redo` on the plain data files laid out
# in one image, RUNS times each, and prints the medians and
# log bytes / (median with redo - median without). Needs mariadbd.
#
# Usage: scripts/bench-redo.sh [TARGET_MB]   (default 100)
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET_MB=${1:-100}
BENCH_DIR=${BENCH_DIR:-/tmp/salvage-bench-redo}
RUNS=${RUNS:-5}
mkdir -p "$BENCH_DIR"
cargo build --release --quiet
BIN=$(pwd)/${CARGO_TARGET_DIR:-target}/release/salvage
DATA="$BENCH_DIR/redo-$TARGET_MB/crashed"
IMG="$BENCH_DIR/redo-$TARGET_MB.img"

if [ ! -f "$IMG" ]; then
  echo "generating a ${TARGET_MB} MB redo log in $BENCH_DIR ..." >&2
  PYTHONPATH=scripts/fixtures python3 - "$BENCH_DIR" "$TARGET_MB" <<'PY'
import random, re, shutil, sys, time
from pathlib import Path
from mdb import Server, insert_sql
work, target = Path(sys.argv[1]), int(sys.argv[2]) << 20
srv = Server(work, f"redo-{sys.argv[2]}", extra=[
    "--innodb-log-file-size=512M", "--innodb-buffer-pool-size=1G",
    "--innodb-max-dirty-pages-pct=99", "--innodb-max-dirty-pages-pct-lwm=0",
    "--innodb-adaptive-flushing=OFF", "--innodb-io-capacity=100"])
srv.install()
srv.start()
try:
    srv.sql("CREATE DATABASE bench; CREATE TABLE bench.t (id INT PRIMARY KEY, a INT NOT NULL, "
            "b VARCHAR(200), c TEXT, KEY ka (a)) ENGINE=InnoDB ROW_FORMAT=DYNAMIC;")
    srv.stop()
    srv.start()
    def lsns():
        st = srv.sql("SHOW ENGINE INNODB STATUS")
        lsn = int(re.search(r"Log sequence number\s+(\d+)", st).group(1))
        cp = int(re.search(r"Last checkpoint at\s+(\d+)", st).group(1))
        return lsn, cp
    rng = random.Random(1)
    n = 0
    while True:
        lsn, cp = lsns()
        if lsn - cp >= target:
            break
        rows = [[n + i, rng.randint(0, 10**6), "x" * rng.randint(20, 200),
                 "y" * rng.randint(0, 300)] for i in range(2000)]
        s = insert_sql("bench.t", ["id", "a", "b", "c"], rows, batch=500)
        if n:
            s += "".join(f"UPDATE bench.t SET a = a + 1, b = CONCAT(LEFT(b, 150), 'u') WHERE id = "
                         f"{rng.randrange(n)};\n" for _ in range(500))
            s += f"DELETE FROM bench.t WHERE id = {rng.randrange(n)};\n"
        srv.sql(s)
        n += 2000
    print(f"log after the checkpoint: {(lsn - cp) >> 20} MiB, {n} rows inserted", file=sys.stderr)
    srv.kill()
    crashed = srv.dir / "crashed"
    if crashed.exists():
        shutil.rmtree(crashed)
    shutil.copytree(srv.datadir, crashed)
finally:
    if srv.proc is not None:
        srv.kill()
PY
  cat "$DATA/ibdata1" "$DATA/bench/t.ibd" > "$IMG"
fi

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timeit() { # prints seconds of one whole-process run
  local s e
  s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N)
  echo "$e - $s" | bc -l
}
cat "$IMG" "$DATA/ib_logfile0" > /dev/null
with=$(for _ in $(seq "$RUNS"); do timeit "$BIN" scan "$IMG" --redo "$DATA/ib_logfile0"; done | median)
without=$(for _ in $(seq "$RUNS"); do timeit "$BIN" scan "$IMG" --no-redo; done | median)
report=$("$BIN" scan "$IMG" --redo "$DATA/ib_logfile0" --json 2>/dev/null)
bytes=$(echo "$report" | python3 -c 'import json,sys; print(json.load(sys.stdin)["redo"]["log_bytes"])')
line=$("$BIN" scan "$IMG" --redo "$DATA/ib_logfile0" 2>&1 >/dev/null | head -1)
echo "$line"
printf 'image %s MiB, log applied %.1f MB; median of %d: scan with redo %.3f s, without %.3f s\n' \
  "$(( $(stat -c %s "$IMG") >> 20 ))" "$(echo "$bytes / 1000000" | bc -l)" "$RUNS" "$with" "$without"
printf 'redo apply: %.1f MB/s of log (log bytes / (with - without)); whole process with redo: %.1f MB/s of log\n' \
  "$(echo "$bytes / 1000000 / ($with - $without)" | bc -l)" "$(echo "$bytes / 1000000 / $with" | bc -l)"
