# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
ROS-free install of the infonet_ros toolbox: ``pip install .``.

Gives the Python package (estimator, shipped weights, offline analysis) and the ``infonet-ros``
command, without ROS and without the messages. The ROS 2 package itself is built by colcon
from package.xml and CMakeLists.txt (build type ament_cmake); colcon does not use this file.
"""

import os
import xml.etree.ElementTree as ElementTree

from setuptools import find_packages
from setuptools import setup

HERE = os.path.dirname(os.path.abspath(__file__))


def package_xml_field(tag):
    """Return the text of a top-level element of package.xml (the single source of truth)."""
    root = ElementTree.parse(os.path.join(HERE, 'package.xml')).getroot()
    return ' '.join(root.find(tag).text.split())


setup(
    name='infonet_ros',
    version=package_xml_field('version'),
    description=package_xml_field('description'),
    license=package_xml_field('license'),
    python_requires='>=3.10',
    packages=find_packages(include=['infonet_ros', 'infonet_ros.*']),
    package_data={'infonet_ros.core': [
        'weights/*.pt', 'weights/*.null.json', 'weights/precision_cost.json']},
    # Training leftovers that may sit beside the shipped weights in a work tree.
    exclude_package_data={'infonet_ros.core': ['weights/*.resume.pt']},
    install_requires=[
        'numpy',
        # Tested with 2.13.0 (CPU wheel); pin that on machines without a GPU.
        'torch>=2.0,<3',
        'scipy',
        'scikit-learn',
        'threadpoolctl',  # one BLAS thread for the leading pair (infonet_ros.core.pls)
        'matplotlib',
        'rosbags>=0.11',  # single-file bags, the Kilted type store
        'tqdm',
        'pyyaml',
    ],
    entry_points={
        'console_scripts': ['infonet-ros = infonet_ros.cli.main:main'],
    },
)
