# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Train InfoNet on simulated distributions: the work behind ``infonet-ros train``.

The flags are parsed by :mod:`infonet_ros.cli.train`, which calls :func:`run`. Objective per
set (see :mod:`infonet_ros.core.readout`): maximize the Donsker-Varadhan readout of the model
(``--readout``: cross-fitted, a bound; or in-sample; the authors' unsupervised objective,
with the exact product-of-marginals term), plus ``sup_weight`` times a Huber penalty between
that same estimate and the set's true MI, known for every simulated family. The supervised
term is our addition. With the cross-fitted readout it changes little (the estimate is a
bound in expectation and stays under the MI whatever the weight); with the in-sample readout
it is what keeps the critic from fitting the points: the readout then settles where the
Huber slope outweighs the bound's, about sup_beta / sup_weight nats above the MI
(``--sup-beta``: where the Huber penalty turns from quadratic to linear, 0.1 by default), so
in-sample models are trained with a large weight (200 for the shipped ones) or a small beta.
``--sup-weight 0`` trains with the authors' objective only.

Data-parallel: run under ``torchrun --nproc_per_node K -m infonet_ros.cli.train ...``; ranks
draw different data and average gradients with DDP (gloo on CPU, nccl on CUDA).
"""

from dataclasses import asdict
import datetime
import json
import math
import os
import shlex
import subprocess
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F

from infonet_ros.core.copula import rank_normalize
from infonet_ros.core.estimator import resolve_device
from infonet_ros.core.model import InfoNet, InfoNetConfig, load_checkpoint
from infonet_ros.core.readout import DEFAULT_INTEGRAL, set_mi
from infonet_ros.training.simulate import FAMILIES, sample_batch

# Error [nats] where the supervised Huber penalty turns from quadratic to linear (every
# shipped model was trained with 0.1).
DEFAULT_SUP_BETA = 0.1
OBJECTIVES = {
    'crossfit': 'cross-fitted DV (exact marginal term{}) + sup_weight * Huber',
    'insample': 'in-sample DV (exact marginal term{}) + sup_weight * Huber',
}
# The module torchrun runs for data-parallel training (it parses the flags, then calls run);
# a run's provenance records its command line with it.
TORCHRUN_MODULE = 'infonet_ros.cli.train'


def git_commit() -> str:
    """Return the commit of the code (with '-dirty' for uncommitted changes) or 'unknown'."""
    try:
        here = os.path.dirname(os.path.abspath(__file__))
        out = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=here, capture_output=True,
                             text=True, timeout=5)
        dirty = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no'],
                               cwd=here, capture_output=True, text=True, timeout=5).stdout
        return out.stdout.strip() + ('-dirty' if dirty.strip() else '') or 'unknown'
    except Exception:
        return 'unknown'


def command_line(argv, world: int) -> str:
    """Return the command that starts this run: ``infonet-ros train`` or torchrun's."""
    flags = ' '.join(shlex.quote(a) for a in argv)
    if world > 1:
        return f'torchrun --nproc_per_node {world} -m {TORCHRUN_MODULE} {flags}'
    return f'infonet-ros train {flags}'


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
                  sup_beta=DEFAULT_SUP_BETA, integral=DEFAULT_INTEGRAL):
    """Return (loss, estimates): -DV bound + sup_weight * Huber_beta(estimate, true MI)."""
    uv = torch.stack([rank_normalize(x), rank_normalize(y)], dim=-1)  # (B, N, 2)
    est = set_mi(model, uv, readout, integral=integral)  # (B,)
    loss = -est.mean()
    if sup_weight:
        loss = loss + sup_weight * F.smooth_l1_loss(est, mi_true, beta=sup_beta)
    return loss, est


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
    if name not in theirs or b.cell_subdivision <= a.cell_subdivision \
            or b.cell_subdivision % a.cell_subdivision:
        return {}
    k_src, k_new = a.cell_subdivision, b.cell_subdivision
    m = k_new // k_src
    w_src = theirs[name]  # (D, k_src^2 + 3)
    if ours[name].shape != (w_src.shape[0], k_new * k_new + 3) \
            or w_src.shape[1] != k_src * k_src + 3:
        return {}
    parent = _parent_subcells(k_src, m)  # (k_new^2,)
    w_new = torch.cat([w_src[:, parent] / (m * m), w_src[:, k_src * k_src:]], dim=1)
    return {name: w_new}


