"""Decoding of the built-in `pgoutput` plugin's messages, protocol version 1 (PostgreSQL's
"Logical Replication Message Formats"): Begin, Commit, Relation, Insert, Update, Delete and
Truncate; Origin and Type messages are recognised and skipped. Values arrive as text.

Pure functions over bytes: the stream itself is `capture/wal.py`'s.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

POSTGRES_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)
UNCHANGED_TOAST = object()      # a TOASTed value an UPDATE left as it was: not sent


@dataclass(frozen=True)
class Begin:
    final_lsn: int
    commit_time: datetime
    xid: int


@dataclass(frozen=True)
class Commit:
    commit_lsn: int
    end_lsn: int
    commit_time: datetime


@dataclass(frozen=True)
class Relation:
    oid: int
    namespace: str
    name: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Insert:
    oid: int
    new: tuple


@dataclass(frozen=True)
class Update:
    oid: int
    old: tuple | None       # the old key ('K') or whole old row ('O') when the identity changed
    new: tuple


@dataclass(frozen=True)
class Delete:
    oid: int
    old: tuple              # the key (or, with REPLICA IDENTITY FULL, the whole row)


@dataclass(frozen=True)
class Truncate:
    oids: tuple[int, ...]


@dataclass(frozen=True)
class Skipped:
    kind: str               # a message this capture has no use for (Origin, Type, Message)


class DecodeError(ValueError):
    """A message that does not follow the protocol."""


class _Reader:
    def __init__(self, data: bytes):
        self.data = memoryview(data)
        self.at = 0

    def take(self, fmt: str):
        values = struct.unpack_from(fmt, self.data, self.at)
        self.at += struct.calcsize(fmt)
        return values[0] if len(values) == 1 else values

    def string(self) -> str:
        end = bytes(self.data[self.at:]).index(b"\0")
        text = bytes(self.data[self.at:self.at + end]).decode()
        self.at += end + 1
        return text

    def timestamp(self) -> datetime:
        return POSTGRES_EPOCH + timedelta(microseconds=self.take("!q"))

    def tuple_data(self) -> tuple:
        values = []
        for _ in range(self.take("!h")):
            kind = self.take("!c")
            if kind == b"n":
                values.append(None)
            elif kind == b"u":
                values.append(UNCHANGED_TOAST)
            elif kind == b"t":
                length = self.take("!i")
                values.append(bytes(self.data[self.at:self.at + length]).decode())
                self.at += length
            else:
                raise DecodeError(f"unknown tuple value kind {kind!r}")
        return tuple(values)


def decode(payload: bytes):
    """One pgoutput message as the dataclass of its kind."""
    reader = _Reader(payload)
    kind = reader.take("!c")
    if kind == b"B":
        return Begin(reader.take("!Q"), reader.timestamp(), reader.take("!I"))
    if kind == b"C":
        reader.take("!b")                               # flags, unused
        return Commit(reader.take("!Q"), reader.take("!Q"), reader.timestamp())
    if kind == b"R":
        oid, namespace, name = reader.take("!I"), reader.string(), reader.string()
        reader.take("!b")                               # replica identity setting
        columns = []
        for _ in range(reader.take("!h")):
            reader.take("!b")                           # flags: part of the key
            columns.append(reader.string())
            reader.take("!Ii")                          # type oid and modifier
        return Relation(oid, namespace, name, tuple(columns))
    if kind == b"I":
        oid = reader.take("!I")
        _expect(reader, b"N")
        return Insert(oid, reader.tuple_data())
    if kind == b"U":
        oid = reader.take("!I")
        marker = reader.take("!c")
        old = None
        if marker in (b"K", b"O"):
            old = reader.tuple_data()
            marker = reader.take("!c")
        if marker != b"N":
            raise DecodeError(f"update without a new tuple (marker {marker!r})")
        return Update(oid, old, reader.tuple_data())
    if kind == b"D":
        oid = reader.take("!I")
        if reader.take("!c") not in (b"K", b"O"):
            raise DecodeError("delete without an old key or row")
        return Delete(oid, reader.tuple_data())
    if kind == b"T":
        count = reader.take("!i")
        reader.take("!b")                               # CASCADE / RESTART IDENTITY
        return Truncate(tuple(reader.take("!I") for _ in range(count)))
    if kind in (b"O", b"Y", b"M"):
        return Skipped(kind.decode())
    raise DecodeError(f"unknown pgoutput message {kind!r}")


def _expect(reader: _Reader, marker: bytes) -> None:
    found = reader.take("!c")
    if found != marker:
        raise DecodeError(f"expected {marker!r}, found {found!r}")


def lsn_text(lsn: int) -> str:
    """An LSN as PostgreSQL writes it: 16/B374D848."""
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


def parse_lsn(text: str) -> int:
    """An LSN from PostgreSQL's notation."""
    high, low = text.split("/")
    return (int(high, 16) << 32) | int(low, 16)
