#!/usr/bin/env python3
"""Helper of scripts/bench-scale.sh: size tiers of the recovery benchmark.

Subcommands (all paths under the cache directory CACHE):

  tier CACHE ROWS        make (once) a MariaDB datadir holding bench.t<N>m, ROWS rows of
                         the scripts/bench-recover.py schema, with a real server;
  images CACHE TIERS...  lay each tier out as an image (ibdata1 and the .ibd at 1 MiB
                         aligned offsets), a 1 TiB sparse image holding the tiers'
                         tablespaces at scattered offsets, and a 2 GiB image of 7/8
                         random bytes and 1/8 tablespace data;
  run CACHE BIN RUNS     time BIN scan / recover on every image (median of RUNS
                         whole-process runs; COLD=1 drops the page cache before each,
                         SALVAGE_ARGS are given to both commands, e.g. --no-mmap):
                         wall s, peak RSS (getrusage), RssAnon / RssFile high-water marks
                         sampled from /proc/PID/status every 50 ms, rows and CSV bytes
                         from OUT; prints a Markdown table, keeps CACHE/results.json;
  table RESULTS.json     print the Markdown table of a results.json again.

A measurement, not a test. Nothing here is committed data: it all lives in CACHE.
"""

import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts" / "fixtures"))
import mdb  # noqa: E402

MIB = 1 << 20
SCHEMA = (
    "CREATE TABLE bench.{t} (id INT PRIMARY KEY, name VARCHAR(40), created DATETIME(3), "
    "amount DECIMAL(12,2), note TEXT) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n"
)
# Tier order: each later tier drops one more scratch table first, so the tiers' space,
# table and index ids differ and their tablespaces can share one image.
TIERS = {1_000_000: 0, 8_000_000: 1, 30_000_000: 2}
CHUNK = 1_000_000


def tier_name(rows):
    return f"t{rows // 1_000_000}m"


def tier_dir(cache, rows):
    return Path(cache) / "tiers" / tier_name(rows)


def tier_files(cache, rows):
    """(ibdata1, .ibd) of a finished tier, or None."""
    d = tier_dir(cache, rows)
    if not (d / "DONE").exists():
        return None
    data = d / "srv" / "data"
    return data / "ibdata1", data / "bench" / f"{tier_name(rows)}.ibd"


def make_tier(cache, rows):
    if tier_files(cache, rows):
        print(f"{tier_name(rows)}: present in {tier_dir(cache, rows)}")
        return
    t = tier_name(rows)
    d = tier_dir(cache, rows)
    d.mkdir(parents=True, exist_ok=True)
    srv = mdb.Server(
        d,
        "srv",
        extra=[
            "--innodb-buffer-pool-size=4G",
            "--innodb-log-file-size=512M",
            "--innodb-flush-log-at-trx-commit=0",
            "--innodb-doublewrite=0",
            "--innodb-autoextend-increment=64",
        ],
    )
    start = time.time()
    srv.install()
    srv.start()
    srv.sql("CREATE DATABASE bench")
    for i in range(TIERS.get(rows, 0)):
        srv.sql(f"CREATE TABLE scratch{i} (id INT PRIMARY KEY) ENGINE=InnoDB", db="bench")
        srv.sql(f"DROP TABLE scratch{i}", db="bench")
    insert_rows(srv, t, rows, start)
    count = int(srv.sql(f"SELECT COUNT(*) FROM {t}", db="bench").strip())
    srv.stop()
    assert count == rows, (count, rows)
    secs = time.time() - start
    ibdata, ibd = tier_files_unchecked(d, t)
    (d / "DONE").write_text(
        json.dumps({"rows": rows, "seconds": round(secs, 1), "ibd_bytes": ibd.stat().st_size})
    )
    print(
        f"{t}: made {rows:,} rows in {secs:.0f} s: {ibd} ({ibd.stat().st_size / MIB:.0f} MiB), "
        f"ibdata1 {ibdata.stat().st_size / MIB:.0f} MiB"
    )


