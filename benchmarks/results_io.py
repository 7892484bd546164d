# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
How every benchmark script names and writes its results: ``results/<stem>.{json,md}``.

The writing itself is ``infonet_ros.training.result_files.write_results``, the writer of
``infonet-ros evaluate``: the installed package cannot import this folder, so the one writer
lives there and this module adds what the scripts share around it:

- the options ``--out-dir`` (default ``benchmarks/results``), ``--name`` (the base name of the
  files; default the script's name) and ``--quick`` (small settings; the files are then
  ``<name>_quick.*``, git-ignored, so a smoke run never replaces a full one);
- the header: each JSON opens with ``"command"``, the command line that wrote it without
  ``--out-dir`` (``python benchmarks/<script>.py ARGS``), so a reader can rerun it; the rerun
  replaces the file. A shell script that runs a benchmark for its own purpose sets
  ``BENCHMARK_COMMAND`` to its own command line, which then heads the file instead.
"""

import datetime
import os
import platform
import sys

import torch

from infonet_ros.training.result_files import command_line, result_stem, write_results

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'results')
COMMAND_VARIABLE = 'BENCHMARK_COMMAND'


def add_output_arguments(ap, name: str, quick: bool = True):
    """Add ``--out-dir``, ``--name`` (default ``name``) and, unless ``quick`` is False, --quick."""
    ap.add_argument('--out-dir', default=RESULTS, help='directory of the result files')
    ap.add_argument('--name', default=name, help=f'base name of the result files ({name})')
    if quick:
        ap.add_argument('--quick', action='store_true',
                        help='small settings for a smoke check (writes NAME_quick.*)')


def add_run_arguments(ap, name: str):
    """Add the options of the scripts that compare the shipped models with KSG on one set."""
    ap.add_argument('--models', nargs='+', default=['default', 'fine', 'fast'])
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--no-ksg', action='store_true')
    add_output_arguments(ap, name)


def parse(ap, argv, script: str):
    """
    Parse ``argv`` (None: the command line) and keep the command for the results header.

    ``script`` is the calling script's ``__file__``; the command is stored as ``args.command``.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    args = ap.parse_args(argv)
    program = 'python benchmarks/' + os.path.basename(script)
    args.command = os.environ.get(COMMAND_VARIABLE) or command_line(program, argv)
    return args


def stem(args) -> str:
    """Return the base name of the files a run writes: NAME, or NAME_quick with --quick."""
    return result_stem(args.name, getattr(args, 'quick', False))


def arguments(args) -> dict:
    """Return the options of a run as its JSON stores them (not the output directory)."""
    return {k: v for k, v in vars(args).items() if k not in ('out_dir', 'command')}


def stamp(threads: int) -> str:
    """'<UTC time>; <CPUs> CPUs (<machine>), torch <version> with <threads> threads'."""
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')
    return (f'{now}; {os.cpu_count()} CPUs ({platform.machine()}), torch {torch.__version__} '
            f'with {threads} threads')


def write(args, payload: dict, markdown, echo: bool = True) -> tuple[str, str]:
    """
    Write ``payload`` (headed by ``args.command``) and ``markdown`` to OUT_DIR/<stem>.*.

    ``markdown`` is a string or a list of lines; it is printed too unless ``echo`` is False.
    Returns the paths written.
    """
    text = markdown if isinstance(markdown, str) else '\n'.join(markdown) + '\n'
    paths = write_results(args.out_dir, stem(args), args.command, payload, text)
    if echo:
        print(text)
    print('wrote ' + ' and '.join(paths), file=sys.stderr)
    return paths


def run_facts(args, **environment) -> dict:
    """Return the JSON entries ``args`` (the options) and ``environment`` (machine, extras)."""
    env = {'cpu_count': os.cpu_count(), 'machine': platform.machine(),
           'torch': torch.__version__, **environment}
    return {'args': arguments(args), 'environment': env}


def call_seconds(fn, seconds: float, least: int = 3) -> list:
    """Call ``fn`` once to warm up, then time calls for ``seconds`` (``least`` at least)."""
    import time
    fn()
    times, start = [], time.perf_counter()
    while len(times) < least or time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def median_seconds(fn, repeats: int = 5) -> float:
    """Call ``fn`` once to warm up, then return the median wall time of ``repeats`` calls."""
    import time
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(sorted(times)[len(times) // 2])


def cost_table(title: str, rows: list) -> list:
    """Markdown lines: ``title``, then each {'variant', 'seconds'} in ms and x the first row."""
    lines = ['', title, '', '| variant | ms | x plain |', '|---|---|---|']
    base = rows[0]['seconds']
    for r in rows:
        lines.append(f'| {r["variant"]} | {r["seconds"] * 1e3:.0f} | '
                     f'{r["seconds"] / base:.1f} |')
    return lines
