# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""ONNX and TorchScript exports, the onnxruntime backend and ``infonet-ros export``."""

import subprocess
import sys

import numpy as np
import pytest
import torch

from infonet_ros.cli import main as cli
from infonet_ros.core.content_hash import HASH_FIELD
from infonet_ros.core.copula import pair_ranks
from infonet_ros.core.estimator import InfoNetEstimator
from infonet_ros.core.export import export_files, export_path, onnx_model, read_metadata
from infonet_ros.core.model import load_checkpoint, resolve_weights, SHIPPED_WEIGHTS
from infonet_ros.core.onnx_backend import (autocast_float16, check_backend, OnnxSession,
                                           select_providers)
from infonet_ros.core.readout import ModelReadout
from infonet_ros.training import groundtruth

# The modules above import onnx and onnxruntime only when they run a graph.
onnx = pytest.importorskip('onnx')
pytest.importorskip('onnxruntime')

TOLERANCE = 1e-4  # nats: onnxruntime against torch
RHOS = (0.0, 0.5, 0.9, 0.99)


def checkpoint_hash(weights) -> str:
    """Return the content hash stored in a checkpoint file, read straight from the file."""
    with torch.serialization.safe_globals([torch.torch_version.TorchVersion]):
        ckpt = torch.load(resolve_weights(weights), map_location='cpu', weights_only=True)
    return str(ckpt.get(HASH_FIELD, ''))


@pytest.fixture(scope='module', params=sorted(SHIPPED_WEIGHTS))
def pair(request):
    """(torch estimator, onnxruntime estimator) of one shipped model, on the CPU, float32."""
    return (InfoNetEstimator.from_pretrained(request.param, device='cpu', precision='fp32'),
            InfoNetEstimator.from_pretrained(request.param, device='cpu',
                                             backend='onnxruntime'))


