# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Paste the shipped checkpoint's provenance and the benchmark tables into docs/model_card.md.

The model card holds marked blocks::

    <!-- BEGIN provenance -->  ...  <!-- END provenance -->
    <!-- BEGIN provenance:fine -->  ...  <!-- END provenance:fine -->
    <!-- BEGIN results/eval_accuracy.md -->  ...  <!-- END results/eval_accuracy.md -->

Each block is replaced by the current content: the provenance of a weights file (``provenance``:
``--weights``, default the shipped default model; ``provenance:NAME``: the shipped model NAME)
and benchmarks/results/<name>.md. Run after the final benchmarks:

    python benchmarks/update_model_card.py [--weights FILE]
"""

import argparse
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from infonet_ros.core.model import load_checkpoint  # noqa: E402

CARD = os.path.join(os.path.dirname(HERE), 'docs', 'model_card.md')
BLOCK = re.compile(r'(<!-- BEGIN (?P<name>[^ ]+) -->\n)(?P<body>.*?)(<!-- END (?P=name) -->)',
                   re.S)


def provenance_block(weights) -> str:
    model, prov = load_checkpoint(weights)
    lines = ['| field | value |', '|---|---|']
    lines.append(f'| parameters | {model.num_params():,} |')
    for key, value in prov.items():
        if isinstance(value, (dict, list)):
            value = json.dumps(value)
        lines.append(f'| {key} | `{value}` |' if key == 'command' else f'| {key} | {value} |')
    return '\n'.join(lines) + '\n'


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.strip().split('\n')[0])
    p.add_argument('--weights', default=None, help='checkpoint (default: shipped weights)')
    p.add_argument('--card', default=CARD)
    args = p.parse_args(argv)
    with open(args.card) as f:
        text = f.read()
    missing = []

    def fill(m):
        name = m.group('name')
        if name == 'provenance':
            body = provenance_block(args.weights)
        elif name.startswith('provenance:'):
            body = provenance_block(name.split(':', 1)[1])
        else:
            path = os.path.join(HERE, name)
            if not os.path.isfile(path):
                missing.append(path)
                return m.group(0)
            with open(path) as f:
                body = f.read()
            if body.startswith('# '):  # the file's own title: the card has its heading
                body = body.split('\n', 1)[1].lstrip('\n')
        return m.group(1) + body.rstrip('\n') + '\n' + m.group(4)
    text = BLOCK.sub(fill, text)
    with open(args.card, 'w') as f:
        f.write(text)
    for path in missing:
        print(f'not found, block left as is: {path}', file=sys.stderr)
    return 1 if missing else 0


if __name__ == '__main__':
    sys.exit(main())
