# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Simulated training distributions with their true mutual information.

Every sampler returns ``x, y`` of shape (B, N) and ``mi`` of shape (B,): the Monte-Carlo mean
of the exact log density ratio log p(x, y) / (p(x) p(y)) over the N returned samples plus
``n_label`` extra ones (the densities are known in closed form or by 1-D quadrature).
Marginal monotone transforms are pointless here: the copula transform removes them. The
2-D Gaussian mixture helpers (:func:`random_gmm_params`, :func:`sample_gmm2`,
:func:`gmm2_logratio`, with :func:`dirichlet_weights` and :func:`random_cov`) are public:
:mod:`infonet_ros.training.groundtruth` draws its evaluation mixtures with them.

Families (``FAMILIES``):
- ``gmm``: the InfoNet authors' family, 2-D Gaussian mixtures with K ~ U{1..20} components,
  weights ~ Dirichlet(1), means ~ U(-5, 5)^2 and random full covariances;
- ``scale_mixture``: heavy tails, a mixture of concentric Gaussians of one correlation shape
  and log-uniform scales (a Gaussian scale mixture, so tails far heavier than one Gaussian);
- ``functional``: non-monotone and monotone links y = f(x) + sigma * eps (Gaussian eps),
  with x a 1-D mixture and f from sin, square, abs, tanh, cube; x and y swapped half the time;
- ``shaped_noise``: additive noise of other shapes, y = f(x) + sigma * eps with f the
  identity or one of the links above and eps generalized normal, density ~ exp(-|e|^beta),
  beta log-uniform in [0.8, 4] (peaked and heavy-shouldered to flat-topped; 2 is Gaussian);
- ``independent``: x and y independent 1-D mixtures (MI = 0);
- ``boxes``: mixtures of uniform distributions on random axis-aligned rectangles (a
  piecewise-constant density with hard edges, which no other family has: the critic must
  step, not slope, where the density does; the log density ratio is exact);
- ``ellipses``: mixtures of uniform distributions on random rotated ellipses (hard edges at
  every angle, curved; the marginals are semicircle laws, so the log ratio is exact too).
