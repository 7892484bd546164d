# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Train InfoNet on simulated distributions: ``infonet-ros train`` (also under ``torchrun``).

Objective per set (see :mod:`infonet_ros.core.readout`): maximize the Donsker-Varadhan readout
of the model (``--readout``: cross-fitted, a bound; or in-sample; the authors' unsupervised
objective, with the exact product-of-marginals term), plus ``sup_weight`` times a Huber
penalty between that same estimate and the set's true MI, known for every simulated family.
The supervised term is our addition. With the cross-fitted readout it changes little (the
estimate is a bound in expectation and stays under the MI whatever the weight); with the
in-sample readout it is what keeps the critic from fitting the points: the readout then
settles where the Huber slope outweighs the bound's, about sup_beta / sup_weight nats above
the MI (``--sup-beta``: where the Huber penalty turns from quadratic to linear, 0.1 by
default), so in-sample models are trained with a large weight (5, then 20 in a third stage
for the shipped ones) or a small beta. ``--sup-weight 0`` trains with the authors' objective
only.

Data-parallel: run under ``torchrun --nproc_per_node K -m infonet_ros.training.train ...``; ranks
draw different data and average gradients with DDP (gloo on CPU, nccl on CUDA).
"""

import argparse
from dataclasses import asdict
import datetime
import json
import math
import os
import shlex
import subprocess
import sys
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F

from infonet_ros.core.copula import rank_normalize
from infonet_ros.core.model import InfoNet, InfoNetConfig, load_checkpoint
from infonet_ros.core.readout import set_mi
from infonet_ros.training.simulate import DEFAULT_FAMILY_WEIGHTS, FAMILIES, sample_batch


# Error [nats] where the supervised Huber penalty turns from quadratic to linear (the shipped
# models up to session 10 were trained with it; their checkpoints predate the field).
DEFAULT_SUP_BETA = 0.1
OBJECTIVES = {
    'crossfit': 'cross-fitted DV (exact marginal term{}) + sup_weight * Huber',
    'insample': 'in-sample DV (exact marginal term{}) + sup_weight * Huber',
}


def add_arguments(p: argparse.ArgumentParser):
    p.add_argument('--out', default='infonet_checkpoint.pt',
                   help='checkpoint to write (weights, config, provenance); '
                   'OUT.resume.pt holds the optimizer state for --resume')
    p.add_argument('--steps', type=int, default=20000, help='optimizer steps')
    p.add_argument('--time-limit', type=float, default=0.0,
                   help='stop (and save) after this many minutes; 0 = no limit')
    p.add_argument('--points-per-step', type=int, default=12000,
                   help='sets per step = points-per-step / N, clamped to [8, 32]')
    p.add_argument('--n-min', type=int, default=64, help='smallest set size N')
    p.add_argument('--n-max', type=int, default=2048, help='largest set size N')
    p.add_argument('--lr', type=float, default=5e-4, help='peak Adam learning rate')
    p.add_argument('--warmup', type=int, default=300, help='linear warm-up steps')
    p.add_argument('--sup-weight', type=float, default=1.0,
                   help='weight of the Huber penalty to the true MI (0 = DV only)')
    p.add_argument('--sup-beta', type=float, default=DEFAULT_SUP_BETA,
                   help='error [nats] where the Huber penalty turns from quadratic to linear; '
                   'an in-sample readout settles about sup_beta / sup_weight above the MI')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--threads', type=int, default=0, help='torch threads (0 = default)')
    p.add_argument('--log-every', type=int, default=50)
    p.add_argument('--ckpt-every', type=int, default=500)
    p.add_argument('--resume', action='store_true', help='continue from OUT.resume.pt')
    p.add_argument('--init', default='',
                   help='warm start: copy every tensor of this checkpoint whose name and shape '
                   'match the new model (e.g. the encoder of a model with another decoder)')
    p.add_argument('--device', default='auto', help='auto, cpu, cuda or cuda:K')
    p.add_argument('--families', type=parse_families,
                   default=dict(zip(FAMILIES, DEFAULT_FAMILY_WEIGHTS)),
                   help='shares of the simulated families per batch, NAME=W,... (families '
                   'left out get 0); default ' + ','.join(
                       f'{k}={w}' for k, w in zip(FAMILIES, DEFAULT_FAMILY_WEIGHTS)))
    p.add_argument('--no-progress', action='store_true', help='no progress bar')
    for f, default in asdict(InfoNetConfig()).items():
        p.add_argument('--' + f.replace('_', '-'), type=type(default), default=default,
                       help=f'model config {f}')


def parse_families(text: str) -> dict:
    """Parse 'gmm=0.5,functional=0.2' into {family: share} over every family (0 if unnamed)."""
    shares = dict.fromkeys(FAMILIES, 0.0)
    for item in text.split(','):
        name, sep, value = item.partition('=')
        name = name.strip()
        if not sep or name not in shares:
            raise argparse.ArgumentTypeError(
                f'{item!r}: expected NAME=SHARE with NAME one of {", ".join(FAMILIES)}')
        try:
            shares[name] = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f'{item!r}: the share is not a number') from None
        if not math.isfinite(shares[name]) or shares[name] < 0:
            raise argparse.ArgumentTypeError(f'{item!r}: a share must be finite and >= 0')
    if sum(shares.values()) <= 0:
        raise argparse.ArgumentTypeError('the family shares sum to 0')
    return shares


def git_commit() -> str:
    try:
        here = os.path.dirname(os.path.abspath(__file__))
        out = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=here, capture_output=True,
                             text=True, timeout=5)
        dirty = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no'],
                               cwd=here, capture_output=True, text=True, timeout=5).stdout
        return out.stdout.strip() + ('-dirty' if dirty.strip() else '') or 'unknown'
    except Exception:
        return 'unknown'


def lr_at(step: int, progress: float, args) -> float:
    """Linear warm-up, then cosine decay to 10 % over ``progress`` in [0, 1]."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def progress_of(step: int, minutes: float, args) -> float:
    """Share of the run done: by steps, or by wall time when --time-limit ends it first."""
    p = step / max(1, args.steps)
    if args.time_limit:
        p = max(p, minutes / args.time_limit)
    return p


