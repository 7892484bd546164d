# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Every file in benchmarks/results/ is written by a benchmark, under the name it gives it.

A result is a pair NAME.json + NAME.md. Its JSON opens with ``"command"``, the command line
that wrote it (benchmarks/results_io.py, infonet_ros.training.result_files.write_results), and
that command must write NAME:

- ``python benchmarks/SCRIPT.py ARGS``: SCRIPT.py is a benchmark script, its own parser
  (``build_parser()``) accepts ARGS, and with them it writes NAME (``results_io.stem``:
  ``--name``, plus ``_quick`` with ``--quick``);
- ``infonet-ros evaluate ARGS``: the same with the parser of infonet_ros.cli.evaluate;
- ``bash benchmarks/SCRIPT.sh``: the script exists and passes ``--name NAME`` to the benchmark
  it runs.

A superseded copy (``NAME_run2``, a hand-renamed file) or a file without its header fails.
Smoke outputs (``*_quick.*``) are git-ignored and not checked.
"""

import functools
import importlib.util
import json
from pathlib import Path
import re
import shlex
import shutil
import sys

REPO = Path(__file__).resolve().parents[2]
BENCHMARKS = REPO / 'benchmarks'
RESULTS = BENCHMARKS / 'results'
SUFFIXES = ('.json', '.md')


@functools.lru_cache(maxsize=None)
def benchmark_module(name: str):
    """Import benchmarks/<name> (its results_io import needs benchmarks/ on the path)."""
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location('benchmark_' + Path(name).stem,
                                                  BENCHMARKS / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stems_written_by(command: str) -> tuple[set, str]:
    """Return (the stems ``command`` writes, '') or (empty set, why it is no benchmark's)."""
    words = shlex.split(command)
    program = ' '.join(words[:2])
    if len(words) >= 2 and words[0] in ('python', 'bash') and words[1].startswith('benchmarks/'):
        script = REPO / words[1]
        if script.parent != BENCHMARKS or not script.is_file():
            return set(), f'names {words[1]}, which is not a benchmark script'
        if words[0] == 'bash':  # a shell script gives the names to the benchmarks it runs
            return set(re.findall(r'--name[ =]([\w.-]+)', script.read_text())), ''
        if script.suffix != '.py' or script.name == 'results_io.py':
            return set(), f'names {words[1]}, which is not a benchmark script'
        parser = benchmark_module(script.name).build_parser()
    elif program == 'infonet-ros evaluate':
        from infonet_ros.cli.evaluate import build_parser
        parser = build_parser()
    else:
        return set(), f'names {program!r}, neither a benchmark script nor infonet-ros evaluate'
    try:
        args = parser.parse_args(words[2:])
    except SystemExit:
        return set(), f'has options that {program} does not accept'
    return {benchmark_module('results_io.py').stem(args)}, ''


def header_problem(path: Path) -> str:
    """Return why a result JSON is not what a benchmark writes ('' when it is)."""
    try:
        data = json.loads(path.read_text(encoding='utf-8'))
    except ValueError as exc:
        return f'is not JSON ({exc})'
    if not isinstance(data, dict) or not isinstance(data.get('command'), str):
        return 'has no "command" header (the command line that wrote it)'
    if next(iter(data)) != 'command':
        return 'does not open with its "command" header'
    stems, why = stems_written_by(data['command'])
    if why:
        return f'header {data["command"]!r} {why}'
    if path.stem not in stems:
        return (f'header {data["command"]!r} writes {" or ".join(sorted(stems)) or "nothing"}, '
                f'not {path.stem}')
    return ''


def problems(folder: Path) -> list[str]:
    """Return one line per file in ``folder`` that no benchmark writes under its name."""
    found = []
    files = sorted(p for p in folder.iterdir() if not p.stem.endswith('_quick'))
    names = {p.name for p in files}
    for path in files:
        if path.suffix not in SUFFIXES or not path.is_file():
            found.append(f'{path.name}: not a result file (NAME.json and NAME.md only)')
            continue
        twin = path.stem + ('.md' if path.suffix == '.json' else '.json')
        if twin not in names:
            found.append(f'{path.name}: written without its {twin}')
        if path.suffix == '.json':
            why = header_problem(path)
            if why:
                found.append(f'{path.name}: {why}')
    return found


def test_every_result_file_is_written_by_a_benchmark_under_its_name():
    jsons = [p for p in RESULTS.glob('*.json') if not p.stem.endswith('_quick')]
    assert jsons, 'no results to check'
    found = problems(RESULTS)
    assert not found, 'result files no benchmark writes:\n' + '\n'.join(found)


def copy_result(source: str, folder: Path, stem: str, edit=None):
    """Copy results/<source>.{json,md} to folder/<stem>.*, the JSON passed through ``edit``."""
    data = json.loads((RESULTS / f'{source}.json').read_text())
    if edit:
        data = edit(data)
    (folder / f'{stem}.json').write_text(json.dumps(data))
    shutil.copy(RESULTS / f'{source}.md', folder / f'{stem}.md')


def with_command(command):
    return lambda data: {'command': command, **{k: v for k, v in data.items() if k != 'command'}}


def test_the_check_catches_copies_renames_and_orphans(tmp_path):
    good = tmp_path / 'good'
    good.mkdir()
    # Control: real results under their own names pass, so the failures below are real.
    for stem in ('order_ceiling_n1000', 'supervision_ablation', 'eval_accuracy_fine'):
        copy_result(stem, good, stem)
    copy_result('eval_accuracy_fine', good, 'tiny',
                with_command('infonet-ros evaluate --weights fine --name tiny'))
    assert problems(good) == []

    bad = tmp_path / 'bad'
    bad.mkdir()
    copy_result('order_ceiling_n1000', bad, 'foo_run2')  # a renamed copy
    copy_result('long_series', bad, 'long_series_old')
    copy_result('long_series', bad, 'long_series_cand', lambda d: {
        k: v for k, v in d.items() if k != 'command'})  # no header
    copy_result('readout_speed', bad, 'readout_speed_moved',
                with_command('python benchmarks/no_such_script.py --name readout_speed_moved'))
    copy_result('readout_speed', bad, 'readout_speed_flag',
                with_command('python benchmarks/readout_speed.py --no-such-flag 3 '
                             '--name readout_speed_flag'))
    copy_result('readout_speed', bad, 'readout_speed_cp',
                with_command('cp benchmarks/results/readout_speed.json readout_speed_cp.json'))
    copy_result('supervision_ablation', bad, 'supervision_ablation_2',
                with_command('bash benchmarks/supervision_ablation.sh'))
    (bad / 'node_latency_fast.md').write_text('# a table without its JSON\n')
    (bad / 'notes.txt').write_text('scratch\n')
    found = problems(bad)
    for name in ('foo_run2.json', 'long_series_old.json', 'long_series_cand.json',
                 'readout_speed_moved.json', 'readout_speed_flag.json', 'readout_speed_cp.json',
                 'supervision_ablation_2.json', 'node_latency_fast.md', 'notes.txt'):
        assert any(line.startswith(name + ':') for line in found), (name, found)
    assert 'writes order_ceiling_n1000, not foo_run2' in '\n'.join(found)


def test_every_benchmark_script_writes_through_results_io():
    scripts = sorted(p for p in BENCHMARKS.glob('*.py') if p.name != 'results_io.py')
    assert len(scripts) >= 10
    for script in scripts:
        text = script.read_text()
        assert 'import results_io' in text and 'def build_parser(' in text, script.name
        # Results are written by results_io (or infonet-ros evaluate), never by hand.
        assert 'json.dump(' not in text and '.write_text(' not in text, script.name
