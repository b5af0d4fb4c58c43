"""The 3-layer CNN of the paper's Figure 1: explicit Jacobians (§3.1.1-§3.1.6) versus the
fast path versus finite differences, plus the default model on real images."""

import numpy as np
import pytest

from cnn_helpers import (
    ThreeLayerCNN, load_signs, numerical_gradient, prepare_images, relative_error,
)

PARAM_SHAPES_DEFAULT = {"K1": (8, 1, 3, 3), "b1": (8,), "K2": (16, 8, 3, 3), "b2": (16,),
                        "W3": (784, 24), "b3": (24,)}

# small, non-square, with every geometry knob away from its default
SMALL = dict(input_shape=(2, 9, 8), n_classes=5, channels=(3, 4),
             kernel_sizes=((3, 2), (2, 3)), conv_pads=((1, 0), (2, 1)),
             conv_strides=((1, 2), (2, 1)), pool_windows=((2, 3), (3, 2)),
             pool_pads=((1, 1), (0, 1)), pool_strides=((2, 1), (1, 2)))
# non-overlapping pooling without padding: layer 1 windows tile the input exactly, layer 2
# windows leave gaps (stride > window); no padding means every pixel's max is an input
DISJOINT = dict(input_shape=(1, 8, 10), n_classes=4, channels=(2, 3),
                kernel_sizes=((3, 3), (2, 2)), conv_pads=((1, 1), (1, 1)),
                conv_strides=((1, 1), (1, 1)), pool_windows=((2, 2), (2, 1)),
                pool_pads=((0, 0), (0, 0)), pool_strides=((2, 2), (3, 2)))


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