def insert_rows(srv, t, rows, start):
    """Fill bench.<t> (made with SCHEMA) with ROWS rows, ids 1..ROWS, a million at a time."""
    srv.sql(SCHEMA.format(t=t))
    for lo in range(1, rows + 1, CHUNK):
        hi = min(lo + CHUNK - 1, rows)
        srv.sql(
            f"INSERT INTO {t} SELECT seq, CONCAT('user-', seq), "
            f"TIMESTAMP'2020-01-01 00:00:00' + INTERVAL seq SECOND, seq / 7, "
            f"REPEAT(CHAR(97 + seq % 26), 20 + seq % 40) FROM seq_{lo}_to_{hi}",
            db="bench",
        )
        print(f"{t}: {hi:,} rows, {time.time() - start:.0f} s", flush=True)


def tier_files_unchecked(d, t):
    data = d / "srv" / "data"
    return data / "ibdata1", data / "bench" / f"{t}.ibd"


def copy_into(dst, src, offset):
    """Write file src into dst at byte offset (dst not truncated; holes stay holes)."""
    subprocess.run(
        ["dd", f"if={src}", f"of={dst}", "bs=1M", f"seek={offset // MIB}", "conv=notrunc,sparse",
         "status=none"],
        check=True,
    )


def lay_out(img, files):
    """Write image img: the files one after another at 1 MiB-aligned offsets (written
    aside, then renamed). Returns its size."""
    tmp = img.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    off = 0
    for f in files:
        copy_into(tmp, f, off)
        off = align(off + f.stat().st_size)
    os.truncate(tmp, off)
    tmp.rename(img)
    return off


def align(n, a=MIB):
    return (n + a - 1) // a * a


