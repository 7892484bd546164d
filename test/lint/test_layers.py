# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The package's layers import only downward, and the lower layers stay free of ROS.

Layers, lowest first: ``core`` (the estimator), ``streams`` (the pipeline shared by node and
bag analysis), then ``ros`` (the rclpy shell) and ``offline`` (bag analysis) side by side,
``training`` beside them on top of ``core``, and ``cli`` over all. Every import statement of
every module is checked, function-level imports included, from the source files' syntax
trees, so the test needs none of the imported packages.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / 'infonet_ros'

# Layer -> the package's layers it may import ('msg': the generated message modules).
ALLOWED = {
    'core': {'core'},
    'streams': {'core', 'streams'},
    'ros': {'core', 'streams', 'ros', 'msg'},
    'offline': {'core', 'streams', 'offline'},
    'training': {'core', 'training'},
    'cli': {'core', 'streams', 'offline', 'training', 'cli'},
}
# Third-party packages a layer must not import: the estimator and the stream pipeline run
# where ROS is not installed (a researcher's laptop, a bag-analysis machine).
FORBIDDEN = {
    'core': {'rclpy', 'rosbags', 'rosidl_runtime_py', 'launch', 'launch_ros', 'message_filters'},
    'streams': {'rclpy', 'rosbags', 'launch', 'launch_ros', 'message_filters'},
    'offline': {'rclpy', 'launch', 'launch_ros', 'message_filters'},
    'training': {'rclpy', 'rosbags', 'launch', 'launch_ros', 'message_filters'},
}


def modules():
    """Yield (layer, path) of every module of the package below its top-level __init__."""
    for path in sorted(PACKAGE.rglob('*.py')):
        parts = path.relative_to(PACKAGE).parts
        if len(parts) > 1 and '__pycache__' not in parts:
            yield parts[0], path


def imported_names(path, root=PACKAGE):
    """Yield (line, dotted module) of every import in a file, relative imports resolved."""
    package = '.'.join(('infonet_ros',) + path.relative_to(root).parent.parts)
    for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                anchor = package.split('.')[:len(package.split('.')) - node.level + 1]
                base = '.'.join(anchor + ([base] if base else []))
            if base == 'infonet_ros':  # from infonet_ros import core, msg, ...
                for alias in node.names:
                    yield node.lineno, f'infonet_ros.{alias.name}'
            else:
                yield node.lineno, base


def layer_problems(layer, path, root=PACKAGE):
    rel = path.relative_to(root.parent)
    for line, name in imported_names(path, root):
        parts = name.split('.')
        if parts[0] == 'infonet_ros':
            target = parts[1] if len(parts) > 1 else '<package root>'
            if target not in ALLOWED[layer]:
                yield f'{rel}:{line}: layer {layer!r} imports {name}'
        elif parts[0] in FORBIDDEN.get(layer, ()):
            yield f'{rel}:{line}: layer {layer!r} imports {name}'


def test_every_module_belongs_to_a_known_layer():
    unknown = sorted({layer for layer, _ in modules()} - set(ALLOWED))
    assert not unknown, f'folders of infonet_ros/ that are not layers: {unknown}'
    loose = sorted(p.name for p in PACKAGE.glob('*.py') if p.name != '__init__.py')
    assert not loose, f'modules outside the layer folders: {loose}'


@pytest.mark.parametrize('layer', sorted(ALLOWED))
def test_imports_point_down(layer):
    paths = [p for lay, p in modules() if lay == layer]
    assert paths, f'no module in infonet_ros/{layer}/'
    problems = [msg for p in paths for msg in layer_problems(layer, p)]
    assert not problems, '\n'.join(problems)


def test_the_check_sees_a_wrong_import(tmp_path):
    """A core module that imports rclpy, the ROS shell or (relatively) streams is reported."""
    root = tmp_path / 'infonet_ros'
    fake = root / 'core' / 'bad.py'
    fake.parent.mkdir(parents=True)
    fake.write_text('import rclpy\n\n\ndef f():\n    from infonet_ros.ros import mi_node\n'
                    '    from ..streams import pairs\n    from . import model\n')
    problems = list(layer_problems('core', fake, root))
    assert len(problems) == 3, problems
    assert any('imports infonet_ros.streams' in p for p in problems), problems


def test_public_api_names_come_from_core():
    """``from infonet_ros import X`` loads X from the estimator core only."""
    tree = ast.parse((PACKAGE / '__init__.py').read_text(encoding='utf-8'))
    table = next(n.value for n in tree.body if isinstance(n, ast.Assign)
                 and any(getattr(t, 'id', None) == '_LAZY' for t in n.targets))
    targets = {ast.literal_eval(v) for v in table.values}
    assert targets and all(t.startswith('infonet_ros.core.') for t in targets), targets
