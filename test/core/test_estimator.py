# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""InfoNetEstimator with the shipped weights: accuracy, invariances, API contracts, errors."""

import math
import warnings

from broken_models import nan_model
import numpy as np
import pytest
import torch

from infonet_ros.core.checks import NonFiniteEstimateError, validate_pairs
from infonet_ros.core.estimator import (default_estimator, estimate_mi, estimate_rows,
                                        InfoNetEstimator, resolve_device)
from infonet_ros.core.limits import MIN_SAMPLES
from infonet_ros.core.model import DEFAULT_WEIGHTS, resolve_weights, SHIPPED_WEIGHTS
from infonet_ros.training.train import DEFAULT_SUP_BETA

N = 1000


@pytest.fixture(scope='module', params=sorted(SHIPPED_WEIGHTS))
def est(request):
    """Every shipped model passes every test of this file."""
    return InfoNetEstimator.from_pretrained(request.param, device='cpu')


def float32_twin(est):
    """Return ``est`` in float32: ``mi_torch`` runs float32 whatever the numpy API runs."""
    return InfoNetEstimator(est.model, est.device, est.provenance, precision='fp32')


def readout_offset(est) -> float:
    """
    Return the expected over-read near independence: in-sample models, 0 if cross-fitted.

    In-sample models are trained with a Huber term whose equilibrium lies sup_beta /
    sup_weight nats above the truth (docs/model_card.md); cross-fitted estimates scatter
    around 0.
    """
    if est.model.cfg.readout == 'crossfit':
        return 0.0
    return est.provenance.get('sup_beta', DEFAULT_SUP_BETA) / est.provenance['sup_weight']


def gaussian(rng, rho, shape):
    x = rng.standard_normal(shape)
    return x, rho * x + math.sqrt(1 - rho ** 2) * rng.standard_normal(shape)


def test_shipped_weights_exist_with_provenance(est):
    import os
    assert os.path.isfile(DEFAULT_WEIGHTS)
    assert all(os.path.isfile(resolve_weights(name)) for name in SHIPPED_WEIGHTS)
    for key in ('command', 'steps', 'seed', 'commit', 'torch', 'date'):
        assert key in est.provenance
    assert est.provenance['steps'] > 0


@pytest.mark.parametrize('rho', [0.3, 0.5, 0.75, 0.9, 0.95, 0.99])
def test_gaussian_mi_matches_the_analytic_value(est, rho):
    rng = np.random.default_rng(int(rho * 100))
    x, y = gaussian(rng, rho, (4, N))
    estimates = est.estimate_batch(x, y)
    truth = -0.5 * math.log(1 - rho ** 2)
    # Mean of 4 independent samples of N = 1000: sampling noise ~0.02 nats, so the
    # tolerance is mostly the model's bias (target: within 5-10 %).
    assert estimates.mean() == pytest.approx(truth, rel=0.1, abs=0.04)
    assert np.all(np.abs(estimates - truth) < max(0.2 * truth, 0.08))


def test_mi_increases_with_the_correlation(est):
    rng = np.random.default_rng(5)
    rhos = [0.0, 0.3, 0.6, 0.8, 0.95, 0.99]
    values = [est.estimate(*gaussian(rng, r, N)) for r in rhos]
    assert values == sorted(values)


@pytest.mark.parametrize('draw', [
    lambda rng, n: rng.standard_normal(n),
    lambda rng, n: rng.exponential(size=n),
    lambda rng, n: rng.uniform(size=n),
    lambda rng, n: rng.standard_t(1, size=n),
])
def test_independent_series_give_about_zero(est, draw):
    rng = np.random.default_rng(11)
    values = np.array([est.estimate(draw(rng, N), draw(rng, N)) for _ in range(6)])
    assert abs(values.mean() - readout_offset(est)) < 0.02
    assert np.all(np.abs(values) < 0.06)


def test_invariance_under_monotone_transforms(est):
    rng = np.random.default_rng(2)
    x, y = gaussian(rng, 0.8, N)
    base = est.estimate(x, y)
    # Ranks are unchanged by strictly increasing maps, so the estimate is bit-identical.
    assert est.estimate(np.exp(x), y ** 3) == base
    assert est.estimate(5.0 * x - 3.0, np.arcsinh(20.0 * y)) == base
    # A decreasing map reverses the ranks: the MI is the same, the estimate close to it.
    assert est.estimate(-x, y) == pytest.approx(base, abs=0.05)