Student-t, additive uniform noise (the limit beta -> infinity, which training stops well
short of; boxes have hard edges too, but only along the axes and never as a band around a
line; a thin ellipse is edged at any angle, but its width tapers to zero at both ends, where
a band of additive uniform noise keeps one width and ends in straight cuts) and the
evaluation's bimodal mixture are kept out of training on purpose:
:mod:`infonet_ros.training.evaluate` uses them as unseen families.
"""

import math

import torch

LOG_2PI = math.log(2.0 * math.pi)
FAMILIES = ('gmm', 'scale_mixture', 'functional', 'shaped_noise', 'independent', 'boxes',
            'ellipses')
# Default shares of each family in a training batch (train --families sets others; each
# shipped model's shares are in its provenance). shaped_noise, boxes and ellipses are opt-in:
# fine-tuning `fine` for 33 minutes with shaped_noise changed nothing measurable
# (docs/model_card.md, "Training").
DEFAULT_FAMILY_WEIGHTS = (0.5, 0.15, 0.2, 0.0, 0.15, 0.0, 0.0)
# Shape range of the generalized normal noise of shaped_noise (see the module docstring).
NOISE_BETA_RANGE = (0.8, 4.0)


def _log_normal_1d(z, mean, var):
    return -0.5 * (LOG_2PI + torch.log(var) + (z - mean) ** 2 / var)


def _mixture_logpdf_1d(z, w, mean, var):
    """Log density of 1-D mixtures: z (B, M); w, mean, var (B, K) -> (B, M)."""
    comp = _log_normal_1d(z.unsqueeze(-1), mean.unsqueeze(1), var.unsqueeze(1))  # (B, M, K)
    return torch.logsumexp(comp + torch.log(w.clamp_min(1e-30)).unsqueeze(1), dim=-1)


def gmm2_logratio(x, y, w, mu, cov):
    """
    Log density ratio log p(x,y) - log p(x) - log p(y) of 2-D Gaussian mixtures, exactly.

    x, y (B, M); w (B, K); mu (B, K, 2); cov (B, K, 2, 2) -> (B, M)
    """
    sxx, syy, sxy = cov[..., 0, 0], cov[..., 1, 1], cov[..., 0, 1]  # (B, K)
    det = sxx * syy - sxy ** 2
    dx = x.unsqueeze(-1) - mu[..., 0].unsqueeze(1)  # (B, M, K)
    dy = y.unsqueeze(-1) - mu[..., 1].unsqueeze(1)
    quad = (syy.unsqueeze(1) * dx ** 2 - 2 * sxy.unsqueeze(1) * dx * dy
            + sxx.unsqueeze(1) * dy ** 2) / det.unsqueeze(1)
    logw = torch.log(w.clamp_min(1e-30)).unsqueeze(1)
    joint = torch.logsumexp(logw - LOG_2PI - 0.5 * torch.log(det).unsqueeze(1) - 0.5 * quad,
                            dim=-1)  # (B, M)
    px = _mixture_logpdf_1d(x, w, mu[..., 0], sxx)
    py = _mixture_logpdf_1d(y, w, mu[..., 1], syy)
    return joint - px - py


def sample_gmm2(w, mu, cov, m, gen):
    """
    Draw m points from each of B 2-D Gaussian mixtures: returns x, y (B, m).

    w (B, K) weights (zero for unused components), mu (B, K, 2), cov (B, K, 2, 2); ``gen``
    draws the components and the Gaussian noise.
    """
    b = w.shape[0]
    comp = torch.multinomial(w, m, replacement=True, generator=gen)  # (B, m)
    chol = torch.linalg.cholesky(cov)  # (B, K, 2, 2)
    ci = comp.unsqueeze(-1).unsqueeze(-1).expand(-1, -1, 2, 2)
    l_sel = torch.gather(chol, 1, ci)  # (B, m, 2, 2)
    m_sel = torch.gather(mu, 1, comp.unsqueeze(-1).expand(-1, -1, 2))  # (B, m, 2)
    z = torch.randn(b, m, 2, 1, generator=gen)
    pts = m_sel + (l_sel @ z).squeeze(-1)  # (B, m, 2)
    return pts[..., 0], pts[..., 1]


def random_cov(shape, gen, log_scale=(math.log(0.1), math.log(3.0))):
    """Random full 2x2 covariances R diag(s^2) R^T with log-uniform scales: shape + (2, 2)."""
    lo, hi = log_scale
    s = torch.exp(lo + (hi - lo) * torch.rand(*shape, 2, generator=gen))  # (..., 2)
    th = math.pi * torch.rand(*shape, generator=gen)
    c, si = torch.cos(th), torch.sin(th)
    r = torch.stack([torch.stack([c, -si], -1), torch.stack([si, c], -1)], -2)  # (..., 2, 2)
    return r @ torch.diag_embed(s ** 2) @ r.transpose(-1, -2)


def dirichlet_weights(b, k_max, k, gen):
    """Dirichlet(1) weights over the first k[b] of k_max slots (the rest 0): (B, k_max)."""
    e = -torch.log(torch.rand(b, k_max, generator=gen).clamp_min(1e-12))
    mask = torch.arange(k_max).unsqueeze(0) < k.unsqueeze(1)
    e = e * mask
    return e / e.sum(dim=1, keepdim=True)


def _finish(x, y, lr, n):
    return x[:, :n].contiguous(), y[:, :n].contiguous(), lr.mean(dim=1)


def random_gmm_params(b, gen, k_max=20):
    """
    Parameters of B random 2-D Gaussian mixtures, the ``gmm`` family: w, mu, cov.

    K ~ U{1..k_max} components, weights Dirichlet(1) (w (B, k_max), 0 past K), means
    U(-5, 5)^2 (mu (B, k_max, 2)), full covariances :func:`random_cov` (cov (B, k_max, 2, 2)).
    """
    k = torch.randint(1, k_max + 1, (b,), generator=gen)
    w = dirichlet_weights(b, k_max, k, gen)
    mu = -5 + 10 * torch.rand(b, k_max, 2, generator=gen)
    cov = random_cov((b, k_max), gen)
    return w, mu, cov


def sample_gmm(b, n, gen, k_max=20, n_label=2048):
    """Sample the authors' family: random 2-D Gaussian mixtures."""
    w, mu, cov = random_gmm_params(b, gen, k_max)
    x, y = sample_gmm2(w, mu, cov, n + n_label, gen)
    return _finish(x, y, gmm2_logratio(x, y, w, mu, cov), n)


