# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""``infonet-ros`` command line: dispatcher, ``estimate --csv`` and ``evaluate``."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import infonet_ros
from infonet_ros.cli import main as cli
from infonet_ros.core.estimator import InfoNetEstimator


@pytest.fixture(scope='module')
def csv_file(tmp_path_factory):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(500)
    y = 0.9 * x + np.sqrt(1 - 0.81) * rng.standard_normal(500)
    path = tmp_path_factory.mktemp('csv') / 'pairs.csv'
    with open(path, 'w') as f:
        f.write('time,accel,gyro,label\n')
        for i in range(500):
            f.write(f'{i * 0.01:.2f},{x[i]:.17g},{y[i]:.17g},{"ab"[i % 2]}\n')
    return path, x, y


def test_help_lists_every_command(capsys):
    assert cli.main(['--help']) == 0
    out = capsys.readouterr().out
    for name in cli.COMMANDS:
        assert name in out
    assert cli.main([]) == 0


def test_unknown_command_fails_with_usage(capsys):
    assert cli.main(['frobnicate']) == 2
    err = capsys.readouterr().err
    assert "unknown command 'frobnicate'" in err and 'estimate' in err


def test_estimate_csv_prints_the_estimate(csv_file, capsys):
    path, x, y = csv_file
    assert cli.main(['estimate', '--csv', str(path), '--x', 'accel', '--y', 'gyro',
                     '--device', 'cpu']) == 0
    printed = float(capsys.readouterr().out.strip())
    expected = InfoNetEstimator.from_pretrained(device='cpu').estimate(x, y)
    assert printed == pytest.approx(expected, abs=1e-6)
    assert printed > 0.5  # rho = 0.9: true MI 0.83 nats


def test_estimate_with_uncertainty_prints_interval_and_p_value(csv_file, capsys):
    path, x, y = csv_file
    assert cli.main(['estimate', '--csv', str(path), '--x', 'accel', '--y', 'gyro',
                     '--device', 'cpu', '--uncertainty', '--level', '0.8']) == 0
    out = capsys.readouterr().out.strip()
    want = InfoNetEstimator.from_pretrained(device='cpu').estimate_with_uncertainty(
        x, y, level=0.8)
    mi, interval = out.split(' [')[0], out.split(' [')[1].split(']')[0]
    lower, upper = (float(v) for v in interval.split(', '))
    assert float(mi) == pytest.approx(want.mi, abs=1e-6)
    assert (lower, upper) == (pytest.approx(want.lower, abs=1e-6),
                              pytest.approx(want.upper, abs=1e-6))
    assert lower < float(mi) < upper
    # rho = 0.9 over 500 samples: far above the noise floor, p at the table's smallest value.
    assert want.p_value < 1e-3 and want.noise_floor < 0.1
    assert '(80% interval)' in out and '(iid null)' in out and f'p={want.p_value:.4g}' in out
    assert cli.main(['estimate', '--csv', str(path), '--x', 'accel', '--y', 'gyro',
                     '--uncertainty', '--level', '1.5']) == 1
    assert capsys.readouterr().err.count('\n') == 1


def test_estimate_csv_accepts_column_indices(csv_file, capsys):
    path, _, _ = csv_file
    assert cli.main(['estimate', '--csv', str(path), '--x', '1', '--y', '2']) == 0
    by_index = float(capsys.readouterr().out)
    assert cli.main(['estimate', '--csv', str(path), '--x', 'accel', '--y', 'gyro']) == 0
    assert float(capsys.readouterr().out) == by_index


@pytest.mark.parametrize('args, words', [
    (['--x', 'accel', '--y', 'missing_col'], "column 'missing_col' not in"),
    (['--x', 'label', '--y', 'gyro'], "column 'label'"),
    (['--x', 'accel', '--y', 'gyro', '--weights', 'no/such/weights.pt'],
     'no/such/weights.pt'),
])
def test_estimate_csv_errors(csv_file, capsys, args, words):
    path, _, _ = csv_file
    assert cli.main(['estimate', '--csv', str(path)] + args) == 1
    err = capsys.readouterr().err
    assert err.startswith('infonet-ros estimate: error:') and words in err


