"""Audit chain: build and verify N entries in memory, against raw SHA-256 as the floor.

    .venv/bin/python bench/audit_chain_bench.py                     # 1,000,000 entries
    .venv/bin/python bench/audit_chain_bench.py --entries 200000 --repeats 5
    .venv/bin/python bench/audit_chain_bench.py --no-db             # skip part (c)

(a) build: ``audit.chain.link`` for N entries (fields checked, payload digest of a
    small payload, canonical JSON, SHA-256), held in a list.
(b) verify: ``audit.chain.verify`` over the list (median of ``--repeats`` walks), and
    two floors measured in the same run over the same bytes: raw ``hashlib.sha256`` of
    each entry's hashed message (previous hash + canonical JSON, prepared beforehand in
    chunks), and building those messages (``entry_json``) without hashing. The ratio
    verify / raw SHA-256 is what the Python around the hash costs.
(c) the database read still to come: the same entries written to a SQLite file with the
    standard library's ``sqlite3`` (one row per entry, time as ISO text); the list is then
    dropped and the rows read back in seq order into ``Entry`` objects (10,000 per fetch)
    and verified as a stream, so the read is what is added.
(d) the shipped path: the same entries written into ``audit_entries`` of a Loopwise SQLite
    database at the current schema, then verified by ``audit.service.verify`` (SQLAlchemy
    Core, 10,000 rows per fetch; what ``loopwise audit verify`` runs) and by the command
    itself in a fresh process (``loopwise audit verify``, start-up included).

Not a test: run by hand, read the numbers. Part (c) writes to a temporary folder.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from loopwise.audit.chain import (
    GENESIS,
    Entry,
    EntryFields,
    Verification,
    entry_json,
    link,
    payload_digest,
    time_text,
    verify,
)

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ACTIONS = ("gate.approve", "waiver.grant", "model.promote", "dataset.read_personal", "run.update")
CHUNK = 50_000


def fields(seq: int) -> EntryFields:
    return EntryFields(
        seq=seq,
        time=T0 + timedelta(milliseconds=37 * seq),
        actor=f"usr_{seq % 97:04d}",
        action=ACTIONS[seq % len(ACTIONS)],
        object=f"model_version:mv_{seq % 1009:06d}",
        outcome="ok" if seq % 13 else "refused",
        reason="" if seq % 4 else f"waived until the next cycle (RISK-{seq % 50})",
        payload_digest=payload_digest({"seq": seq, "from": "staging", "to": "production"}),
    )


def build(n: int) -> list[Entry]:
    chain, previous = [], GENESIS
    for seq in range(1, n + 1):
        entry = link(previous, fields(seq))
        chain.append(entry)
        previous = entry.hash
    return chain


Clock = tuple[float, float]  # (wall seconds, CPU seconds of this process)


def timed(run: Callable[[], object]) -> Clock:
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def median(clocks: list[Clock]) -> Clock:
    return statistics.median(c[0] for c in clocks), statistics.median(c[1] for c in clocks)


def floors(chain: list[Entry]) -> tuple[Clock, Clock]:
    """(building the hashed messages, hashing them with raw SHA-256), each (wall, CPU)."""
    built, hashed = [0.0, 0.0], [0.0, 0.0]
    sha256 = hashlib.sha256
    for i in range(0, len(chain), CHUNK):
        part = chain[i : i + CHUNK]
        messages: list[bytes] = []

        def build_messages(part: list[Entry] = part, out: list[bytes] = messages) -> None:
            out.extend(e.previous_hash.encode("ascii") + entry_json(e) for e in part)

        def hash_messages(messages: list[bytes] = messages) -> None:
            for message in messages:
                sha256(message).hexdigest()

        for total, run in ((built, build_messages), (hashed, hash_messages)):
            wall, cpu = timed(run)
            total[0] += wall
            total[1] += cpu
    return (built[0], built[1]), (hashed[0], hashed[1])


def write_database(chain: list[Entry], path: str) -> float:
    """Seconds to write the entries as rows (one transaction)."""
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE audit (seq INTEGER PRIMARY KEY, time TEXT, actor TEXT, action TEXT,"
        " object TEXT, outcome TEXT, reason TEXT, payload_digest TEXT, previous_hash TEXT,"
        " hash TEXT)"
    )
    start = time.perf_counter()
    db.executemany(
        "INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            (
                e.seq,
                e.time.isoformat(),
                e.actor,
                e.action,
                e.object,
                e.outcome,
                e.reason,
                e.payload_digest,
                e.previous_hash,
                e.hash,
            )
            for e in chain
        ),
    )
    db.commit()
    db.close()
    return time.perf_counter() - start


def read_database(path: str, n: int) -> tuple[float, float]:
    """(seconds to read the rows into entries only, seconds to read and verify them)."""
    db = sqlite3.connect(path)

    def rows() -> Iterator[Entry]:
        cursor = db.execute("SELECT * FROM audit ORDER BY seq")
        parse = datetime.fromisoformat
        while batch := cursor.fetchmany(10_000):
            for seq, when, actor, action, obj, outcome, reason, digest, previous, h in batch:
                yield Entry(
                    seq, parse(when), actor, action, obj, outcome, reason, digest, previous, h
                )

    start = time.perf_counter()
    count = sum(1 for _ in rows())
    read_s = time.perf_counter() - start
    assert count == n
    start = time.perf_counter()
    result = verify(rows())
    both_s = time.perf_counter() - start
    assert result.ok and result.checked == n, result
    db.close()
    return read_s, both_s


def write_store(chain: list[Entry], folder: str) -> tuple[str, float]:
    """A Loopwise SQLite database at head holding the chain; (its URL, seconds to write)."""
    from loopwise.db.engine import make_engine
    from loopwise.db.migrate import upgrade

    path = os.path.join(folder, "loopwise.db")
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    db = sqlite3.connect(path)
    start = time.perf_counter()
    db.executemany(
        "INSERT INTO audit_entries (seq, time, time_text, actor, action, object, outcome,"
        " reason, payload_digest, previous_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (
            (
                e.seq,
                e.time.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds"),
                time_text(e.time),
                e.actor,
                e.action,
                e.object,
                e.outcome,
                e.reason,
                e.payload_digest,
                e.previous_hash,
                e.hash,
            )
            for e in chain
        ),
    )
    db.commit()
    db.close()
    return url, time.perf_counter() - start


def verify_store(url: str, n: int) -> tuple[Clock, float]:
    """((wall, CPU) of audit.service.verify, wall seconds of ``loopwise audit verify``)."""
    from loopwise.audit import service
    from loopwise.db.engine import Database

    db = Database(url)
    found: list[object] = []

    def walk() -> None:
        with db.session(write=False) as session:
            found.append(service.verify(session))

    clock = timed(walk)
    db.dispose()
    result = found[0]
    assert isinstance(result, Verification) and result.ok and result.checked == n, result
    home = os.path.dirname(url.removeprefix("sqlite:///"))
    command = [sys.executable, "-m", "loopwise.cli", "--home", home, "--database-url", url]
    start = time.perf_counter()
    done = subprocess.run([*command, "audit", "verify"], capture_output=True, text=True)
    cli_s = time.perf_counter() - start
    # n + 1: the command's first use of the store creates the local user, which is audited
    assert done.returncode == 0 and done.stdout.startswith("OK"), done
    return clock, cli_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-db", action="store_true", help="skip parts (c) and (d)")
    args = parser.parse_args()
    n = args.entries
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")

    start = time.perf_counter()
    chain = build(n)
    build_s = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(a) build {n:,} entries (link): {build_s:.2f} s ({build_s / n * 1e6:.2f} us/entry)")
    print(f"    peak RSS with the chain held in a list: {rss:,.0f} MiB")

    def walk() -> None:
        result = verify(chain)
        assert result.ok and result.checked == n, result

    walk_s, walk_cpu = median([timed(walk) for _ in range(args.repeats)])
    runs = [floors(chain) for _ in range(args.repeats)]
    json_s, json_cpu = median([r[0] for r in runs])
    sha_s, sha_cpu = median([r[1] for r in runs])
    print(f"(b) medians of {args.repeats} runs, wall / CPU seconds:")
    print(
        f"    verify {n:,} entries:                  {walk_s:6.2f} / {walk_cpu:6.2f}"
        f"   ({walk_cpu / n * 1e6:.2f} us CPU per entry)"
    )
    print(f"    floor: raw hashlib.sha256, same bytes:  {sha_s:6.2f} / {sha_cpu:6.2f}")
    print(f"    building those bytes (entry_json):      {json_s:6.2f} / {json_cpu:6.2f}")
    print(
        f"    ratio verify / raw SHA-256: {walk_s / sha_s:.1f}x wall, {walk_cpu / sha_cpu:.1f}x CPU;"
        f" verify / (bytes + SHA-256): {walk_cpu / (json_cpu + sha_cpu):.2f}x CPU"
    )

    if not args.no_db:
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "audit.sqlite")
            write_s = write_database(chain, path)
            url, store_s = write_store(chain, folder)
            chain.clear()  # the walk from the database holds one row at a time, not the list
            gc.collect()
            read_s, both_s = read_database(path, n)
            (service_s, service_cpu), cli_s = verify_store(url, n)
        print(
            f"(c) sqlite3: write {write_s:.2f} s; read {n:,} rows into entries {read_s:.2f} s;"
            f" read and verify as a stream {both_s:.2f} s"
            f" (the read adds {both_s - walk_s:.2f} s to the in-memory verify)"
        )
        print(
            f"(d) Loopwise store: write {store_s:.2f} s; audit.service.verify {n:,} entries"
            f" {service_s:.2f} s wall / {service_cpu:.2f} s CPU;"
            f" `loopwise audit verify` {cli_s:.2f} s wall (fresh process)"
        )


if __name__ == "__main__":
    main()
