"""CONTRIBUTING.md, "Errors": public functions reject malformed input with a ValueError or TypeError
whose message names the offending argument; no NaN results, no RuntimeWarning."""

import re
import warnings

import numpy as np
import pytest

from cnn_helpers import (
    ThreeLayerCNN,
    avg_pool_backward,
    avg_pool_forward,
    avg_pool_jacobian,
    conv_backward,
    conv_forward,
    conv_jacobian_input,
    conv_jacobian_kernel,
    conv_output_shape,
    correlate2d,
    cross_entropy_jacobian,
    dense_backward,
    dense_forward,
    dense_jacobian_weight,
    flatten,
    max_pool_backward,
    max_pool_forward,
    max_pool_mask,
    numerical_gradient,
    numerical_jacobian,
    prepare_images,
    relative_error,
    relu,
    sigmoid,
    softmax,
    softmax_cross_entropy,
    softmax_jacobian,
    unflatten,
    unvec,
    unvec_flat,
    vec,
)

_r = np.random.default_rng(7)
A = _r.standard_normal((2, 3, 5, 6))
K = _r.standard_normal((4, 3, 3, 2))
b = _r.standard_normal(4)
PAD, STRIDE = (1, 0), (1, 2)
Z = conv_forward(A, K, b, PAD, STRIDE)  # (2, 4, 5, 3)
I = _r.standard_normal((2, 3, 6, 4))
POOLED, SWITCHES = max_pool_forward(I, (2, 2))  # (2, 3, 3, 2)
A_NAN = A.copy()
A_NAN[1, 2, 3, 4] = np.nan
K_INF = K.copy()
K_INF[0, 1, 2, 0] = np.inf
SMALL = dict(input_shape=(1, 8, 8), n_classes=3, channels=(2, 2))
MODEL = ThreeLayerCNN(**SMALL)
X = _r.standard_normal((2, 1, 8, 8))
Y = np.array([0, 2])
LOGITS = _r.standard_normal((2, 3))