def make_images(cache, tiers):
    cache = Path(cache)
    imgs = cache / "images"
    imgs.mkdir(parents=True, exist_ok=True)
    made = []
    for rows in tiers:
        files = tier_files(cache, rows)
        if not files:
            continue
        img = imgs / f"{tier_name(rows)}.img"
        meta = img.with_suffix(".json")
        if not meta.exists():
            off = lay_out(img, files)
            data = sum(f.stat().st_size for f in files)
            meta.write_text(json.dumps({"rows": rows, "data_bytes": data, "tables": [tier_name(rows)]}))
            print(f"made {img}: {off / MIB:.0f} MiB ({files[0].name} then {files[1].name})")
        made.append(rows)
    # The 1 TiB sparse image: every tier's ibdata1 and .ibd at scattered 1 MiB offsets,
    # of every tier in the cache (not only those asked for this time: a run of one tier
    # must not rebuild it without the others).
    sparse = imgs / "sparse-1t.img"
    meta = sparse.with_suffix(".json")
    made = [r for r in sorted(set(made) | set(TIERS)) if tier_files(cache, r)]
    key = [r for r in made]
    if made and (not meta.exists() or json.loads(meta.read_text()).get("key") != key):
        rng = random.Random(2026)
        size = 1 << 40
        sparse.unlink(missing_ok=True)
        with open(sparse, "wb") as f:
            f.truncate(size)
        slots = size // len(made) // 2
        rows_total, data, where, extents = 0, 0, [], []
        for i, rows in enumerate(made):
            for j, f in enumerate(tier_files(cache, rows)):
                base = (2 * i + j) * slots // MIB * MIB
                off = base + rng.randrange(0, (slots - f.stat().st_size) // MIB) * MIB
                copy_into(sparse, f, off)
                extents.append([off, f.stat().st_size])
                where.append(f"{f.parent.name}/{f.name} of {tier_name(rows)} at {off / (1 << 30):.1f} GiB")
                data += f.stat().st_size
            rows_total += rows
        meta.write_text(json.dumps({"rows": rows_total, "data_bytes": data, "key": key, "extents": extents,
                                    "tables": [tier_name(r) for r in made]}))
        print(f"made {sparse}: 1 TiB sparse, {data / MIB:.0f} MiB of data: " + "; ".join(where))
    # The 2 GiB mixed image: 7/8 random bytes, 1/8 tablespace pages (of the 1 M tier).
    mixed = imgs / "mixed-2g.img"
    if 1_000_000 in made and not mixed.exists():
        rng = random.Random(7)
        size = 2 << 30
        ibdata, ibd = tier_files(cache, 1_000_000)
        src = ibd.read_bytes()
        tmp = mixed.with_suffix(".tmp")
        placed = 0
        with open(tmp, "wb") as f:
            stretch = 8 * MIB
            for i in range(size // stretch):
                # every 8th stretch is tablespace data (a slice of the .ibd at a page
                # boundary), the rest random bytes
                if i % 8 == 7:
                    s = rng.randrange(0, (len(src) - stretch) // 16384) * 16384
                    f.write(src[s : s + stretch])
                    placed += stretch
                else:
                    f.write(os.urandom(stretch))
        tmp.rename(mixed)
        mixed.with_suffix(".json").write_text(json.dumps({"rows": 0, "data_bytes": placed, "tables": []}))
        print(f"made {mixed}: 2 GiB, {placed / MIB:.0f} MiB of it tablespace pages")


def measure(cmd):
    """Run cmd once; sample /proc/PID/status every 10 ms for the first second, then
    every 50 ms (a run shorter than ~20 ms may still end unsampled). Returns wall s, the kernel's
    max RSS of the child (getrusage, as /usr/bin/time -v reports it) and the sampled
    high-water marks of RssAnon and RssFile, in MiB."""
    peak = {"RssAnon": 0, "RssFile": 0}
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    status = f"/proc/{p.pid}/status"
    while True:
        try:
            with open(status) as fh:
                for line in fh:
                    k, _, v = line.partition(":")
                    if k in peak:
                        peak[k] = max(peak[k], int(v.split()[0]))
        except (OSError, ValueError, IndexError):
            pass
        pid, st, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(0.01 if time.perf_counter() - t0 < 1 else 0.05)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(st)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)}: exit {p.returncode}")
    return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "sys": ru.ru_stime,
            "maxrss_mib": ru.ru_maxrss / 1024,
            "anon_mib": peak["RssAnon"] / 1024, "file_mib": peak["RssFile"] / 1024}


def drop_caches():
    subprocess.run(["sync"], check=True)
    Path("/proc/sys/vm/drop_caches").write_text("3\n")


