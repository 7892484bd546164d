# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
r"""
``infonet-ros analyze BAG``: offline MI time series and MI matrices from a rosbag2.

    infonet-ros analyze my_bag --params config/mi.yaml            # the node's own settings
    infonet-ros analyze my_bag --pair '/a:linear_acceleration.x ~ /b:linear_acceleration.x' \\
        --window 256 --update-every 12
    infonet-ros analyze walk --matrix 'legs=/thigh/imu:linear_acceleration.x,... ~ ...' --ksg

The analysis is :func:`infonet_ros.offline.run.run_analysis` (the node's pairing, windows and
estimator on the bag's messages). Outputs in ``-o DIR`` (:mod:`infonet_ros.offline.report`,
:mod:`infonet_ros.offline.figures`): ``mi.csv``, ``summary.json``, ``mi_timeseries.png`` and
``matrix_<name>.png`` per ``--matrix``. ``-o`` must be a new or empty directory, or
``--overwrite`` replaces an earlier analysis there (:mod:`infonet_ros.offline.output_dir`);
this, the parameters, weights and device are checked before any message is read.

Exit codes: 0 when the whole bag was analyzed, also when undecodable messages were skipped
(counted in the summary; ``--strict`` makes that exit 1). 1 with a one-line error for a
configuration, output directory or bag the analysis cannot use, and for a bag whose storage
breaks mid-way (its summary is written, its table only with ``--keep-partial``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
import sys

from infonet_ros.cli.errors import print_error
from infonet_ros.offline.bag_reader import BagError, BagSource
from infonet_ros.offline.figures import MAX_PLOTTED_PAIRS, write_figures
from infonet_ros.offline.output_dir import OutputDir
from infonet_ros.offline.params import AnalysisError, build_params, make_config, OVERRIDABLE
from infonet_ros.offline.report import (CSV_NAME, format_summary, PARTIAL_CSV_NAME, write_csv,
                                        write_summary)
from infonet_ros.offline.run import load_estimator, run_analysis, UpdatePolicy
from infonet_ros.offline.window_batches import AUTO_BATCH_ROWS
from infonet_ros.streams.node_config import PARAM_BY_NAME

PROG = 'infonet-ros analyze'


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of ``infonet-ros analyze``."""
    p = argparse.ArgumentParser(
        prog=PROG,
        description='Offline MI time series and matrices of a rosbag2 (sqlite3 or mcap), with '
                    "the MI node's pairing, windows and estimator.")
    p.add_argument('bag', help='bag directory (with metadata.yaml) or a .mcap / .db3 file')
    p.add_argument('-o', '--output', help='output directory, new or empty (default: <bag '
                                          'name>_mi)')
    p.add_argument('--overwrite', action='store_true',
                   help='write into a non-empty output directory, removing the files of an '
                        'earlier analysis there (other files stay)')
    g = p.add_argument_group('pairs (flags replace the pairs of --params)')
    g.add_argument('--params', help="the node's parameter YAML (config/mi.yaml format)")
    g.add_argument('--node-name', default='mi_node', help='node key in --params')
    g.add_argument('--pair', action='append', default=[], metavar="'X ~ Y'",
                   help="a pair 'TOPIC:FIELD ~ TOPIC:FIELD' (comma list: vector side)")
    g.add_argument('--pair-name', action='append', default=[], help='name of each --pair')
    g.add_argument('--matrix', action='append', default=[], metavar='[NAME=]SPEC',
                   help="all scalar pairs of 'TOPIC:F1,F2,.. ~ TOPIC:G1,..' or among "
                        "'TOPIC:F1,F2,..' (name[a:b] expands to name[a]..name[b-1])")
    _add_node_parameters(p.add_argument_group(
        'node parameters (override --params; see docs/node.md)'))
    g = p.add_argument_group('message definitions')
    g.add_argument('--msg', action='append', default=[], metavar='[pkg/msg/Name=]FILE',
                   help='a .msg or .idl file (type from .../<pkg>/msg/<Name>.msg)')
    g.add_argument('--msg-dir', action='append', default=[],
                   help='directory searched for <pkg>/msg/<Name>.msg (or .idl)')
    g.add_argument('--no-ament', action='store_true',
                   help='do not search AMENT_PREFIX_PATH for definitions')
    _add_output_options(p.add_argument_group('analysis and output'))
    return p


