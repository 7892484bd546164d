# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Training: a tiny run raises the DV bound; checkpoints, resume, provenance; DDP on gloo.

Runs go through ``infonet-ros train``'s own entry point (:mod:`infonet_ros.cli.train`), which
parses the flags and calls :func:`infonet_ros.training.train.run`.
"""

import argparse
import json
import os
import socket
import subprocess
import sys

import pytest
import torch

import infonet_ros
from infonet_ros.cli import train as train_cli
from infonet_ros.core.copula import rank_normalize
from infonet_ros.core.model import InfoNet, InfoNetConfig, load_checkpoint
from infonet_ros.core.readout import crossfit_mi
from infonet_ros.training import simulate
from infonet_ros.training import train
from infonet_ros.training.simulate import sample_batch, sample_gaussian

TINY_ARGS = ['--d-model', '16', '--n-heads', '2', '--n-latents', '8', '--n-self-layers', '1',
             '--n-fourier', '4', '--coarse-grid', '8', '--grid-size', '16',
             '--decoder-channels', '16', '--n-min', '64', '--n-max', '256',
             '--points-per-step', '2048', '--warmup', '5', '--no-progress']
TINY_CFG = InfoNetConfig(d_model=16, n_heads=2, n_latents=8, n_self_layers=1, n_fourier=4,
                         coarse_grid=8, grid_size=16, decoder_channels=16)
PROVENANCE_KEYS = {'command', 'seed', 'steps', 'wall_time_s', 'commit', 'torch', 'world_size',
                   'device', 'date', 'families', 'n_range', 'points_per_step', 'lr',
                   'sup_weight', 'sup_beta', 'objective'}


def validation_uv():
    """Build a fixed validation batch: dependent Gaussians and mixed training families."""
    g = torch.Generator().manual_seed(1234)
    xg, yg, _ = sample_gaussian(16, 256, torch.linspace(0.5, 0.95, 16), g)
    xm, ym, _ = sample_batch(16, 256, g)
    x, y = torch.cat([xg, xm]), torch.cat([yg, ym])
    return torch.stack([rank_normalize(x), rank_normalize(y)], dim=-1)


@torch.no_grad()
def mean_bound(model, uv):
    return crossfit_mi(model.eval(), uv, integral=model.cfg.integral).mean().item()


def read_log(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_tiny_training_raises_the_bound(tmp_path):
    out = str(tmp_path / 'tiny.pt')
    seed = 3
    torch.manual_seed(seed)  # train.run seeds the same way before building the model
    initial = InfoNet(TINY_CFG)
    uv = validation_uv()
    before = mean_bound(initial, uv)
    assert train_cli.main(TINY_ARGS + ['--out', out, '--steps', '60', '--lr', '3e-3', '--seed',
                                       str(seed), '--sup-weight', '0', '--log-every', '20',
                                       '--ckpt-every', '1000']) == 0
    trained, prov = load_checkpoint(out)
    after = mean_bound(trained, uv)
    # The untrained critic table is nearly flat (bound ~0); the DV objective alone must
    # lift the bound on held-out sets well above that.
    assert abs(before) < 0.05
    assert after > before + 0.1, (before, after)
    assert prov['steps'] == 60 and prov['sup_weight'] == 0.0
    log = read_log(out + '.log.jsonl')
    assert [r['step'] for r in log] == [20, 40, 60]
    assert all(set(r) >= {'bound', 'mae_vs_true', 'loss', 'lr', 'elapsed_s'} for r in log)


def test_checkpoint_resume_and_provenance(tmp_path):
    out = str(tmp_path / 'run.pt')
    common = TINY_ARGS + ['--out', out, '--seed', '1', '--log-every', '10', '--ckpt-every',
                          '10']
    train_cli.main(common + ['--steps', '20'])
    model, prov = load_checkpoint(out)
    assert set(prov) >= PROVENANCE_KEYS
    # By default a model integrates e^T of the bilinear critic, and says so in config and
    # provenance.
    assert model.cfg.integral == 'bilinear'
    assert prov['objective'] == ('cross-fitted DV (exact marginal term, bilinear integral) '
                                 '+ sup_weight * Huber')
    assert prov['steps'] == 20 and prov['world_size'] == 1 and prov['seed'] == 1
    assert prov['command'].startswith('infonet-ros train ') and '--steps 20' in prov['command']
    assert isinstance(prov['torch'], str) and prov['torch'] == str(torch.__version__)
    assert prov['n_range'] == [64, 256]
    resume = torch.load(out + '.resume.pt', weights_only=True)
    assert resume['step'] == 20 and 'optimizer' in resume

    train_cli.main(common + ['--steps', '30', '--resume'])
    model_30, prov = load_checkpoint(out)
    assert prov['steps'] == 30  # continued from 20, not restarted
    assert [r['step'] for r in read_log(out + '.log.jsonl')] == [10, 20, 30]
    assert torch.load(out + '.resume.pt', weights_only=True)['step'] == 30

    # Resuming at the final step trains nothing: the weights come back unchanged.
    train_cli.main(common + ['--steps', '30', '--resume'])
    model_again, prov = load_checkpoint(out)
    assert prov['steps'] == 30
    for (k, a), b in zip(model_30.state_dict().items(), model_again.state_dict().values()):
        assert torch.equal(a, b), k


def test_trained_checkpoints_carry_the_hash_of_their_content(tmp_path):
    import warnings
    from infonet_ros.core.content_hash import checkpoint_sha256
    out = str(tmp_path / 'hashed.pt')
    assert train_cli.main(TINY_ARGS + ['--out', out, '--steps', '2']) == 0
    with torch.serialization.safe_globals([torch.torch_version.TorchVersion]):
        ck = torch.load(out, weights_only=True)
    assert ck['sha256'] == checkpoint_sha256(ck)
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # no UncheckedWeightsWarning
        load_checkpoint(out)


def test_families_option_sets_the_batch_and_the_provenance(tmp_path):
    out = str(tmp_path / 'fam.pt')
    train_cli.main(TINY_ARGS + ['--out', out, '--steps', '2', '--families',
                                'gmm=0.5,independent=0.5'])
    assert load_checkpoint(out)[1]['families'] == {'gmm': 0.5, 'independent': 0.5}
    default = {k: w for k, w in zip(simulate.FAMILIES, simulate.DEFAULT_FAMILY_WEIGHTS) if w}
    train_cli.main(TINY_ARGS + ['--out', out, '--steps', '2'])
    assert load_checkpoint(out)[1]['families'] == default


@pytest.mark.parametrize('text, reason', [
    ('gmm=1,nope=1', 'NAME one of'), ('gmm', 'NAME=SHARE'), ('gmm=x', 'not a number'),
    ('gmm=-1', '>= 0'), ('gmm=nan', 'finite'), ('gmm=0', 'sum to 0')])
def test_bad_families_are_refused_with_the_reason(text, reason):
    with pytest.raises(argparse.ArgumentTypeError, match=reason):
        train_cli.parse_families(text)


def test_parse_families_gives_unnamed_families_zero():
    shares = train_cli.parse_families('shaped_noise=2, gmm=1')
    assert shares == {**dict.fromkeys(simulate.FAMILIES, 0.0), 'shaped_noise': 2.0, 'gmm': 1.0}


def test_without_resume_a_run_starts_over(tmp_path):
    out = str(tmp_path / 'fresh.pt')
    args = TINY_ARGS + ['--out', out, '--seed', '2', '--log-every', '5']
    train_cli.main(args + ['--steps', '5'])
    train_cli.main(args + ['--steps', '5'])
    assert load_checkpoint(out)[1]['steps'] == 5


def test_set_size_schedule_is_shared_and_in_range():
    args = argparse.Namespace(seed=0, n_min=64, n_max=2048)
    sizes = [train.set_size(s, args) for s in range(200)]
    assert sizes == [train.set_size(s, args) for s in range(200)]
    assert min(sizes) >= 64 and max(sizes) <= 2048 and len(set(sizes)) > 50


class FreeTable(torch.nn.Module):
    """A critic table with no network behind it: every cell is a free parameter."""

    def __init__(self, g: int):
        super().__init__()
        self.table = torch.nn.Parameter(torch.zeros(g, g))

    def forward(self, uv):
        return self.table.expand(uv.shape[0], -1, -1)  # (B, G, G)


@pytest.mark.parametrize('sup_beta', [0.1, 0.02])
def test_insample_readout_settles_sup_beta_over_sup_weight_above_the_truth(sup_beta):
    # In-sample, a free 16 x 16 table fits 200 independent points to about +0.5 nats; the
    # Huber term (quadratic within sup_beta) stops it where its slope sup_weight * error /
    # sup_beta equals the bound's slope of 1: error = sup_beta / sup_weight.
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(4, 200, generator=g), torch.randn(4, 200, generator=g)
    model = FreeTable(16)
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(600):
        loss, est = train.training_loss(model, x, y, torch.zeros(4), 5.0, 'insample',
                                        sup_beta)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert est.mean().item() == pytest.approx(sup_beta / 5.0, rel=0.1)


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


# Runs the train command under torchrun and saves this rank's final weights: train.py saves on
# rank 0 only, so the model instance is captured to compare ranks.
RANK_WRAPPER = """
import os, sys
import torch
import infonet_ros.cli.train as C
import infonet_ros.training.train as T

