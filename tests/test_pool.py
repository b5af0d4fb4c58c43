"""Average and max pooling with zero padding: §3.1.3 and Appendix B."""

import numpy as np
import pytest

from cnn_helpers import (
    avg_pool_backward,
    avg_pool_forward,
    avg_pool_jacobian,
    conv_jacobian_input,
    max_pool_backward,
    max_pool_forward,
    max_pool_mask,
    numerical_gradient,
    numerical_jacobian,
    relative_error,
    unvec,
    vec,
)
from reference import avg_pool_loops, max_pool_backward_loops, max_pool_loops

# Appendix B: I is 3x4, the window 3x2, padding (1, 1), stride (1, 2); A is 3x3.
WIN_B, PAD_B, STRIDE_B = (3, 2), (1, 1), (1, 2)

# The column-major contents of every window, written out by hand ("0" is padding).
# Window of A_pq covers rows r_t..r_t+2 and columns c_t..c_t+1 of I (1-based), with
# r_t = 1 + 1*(p-1) - 1 = p - 1 and c_t = 1 + 2*(q-1) - 1 = 2q - 2 (eq. b-2.2).
WINDOWS_B = {
    (1, 1): ["0", "0", "0", "0", "I11", "I21"],
    (2, 1): ["0", "0", "0", "I11", "I21", "I31"],
    (3, 1): ["0", "0", "0", "I21", "I31", "0"],
    (1, 2): ["0", "I12", "I22", "0", "I13", "I23"],
    (2, 2): ["I12", "I22", "I32", "I13", "I23", "I33"],
    (3, 2): ["I22", "I32", "0", "I23", "I33", "0"],
    (1, 3): ["0", "I14", "I24", "0", "0", "0"],
    (2, 3): ["I14", "I24", "I34", "0", "0", "0"],
    (3, 3): ["I24", "I34", "0", "0", "0", "0"],
}

# A concrete I with distinct values and negatives: the last column's windows have
# their maximum on the padding.
I_NEG = np.array([[3.0, -5.0, 7.0, -2.0], [9.0, -4.0, 1.0, -6.0], [-8.0, 2.0, 11.0, -7.0]])
# By hand from WINDOWS_B, e.g. A11 = max[0,0,0,0,3,9] = 9 at index 5 (I21);
# A13 = max[0,-2,-6,0,0,0] = 0 at index 0 (padding, first zero).
SWITCHES_NEG = np.array([[5, 4, 0], [4, 5, 3], [3, 4, 2]])
VALUES_NEG = np.array([[9.0, 7.0, 0.0], [9.0, 11.0, 0.0], [9.0, 11.0, 0.0]])
# mask: 1-based (row, column) = ((q-1)*h_a + p, (c_i-1)*h_i + r_i); rows 7, 8, 9
# (A13, A23, A33) are on padding and stay zero.
MASK_ONES_NEG = [(1, 2), (2, 2), (3, 2), (4, 7), (5, 9), (6, 9)]

# An all-positive I with distinct values: every maximum lies on an input.
I_POS = np.array([[5.0, 12.0, 3.0, 8.0], [1.0, 7.0, 10.0, 2.0], [6.0, 4.0, 9.0, 11.0]])
SWITCHES_POS = np.array([[4, 1, 1], [5, 0, 2], [4, 3, 1]])
VALUES_POS = np.array([[5.0, 12.0, 8.0], [6.0, 12.0, 11.0], [6.0, 10.0, 11.0]])
MASK_ONES_POS = [(1, 1), (2, 3), (3, 3), (4, 4), (5, 4), (6, 8), (7, 10), (8, 12), (9, 12)]


def _lookup(I, label):
    return 0.0 if label == "0" else I[int(label[1]) - 1, int(label[2]) - 1]


def test_appendix_b_window_table_follows_eq_b22():
    """eq. b-2.2: the window of A_pq starts at r_t = 1 + h_s(p-1) - h_p,
    c_t = 1 + w_s(q-1) - w_p; its column-major contents are the hand table above."""
    (hl, wl), (hp, wp), (hs, ws) = WIN_B, PAD_B, STRIDE_B
    for (p, q), labels in WINDOWS_B.items():
        r_t = 1 + hs * (p - 1) - hp
        c_t = 1 + ws * (q - 1) - wp
        derived = []
        for c_b in range(1, wl + 1):
            for r_b in range(1, hl + 1):
                r, c = r_t + r_b - 1, c_t + c_b - 1
                derived.append(f"I{r}{c}" if 1 <= r <= 3 and 1 <= c <= 4 else "0")
        assert derived == labels, (p, q)


