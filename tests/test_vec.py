"""The vec operator of §3.1 (column-major) and the flatten of §3.1.2."""

import numpy as np
import pytest

from cnn_helpers import flatten, unflatten, unvec, unvec_flat, vec, vec_flat
from reference import vec_loops


@pytest.mark.parametrize("shape", [(1, 1), (3, 4), (5, 2), (1, 7), (6, 1)])
def test_vec_matrix_is_column_stacking(rng, shape):
    """§3.1: vec stacks the columns of A one below the other."""
    A = rng.standard_normal(shape)
    v = vec(A)
    assert v.shape == (A.size,)
    np.testing.assert_array_equal(v, vec_loops(A))
    np.testing.assert_array_equal(v, A.reshape(-1, order="F"))


def test_vec_small_example_by_hand():
    """vec([[1, 2], [3, 4]]) = [1, 3, 2, 4], not NumPy's row-major [1, 2, 3, 4]."""
    np.testing.assert_array_equal(vec(np.array([[1.0, 2.0], [3.0, 4.0]])), [1.0, 3.0, 2.0, 4.0])


@pytest.mark.parametrize("shape", [(3, 4), (4, 3), (1, 5), (2, 2)])
def test_unvec_inverts_vec_for_matrices(rng, shape):
    """unvec(vec(A)) == A and vec(unvec(v)) == v for matrices."""
    A = rng.standard_normal(shape)
    np.testing.assert_array_equal(unvec(vec(A), shape), A)
    v = rng.standard_normal(A.size)
    np.testing.assert_array_equal(vec(unvec(v, shape)), v)


@pytest.mark.parametrize("shape", [(1, 3, 4), (3, 4, 5), (2, 5, 2)])
def test_vec_tensor_is_hw_by_c_matrix(rng, shape):
    """§3.1: vec of an (h, w, c) tensor is the (h*w, c) matrix with column j = vec(A_j)."""
    A = rng.standard_normal(shape)
    c, h, w = shape
    M = vec(A)
    assert M.shape == (h * w, c)
    for j in range(c):
        np.testing.assert_array_equal(M[:, j], vec_loops(A[j]))
    np.testing.assert_array_equal(unvec(M, shape), A)


def test_vec_kron_identity_proves_column_major(rng):
    """vec(A X B) = (B^T kron A) vec(X), the identity that only column-major vec satisfies."""
    A = rng.standard_normal((4, 3))
    X = rng.standard_normal((3, 5))
    B = rng.standard_normal((5, 2))
    np.testing.assert_allclose(vec(A @ X @ B), np.kron(B.T, A) @ vec(X), rtol=1e-12, atol=1e-12)
    # the row-major reshape does not satisfy it (so the test above can fail)
    assert not np.allclose((A @ X @ B).reshape(-1), np.kron(B.T, A) @ X.reshape(-1))


def _flatten_loops(A):
    """§3.1.2: each row is [vec(A_1); vec(A_2); ...; vec(A_c)] of one sample."""
    N, C, H, W = A.shape
    out = np.zeros((N, C * H * W))
    for n in range(N):
        k = 0
        for c in range(C):
            for s in range(W):
                for r in range(H):
                    out[n, k] = A[n, c, r, s]
                    k += 1
    return out


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (1, 1, 3, 2), (3, 2, 2, 3)])
def test_flatten_is_per_channel_column_major(rng, shape):
    """§3.1.2: flatten stacks per-channel vecs; it is NOT A.reshape(N, -1)."""
    A = rng.standard_normal(shape)
    B = flatten(A)
    assert B.shape == (shape[0], int(np.prod(shape[1:])))
    np.testing.assert_array_equal(B, _flatten_loops(A))
    assert not np.array_equal(B, A.reshape(shape[0], -1))
    np.testing.assert_array_equal(unflatten(B, shape), A)


def test_flatten_matches_vec_of_each_sample(rng):
    """Row n of flatten(A) equals the column-stacked vec(A[n]) of the (h*w, c) matrix."""
    A = rng.standard_normal((3, 4, 2, 5))
    B = flatten(A)
    for n in range(3):
        np.testing.assert_array_equal(B[n], vec(A[n]).reshape(-1, order="F"))


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4), (2, 3, 4, 5)])
def test_vec_flat_round_trip(rng, shape):
    """vec_flat/unvec_flat invert each other; inside each matrix the order is column-major."""
    A = rng.standard_normal(shape)
    v = vec_flat(A)
    assert v.shape == (A.size,)
    np.testing.assert_array_equal(unvec_flat(v, shape), A)
    if len(shape) >= 2:
        expected = np.concatenate([vec_loops(M) for M in A.reshape(-1, *shape[-2:])])
        np.testing.assert_array_equal(v, expected)
