# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""InfoNet network: shapes, set semantics, config checks, checkpoints and their errors."""

import os
import warnings

import pytest
import torch

from infonet_ros.core.content_hash import checkpoint_sha256
from infonet_ros.core.estimator import InfoNetEstimator
from infonet_ros.core.model import (attend, cell_density, CHECKPOINT_FORMAT, DEFAULT_WEIGHTS,
                                    fourier_features, InfoNet, InfoNetConfig, load_checkpoint,
                                    n_cell_features, resolve_weights, SHIPPED_WEIGHTS,
                                    UncheckedWeightsWarning, WeightsError, write_content_hash)

TINY = InfoNetConfig(d_model=16, n_heads=2, n_latents=8, n_self_layers=1, n_fourier=4,
                     coarse_grid=8, grid_size=32, decoder_channels=16)


@pytest.fixture
def tiny_model():
    torch.manual_seed(0)
    return InfoNet(TINY).eval()


def test_forward_shapes_for_several_set_sizes(tiny_model):
    for b, n in ((1, 32), (3, 100), (2, 1000)):
        out = tiny_model(torch.rand(b, n, 2))
        assert out.shape == (b, TINY.grid_size, TINY.grid_size)
        assert torch.isfinite(out).all()


def test_default_config_shapes_and_parameter_count():
    model = InfoNet(InfoNetConfig())
    assert model(torch.rand(2, 64, 2)).shape == (2, 64, 64)
    assert model.num_params() == sum(p.numel() for p in model.parameters()) > 100_000


def test_output_is_invariant_to_the_order_of_points(tiny_model):
    uv = torch.rand(2, 200, 2)
    perm = torch.randperm(200)
    with torch.no_grad():
        torch.testing.assert_close(tiny_model(uv), tiny_model(uv[:, perm]), rtol=1e-5,
                                   atol=1e-5)


def test_output_depends_on_the_points(tiny_model):
    with torch.no_grad():
        a = tiny_model(torch.rand(1, 200, 2))
        b = tiny_model(torch.rand(1, 200, 2) ** 3)
    assert not torch.allclose(a, b)


@pytest.mark.parametrize('nq, nk', [(8, 100), (64, 8), (1, 1)])
def test_attend_equals_torch_multihead_attention(nq, nk):
    torch.manual_seed(nq)
    mha = torch.nn.MultiheadAttention(16, 4, batch_first=True).eval()
    q, kv = torch.randn(3, nq, 16), torch.randn(3, nk, 16)
    expected = mha(q, kv, kv, need_weights=False)[0]
    torch.testing.assert_close(attend(mha, q, kv), expected, rtol=1e-5, atol=1e-6)


def test_cell_density_of_a_known_set():
    # Four points, one in each quadrant of a 2 x 2 grid (4 x 4 sub-cells).
    uv = torch.tensor([[[0.1, 0.1], [0.9, 0.1], [0.1, 0.9], [0.6, 0.6]]])
    f = cell_density(uv, 2)
    assert f.shape == (1, 4, 7)
    # Coarse density = count * cells / N = 1 * 4 / 4 in every cell.
    torch.testing.assert_close(f[0, :, 4], torch.ones(4))
    # Sub-cell densities (count * 16 / N): the point at (0.6, 0.6) sits in the lower-left
    # sub-cell of the upper-right cell (cells in row-major order, rows by v).
    assert f[0, 3, :4].tolist() == [4.0, 0.0, 0.0, 0.0]
    assert f[0, 0, :4].tolist() == [4.0, 0.0, 0.0, 0.0]
    assert f[0, 1, :4].tolist() == [0.0, 4.0, 0.0, 0.0]


def test_cell_density_is_one_on_average_and_counts_every_point():
    uv = torch.rand(3, 1000, 2)
    f = cell_density(uv, 16)
    torch.testing.assert_close(f[..., 4].mean(dim=1), torch.ones(3))
    assert torch.allclose(f[..., :4].sum(dim=(1, 2)) * 1000 / (32 * 32), torch.full((3,),
                          1000.0))
    # Points on the upper border (ranks reach 1) fall in the last cell, not outside.
    edge = cell_density(torch.ones(1, 40, 2), 4)
    assert edge[0, -1, 4].item() == pytest.approx(16.0)


