# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Pick the rows per forward pass of a long offline run by timing its first passes.

The best batch depends on the model and the machine: on the 2-core development CPU a row of
256 samples costs least in batches of 32 with the `default` model (larger batches do not
fit the caches) and of 256 with `fast`; a GPU wants hundreds or thousands. An estimate does
not depend on its batch, so ``infonet-ros analyze`` can simply try sizes on its first passes
and keep the fastest per row: :class:`BatchTuner`.
"""

from __future__ import annotations

# Sizes tried, smallest to largest; START is tried first. The search costs at most REPEATS
# passes of each size (4,032 rows from 32 up to 1,024), some of them at a slower size: less
# than half of the walking-bag analysis (9,792 rows), nothing for a long bag.
CANDIDATES = (8, 16, 32, 64, 128, 256, 512, 1024)
START = 32
# Passes timed per size (the fastest counts: timing noise only ever adds time). With one
# pass each, a single slow pass can end the search at a size that costs ~1.5x more per row
# than the best (0.19 against 0.13 ms per row with `fast` on the walking bag).
REPEATS = 2
# The search goes on through sizes up to this much slower per row than the best so far:
# per-row costs of `fast` are flat within 10-30 % from 32 to 1,024 rows on a 2-core CPU,
# with as much noise between passes.
TOLERANCE = 0.25


class BatchTuner:
    """
    Batch size for the next pass, from the time per row of the passes so far.

    The first pass is not timed (TorchScript traces, warm caches). Then sizes are tried
    upward from ``start`` (``repeats`` passes each, the fastest counts) as long as each costs
    at most ``tolerance`` more per row than the best so far, so that a flat stretch does not
    end the search; if no larger size beat ``start``, downward the same way. The fastest
    size per row is kept for the rest of the run.

        tuner = BatchTuner()
        while work:
            rows = take(tuner.size); t0 = time.perf_counter(); run(rows)
            tuner.record(len(rows), time.perf_counter() - t0)
    """

    def __init__(self, candidates=CANDIDATES, start: int = START, repeats: int = REPEATS,
                 tolerance: float = TOLERANCE):
        self.candidates = tuple(sorted(int(c) for c in candidates))
        if start not in self.candidates:
            raise ValueError(f'start {start} is not one of the candidates {self.candidates}')
        self.repeats = max(1, int(repeats))
        self.tolerance = float(tolerance)
        self._start = self._i = self._best = self.candidates.index(start)
        self._cost = {}  # index -> least seconds per row seen
        self._seen = {}  # index -> timed passes
        self._up = True
        self._warm = False
        self.settled = len(self.candidates) == 1

    @property
    def size(self) -> int:
        """Rows for the next pass."""
        return self.candidates[self._best if self.settled else self._i]

    @property
    def costs(self) -> dict:
        """Least seconds per row measured for each size tried."""
        return {self.candidates[i]: c for i, c in sorted(self._cost.items())}

    def record(self, rows: int, seconds: float) -> None:
        """Time of a pass of ``rows`` rows, run at :attr:`size`."""
        if self.settled or rows <= 0:
            return
        if not self._warm:
            self._warm = True
            return
        i = self._i
        self._cost[i] = min(self._cost.get(i, float('inf')), seconds / rows)
        self._seen[i] = self._seen.get(i, 0) + 1
        if self._seen[i] < self.repeats:
            return
        if i == self._start or self._cost[i] < self._cost[self._best]:
            self._best = i
        # Plateaus are crossed: a size within the tolerance of the best keeps the search going.
        going = self._cost[i] <= self._cost[self._best] * (1 + self.tolerance)
        if self._up:
            if going and i + 1 < len(self.candidates):
                self._i = i + 1
            elif self._best == self._start and self._start > 0:  # larger never won: go down
                self._up = False
                self._i = self._start - 1
            else:
                self.settled = True
        elif going and i > 0:
            self._i = i - 1
        else:
            self.settled = True
