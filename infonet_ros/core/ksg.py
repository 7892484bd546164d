# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The KSG baseline: the Kraskov-Stoegbauer-Grassberger k-nearest-neighbour MI estimator.

As scikit-learn implements it (``mutual_info_regression``): it standardizes both variables
and adds a tiny noise to break ties, seeded by ``random_state``. Used as the reference in
evaluation and, with ``--ksg``, beside InfoNet in the bag analysis.
"""

import numpy as np


def ksg_mi(x, y, n_neighbors: int = 3, random_state: int = 0) -> float:
    """KSG estimate in nats of two 1-D series via scikit-learn's ``mutual_info_regression``."""
    from sklearn.feature_selection import mutual_info_regression
    x = np.asarray(x, dtype=np.float64).reshape(-1, 1)
    y = np.asarray(y, dtype=np.float64).ravel()
    return float(mutual_info_regression(x, y, n_neighbors=n_neighbors,
                                        random_state=random_state)[0])
