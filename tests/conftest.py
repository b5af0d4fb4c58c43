"""Shared fixtures for the cnn_helpers unit tests."""

import numpy as np
import pytest


@pytest.fixture
def rng():
    """A seeded generator: every test sees the same random numbers on every run."""
    return np.random.default_rng(20220405)
