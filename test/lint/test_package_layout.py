# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The build files agree with each other and with the install tree colcon produced."""

import os
from pathlib import Path
import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

import pytest

REPO = Path(__file__).resolve().parents[2]
CMAKELISTS = (REPO / 'CMakeLists.txt').read_text()


def package_xml(tag):
    return ElementTree.parse(REPO / 'package.xml').getroot().find(tag).text.strip()


def cmake_executables():
    """Node executables that CMakeLists.txt installs to lib/infonet_ros."""
    match = re.search(r'foreach\(_exe ([\w ]+)\)', CMAKELISTS)
    assert match, 'executable list not found in CMakeLists.txt'
    return match.group(1).split()


def test_names_and_versions_agree():
    assert re.search(r'^project\(infonet_ros\)$', CMAKELISTS, re.MULTILINE)
    assert package_xml('name') == 'infonet_ros'
    version = subprocess.run([sys.executable, 'setup.py', '--version'], cwd=REPO,
                             capture_output=True, text=True, check=True).stdout.split()[-1]
    assert version == package_xml('version')


def test_every_message_is_generated():
    listed = set(re.findall(r'^\s*(msg/\w+\.msg)$', CMAKELISTS, re.MULTILINE))
    on_disk = {f'msg/{p.name}' for p in (REPO / 'msg').glob('*.msg')}
    assert listed == on_disk


@pytest.mark.parametrize('name', cmake_executables())
def test_executable_wrappers_call_existing_mains(name):
    """scripts/ros/<name>.py is executable and imports main from infonet_ros.ros.<name>."""
    wrapper = REPO / 'scripts' / 'ros' / f'{name}.py'
    text = wrapper.read_text()
    assert text.startswith('#!/usr/bin/env python3\n')
    assert os.access(wrapper, os.X_OK)
    assert f'from infonet_ros.ros.{name} import main\n' in text
    module = (REPO / 'infonet_ros' / 'ros' / f'{name}.py').read_text()
    assert re.search(r'^def main\(', module, re.MULTILINE), f'infonet_ros/ros/{name}.py: no main()'


def test_ci_entry_point():
    assert (REPO / '.ci' / 'run').read_text() == (
        '#!/usr/bin/env bash\n'
        'set -euo pipefail\n'
        'cd "$(dirname "$0")/.."\n'
        'exec bash scripts/run_tests.sh\n')


def installed_package_dir():
    """Folder of the infonet_ros Python package in the colcon install tree."""
    pytest.importorskip('rclpy')
    import infonet_ros.msg
    return Path(infonet_ros.msg.__file__).parent.parent


def test_install_tree_holds_every_module_and_data_file():
    """Nothing in infonet_ros/ is missing from the install tree (a stale build would be)."""
    installed = installed_package_dir()
    wanted = [p.relative_to(REPO / 'infonet_ros') for p in (REPO / 'infonet_ros').rglob('*')
              if p.suffix in ('.py', '.pt', '.json', '.yaml') and '__pycache__' not in p.parts
              and not p.name.endswith('.resume.pt')]
    assert Path('__init__.py') in wanted
    missing = [str(p) for p in wanted if not (installed / p).is_file()]
    assert not missing, f'not installed (re-run scripts/setup.sh): {missing}'
    # Ours replaces the empty __init__.py that rosidl generates.
    source_init = (REPO / 'infonet_ros' / '__init__.py').read_text()
    assert (installed / '__init__.py').read_text() == source_init


def test_executables_are_installed():
    prefix = installed_package_dir()
    while prefix.name != 'lib':
        prefix = prefix.parent
    for name in cmake_executables():
        assert os.access(prefix / 'infonet_ros' / name, os.X_OK), name


def test_only_weights_and_modules_ship_in_the_package():
    """Training logs and other artefacts stay out of the installed package (docs/ has logs)."""
    shipped = {'.py', '.pt'}
    weights_dir = REPO / 'infonet_ros' / 'core' / 'weights'
    stray = [str(p.relative_to(REPO)) for p in (REPO / 'infonet_ros').rglob('*')
             if p.is_file() and '__pycache__' not in p.parts and p.suffix not in shipped
             and not p.name.endswith(('.resume.pt', '.pt.tmp'))
             and not (p.parent == weights_dir and p.name.endswith('.null.json'))
             and p != weights_dir / 'precision_cost.json']
    assert not stray, f'files in infonet_ros/ that are neither modules nor weights: {stray}'
    names = ['infonet_default', 'infonet_fast', 'infonet_fine']
    assert sorted(p.stem for p in weights_dir.glob('*.pt')) == names
    # Each model's null table (infonet_ros.core.null_table) ships beside it.
    assert sorted(p.name[:-len('.null.json')] for p in weights_dir.glob('*.null.json')) == names
    setup_py = (REPO / 'setup.py').read_text()
    assert ("package_data={'infonet_ros.core': [\n        'weights/*.pt', 'weights/*.null.json', "
            "'weights/precision_cost.json']}") in setup_py