def test_cell_density_with_finer_sub_cells():
    # One 2 x 2 grid read at 4 x 4 sub-cells per cell (an 8 x 8 count grid).
    uv = torch.tensor([[[0.01, 0.01], [0.3, 0.01], [0.01, 0.3], [0.9, 0.9]]])
    f = cell_density(uv, 2, k=4)
    assert f.shape == (1, 4, 4 * 4 + 3)
    assert n_cell_features(4) == f.shape[-1]
    # Sub-cells in row-major order (rows by v): (0.3, 0.01) is in sub-row 0, sub-column 2
    # of cell 0, and (0.01, 0.3) in sub-row 2, sub-column 0; density = count * 64 / N.
    assert f[0, 0, :16].nonzero().flatten().tolist() == [0, 2, 8]
    assert f[0, 0, 0].item() == 16.0
    # The coarse density is the mean of the sub-cells, whatever their number.
    torch.testing.assert_close(f[..., 16], cell_density(uv, 2)[..., 4])
    assert f[0, 3, 15].item() == 16.0 and f[0, 3, :15].sum().item() == 0.0


def test_cell_subdivision_below_one_is_rejected():
    with pytest.raises(ValueError, match='cell_subdivision'):
        InfoNetConfig(cell_subdivision=0)


def test_fourier_features_shape_and_values():
    p = torch.tensor([[0.5, 0.25]])
    f = fourier_features(p, 3)
    assert f.shape == (1, 2 + 4 * 3)
    assert f[0, :2].tolist() == [0.5, 0.25]
    # sin(pi * 1 * 0.5) = 1 is the first sine of the first coordinate
    assert f[0, 2].item() == pytest.approx(1.0)


@pytest.mark.parametrize('kwargs', [{'grid_size': 48, 'coarse_grid': 16},
                                    {'grid_size': 8, 'coarse_grid': 16},
                                    {'d_model': 30, 'n_heads': 4}])
def test_invalid_configs_raise(kwargs):
    with pytest.raises(ValueError):
        InfoNetConfig(**kwargs)


def test_config_from_dict_ignores_unknown_keys():
    cfg = InfoNetConfig.from_dict({'d_model': 32, 'n_heads': 2, 'not_a_field': 1})
    assert cfg.d_model == 32 and cfg.n_heads == 2


def test_config_readout_and_integral_are_checked_and_missing_fields_take_defaults():
    with pytest.raises(ValueError, match='readout'):
        InfoNetConfig(readout='halves')
    with pytest.raises(ValueError, match='integral must be one of'):
        InfoNetConfig(integral='simpson')
    cfg = InfoNetConfig.from_dict({'d_model': 32, 'n_heads': 2})
    assert (cfg.readout, cfg.integral) == ('crossfit', 'bilinear') == (
        InfoNetConfig().readout, InfoNetConfig().integral)
    assert InfoNetConfig.from_dict({'readout': 'insample'}).readout == 'insample'


def test_shipped_checkpoints_write_out_every_config_field():
    # No shipped model depends on a default: 'fine' integrates with the midpoint rule,
    # 'default' and 'fast' with the bilinear one (docs/model_card.md, "The integral of e^T").
    fields = set(InfoNetConfig().__dict__)
    for name, file in SHIPPED_WEIGHTS.items():
        ck = torch.load(resolve_weights(name), weights_only=True)
        assert set(ck['config']) == fields, file
        assert InfoNet.from_checkpoint(ck).cfg.integral == (
            'midpoint' if name == 'fine' else 'bilinear')


def test_shipped_provenance_says_what_the_model_is_and_how_to_reproduce_it():
    for name in SHIPPED_WEIGHTS:
        _, prov = load_checkpoint(name)
        assert prov['model'].startswith(f"InfoNet '{name}'")
        chain = prov['reproduce']
        assert chain[-1]['out'] == f'infonet_ros/core/weights/infonet_{name}.pt'
        assert chain[-1]['command'] == prov['command'] and chain[-1]['steps'] == prov['steps']
        assert chain[0]['command'].count('--init') == 0  # from random initialization
        for before, run in zip(chain, chain[1:]):  # each run reads the file of the one before
            assert f"--init {before['out']} " in run['command']
        assert prov['init']['from'] == chain[-2]['out']


