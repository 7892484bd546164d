# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""What every benchmark script writes: a stamped header line and results/<name>.{json,md}."""

import datetime
import json
import os
import platform

import torch


RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'results')


def add_run_arguments(ap):
    """Add the options of the scripts that compare the shipped models with KSG on one set."""
    ap.add_argument('--models', nargs='+', default=['default', 'fine', 'fast'])
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--no-ksg', action='store_true')
    ap.add_argument('--quick', action='store_true', help='small settings, *_quick files')
    ap.add_argument('--out-dir', default=RESULTS)
    ap.add_argument('--name', default=None, help='base name of the result files')


def stamp(threads: int) -> str:
    """'<UTC time>; <CPUs> CPUs (<machine>), torch <version> with <threads> threads'."""
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')
    return (f'{now}; {os.cpu_count()} CPUs ({platform.machine()}), torch {torch.__version__} '
            f'with {threads} threads')


def write(out_dir: str, name: str, args, payload: dict, lines: list[str], **environment):
    """
    Write ``name``.json (the arguments, the machine, ``payload``) and ``name``.md (``lines``).

    The markdown is printed too. ``environment`` adds entries to the machine facts (a load
    average, say); ``args.out_dir`` is left out of the JSON, which must not name this machine.
    """
    os.makedirs(out_dir, exist_ok=True)
    env = {'cpu_count': os.cpu_count(), 'machine': platform.machine(),
           'torch': torch.__version__, **environment}
    with open(os.path.join(out_dir, name + '.json'), 'w') as f:
        json.dump({'args': {k: v for k, v in vars(args).items() if k != 'out_dir'},
                   'environment': env, **payload}, f, indent=1)
    with open(os.path.join(out_dir, name + '.md'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    print('\n'.join(lines))