made = []


class Capture(T.InfoNet):
    def __init__(self, cfg):
        super().__init__(cfg)
        made.append(self)


T.InfoNet = Capture
assert C.main(sys.argv[2:]) == 0
torch.save(made[0].state_dict(), os.path.join(sys.argv[1], 'rank%s.pt' % os.environ['RANK']))
"""


def test_ddp_on_two_cpu_processes_keeps_ranks_in_sync(tmp_path):
    script = tmp_path / 'rank_wrapper.py'
    script.write_text(RANK_WRAPPER)
    out = str(tmp_path / 'ddp.pt')
    env = dict(os.environ)
    src = os.path.dirname(os.path.dirname(os.path.abspath(infonet_ros.__file__)))
    env['PYTHONPATH'] = src + os.pathsep + env.get('PYTHONPATH', '')
    env['OMP_NUM_THREADS'] = '1'
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--nnodes', '1',
           '--nproc_per_node', '2', '--master_addr', '127.0.0.1',
           '--master_port', str(free_port()), str(script), str(tmp_path)]
    cmd += TINY_ARGS + ['--out', out, '--steps', '8', '--seed', '4', '--log-every', '4',
                        '--threads', '1']
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    r0 = torch.load(tmp_path / 'rank0.pt', weights_only=True)
    r1 = torch.load(tmp_path / 'rank1.pt', weights_only=True)
    # Ranks draw different data (their generators are seeded by rank), so equal weights
    # after training mean the gradients were averaged across ranks.
    for k in r0:
        assert torch.equal(r0[k], r1[k]), k
    torch.manual_seed(4)
    init = InfoNet(TINY_CFG).state_dict()
    assert any(not torch.equal(init[k], r0[k]) for k in r0)
    model, prov = load_checkpoint(out)
    assert prov['world_size'] == 2 and prov['steps'] == 8
    assert prov['command'].startswith('torchrun --nproc_per_node 2 -m infonet_ros.cli.train ')
    for k, v in model.state_dict().items():
        assert torch.equal(v, r0[k]), k


@pytest.mark.parametrize('bad', [['--grid-size', '48'], ['--readout', 'halves']])
def test_bad_model_config_is_refused_in_one_line(tmp_path, bad, capsys):
    out = tmp_path / 'x.pt'
    with pytest.raises(SystemExit) as info:
        train_cli.main(TINY_ARGS + ['--out', str(out), '--steps', '1'] + bad)
    assert info.value.code == 2 and not out.exists()
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith('infonet-ros train: error:') and bad[0][2:].replace('-', '_') in err


@pytest.mark.parametrize('extra, words', [
    (['--init', 'no/such/file.pt'], 'not found'), (['--device', 'tpu'], 'unknown device')])
def test_bad_files_and_devices_end_in_a_one_line_error(tmp_path, extra, words, capsys):
    code = train_cli.main(TINY_ARGS + ['--out', str(tmp_path / 'x.pt'), '--steps', '1'] + extra)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and words in err[0], err
    assert err[0].startswith('infonet-ros train: error:')


def test_parser_has_the_run_options_and_one_flag_per_config_field():
    parser = train_cli.build_parser()
    args = parser.parse_args(['--families', 'gmm=1', '--d-model', '8', '--resume'])
    assert args.families['gmm'] == 1.0 and args.d_model == 8 and args.resume
    flags = {a.dest for a in parser._actions}
    assert set(TINY_CFG.__dict__) <= flags
    assert {'out', 'steps', 'time_limit', 'sup_weight', 'sup_beta', 'init', 'families',
            'device', 'no_progress'} <= flags


def test_init_warm_starts_the_tensors_that_match(tmp_path):
    torch.manual_seed(5)
    # Same encoder, narrower decoder convolutions: only the encoder's tensors fit.
    src = InfoNet(InfoNetConfig.from_dict({**TINY_CFG.__dict__, 'decoder_channels': 8}))
    src_path = str(tmp_path / 'src.pt')
    torch.save(src.checkpoint({'commit': 'abc', 'steps': 9}), src_path)
    out = str(tmp_path / 'warm.pt')
    assert train_cli.main(TINY_ARGS + ['--out', out, '--steps', '1', '--lr', '1e-12',
                                       '--warmup', '1', '--init', src_path]) == 0
    model, prov = load_checkpoint(out)
    assert model.cfg.decoder_channels == TINY_CFG.decoder_channels
    init = prov['init']
    assert init['from'] == 'src.pt' and init['commit'] == 'abc' and init['steps'] == 9
    ours, theirs = model.state_dict(), src.state_dict()
    shared = [k for k in ours if k in theirs and ours[k].shape == theirs[k].shape]
    assert init['tensors_copied'] == len(shared)
    assert init['tensors_new'] == len(ours) - len(shared) > 0
    # One step at lr 1e-12 leaves the copied encoder where the source had it.
    torch.testing.assert_close(model.state_dict()['latents'], src.state_dict()['latents'])
    assert ours['upsample.0.weight'].shape != theirs['upsample.0.weight'].shape


@pytest.mark.parametrize('factor', [2, 4])
def test_init_to_a_finer_table_starts_as_the_source_upsampled(tmp_path, factor):
    torch.manual_seed(6)
    src = InfoNet(TINY_CFG).eval()
    src_path = str(tmp_path / 'src.pt')
    torch.save(src.checkpoint({'commit': 'abc', 'steps': 9}), src_path)
    fine = InfoNet(InfoNetConfig.from_dict(
        {**TINY_CFG.__dict__, 'grid_size': TINY_CFG.grid_size * factor})).eval()
    info = train.warm_start(fine, src_path)
    assert info['tensors_new'] == 0
    assert info['table_upsampled'] == f'{TINY_CFG.grid_size} -> {TINY_CFG.grid_size * factor}'
    uv = torch.rand(3, 200, 2)
    with torch.no_grad():
        coarse, finer = src(uv), fine(uv)  # (B, G, G), (B, kG, kG)
    up = coarse.repeat_interleave(factor, 1).repeat_interleave(factor, 2)
    torch.testing.assert_close(finer, up)
    # The exact marginal term is unchanged by the upsampling.
    torch.testing.assert_close(crossfit_mi(fine, uv), crossfit_mi(src, uv), atol=0.02, rtol=0)


def test_init_to_a_coarser_table_leaves_the_last_layer_new(tmp_path):
    src = InfoNet(InfoNetConfig.from_dict({**TINY_CFG.__dict__,
                                           'grid_size': TINY_CFG.grid_size * 2}))
    src_path = str(tmp_path / 'src.pt')
    torch.save(src.checkpoint({}), src_path)
    info = train.warm_start(InfoNet(TINY_CFG), src_path)
    assert info['tensors_new'] == 2 and 'table_upsampled' not in info


@pytest.mark.parametrize('k_old, k_new', [(2, 4), (2, 8), (1, 4)])
def test_init_to_finer_cell_counts_computes_the_source_function(tmp_path, k_old, k_new):
    torch.manual_seed(7)
    src = InfoNet(InfoNetConfig.from_dict({**TINY_CFG.__dict__,
                                           'cell_subdivision': k_old})).eval()
    src_path = str(tmp_path / 'src.pt')
    torch.save(src.checkpoint({'commit': 'abc', 'steps': 9}), src_path)
    finer = InfoNet(InfoNetConfig.from_dict({**TINY_CFG.__dict__,
                                             'cell_subdivision': k_new})).eval()
    info = train.warm_start(finer, src_path)
    assert info['tensors_new'] == 0
    assert info['cells_subdivided'] == f'{k_old} -> {k_new}'
    assert finer.cell_embed.weight.shape[1] == k_new * k_new + 3
    # Clustered points, so that the finer counts differ from the coarser ones.
    uv = (0.5 + 0.05 * torch.randn(3, 300, 2)).clamp(0.0, 1.0)
    with torch.no_grad():
        torch.testing.assert_close(finer(uv), src(uv), atol=1e-4, rtol=0)


def test_init_to_coarser_cell_counts_leaves_the_cell_embedding_new(tmp_path):
    src = InfoNet(InfoNetConfig.from_dict({**TINY_CFG.__dict__, 'cell_subdivision': 4}))
    src_path = str(tmp_path / 'src.pt')
    torch.save(src.checkpoint({}), src_path)
    info = train.warm_start(InfoNet(TINY_CFG), src_path)
    assert info['tensors_new'] == 1 and 'cells_subdivided' not in info
