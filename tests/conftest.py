import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))


@pytest.fixture(autouse=True)
def _seeded_numpy():
    """Every test starts from the same global NumPy seed (the layers use np.random)."""
    np.random.seed(0)
    yield
