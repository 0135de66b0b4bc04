"""Realistic, messy answer sheets: the text values the simulator writes into a source.

Pure functions over a `random.Random`, so a seed reproduces every row.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from pisa.config import COUNTRIES
from pisa.source_schema import INDEX_COLUMNS
from pisa.sources import profiles

NA_SHARE = 0.06          # share of each index that is 'NA', as in the real questionnaire
FILLER_NA_SHARE = 0.15
FILLER_POOL_SIZE = 512   # distinct filler tails; picking from a pool keeps the bulk load fast
MAX_ID = 2**31 - 1


def filler_column_names(count: int) -> list[str]:
    """`count` PISA-style questionnaire column names (st001q01ta, st001q02ta, ...)."""
    return [f"st{n // 10 + 1:03d}q{n % 10 + 1:02d}ta" for n in range(count)]


@dataclass(frozen=True)
class Malformation:
    """One way a value can be wrong: the column and the bad text."""

    column: str
    value: str


class RowGenerator:
    """Makes rows for one source: `cnt` plus the four indices and filler answers."""

    def __init__(self, source: str, rng: random.Random, filler_columns: int, bad_share: float = 0.0):
        self.source = source.upper()
        self.rng = rng
        self.profile = profiles.profile_for(source)
        self.bad_share = bad_share
        self.malformed = 0  # how many malformed values this generator has produced
        self.filler_pool = [self._filler_tail(filler_columns) for _ in range(min(FILLER_POOL_SIZE, 1 + filler_columns * 8))]

    def _filler_tail(self, count: int) -> tuple[str, ...]:
        rng = self.rng
        return tuple("NA" if rng.random() < FILLER_NA_SHARE else str(rng.randint(1, 4)) for _ in range(count))

    def _maybe_na(self, text: str) -> str:
        return "NA" if self.rng.random() < NA_SHARE else text

    def index_values(self) -> dict[str, str]:
        """Text values of the four indices, with 'NA's and, at `bad_share`, one malformed value."""
        rng, p = self.rng, self.profile
        escs = min(profiles.ESCS_MAX, max(profiles.ESCS_MIN, rng.gauss(p.escs, profiles.ESCS_SD)))
        tmins = min(profiles.TMINS_MAX, max(0.0, rng.gauss(p.tmins, profiles.TMINS_SD)))
        belong = rng.gauss(p.belong, profiles.BELONG_SD)
        durecec = min(profiles.DURECEC_MAX, max(0, round(rng.gauss(p.durecec, profiles.DURECEC_SD))))
        values = {
            "cnt": self.source,
            "escs": self._maybe_na(f"{escs:.4f}"),
            "tmins": self._maybe_na(str(int(round(tmins / 5) * 5))),
            "belong": self._maybe_na(f"{belong:.4f}"),
            "durecec": self._maybe_na(str(durecec)),
        }
        if self.bad_share and rng.random() < self.bad_share:
            bad = self.malformation()
            self.malformed += 1
            values[bad.column] = bad.value
        return values

    def malformation(self) -> Malformation:
        """One malformed value of the kinds real exports contain."""
        rng = self.rng
        other = rng.choice([c for c in COUNTRIES if c != self.source] or ["XXX"])
        return rng.choice([
            Malformation("escs", "abc"),
            Malformation("escs", f"{rng.uniform(10.5, 99):.2f}"),
            Malformation("tmins", str(rng.randint(10081, 50000))),
            Malformation("tmins", "-" + str(rng.randint(5, 300))),
            Malformation("tmins", "12o0"),
            Malformation("belong", "n/a?"),
            Malformation("belong", f"-{rng.uniform(11, 40):.3f}"),
            Malformation("durecec", f"{rng.randint(0, 7)}.5"),
            Malformation("durecec", str(rng.randint(9, 20))),
            Malformation("cnt", other),
            Malformation("cnt", self.source.lower()),
        ])

    def row(self, row_id: int) -> tuple[str | int, ...]:
        """A whole row: id, cnt, the four indices, then the filler answers."""
        v = self.index_values()
        return (row_id, v["cnt"], v["escs"], v["tmins"], v["belong"], v["durecec"], *self.rng.choice(self.filler_pool))

    def new_id(self) -> int:
        """A random id: sources do not hand out increasing ids."""
        return self.rng.randint(1, MAX_ID)

    def unique_ids(self, count: int) -> list[int]:
        """`count` distinct random ids, in random order."""
        ids: set[int] = set()
        while len(ids) < count:
            ids.add(self.new_id())
        out = list(ids)
        self.rng.shuffle(out)
        return out
