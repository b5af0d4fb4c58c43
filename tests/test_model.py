"""The 3-layer CNN of the paper's Figure 1: explicit Jacobians (§3.1.1-§3.1.6) versus the
fast path versus finite differences, plus the default model on real images."""

import numpy as np
import pytest

from cnn_helpers import (
    ThreeLayerCNN,
    load_signs,
    numerical_gradient,
    prepare_images,
    relative_error,
)

PARAM_SHAPES_DEFAULT = {
    "K1": (8, 1, 3, 3),
    "b1": (8,),
    "K2": (16, 8, 3, 3),
    "b2": (16,),
    "W3": (784, 24),
    "b3": (24,),
}

# small, non-square, with every geometry knob away from its default
SMALL = dict(
    input_shape=(2, 9, 8),
    n_classes=5,
    channels=(3, 4),
    kernel_sizes=((3, 2), (2, 3)),
    conv_pads=((1, 0), (2, 1)),
    conv_strides=((1, 2), (2, 1)),
    pool_windows=((2, 3), (3, 2)),
    pool_pads=((1, 1), (0, 1)),
    pool_strides=((2, 1), (1, 2)),
)
# non-overlapping pooling without padding: layer 1 windows tile the input exactly, layer 2
# windows leave gaps (stride > window); no padding means every pixel's max is an input
DISJOINT = dict(
    input_shape=(1, 8, 10),
    n_classes=4,
    channels=(2, 3),
    kernel_sizes=((3, 3), (2, 2)),
    conv_pads=((1, 1), (1, 1)),
    conv_strides=((1, 1), (1, 1)),
    pool_windows=((2, 2), (2, 1)),
    pool_pads=((0, 0), (0, 0)),
    pool_strides=((2, 2), (3, 2)),
)


@pytest.fixture(scope="module")
def signs():
    return load_signs()


def _small_model(config, pool, activation, rng):
    """A small model with random NONZERO biases, set in place.

    With zero biases the conv outputs on padding are exactly 0 and tie with max-pool's
    zero padding: a genuine kink where finite differences are meaningless."""
    model = ThreeLayerCNN(pool=pool, activation=activation, seed=3, **config)
    for key in ("b1", "b2", "b3"):
        model.params[key][...] = 0.5 * rng.standard_normal(model.params[key].shape)
    X = rng.standard_normal((3, *config["input_shape"]))
    y = np.array([0, config["n_classes"] - 1, 2])
    return model, X, y


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("pool", ["max", "avg"])
@pytest.mark.parametrize("config", [SMALL, DISJOINT], ids=["overlapping", "disjoint"])
def test_jacobian_fast_and_finite_differences_agree(rng, config, pool, activation):
    """§3.1.1-§3.1.6: the paper's explicit-Jacobian gradients equal the fast path (1e-10)
    and central finite differences of the loss for every parameter (1e-6)."""
    model, X, y = _small_model(config, pool, activation, rng)
    loss_f, g_f = model.loss_and_grads(X, y, method="fast")
    loss_j, g_j = model.loss_and_grads(X, y, method="jacobian")
    assert abs(loss_f - loss_j) <= 1e-10 * abs(loss_f)
    assert set(g_f) == set(g_j) == set(model.params)
    for key, value in model.params.items():
        assert g_f[key].shape == g_j[key].shape == value.shape, key
        assert relative_error(g_f[key], g_j[key]) < 1e-10, key

    for key in model.params:
        original = model.params[key].copy()

        def loss_of(p, key=key):
            model.params[key][...] = p
            return model.loss_and_grads(X, y)[0]

        num = numerical_gradient(loss_of, original, eps=1e-5)
        model.params[key][...] = original
        assert relative_error(g_f[key], num) < 1e-6, key


def test_default_model_shapes_and_parameter_count():
    """Figure 1 with the defaults: 8 then 16 3x3 kernels, 16*7*7 = 784 features, 24 classes."""
    model = ThreeLayerCNN()
    assert {k: v.shape for k, v in model.params.items()} == PARAM_SHAPES_DEFAULT
    assert all(v.dtype == np.float64 for v in model.params.values())
    assert model.n_params() == 20088 == sum(int(np.prod(s)) for s in PARAM_SHAPES_DEFAULT.values())


def test_initial_loss_is_near_log_24(signs):
    """An untrained model predicts nearly uniformly: J is about ln(24)."""
    model = ThreeLayerCNN()
    X = prepare_images(signs.x_train[:256])
    loss, _ = model.loss_and_grads(X, signs.y_train[:256])
    assert abs(loss - np.log(24)) < 0.1