def _parent_subcells(r_src: int, m: int) -> torch.Tensor:
    """
    Index of the parent of each sub-cell when r_src x r_src sub-cells are split m x m.

    Both grids in row-major order: -> (r_src^2 m^2,) indices into the r_src^2 parents.
    """
    sub = torch.arange(r_src * m) // m  # parent sub-row / sub-column of each new one
    return (sub[:, None] * r_src + sub[None, :]).reshape(-1)


def _finer_table_init(src, model, theirs, ours) -> dict:
    """
    Initialize a finer critic table from a model with a coarser one.

    Same network except grid_size = k * the source's: the last convolution predicts k x k
    times more sub-cells per coarse cell. Each new output channel takes the weights of the
    source channel whose sub-cell contains it, so the new model starts as the source with
    its table upsampled by nearest neighbour (same bound), and training sharpens it.
    """
    a, b = src.cfg, model.cfg
    if a.coarse_grid != b.coarse_grid or b.grid_size <= a.grid_size or b.grid_size % a.grid_size:
        return {}
    r_src, k = a.grid_size // a.coarse_grid, b.grid_size // a.grid_size
    r_new = r_src * k
    last = [n for n in ours if n.startswith('upsample.') and n.endswith('.weight')][-1]
    bias = last[:-len('weight')] + 'bias'
    src_channel = _parent_subcells(r_src, k)  # (r_new^2,)
    out = {}
    for name in (last, bias):
        if name in theirs and ours[name].shape[0] == r_new * r_new \
                and theirs[name].shape[0] == r_src * r_src \
                and ours[name].shape[1:] == theirs[name].shape[1:]:
            out[name] = theirs[name][src_channel].clone()
    return out if len(out) == 2 else {}


