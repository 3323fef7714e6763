"""Exactly-once appends: our own commit log vs Delta Lake vs Iceberg, and what a plain glob sees.

    python3 -m venv /tmp/tf-venv
    /tmp/tf-venv/bin/pip install pyarrow==25.0.1 duckdb==2.0.0 deltalake 'pyiceberg[sql-sqlite]'
    /tmp/tf-venv/bin/python -m benchmarks.table_formats --runs 3 --files 5 --rows 20  # quick
    /tmp/tf-venv/bin/python -m benchmarks.table_formats  # defaults: 10 runs x 20 files x 50 rows

No repo imports; deltalake and pyiceberg are not project dependencies, hence the venv. In a temp
dir, each format gets --runs runs appended, each run --files Parquet files (one per date/theme,
--rows article-like rows of ~3 KB text): own = staged under _staging/<run>/, one commit record
_log/<seq>.json made exclusively (temp + os.link), renamed into articles/date=/theme=/, rolled
forward or dropped at the next start (no fsync); delta = write_deltalake(mode="append",
partition_by=["date", "theme"]); iceberg = pyiceberg SqlCatalog on sqlite, identity partitions.
Then a child appending one more run is SIGKILLed when its first new data .parquet appears (own: in
_staging, before the commit; also an own child dying after its 1st rename), and rows/distinct ids
seen by a plain DuckDB Hive glob are compared with the format's own reader.
"""
from __future__ import annotations

import argparse
import datetime as dt
import glob
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import deltalake
import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pyiceberg
from pyiceberg.catalog.sql import SqlCatalog

SCHEMA = pa.schema([("article_id", pa.string()), ("title", pa.string()), ("text", pa.string()),
                    ("date", pa.string()), ("theme", pa.string()), ("themes", pa.list_(pa.string()))])
VOCAB = ["".join(random.Random(i).choices("abcdefghijklmnopqrstuvwxyz", k=3 + i % 8)) for i in range(3000)]


def run_rows(run, files, rows):
    """Run `run`: one date, `files` themes, `rows` articles each; the same ids when regenerated."""
    rng, date = random.Random(run), (dt.date(2024, 1, 1) + dt.timedelta(days=run)).isoformat()
    recs = [{"article_id": f"{run:04d}-{f:02d}-{r:04d}", "title": " ".join(rng.choices(VOCAB, k=8)),
             "text": " ".join(rng.choices(VOCAB, k=450)), "date": date, "theme": f"theme-{f:02d}",
             "themes": [f"theme-{f:02d}", rng.choice(VOCAB)]} for f in range(files) for r in range(rows)]
    return pa.Table.from_pylist(recs, schema=SCHEMA)


def files_under(d):
    return [p for p in glob.glob(f"{d}/**/*", recursive=True) if os.path.isfile(p)]


