# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
How much of InfoNet's bias is the critic table's and how much the network's.

The estimate is a Donsker-Varadhan bound read from a G x G table over the copula square
(bilinear reads, exact product-of-marginals term). However good the network, it cannot beat
the best such table. This script fits that best table directly for each evaluation case
(the DV objective is concave in the table: L-BFGS on ``--fit-samples`` copula points of
the true distribution), scores it there and on as many fresh points, and sets the ceiling next
to the truth and to the shipped models' estimates at N = 1000 on samples of the same cases.
``--integrals``: the rules of the readout's e^T integral (infonet_ros.core.readout.log_integral);
each gives its own ceiling, since the best table depends on the rule.

    python benchmarks/table_ceiling.py [--weights default fine fast] [--grids 64 128]
        [--integrals midpoint bilinear] [--name NAME]

Writes benchmarks/results/NAME.{json,md} (NAME: table_ceiling).
"""

import argparse
import datetime
import json
import os
import platform
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from infonet_ros import InfoNetEstimator  # noqa: E402
from infonet_ros.core.copula import pair_ranks  # noqa: E402
from infonet_ros.core.model import SHIPPED_WEIGHTS  # noqa: E402
from infonet_ros.core.readout import dv_exact, INTEGRALS  # noqa: E402
from infonet_ros.training import groundtruth as gt  # noqa: E402
import results_io  # noqa: E402  (benchmarks/, the script's own folder)

RHOS = (0.0, 0.3, 0.5, 0.75, 0.9, 0.95, 0.99)


def copula_points(case: gt.Case, n: int, seed: int) -> torch.Tensor:
    """(1, n, 2) copula points of n draws of ``case``, ties broken as the estimator does."""
    x, y = case.sample(n, np.random.default_rng(seed))
    uv = pair_ranks(np.stack([x, y])[None])  # (1, 2, n)
    return torch.as_tensor(uv.transpose(0, 2, 1), dtype=torch.float32)  # (1, n, 2)


def best_table(uv: torch.Tensor, grid: int, iters: int, integral: str = 'midpoint'
               ) -> torch.Tensor:
    """Maximize the DV bound over the table on the points uv: (1, n, 2) -> (1, G, G)."""
    # The bound is concave in the table (linear term minus a log-sum-exp), so L-BFGS reaches
    # the optimum in a few dozen iterations (Adam needed thousands for the same value).
    table = torch.zeros(1, grid, grid, requires_grad=True)
    opt = torch.optim.LBFGS([table], lr=1.0, max_iter=iters, history_size=20,
                            line_search_fn='strong_wolfe', tolerance_grad=1e-9,
                            tolerance_change=1e-12)

    def closure():
        opt.zero_grad()
        loss = -dv_exact(table, uv, integral).sum()
        loss.backward()
        return loss
    opt.step(closure)
    return table.detach()


def ceiling(case: gt.Case, grid: int, n: int, iters: int, seed: int,
            integral: str = 'midpoint') -> float:
    """
    DV bound of the best G x G table for ``case``, free of the fit's own sampling error.

    The table fitted to n points scores higher on them than the best table's true value, and
    lower on n fresh points, by the same amount to first order (the AIC argument), so their
    mean estimates the value of the best table.
    """
    fit = copula_points(case, n, seed)
    table = best_table(fit, grid, iters, integral)
    fresh = copula_points(case, n, seed + 1)
    return 0.5 * float(dv_exact(table, fit, integral) + dv_exact(table, fresh, integral))


def ceiling_column(grid: int, integral: str) -> str:
    """Name a ceiling column: ceiling_G for the midpoint rule, ceiling_G_RULE for the others."""
    return f'ceiling_{grid}' + ('' if integral == 'midpoint' else f'_{integral}')


def cases(n_gmm: int) -> list[gt.Case]:
    out = [gt.gaussian_case(r) for r in RHOS]
    out += gt.unseen_cases()
    out += gt.gmm_cases(n_gmm) if n_gmm else []  # the first mixtures of the evaluation's
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.strip().split('\n')[0])
    p.add_argument('--weights', nargs='+', default=['default', 'fine', 'fast'])
    p.add_argument('--grids', type=int, nargs='+', default=[64, 128])
    p.add_argument('--integrals', nargs='+', default=['midpoint'], choices=INTEGRALS)
    p.add_argument('--fit-samples', type=int, default=1_000_000)
    p.add_argument('--iters', type=int, default=200, help='L-BFGS iterations per table fit')
    p.add_argument('--gmm', type=int, default=10, help='random Gaussian mixtures')
    p.add_argument('--n', type=int, default=1000, help='set size of the model estimates')
    p.add_argument('--seeds', type=int, default=10, help='model estimates per case')
    p.add_argument('--threads', type=int, default=1)
    results_io.add_output_arguments(p, 'table_ceiling', quick=False)
    return p


def main(argv=None):
    args = results_io.parse(build_parser(), argv, __file__)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    t0 = time.time()
    # Shipped names as given, files by their base name (no paths of this machine in results).
    models = {(w if w in SHIPPED_WEIGHTS else os.path.basename(w)):
              InfoNetEstimator.from_pretrained(w, device='cpu') for w in args.weights}
    rows = []
    for i, case in enumerate(cases(args.gmm)):
        row = {'family': case.family, 'case': case.label, 'truth': case.truth}
        for g in args.grids:
            for integral in args.integrals:
                row[ceiling_column(g, integral)] = ceiling(
                    case, g, args.fit_samples, args.iters, 10_000 + 2 * i, integral)
        xs, ys = zip(*(case.sample(args.n, np.random.default_rng(30_000 + 100 * i + s))
                       for s in range(args.seeds)))
        for w, est in models.items():
            row[f'model_{w}'] = float(np.mean(est.estimate_batch(np.array(xs), np.array(ys))))
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    write(rows, args, models, time.time() - t0)


def _family(rows, fam):
    return [r for r in rows if r['family'] == fam]


def write(rows, args, models, seconds):
    cols = [ceiling_column(g, i) for g in args.grids for i in args.integrals]
    cols += [f'model_{w}' for w in models]
    grid_of = {w: est.model.cfg.grid_size for w, est in models.items()}
    lines = [
        "# The critic table's ceiling against the models' estimates",
        '',
        f'{datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}; '
        f'{platform.machine()}, torch {torch.__version__}; run took {seconds:.0f} s. '
        f'Ceiling G: the DV bound of the best G x G table for the case (L-BFGS on '
        f'{args.fit_samples:,} copula points of the true distribution; the mean of its bound '
        f'on those points and on as many fresh ones), with the midpoint rule for the '
        f'integral of e^T; "ceiling_G_bilinear": with the bilinear critic\'s integral (the '
        f'rule of the shipped models). Models: mean estimate over '
        f'{args.seeds} samples of N = {args.n}. Table sizes of the models: '
        + ', '.join(f'`{w}` {g} x {g}' for w, g in grid_of.items()) + '. '
        'Values are biases (value - true MI) in nats.',
        '',
        '| family | case | true MI | ' + ' | '.join(cols) + ' |',
        '|---|---|---' + '|---' * len(cols) + '|',
    ]
    for r in rows:
        lines.append(f"| {r['family']} | {r['case']} | {r['truth']:.3f} | " + ' | '.join(
            f'{r[c] - r["truth"]:+.3f}' for c in cols) + ' |')
    lines += ['', 'Mean bias per family:', '',
              '| family | cases | ' + ' | '.join(cols) + ' |',
              '|---|---' + '|---' * len(cols) + '|']
    for fam in dict.fromkeys(r['family'] for r in rows):
        sel = _family(rows, fam)
        lines.append(f'| {fam} | {len(sel)} | ' + ' | '.join(
            f'{np.mean([r[c] - r["truth"] for r in sel]):+.3f}' for c in cols) + ' |')
    results_io.write(args, {'args': {**results_io.arguments(args), 'weights': list(models)},
                            'rows': rows}, lines)


if __name__ == '__main__':
    main()