@pytest.mark.parametrize(
    "I, switches, values, ones",
    [
        (I_NEG, SWITCHES_NEG, VALUES_NEG, MASK_ONES_NEG),
        (I_POS, SWITCHES_POS, VALUES_POS, MASK_ONES_POS),
    ],
    ids=["with-negatives", "all-positive"],
)
def test_appendix_b_worked_example(I, switches, values, ones):
    """Appendix B: 3x3 output, the switches (0-based index in the window's column-major vec),
    the values, and the mask d vec(A)/d vec(I) with a single 1 per row at
    j = (c_i - 1) h_i + r_i (rows of maxima on padding are zero)."""
    # the hand tables are consistent with the window contents
    for (p, q), labels in WINDOWS_B.items():
        window_values = [_lookup(I, label) for label in labels]
        assert int(np.argmax(window_values)) == switches[p - 1, q - 1]
        assert max(window_values) == values[p - 1, q - 1]

    A, S = max_pool_forward(I[None, None], WIN_B, PAD_B, STRIDE_B)
    assert A.shape == S.shape == (1, 1, 3, 3)
    assert np.issubdtype(S.dtype, np.integer)
    np.testing.assert_array_equal(S[0, 0], switches)
    np.testing.assert_array_equal(A[0, 0], values)

    M = max_pool_mask(S[0, 0], (3, 4), WIN_B, PAD_B, STRIDE_B)
    expected = np.zeros((9, 12))
    for row, col in ones:
        expected[row - 1, col - 1] = 1.0
    np.testing.assert_array_equal(M, expected)
    np.testing.assert_array_equal(M @ vec(I), vec(A[0, 0]))
    J_num = numerical_jacobian(
        lambda t: max_pool_forward(t[None, None], WIN_B, PAD_B, STRIDE_B)[0][0, 0], I
    )
    assert relative_error(M, J_num) < 1e-7


def test_appendix_b_paper_example_a21():
    """Appendix B's example: A21 = max{0, I11, I21, I31} = I21 gives i_21 = 5 (switch 4);
    the row of A21 in the mask (row (q-1) h_a + p = 2) has its 1 at column
    j = (c_i - 1) h_i + r_i = 2 (1-based), i.e. at I21."""
    I = I_NEG
    _, S = max_pool_forward(I[None, None], WIN_B, PAD_B, STRIDE_B)
    assert S[0, 0, 1, 0] == 4  # i_21 - 1
    M = max_pool_mask(S[0, 0], (3, 4), WIN_B, PAD_B, STRIDE_B)
    row = M[(1 - 1) * 3 + 2 - 1]
    assert row[2 - 1] == 1.0 and row.sum() == 1.0
    # the same row from a switch array that only sets i_21 = 5
    only = np.zeros((3, 3), dtype=np.int64)
    only[1, 0] = 4
    assert max_pool_mask(only, (3, 4), WIN_B, PAD_B, STRIDE_B)[1, 1] == 1.0


def test_max_on_padding_routes_gradient_nowhere():
    """Appendix B: a maximum on the zero padding has an all-zero mask row and
    sends no gradient to the input."""
    _, S = max_pool_forward(I_NEG[None, None], WIN_B, PAD_B, STRIDE_B)
    M = max_pool_mask(S[0, 0], (3, 4), WIN_B, PAD_B, STRIDE_B)
    for p, q in [(1, 3), (2, 3), (3, 3)]:  # the windows whose max is a padded 0
        row = (q - 1) * 3 + p - 1
        np.testing.assert_array_equal(M[row], np.zeros(12))
        dA = np.zeros((1, 1, 3, 3))
        dA[0, 0, p - 1, q - 1] = 1.0
        dI = max_pool_backward(dA, S, (1, 1, 3, 4), WIN_B, PAD_B, STRIDE_B)
        np.testing.assert_array_equal(dI, np.zeros((1, 1, 3, 4)))
    # while a maximum on an input does receive it
    dA = np.zeros((1, 1, 3, 3))
    dA[0, 0, 1, 0] = 2.5
    dI = max_pool_backward(dA, S, (1, 1, 3, 4), WIN_B, PAD_B, STRIDE_B)
    expected = np.zeros((1, 1, 3, 4))
    expected[0, 0, 1, 0] = 2.5  # I21
    np.testing.assert_array_equal(dI, expected)