def sample_scale_mixture(b, n, gen, k_max=6, n_label=2048):
    """Heavy-tailed Gaussian scale mixtures of one random correlation."""
    k = torch.randint(2, k_max + 1, (b,), generator=gen)
    w = dirichlet_weights(b, k_max, k, gen)
    rho = (2 * torch.rand(b, generator=gen) - 1) * 0.98
    shape = torch.stack([torch.stack([torch.ones_like(rho), rho], -1),
                         torch.stack([rho, torch.ones_like(rho)], -1)], -2)  # (B, 2, 2)
    scale = torch.exp(torch.log(torch.tensor(30.0)) * torch.rand(b, k_max, generator=gen))
    cov = shape.unsqueeze(1) * scale[..., None, None] ** 2  # (B, K, 2, 2)
    mu = torch.zeros(b, k_max, 2)
    x, y = sample_gmm2(w, mu, cov, n + n_label, gen)
    return _finish(x, y, gmm2_logratio(x, y, w, mu, cov), n)


def _sample_mixture_1d(b, m, gen, k_max):
    k = torch.randint(1, k_max + 1, (b,), generator=gen)
    w = dirichlet_weights(b, k_max, k, gen)
    mean = -2 + 4 * torch.rand(b, k_max, generator=gen)
    var = torch.exp(math.log(0.05) + (math.log(1.0) - math.log(0.05))
                    * torch.rand(b, k_max, generator=gen))
    comp = torch.multinomial(w, m, replacement=True, generator=gen)
    z = torch.gather(mean, 1, comp) + torch.gather(var, 1, comp).sqrt() * torch.randn(
        b, m, generator=gen)
    return z, (w, mean, var)


LINKS = (
    lambda x, a: torch.sin(a * x),
    lambda x, a: x ** 2,
    lambda x, a: x.abs(),
    lambda x, a: torch.tanh(a * x),
    lambda x, a: x ** 3,
    lambda x, a: x,
)
N_NONLINEAR_LINKS = 5  # the functional family draws from the first five (no identity)


def _sample_gamma(alpha, gen):
    """
    Gamma(alpha, 1) draws for a tensor of shapes alpha > 0 (any shape), from ``gen``.

    Marsaglia and Tsang's squeeze-free method for alpha + 1 >= 1, boosted by U^(1/alpha)
    (torch's own gamma sampler takes no generator, and training must be reproducible).
    """
    a = alpha + 1.0
    d = a - 1.0 / 3.0
    c = 1.0 / torch.sqrt(9.0 * d)
    out = torch.empty_like(alpha)
    todo = torch.ones_like(alpha, dtype=torch.bool)
    while todo.any():
        z = torch.randn(alpha.shape, generator=gen)
        u = torch.rand(alpha.shape, generator=gen).clamp_min(1e-30)
        v = (1.0 + c * z) ** 3
        ok = (v > 0) & (torch.log(u) < 0.5 * z ** 2 + d - d * v + d * torch.log(
            v.clamp_min(1e-30)))
        take = ok & todo
        out[take] = (d * v)[take]
        todo &= ~ok
    boost = torch.rand(alpha.shape, generator=gen).clamp_min(1e-30) ** (1.0 / alpha)
    return out * boost


def _sample_gen_normal(beta, shape, gen):
    """Unit-variance generalized normal draws, density ~ exp(-|e / s|^beta): beta (B, 1)."""
    if bool((beta == 2.0).all()):  # Gaussian: plain randn draws (the functional family)
        return torch.randn(shape, generator=gen)
    g = _sample_gamma((1.0 / beta).expand(shape).contiguous(), gen)
    sign = torch.where(torch.rand(shape, generator=gen) < 0.5, -1.0, 1.0)
    return sign * g ** (1.0 / beta) / _gen_normal_scale(beta)


def _gen_normal_scale(beta):
    """Std of the generalized normal of scale 1: sqrt(Gamma(3/beta) / Gamma(1/beta))."""
    return torch.exp(0.5 * (torch.lgamma(3.0 / beta) - torch.lgamma(1.0 / beta)))


