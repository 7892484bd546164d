# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The one writer of result files: the command header, the names, a rerun in place."""

import argparse
import json

import pytest

from infonet_ros.core.model import WeightsError
from infonet_ros.training import evaluate, result_files


def test_the_command_leaves_out_the_output_directory_and_quotes_arguments():
    argv = ['--weights', 'fine', '--out-dir', '/home/someone/results', '--out-dir=/tmp/x',
            '--title', 'two words', '--name', 'eval_accuracy_fine']
    line = result_files.command_line('python benchmarks/eval_accuracy.py', argv)
    assert line == ("python benchmarks/eval_accuracy.py --weights fine --title 'two words' "
                    '--name eval_accuracy_fine')
    assert result_files.command_line('infonet-ros evaluate', []) == 'infonet-ros evaluate'


def test_names_of_full_and_smoke_runs():
    assert result_files.result_stem('eval_accuracy', False) == 'eval_accuracy'
    assert result_files.result_stem('eval_accuracy_fine', True) == 'eval_accuracy_fine_quick'


def test_the_json_opens_with_its_command_and_a_rerun_replaces_it(tmp_path):
    out = tmp_path / 'results'
    paths = result_files.write_results(str(out), 'speed', 'python benchmarks/x.py --n 3',
                                       {'rows': [1.5, float('nan')], 'command': 'ignored'},
                                       '# Table\n')
    data = json.loads((out / 'speed.json').read_text())
    assert list(data)[0] == 'command' and data['command'] == 'python benchmarks/x.py --n 3'
    assert (out / 'speed.md').read_text() == '# Table\n'
    result_files.write_results(str(out), 'speed', 'python benchmarks/x.py --n 4',
                               {'rows': []}, '# Again')
    assert sorted(p.name for p in out.iterdir()) == ['speed.json', 'speed.md']
    assert json.loads((out / 'speed.json').read_text()) == {
        'command': 'python benchmarks/x.py --n 4', 'rows': []}
    assert (out / 'speed.md').read_text() == '# Again\n'
    assert paths == (str(out / 'speed.json'), str(out / 'speed.md'))


def test_results_name_the_weights_without_their_training_notes():
    provenance = {'command': 'infonet-ros train --out a.pt', 'steps': 10, 'seed': 3,
                  'commit': 'abc', 'date': '2026-01-01', 'note': 'how it was trained'}
    assert result_files.weights_identity(provenance) == {
        'steps': 10, 'seed': 3, 'commit': 'abc', 'date': '2026-01-01'}
    assert result_files.weights_identity({}) == {}


def test_missing_weights_write_nothing(tmp_path):
    args = argparse.Namespace(weights=str(tmp_path / 'none.pt'), device='cpu', quick=True,
                              seeds=None, n=None, gmm=None, triplets=None, no_mine=True,
                              mine_steps=None, mine_seeds=None, mine_gmm=None,
                              out_dir=str(tmp_path / 'out'), name='eval_accuracy', threads=0)
    with pytest.raises(WeightsError, match='none.pt'):
        evaluate.evaluate(args, 'infonet-ros evaluate --quick')
    assert not (tmp_path / 'out').exists()
