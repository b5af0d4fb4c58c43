"""Activations (§3.1.4), softmax and cross-entropy (§3.1.1), the fully connected layer."""

import warnings

import numpy as np
import pytest

from cnn_helpers import (
    cross_entropy_jacobian,
    dense_backward,
    dense_forward,
    dense_jacobian_bias,
    dense_jacobian_input,
    dense_jacobian_weight,
    numerical_gradient,
    numerical_jacobian,
    relative_error,
    relu,
    relu_jacobian,
    sigmoid,
    sigmoid_jacobian,
    softmax,
    softmax_cross_entropy,
    softmax_jacobian,
    tanh,
    tanh_jacobian,
    vec,
)

# name -> (function, Jacobian builder, independent formula of f, independent formula of f')
ELEMENTWISE = {
    "relu": (
        relu,
        relu_jacobian,
        lambda z: np.where(z > 0, z, 0.0),
        lambda z: (z > 0).astype(float),
    ),
    "sigmoid": (
        sigmoid,
        sigmoid_jacobian,
        lambda z: 1.0 / (1.0 + np.exp(-z)),
        lambda z: np.exp(-z) / (1.0 + np.exp(-z)) ** 2,
    ),
    "tanh": (
        tanh,
        tanh_jacobian,
        lambda z: (np.exp(2 * z) - 1) / (np.exp(2 * z) + 1),
        lambda z: 4.0 / (np.exp(z) + np.exp(-z)) ** 2,
    ),
}


def _away_from_kink(rng, shape):
    """Random values with |z| > 1e-3 (ReLU is not differentiable at 0)."""
    z = rng.standard_normal(shape) * 2
    return np.where(np.abs(z) < 1e-2, 0.5, z)


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 4), (5,)])
def test_elementwise_activation_values(rng, name, shape):
    """relu, sigmoid and tanh agree with their textbook formulas, shape preserved."""
    f, _, formula, _ = ELEMENTWISE[name]
    Z = _away_from_kink(rng, shape)
    out = f(Z)
    assert out.shape == Z.shape
    np.testing.assert_allclose(out, formula(Z), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 4)])
def test_elementwise_jacobian_is_diagonal_and_matches_finite_differences(rng, name, shape):
    """§3.1.4: d vec(I)/d vec(Z) = diag(f'(vec Z)) (vec column-major inside each channel),
    equal to the numerical Jacobian on matrices and (c, h, w) tensors."""
    f, jac, _, deriv = ELEMENTWISE[name]
    Z = _away_from_kink(rng, shape)
    J = jac(Z)
    assert J.shape == (Z.size, Z.size)
    np.testing.assert_array_equal(J, np.diag(np.diag(J)))
    # diagonal in the paper's order: channel by channel, column-major inside a channel
    order = np.concatenate([vec(M) for M in Z.reshape(-1, *shape[-2:])])
    np.testing.assert_allclose(np.diag(J), deriv(order), rtol=1e-12, atol=1e-14)
    assert relative_error(J, numerical_jacobian(f, Z)) < 1e-7


def test_jacobian_diagonal_order_is_column_major():
    """For a non-symmetric pattern the diagonal must follow vec, not NumPy's row order."""
    Z = np.array([[1.0, -1.0, 2.0], [-3.0, 4.0, -5.0]])
    np.testing.assert_array_equal(np.diag(relu_jacobian(Z)), [1, 0, 0, 1, 1, 0])


