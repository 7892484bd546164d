# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Models with damaged weights, for the tests that estimates never come out NaN silently."""

import torch

from infonet_ros.core.model import InfoNet, InfoNetConfig

SMALL = InfoNetConfig(d_model=16, n_heads=2, n_latents=8, n_self_layers=1, n_fourier=4,
                      coarse_grid=8, grid_size=16, decoder_channels=16)


def nan_model() -> InfoNet:
    """Return a small model whose last bias is NaN: every critic table is NaN."""
    torch.manual_seed(0)
    model = InfoNet(SMALL).eval()
    with torch.no_grad():
        model.upsample[-2].bias.fill_(float('nan'))  # the last convolution
    return model