@pytest.mark.parametrize('rho, step, rel', [
    (0.0, 0.5, 0.0), (0.0, 2.0, 0.0), (0.5, 0.2, 0.15), (0.9, 0.2, 0.1), (0.9, 0.5, 0.2)])
def test_quantized_samples_give_the_mi_of_the_quantized_pair(est, rho, step, rel):
    # Rounded Gaussians (5 to 30 levels, as from a coarse ADC) are full of ties. With tied
    # samples stacked on one rank the readout's uniform-marginal term is wrong (-1.6 nats on
    # independent data at a step of 0.5); broken ties give the discrete pair's MI, exactly known.
    from infonet_ros.training.groundtruth import quantized_gaussian_case
    case = quantized_gaussian_case(rho, step)
    rng = np.random.default_rng(int(10 * rho + step))
    pairs = [case.sample(N, rng) for _ in range(4)]
    estimates = est.estimate_batch(np.stack([p[0] for p in pairs]),
                                   np.stack([p[1] for p in pairs]))
    assert estimates.mean() == pytest.approx(case.truth + readout_offset(est), rel=rel, abs=0.03)


def test_mi_torch_reads_tied_data_as_estimate_does(est):
    # Tied values are ranked in estimate()'s fixed order by the soft ranks too: with one
    # shared soft rank per tie, independent binary series read 3-5 nats.
    from infonet_ros.training.groundtruth import quantized_gaussian_case
    rng = np.random.default_rng(4)
    x, y = gaussian(rng, 0.8, N)
    pairs = [quantized_gaussian_case(0.0, 0.5).sample(N, rng),
             quantized_gaussian_case(0.8, 0.5).sample(N, rng),
             (rng.integers(0, 2, N) * 1.0, rng.integers(0, 2, N) * 1.0),
             ((x > 0) * 1.0, (y > 0) * 1.0)]
    for a, b in pairs:
        expected = float32_twin(est).estimate(a, b)
        at, bt = torch.from_numpy(a), torch.from_numpy(b)
        with warnings.catch_warnings():
            warnings.simplefilter('error')
            assert est.mi_torch(at, bt, soft=False).item() == pytest.approx(expected, abs=1e-5)
            assert est.mi_torch(at, bt).item() == pytest.approx(expected, abs=0.02)


def test_mi_torch_of_a_constant_side_is_exactly_zero_with_a_zero_gradient(est):
    rng = np.random.default_rng(5)
    x = torch.tensor(rng.standard_normal(300), requires_grad=True)
    const = torch.full((300,), 2.0, dtype=torch.float64, requires_grad=True)
    for soft in (True, False):
        for a, b in ((x, const), (const, x), (const, -const)):
            mi = est.mi_torch(a, b, soft=soft)
            assert mi.item() == 0.0 and math.copysign(1.0, mi.item()) == 1.0
            mi.backward()
        for t in (x, const):
            assert torch.equal(t.grad, torch.zeros_like(t))
            t.grad = None
    # In a batch only the degenerate rows are 0; the others are estimated as alone.
    xb = torch.stack([x.detach(), const.detach(), x.detach()]).requires_grad_()
    yb = torch.stack([x.detach() ** 3, x.detach(), torch.zeros(300, dtype=torch.float64)])
    out = est.mi_torch(xb, yb)
    assert out[1].item() == 0.0 and out[2].item() == 0.0
    assert out[0].item() == est.mi_torch(x.detach(), x.detach() ** 3).item()
    out.sum().backward()
    assert xb.grad[0].abs().sum() > 0 and not xb.grad[1:].any()


def test_mi_torch_of_a_sparse_long_series_matches_estimate(est):
    # Longer than the training sets: interleaved subsets, of which 3 in 4 are constant here.
    rng = np.random.default_rng(6)
    x = np.zeros(5000)
    x[::4] = rng.standard_normal(1250)
    y = x + 0.5 * rng.standard_normal(5000)
    expected = float32_twin(est).estimate(x, y)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    assert est.mi_torch(xt, yt, soft=False).item() == pytest.approx(expected, abs=1e-5)
    assert est.mi_torch(xt, yt).item() == pytest.approx(expected, abs=0.03)


