"""cnn_helpers: back-propagation through a 3-layer CNN, Jacobian by Jacobian.

Every operation exists twice: the paper's explicit Jacobian matrices (for teaching
and checking) and a fast vectorized path (for training). Conventions: column-major
vec, NCHW batches, numerator-layout Jacobians, cross-correlation, zero-padded
pooling. See CONTRIBUTING.md and the notebooks.
"""

from .activations import (
    relu,
    relu_grad,
    relu_jacobian,
    sigmoid,
    sigmoid_grad,
    sigmoid_jacobian,
    softmax,
    softmax_jacobian,
    tanh,
    tanh_grad,
    tanh_jacobian,
)
from .conv import (
    conv_backward,
    conv_forward,
    conv_jacobian_input,
    conv_jacobian_kernel,
    conv_output_shape,
    correlate2d,
    unit_matrices,
)
from .data import SignData, load_signs, prepare_images
from .dense import (
    dense_backward,
    dense_forward,
    dense_jacobian_bias,
    dense_jacobian_input,
    dense_jacobian_weight,
)
from .gradcheck import numerical_gradient, numerical_jacobian, relative_error
from .losses import cross_entropy_jacobian, softmax_cross_entropy
from .model import ThreeLayerCNN
from .pool import (
    avg_pool_backward,
    avg_pool_forward,
    avg_pool_jacobian,
    max_pool_backward,
    max_pool_forward,
    max_pool_mask,
)
from .splits import SignSplits, split_signs
from .vec import flatten, unflatten, unvec, unvec_flat, vec, vec_flat

__version__ = "0.1.0"

__all__ = [
    "vec",
    "unvec",
    "vec_flat",
    "unvec_flat",
    "flatten",
    "unflatten",
    "conv_output_shape",
    "correlate2d",
    "conv_forward",
    "conv_backward",
    "conv_jacobian_kernel",
    "conv_jacobian_input",
    "unit_matrices",
    "avg_pool_forward",
    "avg_pool_backward",
    "avg_pool_jacobian",
    "max_pool_forward",
    "max_pool_backward",
    "max_pool_mask",
    "relu",
    "relu_grad",
    "relu_jacobian",
    "sigmoid",
    "sigmoid_grad",
    "sigmoid_jacobian",
    "tanh",
    "tanh_grad",
    "tanh_jacobian",
    "softmax",
    "softmax_jacobian",
    "dense_forward",
    "dense_backward",
    "dense_jacobian_input",
    "dense_jacobian_weight",
    "dense_jacobian_bias",
    "softmax_cross_entropy",
    "cross_entropy_jacobian",
    "numerical_jacobian",
    "numerical_gradient",
    "relative_error",
    "ThreeLayerCNN",
    "SignData",
    "load_signs",
    "split_signs",
    "SignSplits",
    "prepare_images",
]