def time_cat(img, meta, cold):
    """Seconds to read the image's data: `cat IMAGE`, or for a sparse image the same
    byte ranges of it with dd (reading a TiB of holes is not what the data costs)."""
    if cold:
        drop_caches()
    t0 = time.perf_counter()
    if "extents" in meta:
        for off, n in meta["extents"]:
            subprocess.run(["dd", f"if={img}", "of=/dev/null", "bs=1M", f"skip={off // MIB}",
                            f"count={align(n) // MIB}", "status=none"], check=True)
    else:
        subprocess.run(["cat", str(img)], stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


def median_runs(cmd, runs, cold, after=None):
    res = []
    for _ in range(runs):
        if cold:
            drop_caches()
        r = measure(cmd)
        if after:
            r.update(after())
        res.append(r)
    return {k: statistics.median(x[k] for x in res) for k in res[0]}


def csv_stats(out):
    rep = json.loads((out / "report.json").read_text())
    rows = sum(t.get("rows_written", 0) for t in rep["tables"])
    csv = sum(f.stat().st_size for f in out.rglob("*.csv"))
    return {"rows_written": rows, "csv_bytes": csv}


def run(cache, binary, runs, cold, args=()):
    cache = Path(cache)
    imgs = cache / "images"
    results = []
    order = ["t1m", "t8m", "t30m", "sparse-1t", "mixed-2g"]
    for name in order:
        img = imgs / f"{name}.img"
        mf = img.with_suffix(".json")
        if not mf.exists():
            continue
        meta = json.loads(mf.read_text())
        base = {"input": name, "image_bytes": img.stat().st_size, "data_bytes": meta["data_bytes"]}
        subprocess.run([binary, "scan", str(img)], stdout=subprocess.DEVNULL, check=True)  # warm
        cat = statistics.median(time_cat(img, meta, cold) for _ in range(runs))
        thread_opts = [["-t", "1"], ["-t", "2"]] if name == "mixed-2g" else [[]]
        for t in thread_opts:
            r = median_runs([binary, "scan", *args, *t, str(img)], runs, cold)
            results.append({**base, "cmd": " ".join(["scan", *t]), "cat": cat, **r})
            print(f"{name}: scan {' '.join(t)} {r['wall']:.2f} s (cat {cat:.2f} s)", file=sys.stderr)
        if not meta["tables"]:
            continue
        schema = cache / f"{name}.sql"
        schema.write_text("".join(SCHEMA.format(t=t) for t in meta["tables"]))
        out = cache / "out" / name
        r = median_runs([binary, "recover", *args, str(img), "-o", str(out), "--schema", str(schema)],
                        runs, cold, after=lambda: csv_stats(out))
        results.append({**base, "cmd": "recover", "cat": cat, **r})
        print(f"{name}: recover {r['wall']:.2f} s, {r['rows_written']:,} rows", file=sys.stderr)
        subprocess.run(["rm", "-rf", str(out)], check=True)
    Path(cache / "results.json").write_text(json.dumps(results, indent=1))
    return results


def table(results):
    head = ("| input | image size | data bytes | command | rows | wall s | cpu s (sys) | rows/s "
            "| peak RSS MiB | peak anon MiB | peak file MiB | CSV MB/s | cat s | ratio to cat |")
    lines = [head, "|" + "---|" * 14]
    for r in results:
        rows = r.get("rows_written")
        lines.append(
            f"| {r['input']} | {human(r['image_bytes'])} | {human(r['data_bytes'])} | {r['cmd']} | "
            + (f"{int(rows):,} | " if rows is not None else "— | ")
            + f"{r['wall']:.2f} | "
            + (f"{r['cpu']:.2f} ({r['sys']:.2f}) | " if "cpu" in r else "— | ")
            + (f"{rows / r['wall'] / 1e6:.2f} M | " if rows else "— | ")
            + f"{r['maxrss_mib']:.0f} | {r['anon_mib']:.0f} | {r['file_mib']:.0f} | "
            + (f"{r['csv_bytes'] / r['wall'] / 1e6:.0f} | " if r.get("csv_bytes") else "— | ")
            + f"{r['cat']:.2f} | {r['wall'] / r['cat']:.2f}× |"
        )
    return "\n".join(lines)


def human(n):
    if n >= 1 << 40:
        return f"{n / (1 << 40):.0f} TiB"
    if n >= 1 << 30:
        return f"{n / (1 << 30):.2f} GiB"
    return f"{n / MIB:.0f} MiB"


def main():
    cmd = sys.argv[1]
    if cmd == "tier":
        make_tier(sys.argv[2], int(sys.argv[3]))
    elif cmd == "images":
        make_images(sys.argv[2], [int(x) for x in sys.argv[3:]])
    elif cmd == "run":
        cache, binary, runs = sys.argv[2], sys.argv[3], int(sys.argv[4])
        cold = os.environ.get("COLD") == "1"
        args = os.environ.get("SALVAGE_ARGS", "").split()
        print(table(run(cache, binary, runs, cold, args)))
    elif cmd == "table":
        print(table(json.loads(Path(sys.argv[2]).read_text())))
    else:
        sys.exit(f"unknown subcommand {cmd}")


if __name__ == "__main__":
    main()