def test_binary_series_give_the_mi_of_the_two_by_two_table(est):
    # Signs of a Gaussian pair: P(both positive) = 1/4 + asin(rho) / (2 pi), a closed form.
    rho = 0.9
    p_same = 0.25 + math.asin(rho) / (2 * math.pi)
    p_diff = 0.5 - p_same
    truth = 2 * p_same * math.log(p_same / 0.25) + 2 * p_diff * math.log(p_diff / 0.25)
    rng = np.random.default_rng(11)
    x, y = gaussian(rng, rho, (4, N))
    dep = est.estimate_batch((x > 0) * 1.0, (y > 0) * 1.0)
    ind = est.estimate_batch((x > 0) * 1.0, (rng.standard_normal((4, N)) > 0) * 1.0)
    # A 2 x 2 table is a step-shaped copula: the smooth critic reads it 15-25 % low.
    assert dep.mean() == pytest.approx(truth, rel=0.3)
    assert ind.mean() == pytest.approx(readout_offset(est), abs=0.02)


def test_estimate_is_symmetric_in_distribution(est):
    rng = np.random.default_rng(3)
    x, y = gaussian(rng, 0.9, N)
    assert est.estimate(y, x) == pytest.approx(est.estimate(x, y), abs=0.06)


def test_batch_equals_loop(est):
    rng = np.random.default_rng(4)
    x, y = gaussian(rng, 0.7, (5, 300))
    batch = est.estimate_batch(x, y)
    assert batch.shape == (5,) and batch.dtype == np.float64
    loop = np.array([est.estimate(x[i], y[i]) for i in range(5)])
    np.testing.assert_allclose(batch, loop, atol=1e-5)


def test_jit_traces_give_the_eager_estimates_for_any_length_and_batch(est):
    jit = InfoNetEstimator(est.model, 'cpu', est.provenance, jit=True)
    jit._traced.cache_size = 2  # small, to exercise the eviction of the oldest trace
    rng = np.random.default_rng(5)
    for n in (1000, 64, 257, 1000):
        for b in (1, 7):
            x, y = gaussian(rng, 0.8, (b, n))
            np.testing.assert_allclose(jit.estimate_batch(x, y), est.estimate_batch(x, y),
                                       atol=1e-6)
    # One trace per series length (ranks, network and readout); 1000 came back: the newest.
    assert jit._traced.shapes() == [(2, 257), (2, 1000)] and jit.jit_failure == ''
    # The differentiable path stays eager: gradients still reach the inputs.
    xt = torch.tensor(x[0], requires_grad=True)
    jit.mi_torch(xt, torch.tensor(y[0])).backward()
    assert torch.isfinite(xt.grad).all() and xt.grad.abs().sum() > 0


def test_jit_falls_back_to_the_eager_model_when_tracing_fails(est, monkeypatch):
    jit = InfoNetEstimator(est.model, 'cpu', est.provenance, jit=True)

    def refuse(*args, **kwargs):
        raise RuntimeError('no TorchScript here')
    monkeypatch.setattr(torch.jit, 'trace', refuse)
    rng = np.random.default_rng(8)
    x, y = gaussian(rng, 0.5, (3, 200))
    with pytest.warns(RuntimeWarning, match='no TorchScript here'):
        got = jit.estimate_batch(x, y)
    np.testing.assert_allclose(got, est.estimate_batch(x, y), atol=1e-6)
    assert 'no TorchScript here' in jit.jit_failure
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # warned once: later calls just run the eager model
        np.testing.assert_allclose(jit.estimate_batch(x, y), got, atol=0)


def test_estimate_many_equals_estimate_for_mixed_lengths(est):
    rng = np.random.default_rng(6)
    pairs = [gaussian(rng, r, n) for r, n in ((0.5, 200), (0.9, 500), (0.2, 200),
                                              (0.99, 64), (0.7, 500))]
    many = est.estimate_many(pairs)
    single = np.array([est.estimate(x, y) for x, y in pairs])
    np.testing.assert_allclose(many, single, atol=1e-5)


def test_estimates_do_not_depend_on_the_batch_they_are_in(est):
    rng = np.random.default_rng(7)
    x, y = gaussian(rng, 0.6, (4, 400))
    full = est.estimate_batch(x, y)
    part = est.estimate_batch(x[2:], y[2:])
    np.testing.assert_allclose(full[2:], part, atol=1e-5)


def test_list_and_tensor_inputs(est):
    rng = np.random.default_rng(8)
    x, y = gaussian(rng, 0.5, 100)
    base = est.estimate(x, y)
    assert est.estimate(list(x), list(y)) == base
    assert est.estimate(torch.from_numpy(x), torch.from_numpy(y)) == base
    assert est.estimate(x.astype(np.float32), y.astype(np.float32)) == pytest.approx(
        base, abs=1e-6)


