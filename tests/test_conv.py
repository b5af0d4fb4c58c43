"""Convolution (cross-correlation) with padding and stride: §2, §3.1.5 and Appendix A."""

import numpy as np
import pytest

from cnn_helpers import (
    conv_backward,
    conv_forward,
    conv_jacobian_input,
    conv_jacobian_kernel,
    conv_output_shape,
    correlate2d,
    numerical_gradient,
    numerical_jacobian,
    relative_error,
    unvec,
    vec,
)
from reference import conv2d_loops, correlate_loops

PAD_A, STRIDE_A = (1, 1), (1, 2)  # Appendix A: 3x4 input, 2x2 kernel


def _one_hot_cm(shape, k):
    """The k-th one-hot matrix in column-major (vec) order, built by hand."""
    h, w = shape
    E = np.zeros(shape)
    E[k % h, k // h] = 1.0
    return E


# --------------------------------------------------------------------- Appendix A
def _appendix_a_expansion(a, b):
    """Z = A * beta of Appendix A, entry by entry, with 1-based names a_rs, b_rs.

    P is the 5x6 zero-padded input, P[r+1][c+1] = a_rc (1-based), and
    z_pq = sum_{r,s=1..2} P[(p-1)*1 + r][(q-1)*2 + s] b_rs.
    """
    a11, a12, a13, a14 = a[0]
    a21, a22, a23, a24 = a[1]
    a31, a32, a33, a34 = a[2]
    b11, b12 = b[0]
    b21, b22 = b[1]
    # p = 1: padding row and row 1 of A;  q = 1: padding column and column 1 of A
    z11 = a11 * b22
    z12 = a12 * b21 + a13 * b22
    z13 = a14 * b21
    # p = 2: rows 1 and 2 of A;  q = 2: columns 2 and 3;  q = 3: column 4 and padding
    z21 = a11 * b12 + a21 * b22
    z22 = a12 * b11 + a13 * b12 + a22 * b21 + a23 * b22
    z23 = a14 * b11 + a24 * b21
    # p = 3: rows 2 and 3 of A (z32 is the paper's printed example)
    z31 = a21 * b12 + a31 * b22
    z32 = a22 * b11 + a23 * b12 + a32 * b21 + a33 * b22
    z33 = a24 * b11 + a34 * b21
    # p = 4: row 3 of A and the padding row
    z41 = a31 * b12
    z42 = a32 * b11 + a33 * b12
    z43 = a34 * b11
    return np.array([[z11, z12, z13], [z21, z22, z23], [z31, z32, z33], [z41, z42, z43]])


@pytest.fixture
def appendix_a(rng):
    A = rng.standard_normal((3, 4))
    beta = rng.standard_normal((2, 2))
    return A, beta


def test_appendix_a_output_entries_match_hand_expansion(appendix_a):
    """Appendix A: 3x4 input, 2x2 kernel, pad (1,1), stride (1,2) give a 4x3 Z, every entry
    as expanded by hand (the paper prints z32 = a22 b11 + a23 b12 + a32 b21 + a33 b22)."""
    A, beta = appendix_a
    Z = correlate2d(A, beta, PAD_A, STRIDE_A)
    assert Z.shape == (4, 3)
    expected = _appendix_a_expansion(A, beta)
    np.testing.assert_allclose(Z, expected, rtol=1e-13, atol=1e-13)
    # the paper's printed z32
    z32 = A[1, 1] * beta[0, 0] + A[1, 2] * beta[0, 1] + A[2, 1] * beta[1, 0] + A[2, 2] * beta[1, 1]
    np.testing.assert_allclose(Z[2, 1], z32, rtol=1e-13)
    # the loop reference agrees with the hand expansion too
    np.testing.assert_allclose(
        correlate_loops(A, beta, PAD_A, STRIDE_A), expected, rtol=1e-13, atol=1e-13
    )


def test_appendix_a_is_cross_correlation_not_convolution(appendix_a):
    """Appendix A: no kernel flip (flipping beta changes the result)."""
    A, beta = appendix_a
    flipped = correlate2d(A, beta[::-1, ::-1], PAD_A, STRIDE_A)
    assert not np.allclose(flipped, _appendix_a_expansion(A, beta))


def test_appendix_a_kernel_jacobian(appendix_a):
    """eq. a1-1..a1-3: d vec(Z)/d vec(beta) is 12x4, equals finite differences and
    J vec(beta) = vec(Z) (Z is linear in beta)."""
    A, beta = appendix_a
    J = conv_jacobian_kernel(A, (2, 2), PAD_A, STRIDE_A)
    assert J.shape == (12, 4)
    J_num = numerical_jacobian(lambda t: correlate_loops(A, t, PAD_A, STRIDE_A), beta)
    assert relative_error(J, J_num) < 1e-7
    np.testing.assert_allclose(
        J @ vec(beta), vec(_appendix_a_expansion(A, beta)), rtol=1e-12, atol=1e-12
    )
    # the paper's example entry: d z32 / d beta21 = a32 (row (2-1)*4+3, column 2, 1-based)
    assert J[6, 1] == A[2, 1]


def test_appendix_a_kernel_jacobian_columns_are_one_hot_correlations(appendix_a):
    """eq. a1-3: column k of d vec(Z)/d vec(beta) is vec(A * E_k), E_k the k-th one-hot
    matrix in column-major order (beta11, beta21, beta12, beta22)."""
    A, _ = appendix_a
    J = conv_jacobian_kernel(A, (2, 2), PAD_A, STRIDE_A)
    for k in range(4):
        E = _one_hot_cm((2, 2), k)
        np.testing.assert_array_equal(J[:, k], vec(correlate2d(A, E, PAD_A, STRIDE_A)))
        np.testing.assert_allclose(
            J[:, k], vec(correlate_loops(A, E, PAD_A, STRIDE_A)), rtol=0, atol=0
        )


def test_appendix_a_input_jacobian(appendix_a):
    """eq. a2-1..a2-3: d vec(Z)/d vec(A) is 12x12, equals finite differences, its
    column k is vec(E_k * beta), and J vec(A) = vec(Z)."""
    A, beta = appendix_a
    J = conv_jacobian_input(beta, (3, 4), PAD_A, STRIDE_A)
    assert J.shape == (12, 12)
    J_num = numerical_jacobian(lambda t: correlate_loops(t, beta, PAD_A, STRIDE_A), A)
    assert relative_error(J, J_num) < 1e-7
    np.testing.assert_allclose(
        J @ vec(A), vec(_appendix_a_expansion(A, beta)), rtol=1e-12, atol=1e-12
    )
    for k in range(12):
        np.testing.assert_allclose(
            J[:, k],
            vec(correlate_loops(_one_hot_cm((3, 4), k), beta, PAD_A, STRIDE_A)),
            rtol=0,
            atol=0,
        )
    # the paper's example entry: d z32 / d A23 = beta12 (row 7, column (3-1)*3+2 = 8, 1-based)
    assert J[6, 7] == beta[0, 1]


# ----------------------------------------------------------------- output size
@pytest.mark.parametrize(
    "input_hw, kernel_hw, pad, stride, expected",
    [
        ((3, 4), (2, 2), (1, 1), (1, 2), (4, 3)),  # Appendix A
        ((3, 4), (3, 2), (1, 1), (1, 2), (3, 3)),  # Appendix B
        ((8, 7), (3, 3), (0, 0), (2, 2), (3, 3)),  # floor((8-3)/2)+1 = 3, floor((7-3)/2)+1 = 3
        ((7, 6), (3, 2), (0, 1), (2, 3), (3, 3)),  # rectangular everything
        ((28, 28), (3, 3), (1, 1), (1, 1), (28, 28)),
        ((2, 2), (3, 3), (1, 1), (1, 1), (2, 2)),  # kernel larger than input, fits with pad
        ((5, 9), 2, 0, 3, (2, 3)),  # ints mean both axes
    ],
)
def test_conv_output_shape(input_hw, kernel_hw, pad, stride, expected):
    """§2 Note: h_z = floor((h_a + 2 h_p - h_k) / h_s) + 1, likewise for the width."""
    assert conv_output_shape(input_hw, kernel_hw, pad, stride) == expected


def test_conv_output_shape_empty_output_raises():
    """A kernel larger than the padded input has no valid position: ValueError."""
    with pytest.raises(ValueError):
        conv_output_shape((2, 2), (3, 3), (0, 0), (1, 1))
    with pytest.raises(ValueError):
        conv_output_shape((5, 2), (3, 5), (0, 1), (1, 1))


def test_conv_defaults_are_no_pad_unit_stride(rng):
    """Conv pad defaults to (0, 0) and stride to (1, 1)."""
    A = rng.standard_normal((1, 2, 5, 4))
    K = rng.standard_normal((3, 2, 2, 3))
    b = rng.standard_normal(3)
    np.testing.assert_allclose(conv_forward(A, K, b), conv2d_loops(A, K, b, 0, 1), rtol=1e-12)


# ------------------------------------------------------------------ the sweep
# (N, C_in, C_out, (H, W), (kh, kw), pad, stride): hand-picked cases ...
HAND_CASES = [
    (1, 1, 1, (3, 4), (2, 2), (1, 1), (1, 2)),  # Appendix A as a layer
    (2, 3, 4, (7, 6), (3, 2), (0, 1), (2, 3)),
    (3, 2, 2, (5, 9), (2, 3), (2, 0), (3, 1)),
    (1, 2, 3, (6, 5), (1, 1), (0, 0), (2, 2)),
    (2, 1, 3, (5, 7), (1, 1), (2, 1), (1, 3)),
    (1, 3, 1, (4, 4), (3, 3), (1, 1), (1, 1)),
    (2, 2, 4, (8, 5), (3, 3), (2, 2), (3, 2)),
    (3, 1, 2, (9, 7), (2, 2), (1, 0), (2, 2)),
    (1, 1, 2, (2, 3), (3, 3), (1, 1), (1, 1)),  # kernel larger than the input
    (2, 3, 1, (7, 6), (4, 2), (1, 2), (3, 3)),
    (1, 2, 2, (6, 8), (2, 4), (0, 2), (1, 2)),
    (3, 2, 3, (5, 5), (5, 5), (0, 0), (1, 1)),  # a single output pixel
    (2, 1, 1, (10, 3), (3, 1), (2, 0), (3, 1)),
]


def _grid_cases():
    """... plus every combination of pad 0..2 and stride 1..3 per axis (81 cases), with
    input sizes, kernels, channel counts and batch sizes cycling through uneven values."""
    inputs = [(7, 6), (5, 9), (6, 5), (4, 7), (8, 3)]
    kernels = [(3, 2), (2, 3), (1, 1), (3, 3), (2, 2), (1, 3), (3, 1)]
    cases = []
    k = 0
    for ph in range(3):
        for pw in range(3):
            for sh in range(1, 4):
                for sw in range(1, 4):
                    n, c_in, c_out = 1 + k % 3, 1 + (k // 3) % 3, 1 + k % 4
                    cases.append(
                        (n, c_in, c_out, inputs[k % 5], kernels[k % 7], (ph, pw), (sh, sw))
                    )
                    k += 1
    return cases


SWEEP = HAND_CASES + _grid_cases()


def _ids(case):
    n, c, f, hw, k, p, s = case
    return f"N{n}C{c}F{f}-in{hw[0]}x{hw[1]}-k{k[0]}x{k[1]}-p{p[0]}{p[1]}-s{s[0]}{s[1]}"


@pytest.fixture(params=SWEEP, ids=[_ids(c) for c in SWEEP])
def conv_case(request, rng):
    n, c, f, (h, w), (kh, kw), pad, stride = request.param
    A = rng.standard_normal((n, c, h, w))
    K = rng.standard_normal((f, c, kh, kw))
    b = rng.standard_normal(f)
    return A, K, b, pad, stride


def test_conv_forward_matches_loops(conv_case):
    """§2: Z_j = sum_i A_i * K_{j,i} + b_j, compared with the plain-loop reference."""
    A, K, b, pad, stride = conv_case
    Z = conv_forward(A, K, b, pad, stride)
    Z_ref = conv2d_loops(A, K, b, pad, stride)
    assert Z.shape == Z_ref.shape
    assert Z.dtype == np.float64
    np.testing.assert_allclose(Z, Z_ref, rtol=1e-12, atol=1e-12)


def _explicit_conv_backward(G, A, K, pad, stride):
    """§3.1.5 with the Appendix A matrices, one sample and one channel pair at a time.

    dJ/dvec(A_i) = sum_j G_j-row @ J_input(K[j, i]);  dJ/dvec(K_ji) = G_j-row @ J_kernel(A_i);
    dJ/db_j = G_j-row @ 1. Gradients are the transposes, unvec'ed to the shapes (§3.2).
    """
    N, C, H, W = A.shape
    F, _, kh, kw = K.shape
    dA = np.zeros(A.shape)
    dK = np.zeros(K.shape)
    db = np.zeros(F)
    J_in = [[conv_jacobian_input(K[j, i], (H, W), pad, stride) for i in range(C)] for j in range(F)]
    for n in range(N):
        rows = [vec(G[n, j]) for j in range(F)]  # the rows dJ/d vec(Z_j)
        for i in range(C):
            J_k = conv_jacobian_kernel(A[n, i], (kh, kw), pad, stride)
            dA[n, i] = unvec(sum(rows[j] @ J_in[j][i] for j in range(F)), (H, W))
            for j in range(F):
                dK[j, i] += unvec(rows[j] @ J_k, (kh, kw))
        for j in range(F):
            db[j] += rows[j] @ np.ones(rows[j].size)
    return dA, dK, db


def test_conv_backward_matches_explicit_jacobians_and_finite_differences(conv_case, rng):
    """§3.1.5: the fast backward pass equals the explicit-Jacobian backward pass and central
    finite differences of J = sum(conv_forward(...) * G) for a random upstream G."""
    A, K, b, pad, stride = conv_case
    G = rng.standard_normal(conv_forward(A, K, b, pad, stride).shape)
    dA, dK, db = conv_backward(G, A, K, pad, stride)
    assert dA.shape == A.shape and dK.shape == K.shape and db.shape == b.shape

    eA, eK, eb = _explicit_conv_backward(G, A, K, pad, stride)
    assert relative_error(dA, eA) < 1e-7
    assert relative_error(dK, eK) < 1e-7
    assert relative_error(db, eb) < 1e-7

    def loss(A_, K_, b_):
        return float(np.sum(conv_forward(A_, K_, b_, pad, stride) * G))

    nA = numerical_gradient(lambda t: loss(t, K, b), A)
    nK = numerical_gradient(lambda t: loss(A, t, b), K)
    nb = numerical_gradient(lambda t: loss(A, K, t), b)
    assert relative_error(dA, nA) < 1e-7
    assert relative_error(dK, nK) < 1e-7
    assert relative_error(db, nb) < 1e-7


def test_conv_backward_with_loop_forward_finite_differences(rng):
    """The fast gradients also match finite differences of the independent loop forward."""
    A = rng.standard_normal((2, 2, 5, 4))
    K = rng.standard_normal((3, 2, 3, 2))
    b = rng.standard_normal(3)
    pad, stride = (1, 2), (2, 1)
    G = rng.standard_normal(conv2d_loops(A, K, b, pad, stride).shape)
    dA, dK, db = conv_backward(G, A, K, pad, stride)
    nK = numerical_gradient(lambda t: float(np.sum(conv2d_loops(A, t, b, pad, stride) * G)), K)
    nb = numerical_gradient(lambda t: float(np.sum(conv2d_loops(A, K, t, pad, stride) * G)), b)
    nA = numerical_gradient(lambda t: float(np.sum(conv2d_loops(t, K, b, pad, stride) * G)), A)
    assert relative_error(dK, nK) < 1e-7
    assert relative_error(db, nb) < 1e-7
    assert relative_error(dA, nA) < 1e-7


@pytest.mark.parametrize(
    "hw, khw, pad, stride",
    [
        ((5, 7), (3, 2), (1, 0), (2, 3)),
        ((6, 4), (2, 3), (2, 2), (1, 1)),
        ((4, 9), (4, 1), (0, 1), (3, 2)),
    ],
)
def test_single_channel_jacobians_rectangular(rng, hw, khw, pad, stride):
    """Appendix A generalized: both Jacobians match finite differences of the loop
    reference and reproduce vec(Z) when applied to vec(beta) / vec(A)."""
    A = rng.standard_normal(hw)
    beta = rng.standard_normal(khw)
    Z = correlate_loops(A, beta, pad, stride)
    np.testing.assert_allclose(correlate2d(A, beta, pad, stride), Z, rtol=1e-12, atol=1e-12)
    Jk = conv_jacobian_kernel(A, khw, pad, stride)
    Ja = conv_jacobian_input(beta, hw, pad, stride)
    assert Jk.shape == (Z.size, beta.size) and Ja.shape == (Z.size, A.size)
    assert (
        relative_error(Jk, numerical_jacobian(lambda t: correlate_loops(A, t, pad, stride), beta))
        < 1e-7
    )
    assert (
        relative_error(Ja, numerical_jacobian(lambda t: correlate_loops(t, beta, pad, stride), A))
        < 1e-7
    )
    np.testing.assert_allclose(Jk @ vec(beta), vec(Z), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(Ja @ vec(A), vec(Z), rtol=1e-12, atol=1e-12)
