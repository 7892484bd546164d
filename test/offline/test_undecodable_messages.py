# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Messages that cannot be decoded: skipped and counted per topic, as the node skips them."""

import numpy as np
import pytest

from infonet_ros.offline.bag_reader import BagError
from infonet_ros.offline.bag_stream import UNDECODABLE_LIMIT, UndecodableMessages
from infonet_ros.offline.run import run_analysis, UpdatePolicy

pytest.importorskip('rosbags')

JOINTS = 'sensor_msgs/msg/JointState'
PARAMS = {'pairs': ['/j:position[0] ~ /j:position[1]'], 'window': 32,
          'sync_mode': 'interpolate'}


def _joint_bag(path, n, damaged=()):
    """Write JointState on /j at 100 Hz (position [k, k^2 mod 7]), ``damaged`` ones cut short."""
    from rosbags import rosbag2
    from rosbags.typesys import get_typestore, Stores
    store = get_typestore(Stores.ROS2_KILTED)
    t = store.types
    with rosbag2.Writer(path, version=9) as w:
        conn = w.add_connection('/j', JOINTS, typestore=store)
        for k in range(n):
            ns = 10**9 + k * 10**7
            msg = t[JOINTS](
                header=t['std_msgs/msg/Header'](stamp=t['builtin_interfaces/msg/Time'](
                    sec=ns // 10**9, nanosec=ns % 10**9), frame_id=''),
                name=['a', 'b'], position=np.array([k, k * k % 7], dtype=float),
                velocity=np.zeros(0), effort=np.zeros(0))
            raw = bytes(store.serialize_cdr(msg, JOINTS))
            # A record cut inside the position array: neither read in place nor decoded.
            w.write(conn, ns, raw[:40] if k in damaged else raw)
    return path


def test_one_damaged_record_is_skipped_and_counted(tmp_path):
    bag = _joint_bag(tmp_path / 'j', 200, damaged={0, 5, 150})
    result = run_analysis(bag, params=PARAMS, policy=UpdatePolicy('every', every=20),
                          use_ament=False)
    assert result.complete and result.error is None
    assert result.undecodable == {'/j': 3}
    stats = result.topics['/j']
    assert stats['undecodable'] == 3 and stats['received'] == stats['accepted'] == 197
    warning = next(w for w in result.warnings if 'undecodable' in w)
    assert warning.startswith('/j: 3 undecodable message(s) skipped (first: cannot decode '
                              'message 0 of /j')
    # The analysis went on to the end of the bag, past the damaged records.
    assert max(r.estimate.window_end for r in result.records) == pytest.approx(1 + 199e-2)


@pytest.mark.parametrize('n, damaged, first', [
    (4, range(4), 4),  # every message of a short topic
    (40, range(UNDECODABLE_LIMIT + 5), UNDECODABLE_LIMIT),  # a long run from the start
])
def test_a_topic_that_never_decodes_is_an_error(tmp_path, n, damaged, first):
    # Not one bad record but a definition that does not fit the data.
    bag = _joint_bag(tmp_path / 'j', n, damaged=set(damaged))
    with pytest.raises(BagError, match=f'none of the first {first} messages of /j could be '
                                       'decoded: the message definition does not fit'):
        run_analysis(bag, params=PARAMS, policy=UpdatePolicy('every', every=2),
                     use_ament=False)


def test_counts_and_the_limit():
    skipped = UndecodableMessages()
    skipped.read('/a')
    for _ in range(UNDECODABLE_LIMIT + 3):  # after one good message: never an error
        skipped.skip('/a', BagError('bad a'), 1000)
    skipped.skip('/b', BagError('bad b'), 1000)
    assert skipped.counts == {'/a': UNDECODABLE_LIMIT + 3, '/b': 1} and skipped.total == 14
    assert skipped.warnings() == [
        f'/a: {UNDECODABLE_LIMIT + 3} undecodable message(s) skipped (first: bad a)',
        '/b: 1 undecodable message(s) skipped (first: bad b)']
    with pytest.raises(BagError, match='first 1 messages of /c'):
        skipped.skip('/c', BagError('bad c'), 1)