def test_mi_torch_matches_estimate_and_gives_input_gradients(est):
    rng = np.random.default_rng(9)
    x, y = gaussian(rng, 0.8, 500)
    hard = est.mi_torch(torch.from_numpy(x), torch.from_numpy(y), soft=False)
    assert hard.item() == pytest.approx(float32_twin(est).estimate(x, y), abs=1e-5)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.tensor(y, requires_grad=True)
    mi = est.mi_torch(xt, yt)
    assert mi.dim() == 0
    # Soft ranks are within ~1 % of the hard ones, so the estimate is close.
    assert mi.item() == pytest.approx(hard.item(), abs=0.05)
    mi.backward()
    for t in (xt, yt):
        assert t.grad is not None and torch.isfinite(t.grad).all()
        assert t.grad.abs().sum().item() > 0


def test_mi_torch_gradient_ascent_raises_the_estimate(est):
    # Moving y along the gradient must increase the estimated dependence on x.
    rng = np.random.default_rng(10)
    x, y = gaussian(rng, 0.3, 400)
    xt = torch.from_numpy(x)
    yt = torch.tensor(y, requires_grad=True)
    before = est.mi_torch(xt, yt)
    before.backward()
    with torch.no_grad():
        y2 = yt + 0.5 * yt.grad / yt.grad.norm() * math.sqrt(400) * 0.1
    after = est.mi_torch(xt, y2)
    assert after.item() > before.item()


def test_mi_torch_batch_shape(est):
    x = torch.randn(3, 100)
    out = est.mi_torch(x, x + torch.randn(3, 100))
    assert out.shape == (3,)


def test_constant_series_give_exactly_zero(est):
    rng = np.random.default_rng(12)
    x = rng.standard_normal(200)
    assert est.estimate(np.full(200, 3.0), x) == 0.0
    assert est.estimate(x, np.zeros(200)) == 0.0
    xb = np.stack([x, np.full(200, 1.0), x])
    yb = np.stack([x ** 3, x, np.zeros(200)])
    out = est.estimate_batch(xb, yb)
    assert out[1] == 0.0 and out[2] == 0.0
    assert out[0] == pytest.approx(est.estimate(x, x ** 3), abs=1e-5)


@pytest.mark.parametrize('x, y, words', [
    ([np.nan] + [0.0] * 99, [0.0] * 100, 'NaN'),
    ([0.0] * 99 + [np.inf], [0.0] * 100, 'inf'),
    ([0.0] * 100, [0.0] * 99 + [-np.inf], 'inf'),
    ([0.0] * 100, [0.0] * 101, 'same shape'),
    ([0.0] * (MIN_SAMPLES - 1), [0.0] * (MIN_SAMPLES - 1), f'at least {MIN_SAMPLES}'),
    ([], [], f'at least {MIN_SAMPLES}'),
    ([[0.0] * 100] * 2, [[0.0] * 100] * 2, '1-D'),
    (5.0, 3.0, '1-D'),
    (['a'] * 100, [0.0] * 100, 'numeric'),
    ([0.0] * 100, [object()] * 100, 'numeric'),
])
def test_bad_input_raises_value_error(est, x, y, words):
    with pytest.raises(ValueError, match=words):
        est.estimate(x, y)


def test_nan_error_names_the_series_and_index(est):
    y = np.zeros(100)
    y[17] = np.nan
    with pytest.raises(ValueError, match=r'y contains NaN or inf \(first at index 17\)'):
        est.estimate(np.arange(100.0), y)


def test_bad_batch_input_raises_value_error(est):
    with pytest.raises(ValueError, match='2-D'):
        est.estimate_batch(np.zeros(100), np.zeros(100))
    with pytest.raises(ValueError, match='same shape'):
        est.estimate_batch(np.zeros((2, 100)), np.zeros((3, 100)))
    with pytest.raises(ValueError, match='at least'):
        est.estimate_batch(np.zeros((0, 100)), np.zeros((0, 100)))
    with pytest.raises(ValueError, match='NaN'):
        est.estimate_many([(np.zeros(100), np.zeros(100)), (np.full(100, np.nan),
                                                            np.zeros(100))])


def test_bad_torch_input_raises_value_error(est):
    with pytest.raises(ValueError, match='shape'):
        est.mi_torch(torch.zeros(100), torch.zeros(99))
    with pytest.raises(ValueError, match='at least'):
        est.mi_torch(torch.zeros(10), torch.zeros(10))
    with pytest.raises(ValueError, match='finite'):
        est.mi_torch(torch.full((100,), float('nan')), torch.zeros(100))
    with pytest.raises(ValueError, match='empty batch: B must be at least 1'):
        est.mi_torch(torch.zeros(0, 100), torch.zeros(0, 100))


