#!/usr/bin/env python3
"""Recovery benchmark: rows decoded per second on a 1,000,000-row table.

Makes (once, kept in $BENCH_DIR) a MariaDB table of 1 M rows (int key,
varchar, datetime, decimal, text) with a real server, then times
`salvage scan` and `salvage recover` on its .ibd file (median of 5, page
cache warm) and on the demo disk, and prints rows/s and the ratio of the
recover time to the scan time. A measurement, not a test.
"""

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts" / "fixtures"))
import mdb  # noqa: E402

BENCH = Path(os.environ.get("BENCH_DIR", "/tmp/salvage-bench"))
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
BIN = TARGET / "release" / "salvage"
ROWS = 1_000_000


def make_table():
    ibd = BENCH / "rows1m" / "bench" / "data" / "bench" / "t1m.ibd"
    if ibd.exists():
        return ibd
    srv = mdb.Server(BENCH / "rows1m", "bench")
    srv.install()
    srv.start()
    srv.sql("CREATE DATABASE bench")
    srv.sql(
        "CREATE TABLE t1m (id INT PRIMARY KEY, name VARCHAR(40), created DATETIME(3), "
        "amount DECIMAL(12,2), note TEXT) ENGINE=InnoDB",
        db="bench",
    )
    srv.sql(
        f"INSERT INTO t1m SELECT seq, CONCAT('user-', seq), "
        f"TIMESTAMP'2020-01-01 00:00:00' + INTERVAL seq SECOND, seq / 7, "
        f"REPEAT(CHAR(97 + seq % 26), 20 + seq % 40) FROM seq_1_to_{ROWS}",
        db="bench",
    )
    srv.stop()
    return ibd


def median_time(args, runs=5):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main():
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    ibd = make_table()
    out = BENCH / "rows1m-out"
    for path, label in [(ibd, "1 M-row table (.ibd)"), (None, "demo disk")]:
        if path is None:
            path = BENCH / "demo.img"
            subprocess.run(["zstd", "-q", "-d", "-f", str(ROOT / "fixtures/demo.img.zst"), "-o", str(path)], check=True)
        subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL)
        scan = median_time([str(BIN), "scan", str(path)])
        extra = []
        if path.suffix == ".ibd":
            schema = BENCH / "t1m.sql"
            schema.write_text(
                "CREATE TABLE bench.t1m (id INT PRIMARY KEY, name VARCHAR(40), created DATETIME(3), "
                "amount DECIMAL(12,2), note TEXT) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n"
            )
            extra = ["--schema", str(schema)]
        rec = median_time([str(BIN), "recover", str(path), "-o", str(out)] + extra)
        report = json.loads((out / "report.json").read_text())
        rows = sum(t["rows_written"] for t in report["tables"])
        size = path.stat().st_size >> 20
        print(f"{label}: {size} MiB, {rows} rows; scan {scan:.3f} s, recover {rec:.3f} s "
              f"(recover/scan {rec / scan:.1f}x), {rows / rec / 1e6:.2f} M rows/s whole process")


if __name__ == "__main__":
    main()