def test_zero_padding_takes_part_in_max():
    """Padded zeros are compared (max{0, I11, I21}): all-negative border windows give 0,
    unlike PyTorch's -inf padding; only A22 (no padding in its window) is negative."""
    I = -np.arange(1.0, 13.0).reshape(1, 1, 3, 4)
    A, _ = max_pool_forward(I, WIN_B, PAD_B, STRIDE_B)
    expected = np.zeros((1, 1, 3, 3))
    expected[0, 0, 1, 1] = I[0, 0, 0, 1]  # max{I12, I22, I32, I13, I23, I33} = I12
    np.testing.assert_array_equal(A, expected)


# ------------------------------------------------------------------- tie rule
def test_tie_goes_to_first_maximum_in_column_major_order():
    """With two equal maxima the whole gradient goes to the first one in the
    window's column-major vec (here I21 comes before I12)."""
    I = np.array([[[[1.0, 5.0], [5.0, 2.0]]]])
    A, S = max_pool_forward(I, (2, 2))
    ref_A, ref_S = max_pool_loops(I, (2, 2))
    assert S[0, 0, 0, 0] == 1 == ref_S[0, 0, 0, 0]  # vec = [1, 5, 5, 2]: index 1 is I21
    np.testing.assert_array_equal(A, ref_A)
    dI = max_pool_backward(np.full((1, 1, 1, 1), 3.0), S, I.shape, (2, 2))
    np.testing.assert_array_equal(dI, [[[[0.0, 0.0], [3.0, 0.0]]]])
    M = max_pool_mask(S[0, 0], (2, 2), (2, 2))
    np.testing.assert_array_equal(M, [[0.0, 1.0, 0.0, 0.0]])


def test_tie_rule_with_overlap_and_padding(rng):
    """Ties inside overlapping, padded windows: package switches equal the loop
    reference's (first maximum in column-major order), and the backward pass routes
    each gradient to that entry."""
    I = rng.integers(-2, 3, size=(2, 2, 5, 6)).astype(np.float64)  # many ties, also with 0
    window, pad, stride = (3, 2), (1, 1), (1, 2)
    A, S = max_pool_forward(I, window, pad, stride)
    ref_A, ref_S = max_pool_loops(I, window, pad, stride)
    np.testing.assert_array_equal(A, ref_A)
    np.testing.assert_array_equal(S, ref_S)
    G = rng.standard_normal(A.shape)
    dI = max_pool_backward(G, S, I.shape, window, pad, stride)
    np.testing.assert_allclose(
        dI, max_pool_backward_loops(G, ref_S, I.shape, window, pad, stride), rtol=1e-13, atol=1e-13
    )


# ------------------------------------------------------------------ average pooling
def test_avg_pool_counts_padded_zeros():
    """§3.1.3: average pooling is convolution with P = 1/(h_l w_l); padded zeros count."""
    I = np.ones((1, 1, 2, 2))
    A = avg_pool_forward(I, (2, 2), (1, 1), (1, 1))
    np.testing.assert_allclose(
        A[0, 0], [[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]], rtol=1e-15
    )


def test_pool_stride_defaults_to_window(rng):
    """Pooling pad defaults to (0, 0) and stride to the window."""
    I = rng.standard_normal((2, 2, 7, 5))
    np.testing.assert_allclose(
        avg_pool_forward(I, (3, 2)), avg_pool_loops(I, (3, 2), 0, (3, 2)), rtol=1e-13
    )
    A, S = max_pool_forward(I, (2, 3))
    ref_A, ref_S = max_pool_loops(I, (2, 3), 0, (2, 3))
    np.testing.assert_array_equal(A, ref_A)
    np.testing.assert_array_equal(S, ref_S)