@pytest.mark.parametrize('convert, words', [
    (lambda t: t.to(torch.bfloat16), 'must be float32 or float64, got torch.bfloat16'),
    (lambda t: t.half(), 'must be float32 or float64, got torch.float16'),
    (lambda t: (10 * t).long(), 'must be float32 or float64, got torch.int64'),
    (lambda t: t > 0, 'must be float32 or float64, got torch.bool'),
    (lambda t: t.numpy(), 'must be a torch.Tensor, got ndarray'),
    (lambda t: t.tolist(), 'must be a torch.Tensor, got list'),
])
def test_mi_torch_names_an_input_type_it_cannot_read(est, convert, words):
    t = torch.randn(100, dtype=torch.float64)
    with pytest.raises(ValueError, match='^x ' + words):
        est.mi_torch(convert(t), t)
    with pytest.raises(ValueError, match='^y ' + words):
        est.mi_torch(t, convert(t))


@pytest.mark.parametrize('tau', [0, 0.0, -0.05, float('nan'), float('inf'), None])
def test_mi_torch_refuses_a_temperature_that_is_not_positive(est, tau):
    t = torch.randn(100, dtype=torch.float64)
    for soft in (True, False):
        with pytest.raises(ValueError, match='tau must be a positive finite number'):
            est.mi_torch(t, t, soft=soft, tau=tau)


