# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
infonet_ros: real-time mutual information between sensor streams with InfoNet.

The estimator core is plain Python + torch: ``from infonet_ros import InfoNetEstimator``.
Names are imported lazily so that ``from infonet_ros.msg import MutualInformation`` in a
decision node does not load torch.
"""

import importlib
import pkgutil

# In a ROS 2 install the message modules (infonet_ros.msg) are generated into the
# colcon install tree; extending the package path lets a source checkout find them too.
__path__ = pkgutil.extend_path(__path__, __name__)

# Public name -> the core module that defines it (imported at first use).
_LAZY = {
    'InfoNetEstimator': 'infonet_ros.core.estimator',
    'estimate_mi': 'infonet_ros.core.estimator',
    'MIN_SAMPLES': 'infonet_ros.core.limits',
    'InfoNet': 'infonet_ros.core.model',
    'InfoNetConfig': 'infonet_ros.core.model',
    'WeightsError': 'infonet_ros.core.model',
    'UncheckedWeightsWarning': 'infonet_ros.core.model',
    'NonFiniteEstimateError': 'infonet_ros.core.checks',
    'MIEstimate': 'infonet_ros.core.uncertainty',
    'estimate_with_uncertainty': 'infonet_ros.core.uncertainty',
    'estimate_batch_with_uncertainty': 'infonet_ros.core.uncertainty',
    'NullTableError': 'infonet_ros.core.null_table',
    'rank_normalize': 'infonet_ros.core.copula',
    'soft_rank_normalize': 'infonet_ros.core.copula',
    'sliced_mi': 'infonet_ros.core.sliced',
    'pls_mi': 'infonet_ros.core.pls',
    'independence_test': 'infonet_ros.core.independence',
    'IndependenceTestResult': 'infonet_ros.core.independence',
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


def __dir__():
    return sorted(list(globals()) + list(_LAZY))
