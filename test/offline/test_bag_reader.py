# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Bag reading: custom types from .msg files, stored definitions, corrupt and truncated bags."""

import os
from pathlib import Path
import shutil

import numpy as np
import pytest

from infonet_ros.offline.bag_reader import BagError, BagSource
from infonet_ros.offline.msg_definitions import index_ament_prefixes, msg_type_from_path

rosbag2 = pytest.importorskip('rosbags.rosbag2')
typesys = pytest.importorskip('rosbags.typesys')

SAMPLE_MSG = 'std_msgs/Header header\nfloat64 a\nPoint2[] pts\n'
POINT_MSG = 'float32 x\nfloat32 y\n'
N = 60
PLUGINS = {'mcap': rosbag2.StoragePlugin.MCAP, 'sqlite3': rosbag2.StoragePlugin.SQLITE3}


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
    with rosbag2.Writer(path, version=9, storage_plugin=PLUGINS[storage]) as w:
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


def _range_bag(path, distro_store, ros_distro):
    """Three sensor_msgs/Range of ``distro_store`` on /range, no definitions, no type hashes."""
    import yaml
    ts = typesys.get_typestore(distro_store)
    t = ts.types
    with rosbag2.Writer(path, version=9, storage_plugin=rosbag2.StoragePlugin.SQLITE3) as w:
        conn = w.add_connection('/range', 'sensor_msgs/msg/Range', msgdef='', rihs01='x')
        for k in range(3):
            msg = t['sensor_msgs/msg/Range'](
                header=t['std_msgs/msg/Header'](stamp=t['builtin_interfaces/msg/Time'](
                    sec=k + 1, nanosec=0), frame_id='sonar'),
                radiation_type=0, field_of_view=0.1, min_range=0.2, max_range=4.0,
                range=1.0 + k, **({'variance': 0.5} if 'variance' in t[
                    'sensor_msgs/msg/Range'].__dataclass_fields__ else {}))
            w.write(conn, (k + 1) * 10**9, ts.serialize_cdr(msg, 'sensor_msgs/msg/Range'))
    # The writer insists on a type hash: take it out again, as before Iron.
    import sqlite3
    con = sqlite3.connect(next(path.glob('*.db3')))
    con.execute('DELETE FROM message_definitions')
    con.execute("UPDATE topics SET type_description_hash = ''")
    con.commit()
    con.close()
    meta = path / 'metadata.yaml'
    info = yaml.safe_load(meta.read_text())
    for topic in info['rosbag2_bagfile_information']['topics_with_message_count']:
        topic['topic_metadata']['type_description_hash'] = ''
    if ros_distro is None:  # as a Humble recorder writes it (metadata before version 8)
        info['rosbag2_bagfile_information'].pop('ros_distro', None)
    else:
        info['rosbag2_bagfile_information']['ros_distro'] = ros_distro
    meta.write_text(yaml.safe_dump(info))
    return path


@pytest.mark.parametrize('store, ros_distro, used', [
    (typesys.Stores.ROS2_HUMBLE, None, 'ROS2_HUMBLE'),
    (typesys.Stores.ROS2_JAZZY, 'jazzy', 'ROS2_JAZZY'),
    (typesys.Stores.ROS2_KILTED, 'kilted', 'ROS2_KILTED')])
def test_standard_types_of_the_recording_distribution_decode_bags_without_definitions(
        tmp_path, store, ros_distro, used):
    # sensor_msgs/Range gained a field after Humble: a Humble bag (no definitions, no type
    # hashes, no ros_distro) read with Kilted's definition fails to decode.
    with BagSource(_range_bag(tmp_path / 'r', store, ros_distro), use_ament=False) as bag:
        msgs = _read_all(bag, '/range')
        assert bag.type_sources['sensor_msgs/msg/Range'] == f'rosbags {used}'
    assert [m.range for _, _, m in msgs] == [1.0, 2.0, 3.0]