# Runs in its own process, so that the peak memory it reports is that of mi_torch alone.
MEMORY_PROBE = """
import resource, sys
import torch
from infonet_ros.core.estimator import InfoNetEstimator
est = InfoNetEstimator.from_pretrained('fast', device='cpu')
n = int(sys.argv[1])
x = torch.randn(n, requires_grad=True)
y = x.detach() + torch.randn(n)
est.mi_torch(x[:2000], y[:2000]).backward()  # one set: the network's own buffers
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
est.mi_torch(x, y).backward()
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""


def test_mi_torch_memory_grows_with_n_not_n_squared():
    # 20 subsets of 2,000 samples: all their soft-rank comparisons at once, with autograd's
    # copies, are ~1 GB; in blocks, forward and backward, a few tens of MB.
    import os
    import subprocess
    import sys
    env = dict(os.environ, OMP_NUM_THREADS='1')
    done = subprocess.run([sys.executable, '-c', MEMORY_PROBE, '40000'], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split()[-1]) < 250  # MB above the single set's peak


def test_validate_pairs_returns_float64_rows():
    x, y = validate_pairs(np.arange(40), np.arange(40.0), ndim=1)
    assert x.shape == (1, 40) and x.dtype == np.float64


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the error raised without a GPU')
def test_cuda_without_gpu_raises_value_error():
    with pytest.raises(ValueError, match='CUDA'):
        resolve_device('cuda')
    with pytest.raises(ValueError, match='CUDA'):
        InfoNetEstimator.from_pretrained(device='cuda')
    with pytest.raises(ValueError, match='CUDA'):
        estimate_mi(np.arange(100.0), np.arange(100.0), device='cuda:0')


def test_unknown_device_raises_value_error():
    with pytest.raises(ValueError, match='unknown device'):
        resolve_device('tpu')


def test_auto_device_resolves():
    assert resolve_device('auto').type in ('cpu', 'cuda')
    assert resolve_device(torch.device('cpu')) == torch.device('cpu')


def test_estimate_mi_uses_the_default_shipped_weights():
    rng = np.random.default_rng(13)
    x, y = gaussian(rng, 0.9, 500)
    default = InfoNetEstimator.from_pretrained('default', device='cpu')
    assert estimate_mi(x, y, device='cpu') == default.estimate(x, y)
    fine = InfoNetEstimator.from_pretrained('fine', device='cpu')
    assert fine.estimate(x, y) != default.estimate(x, y)  # a different model


def test_the_default_estimator_is_loaded_once_per_device():
    cached = default_estimator('cpu')
    assert default_estimator('cpu') is cached and default_estimator(torch.device('cpu')) is cached
    assert cached.provenance == InfoNetEstimator.from_pretrained(device='cpu').provenance
    if not torch.cuda.is_available():
        assert default_estimator('auto') is cached


def test_estimate_rows_runs_passes_of_at_most_batch_rows(est, monkeypatch):
    rng = np.random.default_rng(16)
    x, y = gaussian(rng, 0.5, (7, 200))
    passes = []
    batch = est.estimate_batch

    def counted(a, b):
        passes.append(len(a))
        return batch(a, b)
    monkeypatch.setattr(est, 'estimate_batch', counted)
    out = estimate_rows(est, x, y, batch_rows=3)
    assert passes == [3, 3, 1]
    np.testing.assert_allclose(out, batch(x, y), atol=1e-5)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match='batch_rows'):
            estimate_rows(est, x, y, batch_rows=bad)


def test_settings_after_the_provenance_are_keyword_only(est):
    with pytest.raises(TypeError):
        InfoNetEstimator(est.model, 'cpu', est.provenance, 0)


@pytest.mark.parametrize('name, n, bound', [('default', 64, 0.15), ('default', 300, 0.06),
                                            ('fine', 64, 0.2), ('fine', 300, 0.07),
                                            ('fast', 64, 0.13), ('fast', 300, 0.05)])
def test_short_window_bias_on_independent_data_stays_within_the_model_card(name, n, bound):
    # docs/model_card.md (model_tradeoff.md): +0.060 / +0.003 nats at N = 64 / 256 for
    # 'default', +0.12 / +0.04 for 'fine', +0.034 / +0.004 for 'fast'.
    rng = np.random.default_rng(21)
    est = InfoNetEstimator.from_pretrained(name, device='cpu')
    x, y = rng.standard_normal((2, 100, n))
    assert 0.0 < est.estimate_batch(x, y).mean() < bound


@pytest.mark.parametrize('integral', ['bilinear', 'midpoint'])
@pytest.mark.parametrize('readout', ['crossfit', 'insample'])
def test_the_estimator_applies_the_readout_of_the_models_config(readout, integral):
    from infonet_ros.core.copula import pair_ranks
    from infonet_ros.core.model import InfoNet, InfoNetConfig
    from infonet_ros.core.readout import set_mi
    torch.manual_seed(0)
    cfg = InfoNetConfig(d_model=16, n_heads=2, n_latents=8, n_self_layers=1, n_fourier=4,
                        coarse_grid=8, grid_size=16, decoder_channels=16, readout=readout,
                        integral=integral)
    model = InfoNet(cfg).eval()
    rng = np.random.default_rng(9)
    x, y = gaussian(rng, 0.7, (3, 301))
    uv = torch.from_numpy(pair_ranks(np.stack([x, y], axis=1))).float().transpose(1, 2)
    with torch.no_grad():
        expected = set_mi(model, uv, readout, integral=integral).numpy()
        other = set_mi(model, uv, ({'crossfit', 'insample'} - {readout}).pop(),
                       integral=integral).numpy()
        other_integral = set_mi(model, uv, readout, integral=(
            {'bilinear', 'midpoint'} - {integral}).pop()).numpy()
    assert np.abs(expected - other).max() > 1e-4  # the two readouts differ on this model
    assert np.abs(expected - other_integral).max() > 1e-6  # and so do the two integrals
    for jit in (False, True):
        est = InfoNetEstimator(model, 'cpu', jit=jit)
        np.testing.assert_allclose(est.estimate_batch(x, y), expected, atol=1e-6)
    mi = InfoNetEstimator(model, 'cpu').mi_torch(torch.tensor(x), torch.tensor(y), soft=False)
    np.testing.assert_allclose(mi.detach().numpy(), expected, atol=1e-6)


def test_an_estimate_is_never_nan_without_an_error():
    rng = np.random.default_rng(13)
    x, y = gaussian(rng, 0.5, (2, 200))
    for jit in (False, True):
        est = InfoNetEstimator(nan_model(), 'cpu', jit=jit)
        calls = [lambda: est.estimate(x[0], y[0]), lambda: est.estimate_batch(x, y),
                 lambda: est.estimate_many([(x[0], y[0]), (x[1, :100], y[1, :100])]),
                 lambda: estimate_rows(est, x, y, batch_rows=1),
                 lambda: est.mi_torch(torch.from_numpy(x), torch.from_numpy(y)),
                 lambda: est.mi_torch(torch.from_numpy(x[0]), torch.from_numpy(y[0]),
                                      soft=False)]
        for call in calls:
            with pytest.raises(NonFiniteEstimateError, match=r'non-finite estimate \(nan\)'):
                call()
    # A constant side is still exactly 0: no network call, nothing to refuse.
    assert InfoNetEstimator(nan_model(), 'cpu').estimate(x[0], np.ones(200)) == 0.0
