#!/usr/bin/env python3
"""Compares two sweep databases (results.sqlite) point for point.

usage: compare_db.py A.sqlite B.sqlite [--expect-points N]

Every column of table `points` must be equal in both, except the timing and
provenance columns (seconds, started_at, finished_at, host, backend, task,
attempt), which differ between two runs of the same point. Exit 0 when equal,
1 with the differences listed otherwise, 2 on bad usage.
"""
import sqlite3
import sys

TIMING = {"seconds", "started_at", "finished_at", "host", "backend", "task", "attempt"}


def load(path):
    db = sqlite3.connect("file:" + path + "?mode=ro", uri=True)
    cur = db.execute("SELECT * FROM points ORDER BY point_id")
    cols = [d[0] for d in cur.description]
    rows = {r[cols.index("point_id")]: dict(zip(cols, r)) for r in cur.fetchall()}
    return cols, rows


def main(argv):
    if len(argv) not in (3, 5) or (len(argv) == 5 and argv[3] != "--expect-points"):
        print(__doc__, file=sys.stderr)
        return 2
    ca, a = load(argv[1])
    cb, b = load(argv[2])
    problems = []
    if sorted(ca) != sorted(cb):
        problems.append(f"columns differ: {sorted(set(ca) ^ set(cb))}")
    if len(argv) == 5 and len(a) != int(argv[4]):
        problems.append(f"{argv[1]}: {len(a)} points, expected {argv[4]}")
    for pid in sorted(set(a) | set(b)):
        if pid not in a or pid not in b:
            problems.append(f"point {pid} only in {argv[1] if pid in a else argv[2]}")
            continue
        for c in ca:
            if c in TIMING or c not in b[pid]:
                continue
            if a[pid][c] != b[pid][c]:
                problems.append(f"point {pid} (idx {a[pid].get('idx')}): {c}: {a[pid][c]!r} != {b[pid][c]!r}")
    for pid, r in a.items():
        if r.get("status") != "ok":
            problems.append(f"point {pid}: status {r.get('status')}: {r.get('error')}")
    for p in problems:
        print("compare_db: " + p)
    if not problems:
        print(f"compare_db: {len(a)} points identical (timing columns aside)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
