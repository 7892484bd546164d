# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""package.xml: well-formed XML, package format 3, valid for catkin_pkg (colcon, rosdep)."""

from pathlib import Path
import xml.dom.minidom

import pytest
from test_flake8 import EXCLUDE

REPO = Path(__file__).resolve().parents[2]
FORMAT3_SCHEMA = 'http://download.ros.org/schema/package_format3.xsd'


@pytest.mark.linter
@pytest.mark.xmllint
def test_xml_files_are_well_formed():
    files = [p for p in REPO.rglob('*.xml')
             if not any(part in EXCLUDE or part.endswith('.egg-info')
                        for part in p.relative_to(REPO).parts)]
    assert REPO / 'package.xml' in files
    for path in files:
        xml.dom.minidom.parse(str(path))  # raises ExpatError on malformed XML


@pytest.mark.linter
@pytest.mark.xmllint
def test_package_xml_is_format_3():
    doc = xml.dom.minidom.parse(str(REPO / 'package.xml'))
    models = [n for n in doc.childNodes
              if n.nodeType == n.PROCESSING_INSTRUCTION_NODE and n.target == 'xml-model']
    assert models and f'href="{FORMAT3_SCHEMA}"' in models[0].data
    root = doc.documentElement
    assert root.tagName == 'package'
    assert root.getAttribute('format') == '3'


@pytest.mark.linter
@pytest.mark.xmllint
def test_package_xml_is_valid_for_catkin_pkg():
    """catkin_pkg is the parser colcon and rosdep use; it rejects invalid manifests."""
    package = pytest.importorskip('catkin_pkg.package')
    pkg = package.parse_package(str(REPO / 'package.xml'))  # validates; raises if invalid
    assert pkg.name == 'infonet_ros'
    assert pkg.package_format == 3
    assert pkg.get_build_type() == 'ament_cmake'
    assert [g.name for g in pkg.member_of_groups] == ['rosidl_interface_packages']
    names = {d.name for d in pkg.buildtool_depends}
    assert {'ament_cmake', 'ament_cmake_python', 'rosidl_default_generators'} <= names
    run = {d.name for d in pkg.exec_depends}
    assert {'rclpy', 'rosidl_default_runtime', 'std_msgs', 'builtin_interfaces'} <= run