def test_estimate_csv_missing_file_and_short_file(tmp_path, capsys):
    assert cli.main(['estimate', '--csv', str(tmp_path / 'nope.csv'), '--x', 'a',
                     '--y', 'b']) == 1
    assert 'nope.csv' in capsys.readouterr().err
    short = tmp_path / 'short.csv'
    short.write_text('a,b\n' + ''.join(f'{i},{i * i}\n' for i in range(10)))
    assert cli.main(['estimate', '--csv', str(short), '--x', 'a', '--y', 'b']) == 1
    assert 'at least 32' in capsys.readouterr().err
    empty = tmp_path / 'empty.csv'
    empty.write_text('')
    assert cli.main(['estimate', '--csv', str(empty), '--x', 'a', '--y', 'b']) == 1
    assert 'empty' in capsys.readouterr().err


def _estimate(path, capsys, *extra):
    rc = cli.main(['estimate', '--csv', str(path), '--x', 'accel', '--y', 'gyro', *extra])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def test_estimate_csv_blank_lines_and_byte_order_mark(csv_file, tmp_path, capsys):
    path, _, _ = csv_file
    rc, want, _ = _estimate(path, capsys)
    assert rc == 0
    text = path.read_text()
    lines = text.splitlines()
    # Blank lines (a trailing one, one in the middle, one of spaces) are skipped.
    blank = tmp_path / 'blank.csv'
    blank.write_text('\n'.join(lines[:100] + ['', '  '] + lines[100:]) + '\n\n')
    assert _estimate(blank, capsys)[:2] == (0, want)
    # A spreadsheet's UTF-8 byte order mark is not part of the first column's name.
    bom = tmp_path / 'bom.csv'
    bom.write_bytes(b'\xef\xbb\xbf' + text.encode())
    assert _estimate(bom, capsys, '--x', 'time')[:2] == _estimate(path, capsys, '--x', 'time')[:2]


def test_estimate_csv_ragged_row_and_bad_value_name_the_line(csv_file, tmp_path, capsys):
    path, _, _ = csv_file
    lines = path.read_text().splitlines()
    ragged = tmp_path / 'ragged.csv'
    ragged.write_text('\n'.join(lines[:6] + ['0.06,1.5,2.5'] + lines[7:]) + '\n')
    rc, _, err = _estimate(ragged, capsys)
    assert rc == 1 and err == (f'infonet-ros estimate: error: {ragged} line 7 has 3 fields, '
                               'the header has 4\n')
    bad = tmp_path / 'bad.csv'
    bad.write_text('\n'.join(lines[:9] + ['0.09,oops,2.5,a'] + lines[10:]) + '\n')
    rc, _, err = _estimate(bad, capsys)
    assert rc == 1 and "line 10 has 'oops'" in err and err.count('\n') == 1


def test_estimate_corrupt_weights_is_one_line(csv_file, tmp_path, capsys):
    path, _, _ = csv_file
    corrupt = tmp_path / 'corrupt.pt'
    corrupt.write_bytes(b'not a checkpoint\n' * 20)
    rc, _, err = _estimate(path, capsys, '--weights', str(corrupt))
    assert rc == 1 and err.startswith('infonet-ros estimate: error: cannot read InfoNet '
                                      f'weights file {corrupt}')
    assert err.count('\n') == 1


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the error raised without a GPU')
def test_estimate_csv_cuda_without_gpu(csv_file, capsys):
    path, _, _ = csv_file
    assert cli.main(['estimate', '--csv', str(path), '--x', 'accel', '--y', 'gyro',
                     '--device', 'cuda']) == 1
    assert 'CUDA' in capsys.readouterr().err


