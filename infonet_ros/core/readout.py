# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Donsker-Varadhan readouts of a critic table, and cross-fitting.

MI >= E_P[T] - log E_{P_U x P_V}[e^T] for any critic T. Points are copula-transformed, so
P_U x P_V is the uniform distribution on the unit square and the second term is an integral
of e^T over the square, computed on the table (``dv_exact``) rather than averaged over
shuffled pairs as the InfoNet authors do (that variant is an ablation of the evaluation:
:mod:`infonet_ros.training.ablations`). Two rules (a model's ``cfg.integral``): 'bilinear'
integrates e^T of the very critic the lookup reads (closed forms,
:func:`log_mean_exp_bilinear`); 'midpoint' (the 'fine' model's rule) sums e^T at the cell
centres, which at sharp edges overstates the integral and so understates the MI.

Cross-fitting: a critic scored on the very points it was built from can memorize them and
read dependence into independent data. ``crossfit_mi`` builds one critic from each half of
the set and scores it on the other half, then averages; training uses the same readout, so
the network learns critics that generalize. The price: on fresh points a critic built from
N/2 samples is a valid DV bound, so its expected estimate is at most the MI, lower by the
critic's own estimation error, and no training can lift it above.

In-sample (``readout='insample'`` in a model's config): one critic from all N points,
scored on the same points. Half the network passes, and no ceiling below the MI, but the
readout is not a bound: a critic fitted to the points overestimates, so such models are
trained with a strong supervised term that calibrates the readout (see
:mod:`infonet_ros.training.train`). :func:`set_mi` applies a model's readout;
:class:`ModelReadout` is the network and its readout as one module.
"""

import functools

import torch
import torch.nn.functional as F


def lookup(table: torch.Tensor, uv: torch.Tensor) -> torch.Tensor:
    """
    Bilinear read of T at points.

    table: (B, G, G), rows indexed by v and columns by u, cell centres at (k + 1/2) / G.
    uv: (B, N, 2) in [0, 1].
    returns: (B, N)
    """
    grid = (uv * 2.0 - 1.0).unsqueeze(1)  # (B, 1, N, 2), x = u, y = v
    out = F.grid_sample(table.unsqueeze(1), grid, mode='bilinear', padding_mode='border',
                        align_corners=False)  # (B, 1, 1, N)
    return out[:, 0, 0, :]


def log_mean_exp_table(table: torch.Tensor) -> torch.Tensor:
    """Log of the integral of e^T over the unit square (midpoint rule): (B, G, G) -> (B,)."""
    flat = table.flatten(1)  # (B, G*G)
    return torch.logsumexp(flat, dim=1) - torch.log(torch.tensor(float(flat.shape[1])))


def _log_mean(e0: torch.Tensor, e1: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
    """
    Mean of e^T over a segment where T runs linearly from T0 to T1 = T0 + d (elementwise).

    e0 = e^T0, e1 = e^T1: the logarithmic mean (e1 - e0) / (T1 - T0), to third order near
    d = 0, where the difference cancels in float32. Both branches stay finite, so the
    gradient through torch.where has no NaN.
    """
    small = d.abs() < 1e-2
    safe = torch.where(small, torch.ones_like(d), d)
    return torch.where(small, e0 * (1.0 + d * (0.5 + d / 6.0)), (e1 - e0) / safe)


def log_mean_exp_bilinear(table: torch.Tensor) -> torch.Tensor:
    """
    Log of the integral of e^T over the unit square for the bilinear critic: (B, G, G) -> (B,).

    T is the function that :func:`lookup` reads: bilinear between the cell centres, constant
    along the normal within half a cell of the border. The midpoint rule
    (:func:`log_mean_exp_table`) integrates the bilinear interpolation of e^T instead of e^T
    of the bilinear T, which by convexity is larger wherever T changes between neighbouring
    cells, and by a lot across a sharp edge (several nats from one cell to the next): the DV
    readout then sits below the bound of the very critic it scores, and a table cannot fit a
    sharp-edged density (additive uniform noise, near-deterministic links) as well as its
    resolution allows.

    Here T along u is linear between two centres, so the mean of e^T along each row segment
    is exact (the logarithmic mean of the end values); along v each patch between four
    centres takes the logarithmic mean of its bottom and top row means, i.e. log of the row
    mean interpolated linearly in v. That is exact where the patch has no twist (T = a + b u
    + c v) and otherwise slightly above the exact integral (log of the row mean is convex in
    v), so the readout stays a lower bound of its critic's DV value, never above it. Border
    strips (half a cell wide) are linear along the border; corner quarter-cells constant.
    Two implementations of this one rule: where autograd records (training, ``mi_torch``)
    the one whose gradient is exact everywhere, :func:`_bilinear_autograd`; otherwise
    (estimates, traces) :func:`_bilinear_inference`, which has no ``torch.where`` and runs
    1.5-2.2x faster (benchmarks/readout_speed.py). They agree to float rounding.
    """
    if torch.is_grad_enabled() and table.requires_grad:
        return _bilinear_autograd(table)
    return _bilinear_inference(table)


def _bilinear_autograd(table: torch.Tensor) -> torch.Tensor:
    """:func:`log_mean_exp_bilinear` from e^T, with a gradient exact at every gap (any mode)."""
    g = table.shape[-1]
    top = table.amax(dim=(1, 2), keepdim=True)  # (B, 1, 1): e^(T - top) <= 1
    t = table - top  # (B, G, G), rows v, columns u
    e = t.exp()  # (B, G, G)
    rows = _log_mean(e[..., :-1], e[..., 1:], t[..., 1:] - t[..., :-1])  # (B, G, G-1)
    log_rows = rows.clamp_min(torch.finfo(rows.dtype).tiny).log()  # (B, G, G-1)
    patches = _log_mean(rows[:, :-1], rows[:, 1:], log_rows[:, 1:] - log_rows[:, :-1])
    inner = patches.sum(dim=(1, 2))  # (B,): G^2 x the integral over the (G-1)^2 patches
    side_t, side_e = t[..., [0, -1]], e[..., [0, -1]]  # (B, G, 2): first and last column
    sides = _log_mean(side_e[:, :-1], side_e[:, 1:], side_t[:, 1:] - side_t[:, :-1])
    strip = rows[:, 0].sum(1) + rows[:, -1].sum(1) + sides.sum(dim=(1, 2))  # (B,)
    corner = e[:, 0, 0] + e[:, 0, -1] + e[:, -1, 0] + e[:, -1, -1]  # (B,)
    return _log_total(top, inner, strip, corner, g)


def _log_total(top: torch.Tensor, inner: torch.Tensor, strip: torch.Tensor,
               corner: torch.Tensor, g: int) -> torch.Tensor:
    """
    Log of the integral over the square from its parts, sums of means of e^(T - top).

    inner: over the (G-1)^2 patches between centres; strip: over the border segments (half
    a cell wide); corner: the four corner values (a quarter cell each). (B,) each, top
    (B, 1, 1), -> (B,).
    """
    total = (inner + 0.5 * strip + 0.25 * corner) / (g * g)
    return top[:, 0, 0] + torch.log(total)  # (B,)


def _log_mean_gap(t0: torch.Tensor, t1: torch.Tensor) -> torch.Tensor:
    """
    Log of the mean of e^T over a segment where T runs linearly from t0 to t1 (elementwise).

    max(t0, t1) + log((1 - e^-D) / D) with D = |t1 - t0|: expm1 keeps full precision as D
    goes to 0 (the ratio tends to 1), and e^-D <= 1 cannot overflow, so no branch is needed.
    Inference only: its gradient at D near 0 is a difference of two large terms.
    """
    # The smallest normal number as the least gap keeps 0 / 0 out of equal ends.
    gap = (t1 - t0).abs_().clamp_(min=torch.finfo(t0.dtype).tiny)  # (...,) D
    ratio = torch.expm1(gap.neg()).neg_().div_(gap)  # (...,) (1 - e^-D) / D in (0, 1]
    return torch.maximum(t0, t1).add_(ratio.log_())


def _bilinear_inference(table: torch.Tensor) -> torch.Tensor:
    """:func:`log_mean_exp_bilinear` in log space, without branches (no autograd)."""
    g = table.shape[-1]
    top = table.amax(dim=(1, 2), keepdim=True)  # (B, 1, 1)
    t = table - top  # (B, G, G), rows v, columns u
    log_rows = _log_mean_gap(t[..., :-1], t[..., 1:])  # (B, G, G-1)
    inner = _log_mean_gap(log_rows[:, :-1], log_rows[:, 1:]).exp_().sum(dim=(1, 2))  # (B,)
    side_t = t[..., [0, -1]]  # (B, G, 2): first and last column
    sides = _log_mean_gap(side_t[:, :-1], side_t[:, 1:]).exp_()  # (B, G-1, 2)
    strip = (log_rows[:, 0].exp().sum(1) + log_rows[:, -1].exp().sum(1)
             + sides.sum(dim=(1, 2)))  # (B,)
    corner = t[:, [0, 0, -1, -1], [0, -1, 0, -1]].exp().sum(1)  # (B,)
    return _log_total(top, inner, strip, corner, g)


INTEGRALS = ('midpoint', 'bilinear')
# The rule of models built without one named (InfoNetConfig's default).
DEFAULT_INTEGRAL = 'bilinear'


def log_integral(table: torch.Tensor, integral: str = DEFAULT_INTEGRAL) -> torch.Tensor:
    """Log of the integral of e^T over the unit square by the named rule: (B, G, G) -> (B,)."""
    if integral == 'bilinear':
        return log_mean_exp_bilinear(table)
    if integral == 'midpoint':
        return log_mean_exp_table(table)
    raise ValueError(f'integral must be one of {INTEGRALS}, got {integral!r}')


def dv_exact(table: torch.Tensor, uv: torch.Tensor, integral: str = DEFAULT_INTEGRAL
             ) -> torch.Tensor:
    """DV bound with the exact product-of-marginals term: (B, G, G), (B, N, 2) -> (B,)."""
    return lookup(table, uv).mean(dim=1) - log_integral(table, integral)


@functools.lru_cache(maxsize=64)
def crossfit_indices(n: int, seed: int = 0) -> tuple[torch.Tensor, ...]:
    """
    Split range(n) into two critic halves of m = n // 2 and their scoring complements.

    Deterministic in (n, seed), so an estimate does not depend on the batch it is in.
    Returns (build_a, score_a, build_b, score_b), each score set of size n - m. Cached (a
    window length repeats on every update); callers must not modify the tensors.
    """
    g = torch.Generator().manual_seed(seed * 1_000_003 + n)
    perm = torch.randperm(n, generator=g)
    m = n // 2
    build_a, build_b = perm[:m], perm[m:2 * m]
    score_a = perm[m:]  # complement of build_a
    score_b = torch.cat([perm[:m], perm[2 * m:]])  # complement of build_b
    return build_a, score_a, build_b, score_b


READOUTS = ('crossfit', 'insample')


def set_mi(model, uv: torch.Tensor, readout: str = 'crossfit', seed: int = 0,
           integral: str = DEFAULT_INTEGRAL) -> torch.Tensor:
    """
    MI of each set by the given readout: (B, N, 2) copula points -> (B,) nats.

    ``integral``: how the product-of-marginals term integrates e^T (:func:`log_integral`; a
    model's ``cfg.integral``).
    """
    if readout == 'crossfit':
        return crossfit_mi(model, uv, seed=seed, integral=integral)
    if readout != 'insample':
        raise ValueError(f'readout must be one of {READOUTS}, got {readout!r}')
    return dv_exact(model(uv), uv, integral)  # (B,)


def crossfit_mi(model, uv: torch.Tensor, seed: int = 0,
                integral: str = DEFAULT_INTEGRAL) -> torch.Tensor:
    """
    Cross-fitted DV estimate: (B, N, 2) copula points -> (B,) nats.

    One forward pass over a batch of 2B half-sets.
    """
    b, n, _ = uv.shape
    # int(): under a trace n is a traced size; the split is a constant of each traced length.
    idx = [i.to(uv.device) for i in crossfit_indices(int(n), seed)]
    build_a, score_a, build_b, score_b = idx
    tables = model(torch.cat([uv[:, build_a], uv[:, build_b]], dim=0))  # (2B, G, G)
    return 0.5 * (dv_exact(tables[:b], uv[:, score_a], integral)
                  + dv_exact(tables[b:], uv[:, score_b], integral))  # (B,)


class ModelReadout(torch.nn.Module):
    """
    A model and the readout of its config as one module: copula ranks (B, 2, N) -> (B,) nats.

    The estimator runs it eagerly, or traced as a whole (:mod:`infonet_ros.core.tracing`) so
    that network and readout are a single call into TorchScript.
    """

    def __init__(self, model: torch.nn.Module, seed: int = 0):
        super().__init__()
        self.model = model
        self.seed = seed  # of the cross-fitting split

    def forward(self, ranks: torch.Tensor) -> torch.Tensor:
        cfg = self.model.cfg
        uv = ranks.transpose(1, 2)  # (B, N, 2)
        return set_mi(self.model, uv, cfg.readout, seed=self.seed, integral=cfg.integral)
