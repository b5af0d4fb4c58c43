"""Figures used by the notebooks (matplotlib only, fixed sizes, deterministic).

Every function draws into a new figure of fixed size (or into ``ax`` when given)
and returns the figure, so notebooks can end the line with ``;``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

__all__ = [
    "plot_jacobian",
    "plot_jacobians",
    "show_images",
    "plot_curves",
    "plot_confusion",
    "plot_filters",
    "plot_feature_maps",
]


def _new_axes(ax, figsize):
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize)
    return fig, ax


def _integer_ticks(ax, m, n, max_ticks=12):
    """Integer ticks (0-based, as the matrix indices) on both axes of an m x n heatmap."""
    for axis, size in ((ax.xaxis, n), (ax.yaxis, m)):
        step = max(1, -(-size // max_ticks))
        axis.set_ticks(np.arange(0, size, step))


def plot_jacobian(
    J,
    ax=None,
    title=None,
    xlabel="column (input entry, vec order)",
    ylabel="row (output entry, vec order)",
    annotate=False,
    figsize=(5, 4),
    vmax=None,
    colorbar=True,
    signed=None,
):
    """Heatmap of a Jacobian matrix with integer ticks and a colorbar.

    A non-negative matrix (a mask, an average-pooling matrix) is drawn with a
    sequential colormap from 0 (white) to its maximum; a matrix with both signs with a
    diverging one, zero white, red positive, blue negative, symmetric limits.

    Parameters
    ----------
    J : array_like, shape (m, n)
    ax : matplotlib Axes, optional
    title, xlabel, ylabel : str
    annotate : bool
        Write the value in each nonzero cell (for small matrices), white on dark cells.
    figsize : tuple, used when ``ax`` is None
    vmax : float, optional
        Upper end of the colour scale (default: max |J|); pass the same value to
        panels that are compared.
    colorbar : bool
        Draw a colorbar beside the axes.
    signed : bool, optional
        Force the diverging (True) or the sequential (False) colormap; by default
        diverging exactly when J has a negative entry.

    Returns
    -------
    matplotlib Figure
    """
    J = np.asarray(J, dtype=float)
    fig, ax = _new_axes(ax, figsize)
    vmax = float(vmax if vmax is not None else np.abs(J).max()) or 1.0
    signed = bool((J < 0).any()) if signed is None else signed
    cmap, vmin = ("RdBu_r", -vmax) if signed else ("Blues", 0.0)
    im = ax.imshow(J, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest", aspect="auto")
    m, n = J.shape
    if max(m, n) <= 40:  # thin grid lines between cells
        ax.hlines(np.arange(-0.5, m, 1), -0.5, n - 0.5, color="0.85", linewidth=0.5)
        ax.vlines(np.arange(-0.5, n, 1), -0.5, m - 0.5, color="0.85", linewidth=0.5)
    if annotate:
        for (r, c), value in np.ndenumerate(J):
            if value != 0:
                dark = abs(value) > 0.6 * vmax
                ax.text(
                    c,
                    r,
                    f"{value:.2g}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if dark else "black",
                )
    _integer_ticks(ax, m, n)
    ax.set_title(title or f"{m} x {n} Jacobian, {np.count_nonzero(J)} nonzeros")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if colorbar:
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    return fig


def plot_jacobians(mats, titles, ncols=3, size=3.2, suptitle=None, xlabel="column", ylabel="row"):
    """Several Jacobian heatmaps side by side on ONE colour scale, with one colorbar."""
    n = len(mats)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols + 1, size * nrows), squeeze=False, layout="constrained"
    )
    mats = [np.asarray(J, dtype=float) for J in mats]
    vmax = max(float(np.abs(J).max()) for J in mats) or 1.0
    signed = any(bool((J < 0).any()) for J in mats)  # one colormap for every panel
    for ax, J, title in zip(axes.flat, mats, titles):
        plot_jacobian(
            J,
            ax=ax,
            title=title,
            xlabel=xlabel,
            ylabel=ylabel,
            vmax=vmax,
            colorbar=False,
            signed=signed,
        )
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.colorbar(axes.flat[0].images[0], ax=axes, shrink=0.8)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def show_images(images, titles=None, ncols=8, size=1.2, cmap="gray", suptitle=None):
    """A grid of 2-D images (e.g. uint8 signs or feature maps)."""
    images = np.asarray(images)
    n = images.shape[0]
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, size * nrows + 0.3), squeeze=False
    )
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < n:
            ax.imshow(images[k], cmap=cmap, interpolation="nearest")
            if titles is not None:
                ax.set_title(str(titles[k]), fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def plot_curves(history, figsize=(9, 3.5), epochs=None):
    """Learning curves from a dict of equal-length lists.

    Keys ending in ``loss`` go to the left panel, keys ending in ``acc`` to the
    right one (for example ``train_loss``, ``val_loss``, ``train_acc``, ``val_acc``).
    ``epochs`` gives the x position of the points (default 1, 2, ..., n).
    """
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=figsize)
    for key, values in history.items():
        epochs_k = np.arange(1, len(values) + 1) if epochs is None else np.asarray(epochs)
        if key.endswith("loss"):
            ax_loss.plot(epochs_k, values, marker="o", label=key)
        elif key.endswith("acc"):
            ax_acc.plot(epochs_k, values, marker="o", label=key)
    ax_loss.set(xlabel="epoch", ylabel="mean cross-entropy", title="loss")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return fig


def plot_confusion(cm, classes, normalize=True, figsize=(7.5, 6.5)):
    """Confusion matrix (rows: true class, columns: predicted class)."""
    cm = np.asarray(cm, dtype=float)
    if normalize:
        cm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=figsize)
    im = ax.imshow(cm, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    ticks = np.arange(len(classes))
    ax.set_xticks(ticks, labels=list(classes))
    ax.set_yticks(ticks, labels=list(classes))
    ax.set(
        xlabel="predicted",
        ylabel="true",
        title="confusion matrix" + (" (row-normalized)" if normalize else ""),
    )
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    return fig


def plot_filters(K, size=1.0, suptitle="learned kernels"):
    """Kernels K (C_out, C_in, kh, kw): one row per input channel, shared colour scale."""
    K = np.asarray(K, dtype=float)
    c_out, c_in = K.shape[:2]
    vmax = float(np.abs(K).max()) or 1.0
    fig, axes = plt.subplots(c_in, c_out, figsize=(size * c_out, size * c_in + 0.4), squeeze=False)
    for i in range(c_in):
        for j in range(c_out):
            ax = axes[i, j]
            ax.imshow(K[j, i], cmap="RdBu_r", vmin=-vmax, vmax=vmax)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(f"K[{j},{i}]", fontsize=7)
    fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def plot_feature_maps(maps, title, ncols=8, size=1.1):
    """The channels of one sample's feature maps (C, H, W) as a grid."""
    maps = np.asarray(maps, dtype=float)
    return show_images(
        maps,
        titles=[f"ch {c}" for c in range(maps.shape[0])],
        ncols=ncols,
        size=size,
        cmap="viridis",
        suptitle=title,
    )