@pytest.mark.parametrize(
    "input_hw, window, pad, stride",
    [
        ((3, 4), (3, 2), (1, 1), (1, 2)),
        ((5, 6), (2, 3), (0, 1), (2, 2)),
        ((4, 7), (2, 2), (1, 0), (1, 3)),
    ],
)
def test_avg_pool_jacobian_column_by_column(rng, input_hw, window, pad, stride):
    """§3.1.3: column k of d vec(A)/d vec(I) is vec(E_k * P) (a one-hot input pooled); it is
    the conv input Jacobian with the constant kernel P, and matches finite differences."""
    h, w = input_hw
    J = avg_pool_jacobian(input_hw, window, pad, stride)
    columns = []
    for k in range(h * w):
        E = np.zeros((1, 1, h, w))
        E[0, 0, k % h, k // h] = 1.0
        columns.append(vec(avg_pool_loops(E, window, pad, stride)[0, 0]))
    J_cols = np.stack(columns, axis=1)
    assert J.shape == J_cols.shape
    np.testing.assert_allclose(J, J_cols, rtol=1e-14, atol=1e-15)
    P = np.full(window, 1.0 / (window[0] * window[1]))
    np.testing.assert_allclose(
        J, conv_jacobian_input(P, input_hw, pad, stride), rtol=1e-14, atol=1e-15
    )
    I = rng.standard_normal(input_hw)
    J_num = numerical_jacobian(
        lambda t: avg_pool_loops(t[None, None], window, pad, stride)[0, 0], I
    )
    assert relative_error(J, J_num) < 1e-7


# ------------------------------------------------------------------ sweeps
# (N, C, (H, W), window, pad, stride)
POOL_HAND_CASES = [
    (1, 1, (3, 4), (3, 2), (1, 1), (1, 2)),  # Appendix B
    (2, 3, (7, 6), (2, 2), (0, 0), (2, 2)),  # the classic
    (3, 2, (5, 9), (3, 2), (1, 0), (2, 3)),  # nothing divides evenly
    (1, 2, (6, 5), (2, 3), (1, 2), (1, 1)),  # overlapping windows
    (2, 1, (8, 7), (1, 1), (0, 0), (3, 2)),  # 1x1 window, skipping pixels
    (1, 3, (4, 6), (3, 3), (2, 2), (3, 3)),
    (2, 2, (5, 4), (2, 2), (2, 2), (2, 1)),  # pad == window: some windows are all padding
    (1, 1, (2, 3), (4, 5), (1, 1), (1, 1)),  # window larger than the input
]


def _pool_grid():
    """Every pad 0..2 x stride 1..3 per axis (81 cases), uneven sizes, channels, batch."""
    inputs = [(7, 6), (5, 9), (6, 5), (4, 7), (9, 8)]
    windows = [(3, 2), (2, 3), (3, 3), (2, 2), (3, 1), (1, 3)]
    cases = []
    k = 0
    for ph in range(3):
        for pw in range(3):
            for sh in range(1, 4):
                for sw in range(1, 4):
                    window = windows[k % 6]
                    # keep pad < window so every window contains an input pixel
                    window = (max(window[0], ph + 1), max(window[1], pw + 1))
                    cases.append(
                        (1 + k % 3, 1 + (k // 3) % 3, inputs[k % 5], window, (ph, pw), (sh, sw))
                    )
                    k += 1
    return cases


POOL_SWEEP = POOL_HAND_CASES + _pool_grid()


def _pool_ids(case):
    n, c, hw, win, p, s = case
    return f"N{n}C{c}-in{hw[0]}x{hw[1]}-w{win[0]}x{win[1]}-p{p[0]}{p[1]}-s{s[0]}{s[1]}"


@pytest.fixture(params=POOL_SWEEP, ids=[_pool_ids(c) for c in POOL_SWEEP])
def pool_case(request, rng):
    """A case with distinct input values in (-2, 2), at least 4/size apart (a shifted
    permutation, never 0), so there are no ties and no near-ties with padding zeros."""
    n, c, (h, w), window, pad, stride = request.param
    size = n * c * h * w
    I = (rng.permutation(size) - size // 2 + 0.5).reshape(n, c, h, w) * (4.0 / size)
    return I, window, pad, stride


def test_avg_pool_forward_matches_loops(pool_case):
    """§3.1.3: A = I * P with zero padding, compared with the loop reference."""
    I, window, pad, stride = pool_case
    A = avg_pool_forward(I, window, pad, stride)
    ref = avg_pool_loops(I, window, pad, stride)
    assert A.shape == ref.shape
    np.testing.assert_allclose(A, ref, rtol=1e-12, atol=1e-13)


def test_max_pool_forward_matches_loops(pool_case):
    """Appendix B: values and switches equal the loop reference (zero padding included)."""
    I, window, pad, stride = pool_case
    A, S = max_pool_forward(I, window, pad, stride)
    ref_A, ref_S = max_pool_loops(I, window, pad, stride)
    assert A.shape == S.shape == ref_A.shape
    np.testing.assert_array_equal(A, ref_A)
    np.testing.assert_array_equal(S, ref_S)


def test_avg_pool_backward_matches_jacobian_and_finite_differences(pool_case, rng):
    """§3.1.3: the fast backward pass equals (per channel) J^T applied to the upstream
    gradient, and central finite differences of sum(avg_pool_forward(I) * G)."""
    I, window, pad, stride = pool_case
    N, C, H, W = I.shape
    G = rng.standard_normal(avg_pool_forward(I, window, pad, stride).shape)
    dI = avg_pool_backward(G, I.shape, window, pad, stride)
    assert dI.shape == I.shape
    J = avg_pool_jacobian((H, W), window, pad, stride)
    explicit = np.stack(
        [np.stack([unvec(vec(G[n, c]) @ J, (H, W)) for c in range(C)]) for n in range(N)]
    )
    assert relative_error(dI, explicit) < 1e-7
    num = numerical_gradient(
        lambda t: float(np.sum(avg_pool_forward(t, window, pad, stride) * G)), I
    )
    assert relative_error(dI, num) < 1e-7


def test_max_pool_backward_matches_mask_and_finite_differences(pool_case, rng):
    """Appendix B: the fast backward pass equals the mask route vec(G)^T M per channel and
    central finite differences of sum(max_pool_forward(I)[0] * G) (no ties)."""
    I, window, pad, stride = pool_case
    N, C, H, W = I.shape
    A, S = max_pool_forward(I, window, pad, stride)
    G = rng.standard_normal(A.shape)
    dI = max_pool_backward(G, S, I.shape, window, pad, stride)
    assert dI.shape == I.shape
    explicit = np.zeros(I.shape)
    for n in range(N):
        for c in range(C):
            M = max_pool_mask(S[n, c], (H, W), window, pad, stride)
            assert M.shape == (A.shape[2] * A.shape[3], H * W)
            assert set(np.unique(M)) <= {0.0, 1.0} and (M.sum(axis=1) <= 1).all()
            np.testing.assert_array_equal(M @ vec(I[n, c]), vec(A[n, c]))  # padded max is 0
            explicit[n, c] = unvec(vec(G[n, c]) @ M, (H, W))
    assert relative_error(dI, explicit) < 1e-7
    _, ref_S = max_pool_loops(I, window, pad, stride)
    assert (
        relative_error(dI, max_pool_backward_loops(G, ref_S, I.shape, window, pad, stride)) < 1e-12
    )
    num = numerical_gradient(
        lambda t: float(np.sum(max_pool_forward(t, window, pad, stride)[0] * G)), I
    )
    assert relative_error(dI, num) < 1e-7


@pytest.mark.parametrize(
    "input_hw, window, pad, stride",
    [
        ((3, 4), (3, 2), (1, 1), (1, 2)),
        ((6, 5), (2, 3), (1, 2), (2, 1)),
        ((5, 7), (3, 3), (0, 1), (1, 2)),
    ],
)
def test_max_pool_mask_equals_numerical_jacobian(rng, input_hw, window, pad, stride):
    """Appendix B: max_pool_mask is d vec(A)/d vec(I) (finite differences, no ties)."""
    size = input_hw[0] * input_hw[1]
    I = (rng.permutation(size) - size // 2 + 0.5).reshape(input_hw) * (4.0 / size)
    A, S = max_pool_forward(I[None, None], window, pad, stride)
    M = max_pool_mask(S[0, 0], input_hw, window, pad, stride)
    J_num = numerical_jacobian(
        lambda t: max_pool_loops(t[None, None], window, pad, stride)[0][0, 0], I
    )
    assert relative_error(M, J_num) < 1e-7