def test_module_entry_point_runs_in_a_subprocess(csv_file):
    path, x, y = csv_file
    env = dict(os.environ)
    src = os.path.dirname(os.path.dirname(os.path.abspath(infonet_ros.__file__)))
    env['PYTHONPATH'] = src + os.pathsep + env.get('PYTHONPATH', '')
    proc = subprocess.run([sys.executable, '-m', 'infonet_ros.cli', 'estimate', '--csv',
                           str(path), '--x', 'accel', '--y', 'gyro'], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert float(proc.stdout) > 0.5
    proc = subprocess.run([sys.executable, '-m', 'infonet_ros.cli', 'estimate', '--csv',
                           str(path), '--x', 'accel', '--y', 'zz'], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "column 'zz' not in" in proc.stderr


def test_evaluate_tiny_run_writes_tables(tmp_path, capsys):
    rc = cli.main(['evaluate', '--quick', '--n', '300', '--seeds', '2', '--gmm', '2',
                   '--triplets', '4', '--no-mine', '--out-dir', str(tmp_path),
                   '--name', 'tiny'])
    assert rc == 0
    out = capsys.readouterr().out
    md = (tmp_path / 'tiny_quick.md').read_text()
    assert md.strip() == out.strip()
    for heading in ('### Targets', '### Bivariate Gaussians', '### Accuracy by family',
                    '### Order preservation', '### Readout ablation',
                    '### Quantized Gaussians (rounded to a step: ties',
                    '### Held-out shapes (uniform on a triangle and on rings'):
        assert heading in md
    res = json.loads((tmp_path / 'tiny_quick.json').read_text())
    assert res['settings']['ns'] == [300] and res['settings']['mine'] is False
    methods = {r['method'] for r in res['records']}
    assert methods == {'InfoNet', 'InfoNet-shuffle', 'KSG', 'InfoNet-avg-ties'}
    sections = {r['section'] for r in res['records']}
    assert sections == {'gaussian', 'gmm', 'unseen', 'quantized', 'shapes'}
    # Independent rounded Gaussians (ties) read about 0, not the +-0.5 or worse of averaged ranks
    # (too low with a cross-fitted model, too high with the in-sample default).
    tied = [r['estimate'] for r in res['records'] if r['section'] == 'quantized'
            and r['method'] == 'InfoNet' and r['case'].startswith('rho=0,')]
    assert len(tied) == 3 * 2 and all(abs(v) < 0.1 for v in tied)
    averaged = [r['estimate'] for r in res['records'] if r['section'] == 'quantized'
                and r['method'] == 'InfoNet-avg-ties' and r['case'] == 'rho=0, step=0.5']
    # What tie breaking fixes: averaged ranks read far from 0 (about 0.5 and 1.5 nats here).
    assert len(averaged) == 2 and sum(map(abs, averaged)) / 2 > 0.5
    # Every method saw the same sample sets: one record per method and set.
    gauss = [r for r in res['records'] if r['section'] == 'gaussian']
    assert len(gauss) == 7 * 3 * 2
    # Estimates are real numbers near their truths for the dependent Gaussians.
    infonet = {r['case']: r['estimate'] for r in gauss
               if r['method'] == 'InfoNet' and r['seed'] == 0}
    assert infonet['rho=0.99'] > infonet['rho=0.5'] > infonet['rho=0']
    tg = res['summary']['targets']
    assert 'order_share_InfoNet' in tg and 'order_share_oracle' in tg
    # The oracle reference is scored on the very triplets the estimators see.
    by_method = {}
    for r in res['order_records']:
        by_method.setdefault(r['method'], []).append((r['n'], r['kind'], r['triplet']))
    assert sorted(by_method['oracle']) == sorted(by_method['InfoNet'])
    # The bias rule is counted for KSG on the same cases, and each case's bias carries its
    # standard error (the spread of its samples over sqrt(samples - 1)).
    assert tg['bias_cases'] == tg['bias_cases_KSG'] > 0
    assert 0 <= tg['bias_within_5pct_KSG'] <= tg['bias_cases_KSG']
    case = next(c for c in res['summary']['per_case'] if c['section'] == 'gaussian'
                and c['method'] == 'InfoNet' and c['case'] == 'rho=0.5')
    assert case['bias_se'] == pytest.approx(case['sd'] / (case['count'] - 1) ** 0.5)
    assert '| InfoNet se | bias ok |' in md


def test_evaluate_missing_weights_is_an_error(tmp_path, capsys):
    rc = cli.main(['evaluate', '--quick', '--weights', str(tmp_path / 'none.pt'),
                   '--out-dir', str(tmp_path)])
    assert rc == 1
    assert 'none.pt' in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