def _add_node_parameters(g) -> None:
    # One flag per overridable node parameter, with the node's description and choices;
    # default None: the value of --params, else the node's default.
    for name in OVERRIDABLE:
        spec = PARAM_BY_NAME[name]
        flag = '--' + name.replace('_', '-')
        if isinstance(spec.default, bool):
            g.add_argument(flag, action=argparse.BooleanOptionalAction, default=None,
                           help=spec.description)
        else:
            kw = {'choices': spec.choices} if spec.choices and name != 'device' else {}
            g.add_argument(flag, type=type(spec.default), default=None, help=spec.description,
                           **kw)
    g.add_argument('--update-every', type=int, metavar='K',
                   help='update after every K messages of --update-topic instead of at '
                        'update_rate')
    g.add_argument('--update-topic', help='topic counted by --update-every (default: the x '
                                          'topic of the first pair)')


def _add_output_options(g) -> None:
    g.add_argument('--ksg', action='store_true',
                   help='also estimate each scalar window with KSG (sklearn, k=3) and compare')
    g.add_argument('--shuffle-control', action='store_true',
                   help='also estimate each window with y permuted in time (expect ~0)')
    g.add_argument('--batch-rows', type=int, default=AUTO_BATCH_ROWS,
                   help='estimator rows per forward pass (default 0: the fastest per row in '
                        'the first passes)')
    g.add_argument('--plot-pairs', help='comma list of pairs to plot (default: up to '
                                        f'{MAX_PLOTTED_PAIRS} with the largest mean MI)')
    g.add_argument('--matrix-at', type=float, action='append', default=[],
                   help='time [s from the bag start] of a single-window matrix panel '
                        '(repeatable; default: the middle of the bag)')
    g.add_argument('--plot-range', type=float, nargs=2, metavar=('T0', 'T1'),
                   help='time range of the time series figure [s from the bag start]')
    g.add_argument('--no-plots', action='store_true', help='write no figures')
    g.add_argument('--keep-partial', action='store_true',
                   help="when the bag's storage breaks mid-way, keep the estimates so far in "
                        f'{PARTIAL_CSV_NAME}')
    g.add_argument('--strict', action='store_true',
                   help='exit 1 when messages were skipped because they could not be decoded '
                        '(default: skip, count in the summary, exit 0)')
    g.add_argument('--no-progress', action='store_true', help='no progress bar')
    g.add_argument('--info', action='store_true', help='list the topics of the bag and exit')
    g.add_argument('--windows-from-topic', metavar='TOPIC',
                   help='estimate exactly the windows a node published on TOPIC (recorded in '
                   'the bag, e.g. /infonet/mi) and report the largest difference; writes '
                   'published_windows.csv instead of the analysis')


def main(argv=None) -> int:
    """Entry point of ``infonet-ros analyze``; returns the exit code."""
    args = build_parser().parse_args(argv)
    if args.info:
        try:
            return _print_info(args)
        except (BagError, OSError) as exc:
            return _error(exc)
    from infonet_ros.core.checks import NonFiniteEstimateError  # torch: not needed for --info
    out = OutputDir(args.output or f'{Path(args.bag).name.rsplit(".", 1)[0]}_mi',
                    args.overwrite)
    if args.windows_from_topic:
        return _compare_published(args, out)
    try:
        out.prepare()
        result = _analyze(args)
        out.clear_earlier_run()
        files = _write_tables_and_figures(result, out.path, args)
    except (AnalysisError, BagError, OSError, NonFiniteEstimateError) as exc:
        out.discard()
        return _error(exc)
    print(format_summary(write_summary(result, out.path, files)))
    if not result.complete:
        return _error(f'the bag broke after {len(result.records)} estimates: {result.error}'
                      + ('' if args.keep_partial else
                         f' (no {CSV_NAME} written; --keep-partial keeps them)'))
    skipped = sum(result.undecodable.values())
    if skipped and args.strict:
        return _error(f'{skipped} undecodable message(s) were skipped (--strict)')
    return 0


