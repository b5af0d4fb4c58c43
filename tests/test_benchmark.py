"""The benchmark's explicit conv layer must compute what the fast path computes."""

from cnn_helpers import conv_backward, conv_forward, relative_error
from cnn_helpers.benchmark import conv_layer_timings, explicit_conv_layer


def test_explicit_conv_layer_matches_fast_path(rng):
    """§3.1.5 with explicit matrices == conv_forward / conv_backward, padded and strided."""
    A = rng.standard_normal((2, 3, 7, 6))
    K = rng.standard_normal((4, 3, 3, 2))
    b = rng.standard_normal(4)
    pad, stride = (1, 0), (2, 1)
    Z = conv_forward(A, K, b, pad, stride)
    G = rng.standard_normal(Z.shape)
    fast = (Z, *conv_backward(G, A, K, pad, stride))
    explicit = explicit_conv_layer(A, K, b, G, pad, stride)
    for name, u, v in zip(("Z", "dA", "dK", "db"), fast, explicit):
        assert u.shape == v.shape, name
        assert relative_error(u, v) < 1e-12, name


def test_conv_layer_timings_reports_agreement():
    rows = conv_layer_timings(batch=2, layers=((1, 2, 6),))
    ((name, t_fast, t_explicit, diff),) = rows
    assert name == "1->2 on 6x6" and t_fast > 0 and t_explicit > 0 and diff < 1e-12
