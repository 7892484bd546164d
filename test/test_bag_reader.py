# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Bag reading: custom types from .msg files, stored definitions, corrupt and truncated bags."""

import os
from pathlib import Path
import shutil

import numpy as np
import pytest

from infonet_ros.bag_reader import BagError, BagSource, index_ament_prefixes, msg_type_from_path

rosbag2 = pytest.importorskip('rosbags.rosbag2')
typesys = pytest.importorskip('rosbags.typesys')

SAMPLE_MSG = 'std_msgs/Header header\nfloat64 a\nPoint2[] pts\n'
POINT_MSG = 'float32 x\nfloat32 y\n'
N = 60


def _typestore():
    ts = typesys.get_typestore(typesys.Stores.ROS2_KILTED)
    types = {}
    types.update(typesys.get_types_from_msg(POINT_MSG, 'my_pkg/msg/Point2'))
    types.update(typesys.get_types_from_msg(SAMPLE_MSG, 'my_pkg/msg/Sample'))
    ts.register(types)
    return ts


def write_sample_bag(path, storage='mcap', store_definitions=True):
    """Bag of N my_pkg/msg/Sample on /s (a = k, pts = [(k, -k)]) at 1 + k/10 s."""
    ts = _typestore()
    t = ts.types
    plugin = {'mcap': rosbag2.StoragePlugin.MCAP, 'sqlite3': rosbag2.StoragePlugin.SQLITE3}
    with rosbag2.Writer(path, version=9, storage_plugin=plugin[storage]) as w:
        kw = {} if store_definitions else {'msgdef': '',
                                           'rihs01': ts.hash_rihs01('my_pkg/msg/Sample')}
        conn = w.add_connection('/s', 'my_pkg/msg/Sample', typestore=ts, **kw)
        for k in range(N):
            ns = 10**9 + k * 10**8
            msg = t['my_pkg/msg/Sample'](
                header=t['std_msgs/msg/Header'](stamp=t['builtin_interfaces/msg/Time'](
                    sec=ns // 10**9, nanosec=ns % 10**9), frame_id='f'),
                a=float(k), pts=[t['my_pkg/msg/Point2'](x=float(k), y=float(-k))])
            w.write(conn, ns, ts.serialize_cdr(msg, 'my_pkg/msg/Sample'))
    return Path(path)


@pytest.fixture
def msg_workspace(tmp_path):
    ws = tmp_path / 'ws' / 'src' / 'my_pkg' / 'msg'
    ws.mkdir(parents=True)
    (ws / 'Sample.msg').write_text(SAMPLE_MSG)
    (ws / 'Point2.msg').write_text(POINT_MSG)
    return tmp_path / 'ws' / 'src'


def _read_all(bag, topic='/s'):
    return list(bag.messages([topic]))


@pytest.mark.parametrize('storage', ['mcap', 'sqlite3'])
def test_stored_definitions_are_used(tmp_path, storage):
    bag_path = write_sample_bag(tmp_path / 'b', storage)
    with BagSource(bag_path, use_ament=False) as bag:
        assert bag.has_stored_definition('/s')
        msgs = _read_all(bag)
        assert bag.type_sources['my_pkg/msg/Sample'] == 'bag'
        assert bag.type_sources['my_pkg/msg/Point2'] == 'bag'
    assert [m.a for _, _, m in msgs] == list(map(float, range(N)))
    assert msgs[7][2].pts[0].y == -7.0
    assert [ns for _, ns, _ in msgs] == [10**9 + k * 10**8 for k in range(N)]


@pytest.mark.parametrize('storage', ['mcap', 'sqlite3'])
def test_custom_types_from_msg_dir_and_files(tmp_path, storage, msg_workspace):
    bag_path = write_sample_bag(tmp_path / 'b', storage, store_definitions=False)
    with BagSource(bag_path, use_ament=False) as bag:
        assert not bag.has_stored_definition('/s')
        with pytest.raises(BagError, match=r'no message definition for my_pkg/msg/Sample.*--msg'):
            _read_all(bag)
    with BagSource(bag_path, msg_dirs=[msg_workspace], use_ament=False) as bag:
        msgs = _read_all(bag)
        assert bag.type_sources['my_pkg/msg/Sample'].startswith('msg dir')
        assert bag.warnings == []  # the recorded type hash matches the .msg text
    assert [m.a for _, _, m in msgs] == list(map(float, range(N)))
    # Explicit files: the dependency Point2 is missing until its file is given too.
    sample = msg_workspace / 'my_pkg' / 'msg' / 'Sample.msg'
    with BagSource(bag_path, msg_files=[str(sample)], use_ament=False) as bag:
        with pytest.raises(BagError, match=r'my_pkg/msg/Point2 \(used by my_pkg/msg/Sample\)'):
            _read_all(bag)
    point = tmp_path / 'elsewhere.msg'
    point.write_text(POINT_MSG)
    with BagSource(bag_path, msg_files=[str(sample), f'my_pkg/Point2={point}'],
                   use_ament=False) as bag:
        assert _read_all(bag)[3][2].pts[0].x == 3.0


def test_types_found_through_ament_prefix_path(tmp_path, msg_workspace, monkeypatch):
    prefix = tmp_path / 'install'
    shutil.copytree(msg_workspace / 'my_pkg', prefix / 'share' / 'my_pkg')
    monkeypatch.setenv('AMENT_PREFIX_PATH', os.pathsep.join([str(prefix), str(tmp_path / 'x')]))
    assert set(index_ament_prefixes()) == {'my_pkg/msg/Sample', 'my_pkg/msg/Point2'}
    bag_path = write_sample_bag(tmp_path / 'b', 'mcap', store_definitions=False)
    with BagSource(bag_path) as bag:
        assert len(_read_all(bag)) == N
        assert bag.type_sources['my_pkg/msg/Sample'].startswith('AMENT_PREFIX_PATH')


def test_wrong_definition_is_reported(tmp_path):
    bag_path = write_sample_bag(tmp_path / 'b', 'mcap', store_definitions=False)
    wrong = tmp_path / 'Sample.msg'
    wrong.write_text('std_msgs/Header header\nfloat32 a\n')
    with BagSource(bag_path, msg_files=[f'my_pkg/msg/Sample={wrong}'], use_ament=False) as bag:
        with pytest.raises(BagError, match='cannot decode message 0 of /s'):
            _read_all(bag)
        assert any('type hash' in w for w in bag.warnings)


def test_missing_topic_lists_the_bag_topics(tmp_path):
    bag_path = write_sample_bag(tmp_path / 'b')
    with BagSource(bag_path) as bag:
        with pytest.raises(BagError, match=r"\['/nope'\] not in bag .*/s \[my_pkg/msg/Sample\]"):
            _read_all(bag, '/nope')


def test_msg_type_from_path():
    assert msg_type_from_path(Path('a/b/my_pkg/msg/Foo.msg')) == 'my_pkg/msg/Foo'
    with pytest.raises(ValueError, match='pkg/msg/Name=PATH'):
        msg_type_from_path(Path('Foo.msg'))


@pytest.mark.parametrize('storage', ['mcap', 'sqlite3'])
@pytest.mark.parametrize('fraction', [0.05, 0.6, 0.98])
def test_truncated_storage_is_an_error(tmp_path, storage, fraction):
    bag_path = write_sample_bag(tmp_path / 'b', storage)
    data = next(p for p in bag_path.iterdir() if p.suffix in ('.mcap', '.db3'))
    with open(data, 'r+b') as fh:
        fh.truncate(int(data.stat().st_size * fraction))
    with pytest.raises(BagError, match='corrupt|truncated|malformed|cannot open'):
        with BagSource(bag_path) as bag:
            _read_all(bag)


@pytest.mark.parametrize('storage', ['mcap', 'sqlite3'])
def test_overwritten_bytes_are_an_error(tmp_path, storage):
    bag_path = write_sample_bag(tmp_path / 'b', storage)
    data = next(p for p in bag_path.iterdir() if p.suffix in ('.mcap', '.db3'))
    raw = bytearray(data.read_bytes())
    mid = len(raw) // 2
    raw[mid:mid + 2000] = np.random.default_rng(0).integers(0, 256, 2000, dtype=np.uint8).tobytes()
    data.write_bytes(bytes(raw))
    with pytest.raises(BagError):
        with BagSource(bag_path) as bag:
            _read_all(bag)


def test_missing_metadata_suggests_the_storage_file(tmp_path):
    bag_path = write_sample_bag(tmp_path / 'b', 'mcap')
    (bag_path / 'metadata.yaml').unlink()
    with pytest.raises(BagError, match=r'no metadata.yaml: pass the storage file itself'):
        with BagSource(bag_path):
            pass
    # ... and the file itself is readable.
    with BagSource(next(bag_path.glob('*.mcap'))) as bag:
        assert len(_read_all(bag)) == N


def test_not_a_bag(tmp_path):
    with pytest.raises(BagError, match='does not exist'):
        with BagSource(tmp_path / 'none'):
            pass
    (tmp_path / 'junk.mcap').write_bytes(b'not an mcap file at all' * 10)
    with pytest.raises(BagError, match='cannot open bag'):
        with BagSource(tmp_path / 'junk.mcap'):
            pass
