# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Result files of the evaluation and the benchmarks: ``NAME.json`` + ``NAME.md``.

:func:`write_results` is the one writer of result files: ``infonet-ros evaluate`` and the
benchmark scripts (``benchmarks/results_io.py``) write through it, so every result file
starts with the command that reproduces it (:func:`command_line`), is named by
:func:`result_stem` and names the weights it measured (:func:`weights_identity`).
:func:`md_table` formats the tables of the ``.md`` files.
"""

import json
import os
import shlex

# Provenance fields that identify a checkpoint. The rest (training command, notes) is the
# model card's: result files name the weights they measured, not how they were trained.
WEIGHTS_IDENTITY = ('steps', 'seed', 'commit', 'date')


def weights_identity(provenance: dict) -> dict:
    """Return the fields of a checkpoint's provenance that identify it in a result file."""
    return {k: provenance[k] for k in WEIGHTS_IDENTITY if k in provenance}


def md_table(headers, rows) -> str:
    """Format a GitHub markdown table."""
    out = ['| ' + ' | '.join(headers) + ' |', '|' + '|'.join('---' for _ in headers) + '|']
    out += ['| ' + ' | '.join(str(c) for c in row) + ' |' for row in rows]
    return '\n'.join(out)


def command_line(program: str, argv: list[str]) -> str:
    """
    Return the command that reproduces a run: ``program`` and ``argv`` without ``--out-dir``.

    The output directory is left out because a result file must not name the machine it was
    written on; a rerun writes to the default directory, over the file it reproduces.
    """
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == '--out-dir':
            skip = True
        elif not arg.startswith('--out-dir='):
            kept.append(arg)
    return ' '.join([program] + ([shlex.join(kept)] if kept else []))


def result_stem(name: str, quick: bool) -> str:
    """Return the base name of a run's files: NAME, or NAME_quick for a smoke run."""
    return name + ('_quick' if quick else '')


def write_results(out_dir: str, stem: str, command: str, payload: dict,
                  markdown: str) -> tuple[str, str]:
    """
    Write ``stem``.json and ``stem``.md in ``out_dir``; return their paths.

    The JSON opens with ``command`` (its header: the command line that wrote it, so that a
    reader can rerun it; it replaces a ``command`` entry of ``payload``), then ``payload``.
    A rerun replaces both files.
    """
    os.makedirs(out_dir, exist_ok=True)
    jpath, mpath = (os.path.join(out_dir, stem + ext) for ext in ('.json', '.md'))
    data = {'command': command, **{k: v for k, v in payload.items() if k != 'command'}}
    with open(jpath, 'w') as f:
        f.write(json.dumps(data, indent=1, default=float) + '\n')
    with open(mpath, 'w') as f:
        f.write(markdown if markdown.endswith('\n') else markdown + '\n')
    return jpath, mpath