class Own:
    name = "own"

    def __init__(self, root, create=True):
        self.root, self.table_dir, self.meta_dir = root, f"{root}/articles", f"{root}/_log"
        self.data_glob, self.stage = f"{root}/articles/**/*.parquet", f"{root}/_staging"

    def append(self, tbl, die_after_renames=0):
        run_id, files = uuid.uuid4().hex[:12], []
        for i, (date, theme) in enumerate(sorted(set(zip(tbl["date"].to_pylist(), tbl["theme"].to_pylist())))):
            part = tbl.filter(pc.and_(pc.equal(tbl["date"], date), pc.equal(tbl["theme"], theme)))
            rel = f"articles/date={date}/theme={theme}/part-{run_id}-{i:05d}.parquet"
            os.makedirs(os.path.dirname(f"{self.stage}/{run_id}/{rel}"), exist_ok=True)
            pq.write_table(part, f"{self.stage}/{run_id}/{rel}", compression="zstd")
            files.append({"path": rel, "rows": part.num_rows})
        os.makedirs(self.meta_dir, exist_ok=True)
        with open(f"{self.meta_dir}/.tmp-{run_id}", "w") as fh:
            json.dump({"run_id": run_id, "files": files}, fh)
        seq = max([int(n[:-5]) for n in os.listdir(self.meta_dir) if n.endswith(".json")], default=-1) + 1
        while True:
            try:  # the commit: link fails if another writer took this number
                os.link(f"{self.meta_dir}/.tmp-{run_id}", f"{self.meta_dir}/{seq:010d}.json")
                break
            except FileExistsError:
                seq += 1
        os.unlink(f"{self.meta_dir}/.tmp-{run_id}")
        self.publish(run_id, files, die_after_renames)

    def publish(self, run_id, files, die_after_renames=0):
        for n, f in enumerate(files, 1):
            if os.path.exists(src := f"{self.stage}/{run_id}/{f['path']}"):
                os.makedirs(os.path.dirname(f"{self.root}/{f['path']}"), exist_ok=True)
                os.replace(src, f"{self.root}/{f['path']}")
            if n == die_after_renames:
                os.kill(os.getpid(), signal.SIGKILL)
        shutil.rmtree(f"{self.stage}/{run_id}", ignore_errors=True)

    def records(self):
        return [json.load(open(p)) for p in sorted(glob.glob(f"{self.meta_dir}/*.json"))]

    def recover(self):
        done = {r["run_id"]: r["files"] for r in self.records()}
        for run_id in os.listdir(self.stage) if os.path.isdir(self.stage) else []:
            if run_id in done:
                self.publish(run_id, done[run_id])  # committed: roll forward
            else:
                shutil.rmtree(f"{self.stage}/{run_id}")  # never committed: drop

    def read_ids(self):  # the files the log lists, published or still staged
        paths = [f"{self.root}/{f['path']}" if os.path.exists(f"{self.root}/{f['path']}")
                 else f"{self.stage}/{r['run_id']}/{f['path']}" for r in self.records() for f in r["files"]]
        return pa.chunked_array([c for p in paths for c in pq.read_table(p, columns=["article_id"])[0].chunks])

    def cleanup(self):
        return "not needed"


class Delta:
    name = "delta"

    def __init__(self, root, create=True):
        self.table_dir = f"{root}/delta"
        self.data_glob, self.meta_dir = f"{self.table_dir}/**/*.parquet", f"{self.table_dir}/_delta_log"

    def append(self, tbl):
        deltalake.write_deltalake(self.table_dir, tbl, mode="append", partition_by=["date", "theme"],
                                  writer_properties=deltalake.WriterProperties(compression="ZSTD"))

    def read_ids(self):
        return deltalake.DeltaTable(self.table_dir).to_pyarrow_table(columns=["article_id"])["article_id"]

    def cleanup(self):
        gone = deltalake.DeltaTable(self.table_dir).vacuum(retention_hours=0, enforce_retention_duration=False,
                                                           dry_run=False, full=True)
        return f"vacuum(full=True, retention_hours=0) deleted {len(gone)} files"


class Iceberg:
    name = "iceberg"

    def __init__(self, root, create=True):
        self.db, self.partitioning = f"{root}/catalog.db", "identity(date), identity(theme)"
        self.cat = SqlCatalog("bench", uri=f"sqlite:///{self.db}", warehouse=f"file://{root}/iceberg")
        if create:
            self.cat.create_namespace("news")
            table = self.cat.create_table("news.articles", schema=SCHEMA)
            try:
                with table.update_spec() as spec:
                    spec.add_identity("date")
                    spec.add_identity("theme")
            except Exception as e:  # noqa: BLE001 - fall back, and say so
                self.partitioning = f"UNPARTITIONED ({type(e).__name__})"
        self.table_dir = self.cat.load_table("news.articles").location().removeprefix("file://")
        self.data_glob, self.meta_dir = f"{self.table_dir}/**/*.parquet", f"{self.table_dir}/metadata"

    def append(self, tbl):
        self.cat.load_table("news.articles").append(tbl)

    def read_ids(self):
        scan = self.cat.load_table("news.articles").scan(selected_fields=("article_id",))
        return scan.to_arrow()["article_id"]

    def cleanup(self):
        return "none in pyiceberg (its maintenance API has only expire_snapshots)"


FORMATS = {"own": Own, "delta": Delta, "iceberg": Iceberg}


def glob_view(fmt):
    """What a plain DuckDB Hive glob sees: 'rows/distinct ids', or the error it raises."""
    try:
        return "%d/%d" % duckdb.connect().execute(
            f"SELECT count(*), count(DISTINCT article_id) FROM read_parquet('{fmt.data_glob}', "
            "hive_partitioning=1)").fetchone()
    except Exception as e:  # noqa: BLE001 - the error is the result
        return "ERROR " + re.sub(r"'?/\S+'?", "<file>", re.sub(r"\s+", " ", str(e)))[:90]