READING_IDL = """#include "std_msgs/msg/Header.idl"

module my_pkg {
  module msg {
    struct Reading {
      std_msgs::msg::Header header;
      double value;
    };
  };
};
"""


def _reading_bag(path, storage, msgdef):
    """Three my_pkg/msg/Reading (an .idl type) on /r with the given stored definition."""
    ts = typesys.get_typestore(typesys.Stores.ROS2_KILTED)
    ts.register(typesys.get_types_from_idl(READING_IDL.split('\n', 1)[1]))
    t = ts.types
    with rosbag2.Writer(path, version=9, storage_plugin=PLUGINS[storage]) as w:
        conn = w.add_connection('/r', 'my_pkg/msg/Reading', msgdef=msgdef, rihs01='x')
        for k in range(3):
            msg = t['my_pkg/msg/Reading'](header=t['std_msgs/msg/Header'](
                stamp=t['builtin_interfaces/msg/Time'](sec=k, nanosec=0), frame_id=''),
                value=0.5 * k)
            w.write(conn, (k + 1) * 10**9, ts.serialize_cdr(msg, 'my_pkg/msg/Reading'))
    return path


@pytest.mark.parametrize('storage', ['mcap', 'sqlite3'])
def test_stored_idl_definitions_with_include_lines_are_used(tmp_path, storage):
    # rosbag2 stores .idl types as IDL text with their #include lines, which rosbags' parser
    # refuses: the definition is in the bag and must be found there.
    msgdef = '=' * 80 + '\nIDL: my_pkg/msg/Reading\n' + READING_IDL
    with BagSource(_reading_bag(tmp_path / 'idl', storage, msgdef), use_ament=False) as bag:
        msgs = _read_all(bag, '/r')
        assert bag.type_sources['my_pkg/msg/Reading'] == 'bag'
    assert [m.value for _, _, m in msgs] == [0.0, 0.5, 1.0]


def test_a_stored_definition_rosbags_cannot_parse_is_named_in_the_error(tmp_path):
    msgdef = '=' * 80 + '\nIDL: my_pkg/msg/Reading\nmodule my_pkg { struct ??? };\n'
    with BagSource(_reading_bag(tmp_path / 'bad', 'mcap', msgdef), use_ament=False) as bag:
        with pytest.raises(BagError, match=r'Reading.*stores it, but rosbags cannot parse'):
            _read_all(bag, '/r')
        assert any('not parsable' in w for w in bag.warnings)


def test_idl_only_types_from_msg_dir_and_ament_prefix(tmp_path, monkeypatch):
    bag_path = _reading_bag(tmp_path / 'idl', 'mcap', '')  # no stored definition
    src = tmp_path / 'src' / 'my_pkg' / 'msg'
    src.mkdir(parents=True)
    (src / 'Reading.idl').write_text(READING_IDL)
    with BagSource(bag_path, msg_dirs=[tmp_path / 'src'], use_ament=False) as bag:
        assert [m.value for _, _, m in _read_all(bag, '/r')] == [0.0, 0.5, 1.0]
        assert bag.type_sources['my_pkg/msg/Reading'].endswith('Reading.idl')
    with BagSource(bag_path, msg_files=[str(src / 'Reading.idl')], use_ament=False) as bag:
        assert [m.value for _, _, m in _read_all(bag, '/r')] == [0.0, 0.5, 1.0]
    share = tmp_path / 'install' / 'share' / 'my_pkg' / 'msg'
    share.mkdir(parents=True)
    (share / 'Reading.idl').write_text(READING_IDL)
    monkeypatch.setenv('AMENT_PREFIX_PATH', str(tmp_path / 'install'))
    with BagSource(bag_path) as bag:
        assert [m.value for _, _, m in _read_all(bag, '/r')] == [0.0, 0.5, 1.0]