# (id, call, expected exception type, argument name that the message must contain)
CASES = [
    # convolution
    ("conv-A-3d", lambda: conv_forward(A[0], K, b), ValueError, "A"),
    ("conv-channel-mismatch", lambda: conv_forward(A, K[:, :2], b), ValueError, "K"),
    ("conv-stride-0", lambda: conv_forward(A, K, b, 0, 0), ValueError, "stride"),
    ("conv-stride-1.5", lambda: conv_forward(A, K, b, 0, 1.5), TypeError, "stride"),
    ("conv-stride-bool", lambda: conv_forward(A, K, b, 0, True), TypeError, "stride"),
    ("conv-pad-negative", lambda: conv_forward(A, K, b, (-1, 0)), ValueError, "pad"),
    ("conv-pad-3-values", lambda: conv_forward(A, K, b, (1, 2, 3)), ValueError, "pad"),
    ("conv-pad-None", lambda: conv_forward(A, K, b, None), TypeError, "pad"),
    (
        "conv-kernel-larger-than-padded-input",
        lambda: conv_forward(A, _r.standard_normal((4, 3, 8, 2)), b),
        ValueError,
        "K",
    ),
    ("conv-b-wrong-length", lambda: conv_forward(A, K, b[:3]), ValueError, "b"),
    ("conv-A-nan", lambda: conv_forward(A_NAN, K, b), ValueError, "A"),
    ("conv-K-inf", lambda: conv_forward(A, K_INF, b), ValueError, "K"),
    ("conv-A-complex", lambda: conv_forward(A + 0j, K, b), TypeError, "A"),
    (
        "conv-backward-dZ-shape",
        lambda: conv_backward(Z[:, :, :-1], A, K, PAD, STRIDE),
        ValueError,
        "dZ",
    ),
    ("conv-backward-A-nan", lambda: conv_backward(Z, A_NAN, K, PAD, STRIDE), ValueError, "A"),
    ("correlate2d-string", lambda: correlate2d("abc", K[0, 0]), TypeError, "A"),
    ("correlate2d-beta-3d", lambda: correlate2d(A[0, 0], K[0]), ValueError, "beta"),
    (
        "conv-jacobian-kernel-too-large",
        lambda: conv_jacobian_kernel(A[0, 0], (9, 2)),
        ValueError,
        "kernel_hw",
    ),
    (
        "conv-jacobian-input-hw-0",
        lambda: conv_jacobian_input(K[0, 0], (0, 4)),
        ValueError,
        "input_hw",
    ),
    (
        "conv-output-shape-input-0",
        lambda: conv_output_shape((0, 3), (1, 1)),
        ValueError,
        "input_hw",
    ),
    # pooling
    ("pool-bool-input", lambda: avg_pool_forward(I > 0, (2, 2)), TypeError, "I"),
    ("pool-window-0", lambda: max_pool_forward(I, (0, 2)), ValueError, "window"),
    ("pool-window-string", lambda: max_pool_forward(I, "2"), ValueError, "window"),
    ("pool-empty-output", lambda: max_pool_forward(I[:, :, :2, :2], (3, 3)), ValueError, "window"),
    ("avg-pool-stride-0", lambda: avg_pool_forward(I, (2, 2), 0, (0, 1)), ValueError, "stride"),
    (
        "avg-pool-jacobian-pad-negative",
        lambda: avg_pool_jacobian((4, 4), (2, 2), (0, -1)),
        ValueError,
        "pad",
    ),
    (
        "max-backward-switches-float",
        lambda: max_pool_backward(POOLED, SWITCHES.astype(float), I.shape, (2, 2)),
        TypeError,
        "switches",
    ),
    (
        "max-backward-switches-out-of-range",
        lambda: max_pool_backward(POOLED, SWITCHES + 4, I.shape, (2, 2)),
        ValueError,
        "switches",
    ),
    (
        "max-backward-switches-shape",
        lambda: max_pool_backward(POOLED, SWITCHES[:, :, :-1], I.shape, (2, 2)),
        ValueError,
        "switches",
    ),
    (
        "max-backward-dA-shape",
        lambda: max_pool_backward(POOLED[:, :2], SWITCHES, I.shape, (2, 2)),
        ValueError,
        "dA",
    ),
    (
        "avg-backward-dA-shape",
        lambda: avg_pool_backward(POOLED[..., :1], I.shape, (2, 2)),
        ValueError,
        "dA",
    ),
    (
        "avg-backward-input-shape-3",
        lambda: avg_pool_backward(POOLED, I.shape[1:], (2, 2)),
        ValueError,
        "input_shape",
    ),
    (
        "max-mask-switches-negative",
        lambda: max_pool_mask(SWITCHES[0, 0] - 1, (6, 4), (2, 2)),
        ValueError,
        "switches",
    ),
    (
        "max-mask-input-hw-3",
        lambda: max_pool_mask(SWITCHES[0, 0], (6, 4, 1), (2, 2)),
        ValueError,
        "input_hw",
    ),
    # activations, loss, dense
    ("relu-string", lambda: relu("x"), TypeError, "Z"),
    ("sigmoid-nan", lambda: sigmoid(np.array([0.5, np.nan])), ValueError, "Z"),
    ("softmax-3d", lambda: softmax(np.zeros((2, 2, 2))), ValueError, "z"),
    ("softmax-jacobian-2d", lambda: softmax_jacobian(np.zeros((2, 3))), ValueError, "z"),
    (
        "ce-labels-out-of-range",
        lambda: softmax_cross_entropy(LOGITS, np.array([0, 3])),
        ValueError,
        "y",
    ),
    (
        "ce-labels-negative",
        lambda: softmax_cross_entropy(LOGITS, np.array([-1, 0])),
        ValueError,
        "y",
    ),
    (
        "ce-labels-float",
        lambda: softmax_cross_entropy(LOGITS, np.array([0.0, 1.0])),
        TypeError,
        "y",
    ),
    (
        "ce-labels-wrong-length",
        lambda: softmax_cross_entropy(LOGITS, np.array([0, 1, 2])),
        ValueError,
        "y",
    ),
    (
        "ce-labels-2d",
        lambda: softmax_cross_entropy(LOGITS, np.zeros((2, 1), dtype=int)),
        ValueError,
        "y",
    ),
    ("ce-jacobian-label", lambda: cross_entropy_jacobian(np.full(3, 1 / 3), 3), ValueError, "y"),
    (
        "dense-mismatched-W",
        lambda: dense_forward(np.zeros((2, 5)), np.zeros((4, 3)), np.zeros(3)),
        ValueError,
        "W",
    ),
    (
        "dense-b-wrong-length",
        lambda: dense_forward(np.zeros((2, 5)), np.zeros((5, 3)), np.zeros(4)),
        ValueError,
        "b",
    ),
    (
        "dense-backward-dZ-shape",
        lambda: dense_backward(np.zeros((2, 4)), np.zeros((2, 5)), np.zeros((5, 3))),
        ValueError,
        "dZ",
    ),
    ("dense-jacobian-n-out-0", lambda: dense_jacobian_weight(np.zeros(3), 0), ValueError, "n_out"),
    # vec
    ("unvec-wrong-size", lambda: unvec(np.zeros(11), (3, 4)), ValueError, "v"),
    ("unvec-tensor-wrong-size", lambda: unvec(np.zeros((12, 3)), (3, 4, 4)), ValueError, "v"),
    ("unvec-bad-shape", lambda: unvec(np.zeros(12), (3, 4, 1, 1)), ValueError, "shape"),
    ("unvec-shape-entry-2.9", lambda: unvec(np.zeros(6), (2.9, 3)), TypeError, "shape"),
    ("unvec-shape-not-a-tuple", lambda: unvec(np.zeros(6), 6), TypeError, "shape"),
    ("vec-4d", lambda: vec(A), ValueError, "A"),
    ("flatten-3d", lambda: flatten(A[0]), ValueError, "A"),
    ("unflatten-wrong-size", lambda: unflatten(np.zeros((2, 10)), (2, 1, 3, 3)), ValueError, "B"),
    ("unvec-flat-wrong-size", lambda: unvec_flat(np.zeros(5), (2, 3)), ValueError, "v"),
    # gradcheck
    (
        "numerical-jacobian-eps-0",
        lambda: numerical_jacobian(np.sin, np.zeros(3), eps=0.0),
        ValueError,
        "eps",
    ),
    (
        "numerical-gradient-eps-negative",
        lambda: numerical_gradient(np.sum, np.zeros(3), eps=-1e-6),
        ValueError,
        "eps",
    ),
    (
        "numerical-jacobian-eps-nan",
        lambda: numerical_jacobian(np.sin, np.zeros(3), eps=float("nan")),
        ValueError,
        "eps",
    ),
    (
        "numerical-jacobian-f-not-callable",
        lambda: numerical_jacobian(3, np.zeros(3)),
        TypeError,
        "f",
    ),
    (
        "relative-error-shapes",
        lambda: relative_error(np.zeros(3), np.zeros(4)),
        ValueError,
        "a and b",
    ),
    # model
    (
        "model-input-shape-4",
        lambda: ThreeLayerCNN(input_shape=(1, 1, 28, 28)),
        ValueError,
        "input_shape",
    ),
    ("model-pool-median", lambda: ThreeLayerCNN(pool="median"), ValueError, "pool"),
    ("model-activation-gelu", lambda: ThreeLayerCNN(activation="gelu"), ValueError, "activation"),
    ("model-n-classes-1", lambda: ThreeLayerCNN(n_classes=1), ValueError, "n_classes"),
    ("model-n-classes-float", lambda: ThreeLayerCNN(n_classes=2.5), TypeError, "n_classes"),
    ("model-pool-not-a-string", lambda: ThreeLayerCNN(pool=2), TypeError, "pool"),
    ("model-batch-size-0", lambda: MODEL.predict(X, batch_size=0), ValueError, "batch_size"),
    ("model-batch-size-float", lambda: MODEL.predict(X, batch_size=2.0), TypeError, "batch_size"),
    ("model-dtype-int", lambda: ThreeLayerCNN(dtype=np.int32), TypeError, "dtype"),
    ("model-channels-0", lambda: ThreeLayerCNN(channels=(0, 4)), ValueError, "channels"),
    (
        "model-kernel-sizes-3-layers",
        lambda: ThreeLayerCNN(kernel_sizes=((3, 3),) * 3),
        ValueError,
        "kernel_sizes",
    ),
    (
        "model-pool-pads-negative",
        lambda: ThreeLayerCNN(pool_pads=((-1, 0), (0, 0))),
        ValueError,
        "pool_pads",
    ),
    ("model-seed-float", lambda: ThreeLayerCNN(seed=1.5), TypeError, "seed"),
    ("model-method-slow", lambda: MODEL.loss_and_grads(X, Y, method="slow"), ValueError, "method"),
    ("model-X-wrong-shape", lambda: MODEL.predict(X[:, :, :7]), ValueError, "X"),
    ("model-X-3d", lambda: MODEL.loss_and_grads(X[0], Y[:1]), ValueError, "X"),
    ("model-X-nan", lambda: MODEL.predict_proba(np.full((1, 1, 8, 8), np.nan)), ValueError, "X"),
    ("model-X-empty", lambda: MODEL.loss_and_grads(np.zeros((0, 1, 8, 8)), Y[:0]), ValueError, "X"),
    ("model-X-int", lambda: MODEL.predict(np.zeros((2, 1, 8, 8), np.int64)), TypeError, "X"),
    ("model-X-uint8-shape", lambda: MODEL.predict(np.zeros((2, 8, 7), np.uint8)), ValueError, "X"),
    (
        "model-X-uint8-train",
        lambda: MODEL.forward(np.zeros((2, 1, 8, 8), np.uint8)),
        TypeError,
        "X",
    ),
    (
        "model-labels-out-of-range",
        lambda: MODEL.loss_and_grads(X, np.array([0, 5])),
        ValueError,
        "y",
    ),
    ("model-labels-float", lambda: MODEL.loss_and_grads(X, np.array([0.0, 1.0])), TypeError, "y"),
    ("model-labels-wrong-length", lambda: MODEL.loss_and_grads(X, np.array([0])), ValueError, "y"),
    # data
    ("prepare-images-float", lambda: prepare_images(np.zeros((2, 28, 28))), TypeError, "x"),
    (
        "prepare-images-shape",
        lambda: prepare_images(np.zeros((2, 27, 28), np.uint8), image_hw=(28, 28)),
        ValueError,
        "x",
    ),
    (
        "prepare-images-dtype",
        lambda: prepare_images(np.zeros((2, 28, 28), np.uint8), np.int32),
        TypeError,
        "dtype",
    ),
]


def _names_argument(message, name):
    """The argument name appears as a whole word (so 'A' is not found inside 'Array')."""
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", message) is not None


def test_there_are_at_least_30_distinct_cases():
    """The list below covers the public API broadly and has no duplicate ids."""
    ids = [case[0] for case in CASES]
    assert len(ids) == len(set(ids)) >= 30


@pytest.mark.parametrize(
    "call, exc_type, name", [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_malformed_call_raises_naming_the_argument(call, exc_type, name):
    """ValueError/TypeError whose message names the argument (CONTRIBUTING.md, "Errors")."""
    with pytest.raises(exc_type) as info:
        call()
    message = str(info.value)
    assert _names_argument(message, name), f"{name!r} not named in: {message}"


def test_malformed_calls_emit_no_runtime_warning():
    """Bad input is rejected before any arithmetic: no RuntimeWarning (overflow, NaN, ...)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _, call, exc_type, _ in CASES:
            with pytest.raises((ValueError, TypeError)):
                call()
    runtime = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert runtime == [], [str(w.message) for w in runtime]
