# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Donsker-Varadhan readouts of a critic table, and cross-fitting.

MI >= E_P[T] - log E_{P_U x P_V}[e^T] for any critic T. Points are copula-transformed, so
P_U x P_V is the uniform distribution on the unit square and the second term is an integral
of e^T over the square, computed exactly on the table by the midpoint rule (``dv_exact``),
instead of averaging e^T over shuffled pairs as the InfoNet authors do (``dv_shuffle``).

Cross-fitting: a critic scored on the very points it was built from can memorize them and
read dependence into independent data. ``crossfit_mi`` builds one critic from each half of
the set and scores it on the other half, then averages; training uses the same readout, so
the network learns critics that generalize. The price: on fresh points a critic built from
N/2 samples is a valid DV bound, so its expected estimate is at most the MI, lower by the
critic's own estimation error, and no training can lift it above.

In-sample (``readout='insample'`` in a model's config): one critic from all N points,
scored on the same points. Half the network passes, and no ceiling below the MI, but the
bound is no longer one: a critic fitted to the points overestimates, so such models are
trained with a strong supervised term that calibrates the readout (see
:mod:`infonet_ros.train`). :func:`set_mi` applies a model's readout.
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


def dv_exact(table: torch.Tensor, uv: torch.Tensor) -> torch.Tensor:
    """DV bound with the exact product-of-marginals term: (B, G, G), (B, N, 2) -> (B,)."""
    return lookup(table, uv).mean(dim=1) - log_mean_exp_table(table)


def dv_shuffle(table: torch.Tensor, uv: torch.Tensor, n_shuffles: int = 5,
               generator: torch.Generator | None = None) -> torch.Tensor:
    """DV bound with e^T averaged over ``n_shuffles`` permutations of v (the authors' way)."""
    b, n, _ = uv.shape
    joint = lookup(table, uv).mean(dim=1)  # (B,)
    terms = []
    for _ in range(n_shuffles):
        perm = torch.randperm(n, generator=generator).to(uv.device)
        shuffled = torch.stack([uv[..., 0], uv[:, perm, 1]], dim=-1)  # (B, N, 2)
        terms.append(lookup(table, shuffled))  # (B, N)
    t = torch.cat(terms, dim=1)  # (B, S*N)
    return joint - (torch.logsumexp(t, dim=1) - torch.log(torch.tensor(float(t.shape[1]))))


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
           marginal: str = 'exact') -> torch.Tensor:
    """MI of each set by the given readout: (B, N, 2) copula points -> (B,) nats."""
    if readout == 'crossfit':
        return crossfit_mi(model, uv, seed=seed, marginal=marginal)
    if readout != 'insample':
        raise ValueError(f'readout must be one of {READOUTS}, got {readout!r}')
    return _dv(model(uv), uv, marginal, _shuffle_generator(marginal, seed))  # (B,)


def _shuffle_generator(marginal: str, seed: int) -> torch.Generator | None:
    """Return the seeded generator of the shuffled readout (None for the exact one)."""
    return torch.Generator().manual_seed(seed) if marginal == 'shuffle' else None


def _dv(table: torch.Tensor, uv: torch.Tensor, marginal: str,
        generator: torch.Generator | None) -> torch.Tensor:
    """Read the DV bound with the named marginal term: (B, G, G), (B, N, 2) -> (B,)."""
    if marginal == 'exact':
        return dv_exact(table, uv)
    if marginal == 'shuffle':
        return dv_shuffle(table, uv, generator=generator)
    raise ValueError(f"marginal must be 'exact' or 'shuffle', got {marginal!r}")


def crossfit_mi(model, uv: torch.Tensor, seed: int = 0, marginal: str = 'exact',
                return_tables: bool = False):
    """
    Cross-fitted DV estimate: (B, N, 2) copula points -> (B,) nats.

    One forward pass over a batch of 2B half-sets.
    """
    b, n, _ = uv.shape
    # int(): under a trace n is a traced size; the split is a constant of each traced length.
    idx = [i.to(uv.device) for i in crossfit_indices(int(n), seed)]
    build_a, score_a, build_b, score_b = idx
    tables = model(torch.cat([uv[:, build_a], uv[:, build_b]], dim=0))  # (2B, G, G)
    g = _shuffle_generator(marginal, seed)  # one stream for both halves
    mi = 0.5 * (_dv(tables[:b], uv[:, score_a], marginal, g)
                + _dv(tables[b:], uv[:, score_b], marginal, g))  # (B,)
    return (mi, tables) if return_tables else mi
