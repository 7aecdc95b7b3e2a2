"""The hand-off from the one reader thread to the writers: a short queue per writer.

The source is one read transaction on one SQLite connection (the snapshot), so a single
thread reads every table, computes the source checksums and hands the batches on. Each
writer owns whole tables (its stream): a table's batches commit in order, so its
progress row only ever moves forward. The queues hold two batches: the reader never runs
far ahead of the writers, and memory stays at a few batches whatever the table size.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from rune.storage.transfer.progress import TableRun
from rune.storage.transfer.source import Batch, Source
from rune.storage.transfer.tables import TableSpec

_QUEUE_DEPTH = 2


class Stop(Exception):
    """Raised inside a worker thread when another one failed."""


@dataclass(frozen=True)
class TableEnd:
    """Sent after a table's last batch: the writer then finishes the table."""

    spec: TableSpec


@dataclass
class Stream:
    """The tables one writer copies, in order, and the queue the reader fills for it."""

    tables: list[TableRun]
    items: queue.Queue[Batch | TableEnd | None] = field(
        default_factory=lambda: queue.Queue(maxsize=_QUEUE_DEPTH)
    )


def assign(runs: list[TableRun], names: list[str], count: int) -> list[Stream]:
    """Spread the tables over ``count`` streams by rows left, biggest first, keeping the
    order of ``names`` (parents first) within each stream."""
    streams = [Stream([]) for _ in range(count)]
    load = [0] * count
    for run in sorted(runs, key=lambda r: r.total - r.start_rows, reverse=True):
        i = load.index(min(load))
        streams[i].tables.append(run)
        load[i] += max(run.total - run.start_rows, 1)
    for stream in streams:  # keep parents first within a stream
        stream.tables.sort(key=lambda r: names.index(r.spec.name))
    return streams


class Handoff:
    """Queue operations that give up (:class:`Stop`) as soon as ``stop`` is set.

    ``cond`` is the copier's condition (over its lock): taking an item notifies it, so the
    reader, waiting for room in any queue, wakes up.
    """

    def __init__(self, stop: threading.Event, cond: threading.Condition) -> None:
        self.stop = stop
        self.cond = cond

    def get(self, q: queue.Queue[Any]) -> Any:
        while True:
            if self.stop.is_set():
                raise Stop
            try:
                item = q.get(timeout=0.1)
            except queue.Empty:
                continue
            with self.cond:
                self.cond.notify_all()
            return item

    def put(self, q: queue.Queue[Any], item: Any) -> None:
        while True:
            if self.stop.is_set():
                raise Stop
            try:
                q.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def feed(self, streams: list[Stream], source: Source, batch_size: int) -> None:
        """The reader thread: fill the emptiest queue that has room, table by table."""
        iters: dict[int, Iterator[Batch] | None] = dict.fromkeys(range(len(streams)))
        active = [i for i, s in enumerate(streams) if s.tables]
        while active:
            with self.cond:
                while True:
                    if self.stop.is_set():
                        raise Stop
                    ready = [i for i in active if not streams[i].items.full()]
                    if ready:
                        break
                    self.cond.wait(0.1)
            index = min(ready, key=lambda i: streams[i].items.qsize())
            stream = streams[index]
            run = stream.tables[0]
            it = iters[index]
            if it is None:
                run.started = time.monotonic()
                it = source.batches(run.spec, run.start_key, batch_size)
                iters[index] = it
            batch = next(it, None)
            if batch is None:
                stream.tables.pop(0)
                iters[index] = None
                self.put(stream.items, TableEnd(run.spec))
                if not stream.tables:
                    active.remove(index)
                    self.put(stream.items, None)
                continue
            self.put(stream.items, batch)