def test_checkpoint_round_trip_gives_identical_outputs(tmp_path, tiny_model):
    path = tmp_path / 'ck.pt'
    torch.save(tiny_model.checkpoint({'steps': 7, 'torch': torch.__version__}), path)
    loaded, prov = load_checkpoint(path)
    assert not loaded.training
    assert loaded.cfg == tiny_model.cfg
    assert prov['steps'] == 7
    assert isinstance(prov['torch'], str)
    uv = torch.rand(3, 300, 2)
    with torch.no_grad():
        assert torch.equal(loaded(uv), tiny_model(uv))
    again = InfoNet.from_pretrained(path)
    with torch.no_grad():
        assert torch.equal(again(uv), tiny_model(uv))


def test_checkpoint_is_self_describing(tiny_model):
    ck = tiny_model.checkpoint()
    assert ck['format'] == CHECKPOINT_FORMAT
    assert ck['config']['grid_size'] == TINY.grid_size
    assert ck['provenance'] == {}
    assert set(ck['model']) == set(tiny_model.state_dict())


def test_estimator_from_checkpoint_file(tmp_path, tiny_model):
    path = tmp_path / 'ck.pt'
    torch.save(tiny_model.checkpoint({'steps': 1}), path)
    est = InfoNetEstimator.from_pretrained(path, device='cpu')
    assert est.provenance == {'steps': 1}
    assert isinstance(est.estimate(torch.randn(100).numpy(), torch.randn(100).numpy()), float)


def test_missing_weights_file_names_the_path(tmp_path):
    path = tmp_path / 'nowhere' / 'missing.pt'
    with pytest.raises(WeightsError, match='not found') as info:
        load_checkpoint(path)
    assert str(path) in str(info.value)
    with pytest.raises(WeightsError) as info:
        InfoNetEstimator.from_pretrained(path)
    assert str(path) in str(info.value)


def test_corrupt_weights_file_names_the_path(tmp_path):
    path = tmp_path / 'corrupt.pt'
    path.write_bytes(os.urandom(4096))
    with pytest.raises(WeightsError, match='cannot read') as info:
        load_checkpoint(path)
    assert str(path) in str(info.value)


def test_truncated_checkpoint_names_the_path(tmp_path, tiny_model):
    good = tmp_path / 'good.pt'
    torch.save(tiny_model.checkpoint(), good)
    bad = tmp_path / 'truncated.pt'
    bad.write_bytes(good.read_bytes()[:2000])
    with pytest.raises(WeightsError) as info:
        load_checkpoint(bad)
    assert str(bad) in str(info.value)


@pytest.mark.parametrize('payload', [{'some': 'dict'}, [1, 2, 3],
                                     {'format': 'other/1', 'model': {}}])
def test_foreign_file_names_the_path(tmp_path, payload):
    path = tmp_path / 'foreign.pt'
    torch.save(payload, path)
    with pytest.raises(WeightsError, match='not an infonet_ros checkpoint') as info:
        load_checkpoint(path)
    assert str(path) in str(info.value)


def test_plain_state_dict_is_foreign(tmp_path, tiny_model):
    path = tmp_path / 'state_dict.pt'
    torch.save(tiny_model.state_dict(), path)
    with pytest.raises(WeightsError, match='not an infonet_ros checkpoint'):
        load_checkpoint(path)


def test_weights_not_matching_their_config_name_the_path(tmp_path, tiny_model):
    ck = tiny_model.checkpoint()
    ck['config']['d_model'] = 32  # the stored tensors are for d_model = 16
    ck['sha256'] = checkpoint_sha256(ck)  # a consistent file, written so
    path = tmp_path / 'mismatch.pt'
    torch.save(ck, path)
    with pytest.raises(WeightsError, match='does not match') as info:
        load_checkpoint(path)
    assert str(path) in str(info.value)


def test_weights_names_resolve_to_shipped_files_and_paths_pass_through(tmp_path):
    assert resolve_weights(None) == resolve_weights('') == DEFAULT_WEIGHTS
    assert resolve_weights('default') == DEFAULT_WEIGHTS
    assert resolve_weights('fine').endswith(os.path.join('weights', 'infonet_fine.pt'))
    assert resolve_weights(tmp_path / 'x.pt') == str(tmp_path / 'x.pt')
    with pytest.raises(WeightsError, match='shipped name: default, fine'):
        load_checkpoint('fin')


def test_default_weights_path_is_inside_the_package():
    assert DEFAULT_WEIGHTS.endswith(os.path.join('infonet_ros', 'core', 'weights',
                                                 'infonet_default.pt'))