def reader_view(fmt):
    ids = fmt.read_ids()
    return f"{len(ids)}/{len(pc.unique(ids))}"


def data_files(fmt):
    return set(glob.glob(fmt.data_glob, recursive=True)) - set(glob.glob(f"{fmt.meta_dir}/**", recursive=True))


def readable(path):
    try:
        return bool(pq.read_metadata(path))
    except Exception:  # noqa: BLE001
        return False


def crash_test(cls, root, run, args, die_after_renames=0, tries=5):
    """Start a child appending `run` and SIGKILL it when a new .parquet appears under the watched
    dir (retried with the next run while the kill lands after the commit); then the next start
    re-runs the lost run, then the cleanup tool. Glob and reader views after each step."""
    fmt = cls(root, create=False)
    watch = fmt.stage if fmt.name == "own" else fmt.table_dir
    for attempt in range(1, tries + 1):
        want, visible = reader_view(fmt), data_files(fmt)
        seen = set(glob.glob(f"{watch}/**/*.parquet", recursive=True))
        child = subprocess.Popen([sys.executable, __file__, "--child", fmt.name, root, str(run),
                                  str(die_after_renames), "--files", str(args.files), "--rows", str(args.rows)])
        while not die_after_renames and child.poll() is None:
            if set(glob.glob(f"{watch}/**/*.parquet", recursive=True)) - seen:
                child.send_signal(signal.SIGKILL)
                break
        rc, lost = child.wait(), reader_view(fmt) == want
        if lost or die_after_renames:
            break
        run += 1  # the kill came after the commit: that run is in; crash the next one
    new = data_files(fmt) - visible
    row = {"exit": rc, "tries": attempt, "committed": not lost, "before": want,
           "new visible files": f"{len(new)} ({len(new) - sum(map(readable, new))} unreadable)",
           "glob": glob_view(fmt), "reader": reader_view(fmt)}
    fmt = cls(root, create=False)  # the next start
    if fmt.name == "own":
        fmt.recover()
    if lost:
        fmt.append(run_rows(run, args.files, args.rows))
    row.update({"retry glob": glob_view(fmt), "retry reader": reader_view(fmt), "cleanup": fmt.cleanup()})
    row["cleanup glob"] = glob_view(fmt)
    return row, run + 1


