"""Finite-difference tools: numerical_jacobian, numerical_gradient, relative_error."""

import numpy as np
import pytest

from cnn_helpers import numerical_gradient, numerical_jacobian, relative_error


def test_numerical_jacobian_of_linear_map_in_vec_order(rng):
    """For f(X) = M X N (linear), d vec(f)/d vec(X) = N^T kron M: rows and columns are in
    column-major (vec) order."""
    M = rng.standard_normal((4, 3))
    X = rng.standard_normal((3, 2))
    N = rng.standard_normal((2, 5))
    J = numerical_jacobian(lambda t: M @ t @ N, X)
    assert J.shape == (20, 6)
    np.testing.assert_allclose(J, np.kron(N.T, M), rtol=1e-8, atol=1e-9)


def test_numerical_jacobian_of_matrix_vector_product(rng):
    """f(x) = M x has Jacobian M (numerator layout: m x n)."""
    M = rng.standard_normal((3, 5))
    x = rng.standard_normal(5)
    np.testing.assert_allclose(numerical_jacobian(lambda t: M @ t, x), M, rtol=1e-8, atol=1e-9)


def test_numerical_jacobian_does_not_modify_x(rng):
    """The evaluation point is left untouched."""
    x = rng.standard_normal((3, 4))
    copy = x.copy()
    numerical_jacobian(np.sin, x)
    np.testing.assert_array_equal(x, copy)


def test_numerical_gradient_of_quadratic(rng):
    """f(X) = sum(X * (S X)) has gradient (S + S^T) X, shaped like X."""
    S = rng.standard_normal((4, 4))
    X = rng.standard_normal((4, 3))
    g = numerical_gradient(lambda t: float(np.sum(t * (S @ t))), X)
    assert g.shape == X.shape
    np.testing.assert_allclose(g, (S + S.T) @ X, rtol=1e-7, atol=1e-8)


def test_numerical_gradient_rejects_vector_valued_f(rng):
    """A gradient needs a scalar function."""
    with pytest.raises(ValueError):
        numerical_gradient(lambda t: t * 2, rng.standard_normal(3))


def test_relative_error_basics(rng):
    """0 for equal arrays (and for two zero arrays), symmetric, scale-free."""
    a = rng.standard_normal((3, 4))
    b = a + 1e-3 * rng.standard_normal((3, 4))
    assert relative_error(a, a) == 0.0
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(a, b) == relative_error(b, a)
    expected = np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b))
    assert relative_error(a, b) == pytest.approx(expected, rel=1e-12)
    assert relative_error(1e6 * a, 1e6 * b) == pytest.approx(relative_error(a, b), rel=1e-9)
    assert relative_error(a, -a) == pytest.approx(1.0)


def test_relative_error_shape_mismatch_raises(rng):
    """No silent broadcasting: different shapes are a ValueError."""
    with pytest.raises(ValueError):
        relative_error(np.ones((3, 1)), np.ones((3,)))
    with pytest.raises(ValueError):
        relative_error(np.ones((2, 3)), np.ones((3, 2)))