# ---- content hash -------------------------------------------------------------------------

def read_raw(path):
    """Return a checkpoint file's dict as stored (no checks)."""
    with torch.serialization.safe_globals([torch.torch_version.TorchVersion]):
        return torch.load(path, weights_only=True)


@pytest.mark.parametrize('name', sorted(SHIPPED_WEIGHTS))
def test_shipped_checkpoints_carry_the_hash_of_their_content(name):
    ck = read_raw(resolve_weights(name))
    assert ck['sha256'] == checkpoint_sha256(ck)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        load_checkpoint(name)


def test_checkpoints_carry_a_content_hash_that_loading_checks(tmp_path, tiny_model):
    ck = tiny_model.checkpoint({'steps': 3})
    assert len(ck['sha256']) == 64 and ck['sha256'] == checkpoint_sha256(ck)
    good = tmp_path / 'good.pt'
    torch.save(ck, good)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert load_checkpoint(good)[1] == {'steps': 3}
    # One weight moved by one step of float32 rounding, or a config field changed.
    weight = ck['model']['cell_embed.weight']
    weight[0, 0] = torch.nextafter(weight[0, 0], torch.tensor(1.0))
    altered = tmp_path / 'altered.pt'
    torch.save(ck, altered)
    config = tiny_model.checkpoint()
    config['config']['integral'] = 'midpoint'
    reconfigured = tmp_path / 'reconfigured.pt'
    torch.save(config, reconfigured)
    for path in (altered, reconfigured):
        with pytest.raises(WeightsError, match='was altered or damaged') as info:
            load_checkpoint(path)
        assert str(path) in str(info.value)
        with pytest.raises(WeightsError, match='was altered or damaged'):
            write_content_hash(path)
    # The provenance describes the run: annotating it keeps the hash valid.
    ck = tiny_model.checkpoint({'steps': 3})
    ck['provenance']['note'] = 'evaluated'
    torch.save(ck, good)
    load_checkpoint(good)


def test_the_content_hash_is_canonical(tiny_model):
    ck = tiny_model.checkpoint()
    reordered = dict(ck, model=dict(reversed(list(ck['model'].items()))),
                     config=dict(reversed(list(ck['config'].items()))))
    assert checkpoint_sha256(reordered) == ck['sha256']
    name = 'cell_embed.weight'
    weight = ck['model'][name]
    strided = weight.t().contiguous().t()  # same values in another memory layout
    assert checkpoint_sha256(dict(ck, model=dict(ck['model'], **{name: strided}))) \
        == ck['sha256']
    for changed in (weight.double(), weight.reshape(-1), weight.t()):
        assert checkpoint_sha256(dict(ck, model=dict(ck['model'], **{name: changed}))) \
            != ck['sha256']


def test_an_unhashed_checkpoint_loads_with_a_warning_until_one_is_added(tmp_path, tiny_model):
    ck = tiny_model.checkpoint({'steps': 5})
    del ck['sha256']
    path = tmp_path / 'unhashed.pt'
    torch.save(ck, path)
    with pytest.warns(UncheckedWeightsWarning, match='no content hash') as record:
        model, prov = load_checkpoint(path)
    assert str(path) in str(record[0].message) and prov == {'steps': 5}
    digest = write_content_hash(path)
    assert read_raw(path)['sha256'] == digest == tiny_model.checkpoint({'steps': 5})['sha256']
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        load_checkpoint(path)
    assert write_content_hash(path) == digest  # a checked hash stays as it is


@pytest.mark.parametrize('value', [float('nan'), float('inf'), -float('inf')])
def test_non_finite_weights_are_refused_even_with_a_valid_hash(tmp_path, tiny_model, value):
    ck = tiny_model.checkpoint()
    ck['model']['latents'][3, 1] = value
    ck['sha256'] = checkpoint_sha256(ck)  # a diverged run writes a consistent file
    path = tmp_path / 'diverged.pt'
    torch.save(ck, path)
    with pytest.raises(WeightsError, match='holds NaN or inf in latents') as info:
        load_checkpoint(path)
    assert str(path) in str(info.value)
    del ck['sha256']
    torch.save(ck, path)
    with pytest.raises(WeightsError, match='NaN or inf'), pytest.warns(UncheckedWeightsWarning):
        load_checkpoint(path)
    with pytest.raises(WeightsError, match='NaN or inf'):
        write_content_hash(path)