def test_definition_stored_with_an_empty_encoding_is_explained(tmp_path):
    # What rosbag2 writes for a type it had no definition of; rosbags cannot open the bag.
    import sqlite3
    path = write_sample_bag(tmp_path / 'b', 'sqlite3')
    con = sqlite3.connect(next(path.glob('*.db3')))
    con.execute("UPDATE message_definitions SET encoding = ''")
    con.commit()
    con.close()
    with pytest.raises(BagError, match=r'unknown encoding.*DELETE FROM message_definitions'):
        with BagSource(path, use_ament=False):
            pass


def test_metadata_that_does_not_match_the_storage_is_not_called_a_plain_truncation(tmp_path):
    # rosbags matches metadata.yaml's topics to the storage's by QoS too: an edited
    # metadata.yaml reads as zero messages; the error says so and how to read the storage.
    import yaml
    path = write_sample_bag(tmp_path / 'b', 'sqlite3')
    meta = path / 'metadata.yaml'
    info = yaml.safe_load(meta.read_text())
    topic = info['rosbag2_bagfile_information']['topics_with_message_count'][0]
    topic['topic_metadata']['offered_qos_profiles'] = [{
        'history': 'keep_last', 'depth': 7, 'reliability': 'best_effort',
        'durability': 'volatile', 'deadline': {'sec': 0, 'nsec': 0},
        'lifespan': {'sec': 0, 'nsec': 0}, 'liveliness': 'automatic',
        'liveliness_lease_duration': {'sec': 0, 'nsec': 0},
        'avoid_ros_namespace_conventions': False}]
    meta.write_text(yaml.safe_dump(info))
    with BagSource(path, use_ament=False) as bag:
        with pytest.raises(BagError, match=r'0 of 60.*metadata.yaml may not match'):
            _read_all(bag)
    with BagSource(next(path.glob('*.db3')), use_ament=False) as bag:
        assert len(_read_all(bag)) == N


@pytest.mark.parametrize('mode', ['FILE', 'MESSAGE'])
def test_zstd_compressed_bags_are_read_through_their_metadata(tmp_path, mode):
    path = tmp_path / 'z'
    ts = _typestore()
    t = ts.types
    w = rosbag2.Writer(path, version=9, storage_plugin=rosbag2.StoragePlugin.MCAP)
    w.set_compression(getattr(rosbag2.CompressionMode, mode), rosbag2.CompressionFormat.ZSTD)
    with w:
        conn = w.add_connection('/s', 'my_pkg/msg/Sample', typestore=ts)
        for k in range(5):
            msg = t['my_pkg/msg/Sample'](
                header=t['std_msgs/msg/Header'](stamp=t['builtin_interfaces/msg/Time'](
                    sec=k, nanosec=0), frame_id='f'), a=float(k), pts=[])
            w.write(conn, (k + 1) * 10**9, ts.serialize_cdr(msg, 'my_pkg/msg/Sample'))
    with BagSource(path, use_ament=False) as bag:
        assert bag.storage == 'mcap'
        assert [m.a for _, _, m in _read_all(bag)] == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_compressed_storage_file_gets_a_hint(tmp_path):
    f = tmp_path / 'bag_0.mcap.zstd'
    f.write_bytes(bytes.fromhex('28b52ffd') + b'\0' * 64)
    with pytest.raises(BagError, match='zstd'):
        with BagSource(f, use_ament=False):
            pass


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
    # A split bag: one file is only a part of it.
    shutil.copy(next(bag_path.glob('*.mcap')), bag_path / 'b_1.mcap')
    with pytest.raises(BagError, match=r'split into 2 files.*ros2 bag reindex'):
        with BagSource(bag_path):
            pass


def test_not_a_bag(tmp_path):
    with pytest.raises(BagError, match='does not exist'):
        with BagSource(tmp_path / 'none'):
            pass
    (tmp_path / 'junk.mcap').write_bytes(b'not an mcap file at all' * 10)
    with pytest.raises(BagError, match='cannot open bag'):
        with BagSource(tmp_path / 'junk.mcap'):
            pass
