# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The batch-size search of offline runs: finds the fastest size per row of a cost curve."""

import pytest

from infonet_ros.offline.batch_tuner import BatchTuner


def run(cost_per_row, passes=60, **kwargs):
    """Drive a tuner with a cost curve (seconds per row by size); return it and the sizes."""
    tuner = BatchTuner(**kwargs)
    sizes = []
    for _ in range(passes):
        b = tuner.size
        sizes.append(b)
        tuner.record(b, cost_per_row(b) * b)
    return tuner, sizes


# Per-row costs measured on the development CPU (ms), N = 256: 'fast' gains from large
# batches, 'default' is fastest at 32 (caches).
FAST = {8: .60, 16: .50, 32: .335, 64: .33, 128: .287, 256: .248, 512: .268, 1024: .30}
DEFAULT = {8: 1.5, 16: 1.336, 32: 1.165, 64: 1.19, 128: 1.265, 256: 1.36, 512: 1.5,
           1024: 1.6}


@pytest.mark.parametrize('curve, best', [(FAST, 256), (DEFAULT, 32)])
def test_finds_the_fastest_size_across_a_flat_stretch(curve, best):
    tuner, sizes = run(curve.get)
    assert tuner.settled and tuner.size == best
    assert sizes[-10:] == [best] * 10
    assert tuner.costs[best] == min(tuner.costs.values())


def test_searches_downward_when_larger_batches_lose():
    tuner, sizes = run(lambda b: {8: 0.5, 16: 0.8, 32: 1.0}.get(b, 1.4))
    assert tuner.size == 8 and 16 in sizes and 8 in sizes
    assert max(sizes) == 64  # one step up, then down


def test_keeps_growing_while_larger_is_cheaper():
    tuner, _ = run(lambda b: 1.0 / b)
    assert tuner.size == 1024


def test_first_pass_is_not_timed_and_the_fastest_repeat_counts():
    tuner = BatchTuner(candidates=(32, 64), start=32, repeats=2)
    tuner.record(32, 100.0)  # the first pass: traces, cold caches
    assert tuner.costs == {}
    tuner.record(32, 3.2)
    tuner.record(32, 9.9)  # a slow repeat (noise) does not count
    assert tuner.costs == {32: pytest.approx(0.1)} and tuner.size == 64
    tuner.record(64, 6.0)
    tuner.record(64, 6.0)
    assert tuner.settled and tuner.size == 64


def test_bad_start_is_refused():
    with pytest.raises(ValueError, match='start'):
        BatchTuner(candidates=(16, 64), start=32)