def set_size(step: int, args) -> int:
    """N for this step, identical on every rank (log-uniform in [n_min, n_max])."""
    g = torch.Generator().manual_seed(args.seed * 7919 + step)
    u = torch.rand(1, generator=g).item()
    return int(round(math.exp(math.log(args.n_min)
                              + u * (math.log(args.n_max) - math.log(args.n_min)))))


def training_loss(model, x, y, mi_true, sup_weight, readout='crossfit',
                  sup_beta=DEFAULT_SUP_BETA, integral='midpoint'):
    """Return (loss, estimates): -DV bound + sup_weight * Huber_beta(estimate, true MI)."""
    uv = torch.stack([rank_normalize(x), rank_normalize(y)], dim=-1)  # (B, N, 2)
    est = set_mi(model, uv, readout, integral=integral)  # (B,)
    loss = -est.mean()
    if sup_weight:
        loss = loss + sup_weight * F.smooth_l1_loss(est, mi_true, beta=sup_beta)
    return loss, est


def resolve_device(name: str) -> torch.device:
    if name == 'auto':
        return torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    return torch.device(name)


def warm_start(model, path) -> dict:
    """
    Copy the tensors of checkpoint ``path`` whose name and shape match ``model``.

    Returns what the provenance records: the file name, its own provenance (commit, steps)
    and how many tensors were copied and left at their initial values.
    """
    src, prov = load_checkpoint(path)
    theirs, ours = src.state_dict(), model.state_dict()
    copied = {k: v for k, v in theirs.items() if k in ours and ours[k].shape == v.shape}
    upsampled = _finer_table_init(src, model, theirs, ours)
    copied.update(upsampled)
    finer_cells = _finer_cells_init(src, model, theirs, ours)
    copied.update(finer_cells)
    model.load_state_dict(copied, strict=False)
    info = {'from': os.path.basename(path), 'commit': prov.get('commit'),
            'steps': prov.get('steps'), 'tensors_copied': len(copied),
            'tensors_new': len(ours) - len(copied)}
    if upsampled:
        info['table_upsampled'] = f'{src.cfg.grid_size} -> {model.cfg.grid_size}'
    if finer_cells:
        info['cells_subdivided'] = (f'{src.cfg.cell_subdivision} -> '
                                    f'{model.cfg.cell_subdivision}')
    return info