def gaussian_rows(n, seed=0):
    """One Gaussian pair per correlation in RHOS: (4, n) x and y."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((len(RHOS), n))
    rho = np.array(RHOS)[:, None]
    return x, rho * x + np.sqrt(1 - rho ** 2) * rng.standard_normal(x.shape)


def ranks_of(x, y):
    """Copula ranks (B, 2, N) float32 of paired rows, as the estimator feeds the network."""
    return torch.from_numpy(pair_ranks(np.stack([x, y], axis=1))).to(torch.float32)


# 3000 > 2048: read as two interleaved subsets of 1500, both through onnxruntime.
@pytest.mark.parametrize('n,lengths', [(64, [64]), (1000, [1000]), (3000, [1500])])
def test_onnxruntime_estimates_equal_torch_on_gaussians(pair, n, lengths):
    torch_est, ort_est = pair
    x, y = gaussian_rows(n, seed=n)
    want, got = torch_est.estimate_batch(x, y), ort_est.estimate_batch(x, y)
    assert np.abs(got - want).max() < TOLERANCE, (got, want)
    assert set(lengths) <= set(ort_est._readout.lengths())
    if n >= 1000:  # the pairs are what they claim: estimates near the Gaussian MI
        truth = [groundtruth.gaussian_mi(r) for r in RHOS]
        assert np.abs(got - truth).max() < 0.5 and got[3] > got[2] > got[1] > got[0]


FAMILIES = [groundtruth.student_t_case(0.5, 3.0), groundtruth.uniform_noise_case(0.3),
            groundtruth.monotone_case(0.9, 'asinh'), groundtruth.triangle_case(),
            groundtruth.quantized_gaussian_case(0.5, 0.5)]


def test_onnxruntime_estimates_equal_torch_on_evaluation_families(pair):
    torch_est, ort_est = pair
    rng = np.random.default_rng(7)
    drawn = [case.sample(1000, rng) for case in FAMILIES]
    x, y = np.stack([d[0] for d in drawn]), np.stack([d[1] for d in drawn])
    x[-1] = 3.0  # a constant side: exactly 0 on both backends, no network call
    want, got = torch_est.estimate_batch(x, y), ort_est.estimate_batch(x, y)
    assert np.abs(got - want).max() < TOLERANCE, (got, want)
    assert got[-1] == 0.0 and want[-1] == 0.0
    # One series at a time gives the row of the batch (the graph's dynamic batch).
    assert ort_est.estimate(x[0], y[0]) == pytest.approx(got[0], abs=1e-6)


def test_onnx_file_describes_itself_and_runs(tmp_path):
    [(n, path, readout)] = export_files('fine', 'onnx', str(tmp_path / 'fine.onnx'), [128])
    assert path == str(tmp_path / 'fine_n128.onnx') == export_path(tmp_path / 'fine.onnx', 128)
    model = onnx.load(path)
    onnx.checker.check_model(model)
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta == read_metadata(path)
    assert meta['weights'] == 'fine' and meta['n'] == '128' and meta['units'] == 'nats'
    assert meta['weights_sha256'] == checkpoint_hash('fine') and len(meta['weights_sha256']) == 64
    assert (meta['readout'], meta['integral'], meta['split_seed']) == ('crossfit', 'midpoint', '0')
    assert meta['max_set_size'] == '2048' and 'pair_ranks' in meta['ranks']
    assert 'ranks' in meta['input'] and 'nats' in meta['output']
    [inp], [out] = model.graph.input, model.graph.output
    dims = [d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim]
    assert (inp.name, dims) == ('ranks', ['batch', 2, 128])
    assert (out.name, [d.dim_param for d in out.type.tensor_type.shape.dim]) == ('mi', ['batch'])
    graph = OnnxSession(path, 'cpu')
    assert graph.n == 128 and graph.metadata == meta
    assert graph.providers == ['CPUExecutionProvider']
    x, y = gaussian_rows(128)
    ranks = ranks_of(x, y)
    with torch.no_grad():
        want = readout(ranks).numpy()
    for rows in (slice(0, 1), slice(None)):  # a batch of 1 and of 4 through one graph
        assert np.abs(graph.run(ranks[rows].numpy()) - want[rows]).max() < TOLERANCE


@pytest.mark.filterwarnings('ignore:`torch.jit.load` is deprecated:DeprecationWarning')
@pytest.mark.parametrize('name', sorted(SHIPPED_WEIGHTS))
def test_torchscript_file_loads_back_and_matches_eager(tmp_path, name):
    [(n, path, readout)] = export_files(name, 'torchscript', str(tmp_path / 'm.pt'), [256])
    meta = read_metadata(path)
    assert (meta['weights'], meta['n'], meta['device']) == (name, '256', 'cpu')
    loaded = torch.jit.load(path)
    x, y = gaussian_rows(256, seed=3)
    ranks = ranks_of(x, y)
    with torch.no_grad():
        want, got = readout(ranks), loaded(ranks)
    assert torch.abs(got - want).max().item() < 1e-5


def test_float16_graph_runs_close_to_float32():
    model, _ = load_checkpoint('default')
    readout = ModelReadout(model).eval()
    data = onnx_model(readout, 256)
    half = autocast_float16(data)
    graph = onnx.load_from_string(half).graph
    casts = [n for n in graph.node if n.op_type == 'Cast']
    assert casts and any(t.data_type == onnx.TensorProto.FLOAT16 for t in graph.initializer)
    ranks = ranks_of(*gaussian_rows(256)).numpy()
    full, reduced = OnnxSession(data, 'cpu').run(ranks), OnnxSession(half, 'cpu').run(ranks)
    assert reduced.dtype == np.float32 and np.abs(reduced - full).max() < 1e-2


def test_providers_follow_the_device_and_the_build():
    cpu_only = ['CPUExecutionProvider']
    gpu = ['TensorrtExecutionProvider', 'CUDAExecutionProvider', 'CPUExecutionProvider']
    assert select_providers('cpu', gpu) == cpu_only
    assert select_providers('auto', cpu_only) == cpu_only
    assert select_providers('auto', gpu) == [('CUDAExecutionProvider', {'device_id': 0}),
                                             'CPUExecutionProvider']
    assert select_providers(torch.device('cuda:1'), gpu)[0] == (
        'CUDAExecutionProvider', {'device_id': 1})
    trt = select_providers('tensorrt', gpu)
    assert [p[0] for p in trt[:2]] == gpu[:2] and trt[-1] == 'CPUExecutionProvider'
    assert trt[0][1]['trt_engine_cache_enable'] is True
    with pytest.raises(ValueError, match='onnxruntime-gpu'):
        select_providers('cuda', cpu_only)
    with pytest.raises(ValueError, match='unknown onnxruntime device'):
        select_providers('tpu', gpu)
    assert select_providers('auto') == select_providers('auto', None)  # this build's own
    with pytest.raises(ValueError, match="'torch', 'onnxruntime'"):
        check_backend('tensorrt')


def test_missing_onnxruntime_is_one_line_naming_pip_install():
    code = ('import sys; sys.modules["onnxruntime"] = None\n'
            'from infonet_ros.core.estimator import InfoNetEstimator\n'
            'try:\n'
            '    InfoNetEstimator.from_pretrained(device="cpu", backend="onnxruntime")\n'
            'except ImportError as exc:\n'
            '    print(exc)\n')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count('\n') == 1 and 'pip install onnx onnxruntime' in out.stdout


def test_cli_writes_both_formats(tmp_path, capsys):
    out = tmp_path / 'fast.onnx'
    assert cli.main(['export', '--weights', 'fast', '--format', 'onnx', '-o', str(out),
                     '--n', '64', '100']) == 0
    lines = capsys.readouterr().out.splitlines()
    written = [str(tmp_path / 'fast_n64.onnx'), str(tmp_path / 'fast_n100.onnx')]
    assert [line.split(':')[0] for line in lines] == written
    assert all('max |onnx - torch|' in line for line in lines)
    assert read_metadata(tmp_path / 'fast_n100.onnx')['n'] == '100'
    assert cli.main(['export', '--weights', 'fast', '--format', 'torchscript',
                     '-o', str(tmp_path / 'fast'), '--n', '64']) == 0
    assert 'max |torchscript - torch|' in capsys.readouterr().out
    assert read_metadata(tmp_path / 'fast_n64.pt')['weights'] == 'fast'


@pytest.mark.parametrize('args,words', [
    (['--format', 'tflite'], 'format must be one of onnx, torchscript'),
    (['--weights', 'no_such_weights.pt'], 'not found'),
    (['--n', '5000'], 'subsets of 1250 samples'),
    (['--n', '8'], 'N must be an integer >= 32'),
])
def test_cli_errors_are_one_line(tmp_path, capsys, args, words):
    assert cli.main(['export', '-o', str(tmp_path / 'm.onnx')] + args) == 1
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and err.startswith('infonet-ros export: error:') and words in err
    assert not list(tmp_path.iterdir())


def test_cli_unwritable_output_is_one_line(tmp_path, capsys):
    (tmp_path / 'a_file').write_text('')
    target = tmp_path / 'a_file' / 'm.onnx'  # a folder that is a file
    assert cli.main(['export', '-o', str(target), '--n', '64']) == 1
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and f'cannot write {tmp_path}/a_file/m_n64.onnx' in err


@pytest.mark.slow
def test_dynamo_exporter_matches_torch():
    model, _ = load_checkpoint('default')
    readout = ModelReadout(model).eval()
    ranks = ranks_of(*gaussian_rows(64))
    graph = OnnxSession(onnx_model(readout, 64, exporter='dynamo'), 'cpu')
    with torch.no_grad():
        want = readout(ranks).numpy()
    assert np.abs(graph.run(ranks.numpy()) - want).max() < TOLERANCE