def _log_gen_normal(e, sigma, beta):
    """Log density of sigma * (unit-variance generalized normal of shape beta) at e."""
    s = sigma / _gen_normal_scale(beta)  # scale parameter
    return (torch.log(beta) - math.log(2.0) - torch.log(s) - torch.lgamma(1.0 / beta)
            - (e.abs() / s) ** beta)


def _sample_link_noise(b, n, gen, links, beta, n_label, n_quad):
    """
    Sample y = f(x) + sigma * eps, f drawn from ``links`` (indices into LINKS), eps of shape beta.

    beta (B, 1): generalized normal shapes (2 is Gaussian). Labels by quadrature over x; the
    quadrature for p(y) is the costly part, so the label averages the log ratio over
    ``n_label`` extra samples only.
    """
    m = n + n_label
    x, (w, mean, var) = _sample_mixture_1d(b, m, gen, k_max=3)
    link = links[torch.randint(0, len(links), (b,), generator=gen)]
    a = 0.5 + 2.5 * torch.rand(b, 1, generator=gen)
    fx = torch.empty_like(x)
    lo = (mean - 5 * var.sqrt()).amin(1, keepdim=True)
    hi = (mean + 5 * var.sqrt()).amax(1, keepdim=True)
    xq = lo + (hi - lo) * (torch.arange(n_quad) + 0.5) / n_quad  # (B, Q)
    fq = torch.empty_like(xq)
    for i, f in enumerate(LINKS):
        sel = link == i
        if sel.any():
            fx[sel] = f(x[sel], a[sel])
            fq[sel] = f(xq[sel], a[sel])
    # Noise relative to the spread of f(x): from nearly deterministic to nearly independent.
    spread = fx.std(dim=1, keepdim=True).clamp_min(1e-6)
    sigma = spread * torch.exp(math.log(0.03) + (math.log(3.0) - math.log(0.03))
                               * torch.rand(b, 1, generator=gen))
    y = fx + sigma * _sample_gen_normal(beta, (b, m), gen)
    yl, fl = y[:, n:], fx[:, n:]  # (B, L) label points
    log_cond = _log_gen_normal(yl - fl, sigma, beta)  # log p(y | x)
    # p(y) = int p(x) p_eps(y - f(x)) dx on the quadrature grid.
    log_px_q = _mixture_logpdf_1d(xq, w, mean, var) + torch.log((hi - lo) / n_quad)  # (B, Q)
    lq = _log_gen_normal(yl.unsqueeze(-1) - fq.unsqueeze(1), sigma.unsqueeze(-1),
                         beta.unsqueeze(-1))  # (B, L, Q)
    log_py = torch.logsumexp(lq + log_px_q.unsqueeze(1), dim=-1)  # (B, L)
    swap = torch.rand(b, 1, generator=gen) < 0.5
    x, y = torch.where(swap, y, x), torch.where(swap, x, y)
    return _finish(x, y, log_cond - log_py, n)


def sample_functional(b, n, gen, n_label=512, n_quad=1024):
    """Sample y = f(x) + sigma * eps, Gaussian eps, f a nonlinear link; label by quadrature."""
    return _sample_link_noise(b, n, gen, torch.arange(N_NONLINEAR_LINKS),
                              torch.full((b, 1), 2.0), n_label, n_quad)


def sample_shaped_noise(b, n, gen, n_label=512, n_quad=1024, beta_range=NOISE_BETA_RANGE):
    """
    Sample additive noise of random shape: y = f(x) + sigma * eps, eps generalized normal.

    f is the identity half the time, else a link of the functional family; the shape beta is
    log-uniform in ``beta_range``. Labels by quadrature, as for ``functional``.
    """
    lo, hi = math.log(beta_range[0]), math.log(beta_range[1])
    beta = torch.exp(lo + (hi - lo) * torch.rand(b, 1, generator=gen))
    ident = len(LINKS) - 1
    links = torch.cat([torch.full((N_NONLINEAR_LINKS,), ident), torch.arange(N_NONLINEAR_LINKS)])
    return _sample_link_noise(b, n, gen, links, beta, n_label, n_quad)


def sample_independent(b, n, gen):
    """Independent 1-D mixtures: MI = 0 exactly."""
    x, _ = _sample_mixture_1d(b, n, gen, k_max=5)
    y, _ = _sample_mixture_1d(b, n, gen, k_max=5)
    return x, y, torch.zeros(b)