def _finer_cells_init(src, model, theirs, ours) -> dict:
    """
    Initialize a decoder that sees finer sub-cell densities from one that saw coarser ones.

    Same network except cell_subdivision = m * the source's: each decoder cell's query reads
    m x m times more sub-cell densities. A source sub-cell's density is the mean of its
    m x m children's, so each child gets its parent's input weights divided by m^2: the new
    model computes exactly the source's function at the start, and training learns to use
    the finer counts (where edges lie within a source sub-cell).
    """
    a, b = src.cfg, model.cfg
    name = 'cell_embed.weight'
    if (a.decoder, b.decoder) != ('histogram', 'histogram') or name not in theirs \
            or b.cell_subdivision <= a.cell_subdivision \
            or b.cell_subdivision % a.cell_subdivision:
        return {}
    k_old, k_new = a.cell_subdivision, b.cell_subdivision
    m = k_new // k_old
    w_old = theirs[name]  # (D, k_old^2 + 3)
    if ours[name].shape != (w_old.shape[0], k_new * k_new + 3) \
            or w_old.shape[1] != k_old * k_old + 3:
        return {}
    parent = _parent_subcells(k_old, m)  # (k_new^2,)
    w_new = torch.cat([w_old[:, parent] / (m * m), w_old[:, k_old * k_old:]], dim=1)
    return {name: w_new}


def _parent_subcells(r_old: int, m: int) -> torch.Tensor:
    """
    Index of the parent of each sub-cell when r_old x r_old sub-cells are split m x m.

    Both grids in row-major order: -> (r_old^2 m^2,) indices into the r_old^2 parents.
    """
    sub = torch.arange(r_old * m) // m  # parent sub-row / sub-column of each new one
    return (sub[:, None] * r_old + sub[None, :]).reshape(-1)


def _finer_table_init(src, model, theirs, ours) -> dict:
    """
    Initialize a finer critic table from a histogram model with a coarser one.

    Same network except grid_size = k * the source's: the last convolution predicts k x k
    times more sub-cells per coarse cell. Each new output channel takes the weights of the
    source channel whose sub-cell contains it, so the new model starts as the source with
    its table upsampled by nearest neighbour (same bound), and training sharpens it.
    """
    a, b = src.cfg, model.cfg
    if (a.decoder, b.decoder) != ('histogram', 'histogram') or a.coarse_grid != b.coarse_grid \
            or b.grid_size <= a.grid_size or b.grid_size % a.grid_size:
        return {}
    r_old, k = a.grid_size // a.coarse_grid, b.grid_size // a.grid_size
    r_new = r_old * k
    last = [n for n in ours if n.startswith('upsample.') and n.endswith('.weight')][-1]
    bias = last[:-len('weight')] + 'bias'
    src_channel = _parent_subcells(r_old, k)  # (r_new^2,)
    out = {}
    for name in (last, bias):
        if name in theirs and ours[name].shape[0] == r_new * r_new \
                and theirs[name].shape[0] == r_old * r_old \
                and ours[name].shape[1:] == theirs[name].shape[1:]:
            out[name] = theirs[name][src_channel].clone()
    return out if len(out) == 2 else {}


