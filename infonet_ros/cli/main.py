# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""``infonet-ros``: command-line entry point; each subcommand lives in its own module."""

import importlib
import sys

# subcommand -> (module with main(argv), one-line help). Modules load only when used.
COMMANDS = {
    'estimate': ('infonet_ros.cli.estimate', 'MI of two columns of a CSV file'),
    'train': ('infonet_ros.cli.train', 'train InfoNet on simulated distributions'),
    'evaluate': ('infonet_ros.cli.evaluate',
                 'accuracy and speed against ground truth and KSG'),
    'analyze': ('infonet_ros.cli.analyze',
                'offline MI time series and matrices from a rosbag2'),
    'imu-to-bag': ('infonet_ros.cli.imu_to_bag', 'convert Xsens IMU recordings to a rosbag2'),
    'export': ('infonet_ros.cli.export', 'write the network as ONNX or TorchScript files'),
}


def usage() -> str:
    lines = ['usage: infonet-ros COMMAND [options]   (infonet-ros COMMAND -h for help)', '',
             'commands:']
    lines += [f'  {name:<12} {text}' for name, (_, text) in COMMANDS.items()]
    return '\n'.join(lines)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ('-h', '--help'):
        print(usage())
        return 0
    if argv[0] not in COMMANDS:
        print(f'infonet-ros: unknown command {argv[0]!r}\n\n{usage()}', file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[argv[0]][0])
    return module.main(argv[1:]) or 0


if __name__ == '__main__':
    sys.exit(main())