DOCS = """\
  own     DuckDB read_parquet('<out>/articles/**/*.parquet', hive_partitioning=1); Spark
          spark.read.parquet('<out>/articles'); BigQuery external table, PARQUET + hive_partition_uri_prefix.
          Object store: the commit needs create-if-absent (GCS ifGenerationMatch=0, S3 PUT If-None-Match: *);
          renames on S3 and flat GCS buckets are copy+delete, so a glob can see part of a committed run
          until publishing ends (cf. 'own: dies after 1st rename').
  delta   DuckDB INSTALL delta; LOAD delta; FROM delta_scan('file:///<table>') (a downloaded extension);
          Spark: the delta-spark package, spark.read.format('delta').load(path); BigQuery: BigLake
          external table, format DELTA_LAKE. Plain globs also read uncommitted and removed files and
          _delta_log checkpoints. S3: delta-rs 1.x uses S3 conditional writes (its binary says it no
          longer supports S3DynamoDBLogStore; before 1.0: AWS_S3_LOCKING_PROVIDER=dynamodb + a DynamoDB
          table, or AWS_S3_ALLOW_UNSAFE_RENAME=true for one writer). GCS, Azure, local: safe by default.
  iceberg DuckDB INSTALL iceberg; LOAD iceberg; FROM iceberg_scan('<table>/metadata/<current>.metadata.json')
          (only the catalog knows the current one; SqlCatalog writes no version-hint.text) or ATTACH a REST
          catalog; Spark: iceberg-spark-runtime + spark.sql.catalog.<c>.* (a JDBC catalog on the same
          database); BigQuery: Iceberg external table via BigLake metastore, or uris=[metadata.json]
          re-pointed after each commit. Concurrent writers rely on the catalog's atomic pointer swap:
          sqlite serves one host, so several hosts need a shared catalog (REST, Glue, Hive, Postgres)."""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10, help="runs appended to each table")
    ap.add_argument("--files", type=int, default=20, help="partition files per run")
    ap.add_argument("--rows", type=int, default=50, help="rows per file")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)  # name root run die_after_renames
    args = ap.parse_args()
    if args.child:
        name, root, run, die = args.child
        tbl = run_rows(int(run), args.files, args.rows)
        return FORMATS[name](root, create=False).append(tbl, *([int(die)] if int(die) else []))
    print(f"pyarrow {pa.__version__}, duckdb {duckdb.__version__}, deltalake {deltalake.__version__}, "
          f"pyiceberg {pyiceberg.__version__}, python {sys.version.split()[0]}; "
          f"runs={args.runs} files/run={args.files} rows/file={args.rows}\n")
    runs = [run_rows(r, args.files, args.rows) for r in range(args.runs)]
    tmp, perf, crashes = tempfile.mkdtemp(prefix="table-formats-"), [], []
    for name, cls in FORMATS.items():
        os.makedirs(root := f"{tmp}/{name}")
        fmt, times, new_data, new_other = cls(root), [], [], []
        for tbl in runs:
            all0, data0 = set(files_under(root)), data_files(fmt)
            t0 = time.perf_counter()
            fmt.append(tbl)
            times.append(time.perf_counter() - t0)
            new_data.append(len(data_files(fmt) - data0))
            new_other.append(len(set(files_under(root)) - all0) - new_data[-1])
        data_bytes = sum(map(os.path.getsize, data_files(fmt)))
        note = getattr(fmt, "partitioning", "hive dirs date=/theme=")
        if name == "iceberg":
            note += f"; metadata B includes catalog.db ({os.path.getsize(fmt.db)} B); version-hint.text: " + \
                ("yes" if os.path.exists(f"{fmt.meta_dir}/version-hint.text") else "no")
        perf.append((name, statistics.median(times), statistics.mean(new_data), statistics.mean(new_other),
                     sum(map(os.path.getsize, files_under(root))) - data_bytes, data_bytes, note))
        row, nxt = crash_test(cls, root, args.runs, args)
        crashes.append((f"{name}: killed at its 1st new data file", row))
        if name == "own":  # second crash point: commit record made, child dies after its 1st rename
            crashes.append(("own: dies after 1st rename", crash_test(cls, root, nxt, args, 1)[0]))
        if name == "delta":  # delta-rs writes a checkpoint every 100 commits by default
            deltalake.DeltaTable(fmt.table_dir).create_checkpoint()
            crashes.append(("delta: after create_checkpoint()",
                            {"glob": glob_view(fmt), "reader": reader_view(fmt)}))
    shutil.rmtree(tmp)

    print("1) --runs runs of the same rows appended to one table per format")
    print(f"{'format':8} {'s/run median':>12} {'data files/run':>14} {'other files/run':>15} "
          f"{'metadata B':>10} {'data B':>10}  notes")
    for n, med, dpr, opr, mb, db, note in perf:
        print(f"{n:8} {med:12.4f} {dpr:14.1f} {opr:15.1f} {mb:10d} {db:10d}  {note}")
    print("\n2) crash while appending one more run. rows/distinct article_id as seen by glob = DuckDB "
          "read_parquet('<table>/**/*.parquet', hive_partitioning=1) and by reader = the format's reader")
    for scenario, row in crashes:
        print(f"  {scenario}:\n    " + "; ".join(f"{k}={v}" for k, v in row.items()))
    print("  exit -9 = SIGKILL; tries = children started until one was killed before its commit; retry = "
          "after the next start\n  (own: recover()) re-ran the lost run; cleanup = after the format's "
          "tool for unreferenced files.")
    print("\n3) DuckDB extensions here (offline):")
    for q in ("INSTALL delta", "INSTALL iceberg", "SELECT * FROM delta_scan('file:///nonexistent')"):
        try:
            duckdb.connect().execute(q)
            print(f"  {q}: OK")
        except Exception as e:  # noqa: BLE001 - the error is the result
            msg = re.sub(r"\s+", " ", re.sub(r"https?://\S+", "<extension repository URL>", str(e)))
            print(f"  {q}: {type(e).__name__}: {msg[:150]}")
    print("\n4) from the docs (not measured here):\n" + DOCS)


if __name__ == "__main__":
    main()