def run(args) -> dict:
    distributed = int(os.environ.get('WORLD_SIZE', '1')) > 1
    device = resolve_device(args.device)
    if distributed:
        dist.init_process_group('nccl' if device.type == 'cuda' else 'gloo')
        rank, world = dist.get_rank(), dist.get_world_size()
        if device.type == 'cuda':
            device = torch.device('cuda', int(os.environ.get('LOCAL_RANK', 0)))
    else:
        rank, world = 0, 1
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    cfg = InfoNetConfig.from_dict({k: getattr(args, k) for k in asdict(InfoNetConfig())})
    model = InfoNet(cfg).to(device)
    init = warm_start(model, args.init) if args.init else {}
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    start, elapsed_before, history = 0, 0.0, []
    resume_path = args.out + '.resume.pt'
    if args.resume and os.path.isfile(resume_path):
        state = torch.load(resume_path, map_location=device, weights_only=True)
        model.load_state_dict(state['model'])
        opt.load_state_dict(state['optimizer'])
        start, elapsed_before = state['step'], state['wall_time_s']
    # find_unused_parameters: SelfBlock inherits CrossBlock's ln_kv but never uses it, so
    # those parameters get no gradient and DDP would fail on the second step without it.
    ddp_model = (torch.nn.parallel.DistributedDataParallel(model, find_unused_parameters=True)
                 if distributed else model)
    gen = torch.Generator().manual_seed(args.seed * 1_000_003 + rank * 7_777 + start)
    command = 'infonet-ros train ' + ' '.join(shlex.quote(a) for a in args.argv)
    if distributed:
        command = f'torchrun --nproc_per_node {world} -m infonet_ros.training.train ' + ' '.join(
            shlex.quote(a) for a in args.argv)
    commit = git_commit()  # the code this run started from, not HEAD at save time
    t0 = time.time()
    log_path = args.out + '.log.jsonl'
    bar = None
    if rank == 0 and not args.no_progress:
        try:
            from tqdm import tqdm
            bar = tqdm(total=args.steps, initial=start, mininterval=5.0, desc='train')
        except ImportError:
            bar = None
    step, window = start, []
    weights = tuple(args.families[k] for k in FAMILIES)

    def provenance():
        return {'command': command, 'seed': args.seed, 'steps': step,
                'wall_time_s': round(elapsed_before + time.time() - t0, 1),
                'commit': commit, 'torch': str(torch.__version__), 'world_size': world,
                'device': str(device), 'date': datetime.datetime.now(
                    datetime.timezone.utc).isoformat(timespec='seconds'),
                'families': {k: w for k, w in args.families.items() if w > 0},
                'n_range': [args.n_min, args.n_max], 'points_per_step': args.points_per_step,
                'lr': args.lr, 'sup_weight': args.sup_weight, 'sup_beta': args.sup_beta,
                # The midpoint integral (every model before session 12) kept its old text.
                'objective': OBJECTIVES[cfg.readout].format(
                    ', bilinear integral' if cfg.integral == 'bilinear' else ''),
                **({'init': init} if init else {})}

    def save():
        if rank != 0:
            return
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        tmp = args.out + '.tmp'
        torch.save(model.checkpoint(provenance()), tmp)
        os.replace(tmp, args.out)
        torch.save({'model': model.state_dict(), 'optimizer': opt.state_dict(), 'step': step,
                    'wall_time_s': elapsed_before + time.time() - t0}, resume_path + '.tmp')
        os.replace(resume_path + '.tmp', resume_path)

    model.train()
    lr = args.lr
    while step < args.steps:
        minutes = torch.tensor([(time.time() - t0) / 60.0])
        if distributed:  # every rank must agree on the schedule and on when to stop
            dist.all_reduce(minutes, op=dist.ReduceOp.MAX)
        minutes = minutes.item()
        if args.time_limit and minutes >= args.time_limit:
            break
        n = set_size(step, args)
        b = max(8, min(32, args.points_per_step // n))
        x, y, mi_true = sample_batch(b, n, gen, weights)
        x, y, mi_true = x.to(device), y.to(device), mi_true.to(device)
        lr = lr_at(step, progress_of(step, minutes, args), args)
        for group in opt.param_groups:
            group['lr'] = lr
        loss, est = training_loss(ddp_model, x, y, mi_true, args.sup_weight, cfg.readout,
                                  args.sup_beta, cfg.integral)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        window.append((est.mean().item(), (est - mi_true).abs().mean().item(), loss.item()))
        if bar is not None:
            bar.update(1)
        if step % args.log_every == 0 or step == args.steps:
            bound, mae, lss = (sum(v) / len(window) for v in zip(*window))
            rec = {'step': step, 'bound': round(bound, 5), 'mae_vs_true': round(mae, 5),
                   'loss': round(lss, 5), 'lr': lr,
                   'elapsed_s': round(elapsed_before + time.time() - t0, 1)}
            history.append(rec)
            window = []
            if rank == 0:
                with open(log_path, 'a') as f:
                    f.write(json.dumps(rec) + '\n')
                if bar is not None:
                    bar.set_postfix(bound=f'{bound:.3f}', mae=f'{mae:.3f}')
        if step % args.ckpt_every == 0:
            save()
    save()
    if bar is not None:
        bar.close()
    if distributed:
        dist.destroy_process_group()
    return {'steps': step, 'history': history, 'out': args.out}


def main(argv=None):
    p = argparse.ArgumentParser(prog='infonet-ros train',
                                description=__doc__.strip().split('\n')[0])
    add_arguments(p)
    argv = sys.argv[1:] if argv is None else argv
    args = p.parse_args(argv)
    args.argv = argv
    run(args)


if __name__ == '__main__':
    main()
