#!/usr/bin/env python3
"""Helper of scripts/bench-deleted.sh: memory when most records are not live.

  make CACHE ROWS      make (once) a MariaDB datadir holding bench.d<N>m, ROWS rows of the
                       scripts/bench-recover.py schema of which every second row is then
                       deleted (ids 2, 4, ...) while a consistent snapshot, open from
                       before, keeps purge from removing the records, and an image of
                       its ibdata1 and .ibd (CACHE/images/d<N>m.img);
  run CACHE ROWS RUNS BIN [ARGS...]
                       time `BIN recover IMAGE ARGS` (median of RUNS whole-process runs):
                       wall s, cpu s, peak RssAnon / RssFile, rows written and deleted rows
                       found; prints one Markdown table row.

The deleted records stay on their pages, delete-marked: every one is a record that is not
a live row, whose key recovery keeps until it is decided.
A measurement, not a test. Nothing here is committed data: it all lives in CACHE.
"""

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "scripts" / "fixtures"))
import bench_scale as bs  # noqa: E402
import mdb  # noqa: E402


def name(rows):
    return f"d{rows // 1_000_000}m"


def make(cache, rows):
    cache = Path(cache)
    t = name(rows)
    img = cache / "images" / f"{t}.img"
    if img.exists():
        print(f"{t}: present ({img})")
        return
    d = cache / "tiers" / t
    d.mkdir(parents=True, exist_ok=True)
    srv = mdb.Server(d, "srv", extra=[
        "--innodb-buffer-pool-size=2G", "--innodb-log-file-size=512M",
        "--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0",
        "--innodb-autoextend-increment=64", "--innodb-fast-shutdown=1",
    ])
    start = time.time()
    srv.install()
    srv.start()
    srv.sql("CREATE DATABASE bench")
    bs.insert_rows(srv, t, rows, start)
    # A read view older than the deletes: purge may not remove the delete-marked records
    # while it is open (it stays open until the server stops).
    snap = srv.snapshot(db="bench")
    for lo in range(1, rows + 1, bs.CHUNK):
        hi = min(lo + bs.CHUNK - 1, rows)
        srv.sql(f"DELETE FROM {t} WHERE id BETWEEN {lo} AND {hi} AND id % 2 = 0", db="bench")
        print(f"{t}: {hi:,} rows half deleted, {time.time() - start:.0f} s", flush=True)
    count = int(srv.sql(f"SELECT COUNT(*) FROM {t}", db="bench").strip())
    # innodb_fast_shutdown=1: the pages are written, purge is not run to its end.
    srv.stop()
    snap.kill()
    assert count == (rows + 1) // 2, count
    data = d / "srv" / "data"
    files = [data / "ibdata1", data / "bench" / f"{t}.ibd"]
    img.parent.mkdir(parents=True, exist_ok=True)
    off = bs.lay_out(img, files)
    (cache / f"{t}.sql").write_text(bs.SCHEMA.format(t=t))
    print(f"{t}: made in {time.time() - start:.0f} s: {img} ({off / bs.MIB:.0f} MiB)")


def run(cache, rows, runs, binary, args):
    cache = Path(cache)
    t = name(rows)
    img = cache / "images" / f"{t}.img"
    out = cache / "out" / t
    cmd = [binary, "recover", str(img), "-o", str(out), "--schema", str(cache / f"{t}.sql"), *args]

    def after():
        rep = json.loads((out / "report.json").read_text())
        tab = [x for x in rep["tables"] if x["table"] == t][0]
        r = {"rows": tab["rows_written"], "deleted": tab["deleted_rows"]}
        subprocess.run(["rm", "-rf", str(out)], check=True)
        return r

    r = bs.median_runs(cmd, runs, False, after=after)
    print(f"| {t} | {Path(binary).name} {' '.join(args)} | {int(r['rows']):,} | {int(r['deleted']):,} | "
          f"{r['wall']:.2f} | {r['cpu']:.2f} | {r['anon_mib']:.0f} | {r['file_mib']:.0f} |")


def main():
    cmd = sys.argv[1]
    if cmd == "make":
        make(sys.argv[2], int(sys.argv[3]))
    elif cmd == "run":
        run(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