def box_mixture_sample(w, lo, hi, m, gen):
    """
    Draw m points from each of B mixtures of uniform boxes, with their exact log ratios.

    w (B, K) weights; lo, hi (B, K, 2) box corners -> x, y, log p(x,y) / (p(x) p(y)) (B, m).
    """
    b = w.shape[0]
    comp = torch.multinomial(w, m, replacement=True, generator=gen)  # (B, m)
    sel = comp.unsqueeze(-1).expand(-1, -1, 2)
    lo_s, hi_s = torch.gather(lo, 1, sel), torch.gather(hi, 1, sel)  # (B, m, 2)
    pts = lo_s + (hi_s - lo_s) * torch.rand(b, m, 2, generator=gen)  # (B, m, 2)
    x, y = pts[..., 0], pts[..., 1]
    # Which boxes' x and y ranges hold each point; the marginals use one axis each.
    inside = (pts.unsqueeze(2) >= lo.unsqueeze(1)) & (pts.unsqueeze(2) <= hi.unsqueeze(1))
    side = hi - lo  # (B, K, 2)
    joint = (inside.all(-1) * (w / side.prod(-1)).unsqueeze(1)).sum(-1)  # (B, m)
    marg = (inside * (w.unsqueeze(-1) / side).unsqueeze(1)).sum(2)  # (B, m, 2): p(x), p(y)
    lr = torch.log(joint) - torch.log(marg).sum(-1)
    return x, y, lr


def sample_boxes(b, n, gen, k_max=10, n_label=2048, half_width=(0.02, 0.5)):
    """
    Mixtures of uniform distributions on random axis-aligned rectangles.

    K ~ U{1..k_max} boxes, weights Dirichlet(1), centres U(0, 1)^2, half-widths per axis
    log-uniform in ``half_width``. Every sample lies in a box, so every density is positive
    where it is evaluated; the log ratio is exact (sums of indicator densities).
    """
    k = torch.randint(1, k_max + 1, (b,), generator=gen)
    w = dirichlet_weights(b, k_max, k, gen)  # (B, K)
    lo_h, hi_h = math.log(half_width[0]), math.log(half_width[1])
    centre = torch.rand(b, k_max, 2, generator=gen)  # (B, K, 2)
    half = torch.exp(lo_h + (hi_h - lo_h) * torch.rand(b, k_max, 2, generator=gen))
    lo, hi = centre - half, centre + half  # (B, K, 2)
    x, y, lr = box_mixture_sample(w, lo, hi, n + n_label, gen)
    return _finish(x, y, lr, n)


def ellipse_mixture_sample(w, centre, axes, angle, m, gen):
    """
    Draw m points from each of B mixtures of uniform ellipses, with their exact log ratios.

    w (B, K) weights; centre (B, K, 2); axes (B, K, 2) semi-axes (a, b); angle (B, K) of the
    a axis to the x axis -> x, y, log p(x,y) / (p(x) p(y)) (B, m).
    """
    b = w.shape[0]
    cos, sin = torch.cos(angle), torch.sin(angle)  # (B, K)
    comp = torch.multinomial(w, m, replacement=True, generator=gen)  # (B, m)

    def pick(t):  # each point's own ellipse: (B, K) -> (B, m)
        return torch.gather(t, 1, comp)

    # Uniform in the unit disk (radius sqrt(U)), stretched by the axes, rotated, shifted.
    r = torch.sqrt(torch.rand(b, m, generator=gen))
    phi = (2.0 * math.pi) * torch.rand(b, m, generator=gen)
    la, lb = pick(axes[..., 0]) * r * torch.cos(phi), pick(axes[..., 1]) * r * torch.sin(phi)
    x = pick(centre[..., 0]) + la * pick(cos) - lb * pick(sin)  # (B, m)
    y = pick(centre[..., 1]) + la * pick(sin) + lb * pick(cos)  # (B, m)
    # Each point against each ellipse (B, m, K): inside test in the ellipse's own frame.
    dx, dy = x.unsqueeze(2) - centre[:, None, :, 0], y.unsqueeze(2) - centre[:, None, :, 1]
    ea = (dx * cos.unsqueeze(1) + dy * sin.unsqueeze(1)) / axes[:, None, :, 0]
    eb = (dy * cos.unsqueeze(1) - dx * sin.unsqueeze(1)) / axes[:, None, :, 1]
    inside = (ea ** 2 + eb ** 2) <= 1.0
    area = math.pi * axes.prod(-1)  # (B, K)
    joint = (inside * (w / area).unsqueeze(1)).sum(-1)  # (B, m)
    # A uniform ellipse projects on an axis as a semicircle law of half-width s:
    # p(t) = 2 / (pi s) * sqrt(1 - ((t - c) / s)^2).
    a2, b2 = axes[..., 0] ** 2, axes[..., 1] ** 2
    s_x = torch.sqrt(a2 * cos ** 2 + b2 * sin ** 2)  # (B, K)
    s_y = torch.sqrt(a2 * sin ** 2 + b2 * cos ** 2)

    def marginal(t, c, s):
        z = (t.unsqueeze(2) - c.unsqueeze(1)) / s.unsqueeze(1)  # (B, m, K)
        dens = 2.0 / (math.pi * s.unsqueeze(1)) * torch.sqrt((1.0 - z ** 2).clamp_min(0.0))
        return (dens * w.unsqueeze(1)).sum(-1)  # (B, m)

    p_x = marginal(x, centre[..., 0], s_x)
    p_y = marginal(y, centre[..., 1], s_y)
    # Every point lies strictly inside its own ellipse, so no density is zero there; the
    # floor only guards float32 rounding on a rim.
    tiny = torch.finfo(joint.dtype).tiny
    lr = torch.log(joint.clamp_min(tiny)) - torch.log(p_x.clamp_min(tiny)) \
        - torch.log(p_y.clamp_min(tiny))
    return x, y, lr