def test_jacobian_and_fast_agree_on_real_images(signs):
    """The default model on 2 real images: explicit Jacobians == fast path (1e-10)."""
    model = ThreeLayerCNN()
    X = prepare_images(signs.x_train[:2])
    y = signs.y_train[:2]
    loss_f, g_f = model.loss_and_grads(X, y, method="fast")
    loss_j, g_j = model.loss_and_grads(X, y, method="jacobian")
    assert abs(loss_f - loss_j) <= 1e-10 * loss_f
    for key in model.params:
        assert relative_error(g_f[key], g_j[key]) < 1e-10, key


def test_gradient_descent_overfits_48_images(signs):
    """Plain gradient descent (params -= lr * grads, fast path) drives 48 training images
    (2 per class) to 100% training accuracy and a small loss in 30 steps (loss about 0.03
    for seeds 0..3; 100% accuracy is typically reached within 15 steps)."""
    idx = np.concatenate([np.flatnonzero(signs.y_train == c)[:2] for c in range(24)])
    X, y = prepare_images(signs.x_train[idx]), signs.y_train[idx]
    model = ThreeLayerCNN()
    first_loss = None
    for _ in range(30):
        loss, grads = model.loss_and_grads(X, y)
        first_loss = loss if first_loss is None else first_loss
        for key in model.params:
            model.params[key] -= 0.1 * grads[key]
    final_loss, _ = model.loss_and_grads(X, y)
    assert first_loss > 3.0
    assert final_loss < 0.15
    np.testing.assert_array_equal(model.predict(X), y)


def test_params_updated_in_place_change_predictions(rng):
    """params holds the model's own arrays: editing them in place changes the output."""
    model = ThreeLayerCNN(**SMALL)
    X = rng.standard_normal((4, *SMALL["input_shape"]))
    before = model.predict_proba(X)
    np.testing.assert_allclose(before.sum(axis=1), np.ones(4), rtol=1e-12)
    model.params["b3"][...] = [0.0, 0.0, 50.0, 0.0, 0.0]
    np.testing.assert_array_equal(model.predict(X), [2, 2, 2, 2])
    model.params["W3"] *= 0.0
    model.params["b3"][...] = 0.0
    np.testing.assert_allclose(model.predict_proba(X), np.full((4, 5), 0.2), rtol=1e-12)
    assert not np.allclose(before, model.predict_proba(X))


def test_save_load_round_trip(tmp_path, rng):
    """save/load keep the architecture and the weights; the file is a plain npz."""
    model = ThreeLayerCNN(pool="avg", activation="tanh", seed=7, **SMALL)
    for key in model.params:
        model.params[key] += 0.1 * rng.standard_normal(model.params[key].shape)
    path = tmp_path / "model.npz"
    model.save(path)
    with np.load(path, allow_pickle=False) as npz:
        for key, value in model.params.items():
            np.testing.assert_array_equal(npz[key], value)
    loaded = ThreeLayerCNN.load(path)
    assert loaded.config() == model.config()
    X = rng.standard_normal((3, *SMALL["input_shape"]))
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    for key, value in model.params.items():
        np.testing.assert_array_equal(loaded.params[key], value)


def test_jacobian_method_is_stable_for_large_logits(rng):
    """softmax_cross_entropy is stable for logits of size 1e3 (log-sum-exp); the explicit
    "jacobian" path must give the same finite loss and gradients, without a RuntimeWarning,
    when the true class's probability underflows to 0 in float64."""
    model = ThreeLayerCNN(**SMALL)
    model.params["b3"][...] = [1000.0, -1000.0, 999.0, 0.0, 0.0]
    X = rng.standard_normal((2, *SMALL["input_shape"]))
    y = np.array([1, 0])
    loss_f, g_f = model.loss_and_grads(X, y, method="fast")
    assert np.isfinite(loss_f) and loss_f > 999
    loss_j, g_j = model.loss_and_grads(X, y, method="jacobian")
    assert abs(loss_f - loss_j) <= 1e-10 * loss_f
    for key in model.params:
        assert relative_error(g_f[key], g_j[key]) < 1e-10, key