def test_relu_jacobian_at_the_kink_is_zero():
    """ReLU is not differentiable at 0; the package's documented choice is f'(0) = 0."""
    Z = np.array([[-1.0, 0.0, 2.0]])
    np.testing.assert_array_equal(np.diag(relu_jacobian(Z)), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(relu(Z), [[0.0, 0.0, 2.0]])


@pytest.mark.parametrize("n", [1, 2, 5])
def test_softmax_jacobian(rng, n):
    """§3.1.1: d a/d z = diag(a) - a a^T for a = softmax(z), a full n x n matrix."""
    z = rng.standard_normal(n) * 3
    a = np.exp(z) / np.exp(z).sum()
    J = softmax_jacobian(z)
    assert J.shape == (n, n)
    np.testing.assert_allclose(J, np.diag(a) - np.outer(a, a), rtol=1e-12, atol=1e-15)
    assert relative_error(J, numerical_jacobian(softmax, z)) < 1e-7


def test_softmax_rows_sum_to_one(rng):
    """Softmax over the last axis: positive, rows sum to 1, for vectors and batches."""
    Z = rng.standard_normal((6, 5)) * 4
    A = softmax(Z)
    assert A.shape == Z.shape and (A > 0).all()
    np.testing.assert_allclose(A.sum(axis=1), np.ones(6), rtol=1e-14)
    np.testing.assert_allclose(A, np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(softmax(Z[2]), A[2], rtol=1e-14)


def test_softmax_and_loss_are_stable_for_large_logits():
    """Logits of size 1e3 neither overflow nor give NaN: correct values, no warning."""
    z = np.array([1000.0, -1000.0, 999.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = softmax(z)
        loss0, dZ0 = softmax_cross_entropy(z[None], np.array([0]))
        loss1, dZ1 = softmax_cross_entropy(z[None], np.array([1]))
    e = np.exp(-1.0)
    expected_a = np.array([1 / (1 + e), 0.0, e / (1 + e)])
    np.testing.assert_allclose(a, expected_a, rtol=1e-14, atol=1e-300)
    assert np.isfinite(loss0) and np.isfinite(loss1)
    np.testing.assert_allclose(loss0, np.log1p(e), rtol=1e-12)
    np.testing.assert_allclose(loss1, 2000.0 + np.log1p(e), rtol=1e-14)
    np.testing.assert_allclose(dZ0, [expected_a - [1, 0, 0]], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(dZ1, [expected_a - [0, 1, 0]], rtol=1e-12, atol=1e-15)


def test_softmax_cross_entropy_value_and_gradient(rng):
    """Mean cross-entropy -mean log a_y; dZ = (softmax(Z) - onehot(y)) / N equals the
    numerical gradient of the mean loss."""
    Z = rng.standard_normal((4, 6)) * 2
    y = np.array([0, 5, 2, 2])
    loss, dZ = softmax_cross_entropy(Z, y)
    P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(loss, -np.mean(np.log(P[np.arange(4), y])), rtol=1e-13)
    assert dZ.shape == Z.shape
    num = numerical_gradient(lambda t: softmax_cross_entropy(t, y)[0], Z)
    assert relative_error(dZ, num) < 1e-7


def test_cross_entropy_times_softmax_jacobian_is_a_minus_e_y(rng):
    """§3.1.1: (dJ/da)(da/dz) = (a - e_y)^T for J = -log a_y."""
    z = rng.standard_normal(5)
    a = softmax(z)
    for y in range(5):
        row = cross_entropy_jacobian(a, y)
        assert row.shape == (1, 5)
        expected_row = np.zeros((1, 5))
        expected_row[0, y] = -1.0 / a[y]
        np.testing.assert_allclose(row, expected_row, rtol=1e-15)
        e_y = np.eye(5)[y]
        np.testing.assert_allclose(
            row @ softmax_jacobian(z), (a - e_y)[None], rtol=1e-12, atol=1e-15
        )


# ------------------------------------------------------------------ dense layer
@pytest.fixture
def dense_case(rng):
    B = rng.standard_normal((3, 5))
    W = rng.standard_normal((5, 4))
    b = rng.standard_normal(4)
    return B, W, b


def test_dense_forward_is_paper_formula_per_sample(dense_case):
    """Z = W^T B + b for each sample (a row of the batch)."""
    B, W, b = dense_case
    Z = dense_forward(B, W, b)
    assert Z.shape == (3, 4)
    for n in range(3):
        np.testing.assert_allclose(Z[n], W.T @ B[n] + b, rtol=1e-13)


def test_dense_backward_matches_finite_differences(dense_case, rng):
    """Gradients of sum(dense_forward * G) w.r.t. B, W, b equal central differences."""
    B, W, b = dense_case
    G = rng.standard_normal((3, 4))
    dB, dW, db = dense_backward(G, B, W)
    assert dB.shape == B.shape and dW.shape == W.shape and db.shape == b.shape
    assert (
        relative_error(
            dB, numerical_gradient(lambda t: float(np.sum(dense_forward(t, W, b) * G)), B)
        )
        < 1e-7
    )
    assert (
        relative_error(
            dW, numerical_gradient(lambda t: float(np.sum(dense_forward(B, t, b) * G)), W)
        )
        < 1e-7
    )
    assert (
        relative_error(
            db, numerical_gradient(lambda t: float(np.sum(dense_forward(B, W, t) * G)), b)
        )
        < 1e-7
    )


def test_dense_jacobians(dense_case):
    """§3.1.1: dZ/dB = W^T, d vec(Z)/d vec(W) = I kron B^T (vec column-major), dZ/db = I;
    each equals the numerical Jacobian of the one-sample map."""
    B, W, b = dense_case
    x = B[0]
    J_B = dense_jacobian_input(W)
    np.testing.assert_array_equal(J_B, W.T)
    assert relative_error(J_B, numerical_jacobian(lambda t: W.T @ t + b, x)) < 1e-7

    J_W = dense_jacobian_weight(x, 4)
    assert J_W.shape == (4, 20)
    np.testing.assert_allclose(J_W, np.kron(np.eye(4), x[None, :]), rtol=0, atol=0)
    J_W_num = numerical_jacobian(lambda t: t.T @ x, W)  # columns in vec(W) order
    assert relative_error(J_W, J_W_num) < 1e-7
    np.testing.assert_allclose(J_W @ vec(W), W.T @ x, rtol=1e-13)

    J_b = dense_jacobian_bias(4)
    np.testing.assert_array_equal(J_b, np.eye(4))
    assert relative_error(J_b, numerical_jacobian(lambda t: W.T @ x + t, b)) < 1e-7


def test_dense_backward_equals_jacobian_chain(dense_case, rng):
    """With rows g = dJ/dZ: dJ/dB = g W^T, dJ/dvec(W) = g (I kron B^T) (transposed and
    unvec'ed to W's shape), dJ/db = g, summed over the samples."""
    B, W, b = dense_case
    G = rng.standard_normal((3, 4))
    dB, dW, db = dense_backward(G, B, W)
    dW_explicit = sum(
        (G[n] @ dense_jacobian_weight(B[n], 4)).reshape(W.shape, order="F") for n in range(3)
    )
    np.testing.assert_allclose(dW, dW_explicit, rtol=1e-12)
    np.testing.assert_allclose(
        dB, np.stack([G[n] @ dense_jacobian_input(W) for n in range(3)]), rtol=1e-12
    )
    np.testing.assert_allclose(db, sum(G[n] @ dense_jacobian_bias(4) for n in range(3)), rtol=1e-12)