def sample_ellipses(b, n, gen, k_max=10, n_label=2048, half_axis=(0.02, 0.5)):
    """
    Mixtures of uniform distributions on random rotated ellipses.

    K ~ U{1..k_max} ellipses, weights Dirichlet(1), centres U(0, 1)^2, semi-axes
    log-uniform in ``half_axis``, orientation U(0, pi). Hard edges at every angle; the log
    ratio is exact (indicator densities over semicircle-law marginals).
    """
    k = torch.randint(1, k_max + 1, (b,), generator=gen)
    w = dirichlet_weights(b, k_max, k, gen)  # (B, K)
    lo_h, hi_h = math.log(half_axis[0]), math.log(half_axis[1])
    centre = torch.rand(b, k_max, 2, generator=gen)  # (B, K, 2)
    axes = torch.exp(lo_h + (hi_h - lo_h) * torch.rand(b, k_max, 2, generator=gen))
    angle = math.pi * torch.rand(b, k_max, generator=gen)  # (B, K)
    x, y, lr = ellipse_mixture_sample(w, centre, axes, angle, n + n_label, gen)
    return _finish(x, y, lr, n)


def sample_gaussian(b, n, rho, gen):
    """Bivariate standard Gaussians with correlation rho (scalar or (B,))."""
    rho = torch.as_tensor(rho, dtype=torch.get_default_dtype()).expand(b).unsqueeze(1)
    x = torch.randn(b, n, generator=gen)
    y = rho * x + torch.sqrt(1 - rho ** 2) * torch.randn(b, n, generator=gen)
    return x, y, -0.5 * torch.log(1 - rho[:, 0] ** 2)


SAMPLERS = {'gmm': sample_gmm, 'scale_mixture': sample_scale_mixture,
            'functional': sample_functional, 'shaped_noise': sample_shaped_noise,
            'independent': sample_independent, 'boxes': sample_boxes,
            'ellipses': sample_ellipses}


def sample_batch(b, n, gen, weights=DEFAULT_FAMILY_WEIGHTS):
    """Draw a batch, each set's family by ``weights``: x, y (B, N), mi (B,)."""
    fam = torch.multinomial(torch.tensor(weights, dtype=torch.float), b, replacement=True,
                            generator=gen)
    xs, ys, mis = [], [], []
    for i, name in enumerate(FAMILIES):
        k = int((fam == i).sum())
        if k:
            x, y, mi = SAMPLERS[name](k, n, gen)
            xs.append(x)
            ys.append(y)
            mis.append(mi)
    return torch.cat(xs), torch.cat(ys), torch.cat(mis)