# ---------------------------------------------------------------------------------------
# The tie and padding rules on the path training uses, against an independent oracle.
# PADDED_POOL: zero-padded, overlapping pooling, so windows on the border compare real
# entries with padded zeros, and relu outputs of exactly 0 tie with them.
PADDED_POOL = dict(
    input_shape=(1, 7, 6),
    n_classes=3,
    channels=(2, 2),
    kernel_sizes=((3, 3), (2, 2)),
    conv_pads=((1, 1), (0, 1)),
    conv_strides=((1, 1), (1, 1)),
    pool_windows=((3, 2), (2, 2)),
    pool_pads=((1, 1), (1, 0)),
    pool_strides=((2, 1), (1, 2)),
)


def _oracle(model, X, y):
    from reference import network_loss_and_grads_loops

    assert model.pool == "max", "the loop oracle covers max pooling"
    return network_loss_and_grads_loops(model.params, model.layers, model.activation, X, y)


def _tied_inputs(rng, shape=PADDED_POOL["input_shape"]):
    """Images whose pooling windows hold exact ties at pixels with different inputs.

    A constant image, a negative constant one (the padded zeros win) and two images of
    small integers: with integer kernels every conv output is an exact small integer,
    so ties are everywhere, between pixels whose receptive fields differ. Routing a
    tie to the wrong pixel then changes dK1.
    """
    X = np.empty((4, *shape))
    X[0] = 1.0
    X[1] = -0.75
    X[2:] = rng.integers(0, 3, size=(2, *shape))
    return X, np.array([0, 1, 2, 1])


def _integer_kernels(model, rng):
    for k in (1, 2):
        model.params[f"K{k}"][...] = rng.integers(-1, 2, size=model.params[f"K{k}"].shape)
        model.params[f"b{k}"][...] = rng.integers(-1, 2, size=model.params[f"b{k}"].shape)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("config", [PADDED_POOL, DISJOINT], ids=["padded", "disjoint"])
def test_training_path_ties_and_padding_match_loop_oracle(rng, config, activation):
    """First maximum in column-major window order wins a tie, padded zeros take part,
    and a maximum on the padding routes its gradient nowhere: on the training path
    (``method="fast"``, pooling before the activation) and the explicit path alike,
    compared with plain loops that share no code with the package. Constant images make
    every window a tie; integer images and kernels make exact ties between pixels whose
    receptive fields differ, so a tie routed to the wrong pixel changes dK1."""
    model = ThreeLayerCNN(pool="max", activation=activation, seed=1, **config)
    _integer_kernels(model, rng)
    X, y = _tied_inputs(rng, config["input_shape"])
    y = y % config["n_classes"]
    loss_ref, g_ref = _oracle(model, X, y)
    for method in ("fast", "jacobian"):
        loss, grads = model.loss_and_grads(X, y, method=method)
        assert abs(loss - loss_ref) <= 1e-12 * abs(loss_ref), method
        for key in model.params:
            np.testing.assert_allclose(
                grads[key], g_ref[key], rtol=1e-10, atol=1e-13, err_msg=f"{method}: {key}"
            )


def test_training_path_routes_nothing_from_padding_maxima():
    """Negative constant images: every border window's maximum is a padded zero, whose
    gradient goes nowhere; the oracle agrees that those input pixels get no gradient."""
    model = ThreeLayerCNN(pool="max", activation="tanh", seed=0, **PADDED_POOL)
    model.params["K1"][...] = 1.0
    model.params["b1"][...] = 0.0
    X = np.full((2, *PADDED_POOL["input_shape"]), -1.0)
    y = np.array([0, 2])
    _, g_fast = model.loss_and_grads(X, y)
    _, g_ref = _oracle(model, X, y)
    for key in model.params:
        np.testing.assert_allclose(g_fast[key], g_ref[key], rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("pool", ["max", "avg"])
@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_forward_with_and_without_cache_agree(rng, pool, activation):
    """forward(X) (the training engine) and forward(X, return_cache=True) (the public
    NCHW functions, layer by layer) give the same logits, ties and padding included."""
    model = ThreeLayerCNN(pool=pool, activation=activation, seed=2, **PADDED_POOL)
    _integer_kernels(model, rng)
    X, _ = _tied_inputs(rng)
    fast = model.forward(X)
    cached, cache = model.forward(X, return_cache=True)
    np.testing.assert_allclose(fast, cached, rtol=1e-12, atol=1e-14)
    assert set(cache) == {"Z1", "I1", "A1", "S1", "Z2", "I2", "A2", "S2", "B2"}
    assert (cache["S1"] is None) == (pool == "avg")