class Trainer:
    """
    One training run: model, optimizer, simulated data, checkpoints and log.

    Every rank trains; rank 0 alone writes the checkpoint (``args.out``), the optimizer state
    for ``--resume`` (``OUT.resume.pt``) and the log (``OUT.log.jsonl``).
    """

    def __init__(self, args):
        self.args = args
        self.distributed = int(os.environ.get('WORLD_SIZE', '1')) > 1
        self.device = resolve_device(args.device)
        self.rank, self.world = 0, 1
        if self.distributed:
            dist.init_process_group('nccl' if self.device.type == 'cuda' else 'gloo')
            self.rank, self.world = dist.get_rank(), dist.get_world_size()
            if self.device.type == 'cuda':
                self.device = torch.device('cuda', int(os.environ.get('LOCAL_RANK', 0)))
        if args.threads:
            torch.set_num_threads(args.threads)
        torch.manual_seed(args.seed)
        self.cfg = InfoNetConfig.from_dict({k: getattr(args, k) for k in asdict(InfoNetConfig())})
        self.model = InfoNet(self.cfg).to(self.device)
        self.init = warm_start(self.model, args.init) if args.init else {}
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=args.lr, weight_decay=1e-4)
        self.resume_path = args.out + '.resume.pt'
        self.step, self.elapsed_before = 0, 0.0
        if args.resume and os.path.isfile(self.resume_path):
            state = torch.load(self.resume_path, map_location=self.device, weights_only=True)
            self.model.load_state_dict(state['model'])
            self.opt.load_state_dict(state['optimizer'])
            self.step, self.elapsed_before = state['step'], state['wall_time_s']
        # find_unused_parameters: SelfBlock inherits CrossBlock's ln_kv but never uses it, so
        # those parameters get no gradient and DDP would fail on the second step without it.
        self.ddp_model = (torch.nn.parallel.DistributedDataParallel(
            self.model, find_unused_parameters=True) if self.distributed else self.model)
        self.gen = torch.Generator().manual_seed(
            args.seed * 1_000_003 + self.rank * 7_777 + self.step)
        self.command = command_line(args.argv, self.world)
        self.commit = git_commit()  # the code this run started from, not HEAD at save time
        self.t0 = time.time()
        self.weights = tuple(args.families[k] for k in FAMILIES)

    def wall_time(self) -> float:
        """Seconds of training so far, resumed runs included."""
        return self.elapsed_before + time.time() - self.t0

    def provenance(self) -> dict:
        """Return what the checkpoint records about the run that wrote it."""
        args, cfg = self.args, self.cfg
        integral = ', bilinear integral' if cfg.integral == 'bilinear' else ''
        return {'command': self.command, 'seed': args.seed, 'steps': self.step,
                'wall_time_s': round(self.wall_time(), 1), 'commit': self.commit,
                'torch': str(torch.__version__), 'world_size': self.world,
                'device': str(self.device), 'date': datetime.datetime.now(
                    datetime.timezone.utc).isoformat(timespec='seconds'),
                'families': {k: w for k, w in args.families.items() if w > 0},
                'n_range': [args.n_min, args.n_max], 'points_per_step': args.points_per_step,
                'lr': args.lr, 'sup_weight': args.sup_weight, 'sup_beta': args.sup_beta,
                'objective': OBJECTIVES[cfg.readout].format(integral),
                **({'init': self.init} if self.init else {})}

    def save(self) -> None:
        """
        Write the checkpoint and the resume state (rank 0), each atomically.

        The checkpoint carries its content hash (:meth:`InfoNet.checkpoint`), which loading
        checks; the resume state is read only by ``--resume`` of the same run.
        """
        if self.rank != 0:
            return
        out = self.args.out
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        torch.save(self.model.checkpoint(self.provenance()), out + '.tmp')
        os.replace(out + '.tmp', out)
        torch.save({'model': self.model.state_dict(), 'optimizer': self.opt.state_dict(),
                    'step': self.step, 'wall_time_s': self.wall_time()},
                   self.resume_path + '.tmp')
        os.replace(self.resume_path + '.tmp', self.resume_path)

    def minutes(self) -> float:
        """Minutes since start, the same on every rank (they must agree on when to stop)."""
        minutes = torch.tensor([(time.time() - self.t0) / 60.0])
        if self.distributed:
            dist.all_reduce(minutes, op=dist.ReduceOp.MAX)
        return minutes.item()

    def train_step(self, minutes: float) -> tuple[float, float, float, float]:
        """One optimizer step; returns (mean estimate, MAE to the truth, loss, lr)."""
        args = self.args
        n = set_size(self.step, args)
        b = max(8, min(32, args.points_per_step // n))
        x, y, mi_true = sample_batch(b, n, self.gen, self.weights)
        x, y, mi_true = x.to(self.device), y.to(self.device), mi_true.to(self.device)
        lr = lr_at(self.step, progress_of(self.step, minutes, args), args)
        for group in self.opt.param_groups:
            group['lr'] = lr
        loss, est = training_loss(self.ddp_model, x, y, mi_true, args.sup_weight,
                                  self.cfg.readout, args.sup_beta, self.cfg.integral)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.opt.step()
        self.step += 1
        return est.mean().item(), (est - mi_true).abs().mean().item(), loss.item(), lr

    def run(self) -> dict:
        """Train until --steps or --time-limit; return {'steps', 'history', 'out'}."""
        args = self.args
        bar = self._progress_bar()
        history, window = [], []
        self.model.train()
        while self.step < args.steps:
            minutes = self.minutes()
            if args.time_limit and minutes >= args.time_limit:
                break
            *stats, lr = self.train_step(minutes)
            window.append(stats)
            if bar is not None:
                bar.update(1)
            if self.step % args.log_every == 0 or self.step == args.steps:
                history.append(self._log(window, lr, bar))
                window = []
            if self.step % args.ckpt_every == 0:
                self.save()
        self.save()
        if bar is not None:
            bar.close()
        if self.distributed:
            dist.destroy_process_group()
        return {'steps': self.step, 'history': history, 'out': args.out}

    def _log(self, window: list, lr: float, bar) -> dict:
        """Record the means over the steps since the last record (rank 0 writes them)."""
        bound, mae, loss = (sum(v) / len(window) for v in zip(*window))
        rec = {'step': self.step, 'bound': round(bound, 5), 'mae_vs_true': round(mae, 5),
               'loss': round(loss, 5), 'lr': lr, 'elapsed_s': round(self.wall_time(), 1)}
        if self.rank == 0:
            with open(self.args.out + '.log.jsonl', 'a') as f:
                f.write(json.dumps(rec) + '\n')
            if bar is not None:
                bar.set_postfix(bound=f'{bound:.3f}', mae=f'{mae:.3f}')
        return rec

    def _progress_bar(self):
        """Return a tqdm bar on rank 0 (None with --no-progress or without tqdm)."""
        if self.rank != 0 or self.args.no_progress:
            return None
        try:
            from tqdm import tqdm
        except ImportError:
            return None
        return tqdm(total=self.args.steps, initial=self.step, mininterval=5.0, desc='train')


def run(args) -> dict:
    """
    Train as ``args`` say (the flags of :mod:`infonet_ros.cli.train`, plus ``argv``).

    :return: {'steps': steps done, 'history': the log records, 'out': the checkpoint path}.
    :raises ValueError: a bad model config or device.
    :raises infonet_ros.core.model.WeightsError: an unreadable ``--init`` checkpoint.
    """
    return Trainer(args).run()