def _error(what) -> int:
    return print_error(PROG, what)


def _write_tables_and_figures(result, out_dir, args) -> list:
    # The table (mi.partial.csv for a broken bag, with --keep-partial) and the figures.
    files = []
    if result.complete or args.keep_partial:
        files.append(write_csv(result, out_dir / (CSV_NAME if result.complete
                                                  else PARTIAL_CSV_NAME)))
    if not args.no_plots and result.complete:
        files += write_figures(result, out_dir, _plot_pairs(args), args.matrix_at,
                               args.plot_range)
    return files


def _plot_pairs(args) -> list | None:
    return args.plot_pairs.split(',') if args.plot_pairs else None


def _compare_published(args, out) -> int:
    # --windows-from-topic: the node's published windows, estimated again offline.
    from infonet_ros.offline.published_windows import compare_published, write_comparison_csv
    try:
        out.prepare()
        cfg, _ = _config(args)
        comparison = compare_published(args.bag, cfg, load_estimator(cfg),
                                       args.windows_from_topic, args.msg, args.msg_dir,
                                       not args.no_ament)
        out.clear_earlier_run()
        path = write_comparison_csv(comparison, out.path / 'published_windows.csv')
    except (AnalysisError, BagError, OSError) as exc:
        out.discard()
        return _error(exc)
    for line in comparison.lines():
        print(line)
    print(f'wrote {path}')
    return 0


def _config(args):
    # The node configuration of the flags and the bag (and the matrix specs).
    with BagSource(args.bag, args.msg, args.msg_dir, not args.no_ament) as b:
        bag_topics = b.topics()
    params, specs, param_warnings = build_params(
        bag_topics, args.params, args.node_name, args.pair, args.pair_name, args.matrix,
        {n: getattr(args, n) for n in OVERRIDABLE})
    for w in param_warnings:
        print(f'{PROG}: warning: {w}', file=sys.stderr)
    return make_config(params), (specs, param_warnings)


def _analyze(args):
    # The node configuration of the flags and the bag, the estimator, then the analysis.
    if args.update_every is not None and args.update_every < 1:
        raise AnalysisError('--update-every must be at least 1')
    cfg, (specs, param_warnings) = _config(args)
    unknown = [n for n in _plot_pairs(args) or [] if n not in {p.name for p in cfg.pairs}]
    if unknown and not args.no_plots:
        raise AnalysisError(f'--plot-pairs: unknown pair(s) {unknown}; the pairs are '
                            + ', '.join(p.name for p in cfg.pairs))
    estimator = load_estimator(cfg)
    policy = (UpdatePolicy('every', every=args.update_every, topic=args.update_topic or '')
              if args.update_every else UpdatePolicy('rate', period=cfg.update_period))
    result = run_analysis(args.bag, cfg, matrices=specs, policy=policy, estimator=estimator,
                          msg_files=args.msg, msg_dirs=args.msg_dir,
                          use_ament=not args.no_ament, ksg=args.ksg,
                          shuffle_control=args.shuffle_control, batch_rows=args.batch_rows,
                          progress=not args.no_progress and sys.stderr.isatty())
    result.warnings[:0] = param_warnings
    return result


def _print_info(args) -> int:
    # The bag's duration, topics, types, message counts and whether it stores definitions.
    with BagSource(args.bag, args.msg, args.msg_dir, not args.no_ament) as b:
        t0, t1 = b.time_range_ns()
        print(f'{args.bag} ({b.storage}): {(t1 - t0) * 1e-9:.3f} s')
        for t, (ty, n) in sorted(b.topics().items()):
            stored = 'stored definition' if b.has_stored_definition(t) else 'no stored definition'
            print(f'  {t:<32} {ty:<36} {n:>8} msgs  {stored}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
