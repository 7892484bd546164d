# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The content hash of a checkpoint: sha256 over what decides the network's function.

A checkpoint (:meth:`infonet_ros.core.model.InfoNet.checkpoint`) stores it in its ``sha256``
field and :func:`infonet_ros.core.model.load_checkpoint` recomputes it, so weights altered or
damaged after they were written are refused instead of giving wrong numbers. Covered: the
format string, the config and every tensor of the state dict; not the provenance, which
describes the run and may be annotated. The bytes are canonical, independent of how the file
was pickled: each field length-prefixed; the config as JSON with sorted keys; the tensors in
name order, each as its name, dtype, shape and raw row-major bytes (the native byte order,
little-endian on every platform torch ships for).
"""

import hashlib
import json

import torch

# The checkpoint field that holds the hash (hex digest).
HASH_FIELD = 'sha256'


def checkpoint_sha256(ckpt: dict) -> str:
    """
    Return the hex sha256 of a checkpoint dict's format, config and state dict.

    :raises TypeError: a state dict entry is not a tensor.
    :raises KeyError: the dict has no 'format', 'config' or 'model'.
    """
    digest = hashlib.sha256()
    digest.update(_field(str(ckpt['format']).encode()))
    digest.update(_field(json.dumps(ckpt['config'], sort_keys=True,
                                    separators=(',', ':')).encode()))
    state = ckpt['model']
    for name in sorted(state):
        tensor = state[name]
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f'state dict entry {name!r} is not a tensor')
        data = tensor.detach().cpu().contiguous()
        digest.update(_field(name.encode()))
        digest.update(_field(str(data.dtype).encode()))
        digest.update(_field(json.dumps(list(data.shape)).encode()))
        digest.update(_field(data.reshape(-1).view(torch.uint8).numpy().tobytes()))
    return digest.hexdigest()


def _field(data: bytes) -> bytes:
    """Length-prefix ``data`` (8 bytes, little-endian), so no two field lists hash alike."""
    return len(data).to_bytes(8, 'little') + data
