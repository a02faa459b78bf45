"""PNG plots of a trained VAE: reconstructions, prior samples, latent map, manifold."""

from __future__ import annotations

import os

import numpy as np
from scipy.stats import norm


def pyplot():
    """`matplotlib.pyplot` on the file-only Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _grid(images: np.ndarray, rows: int, cols: int, image_shape) -> np.ndarray:
    height, width = image_shape[0], image_shape[1]
    images = np.asarray(images)[: rows * cols].reshape(-1, height, width)
    canvas = np.ones((rows * (height + 1) - 1, cols * (width + 1) - 1))
    for i, image in enumerate(images):
        r, c = divmod(i, cols)
        canvas[
            r * (height + 1) : r * (height + 1) + height, c * (width + 1) : c * (width + 1) + width
        ] = image
    return canvas


def _save(fig, path: str, plt) -> str:
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def model_inputs(model, x: np.ndarray, labels: np.ndarray | None):
    """What the model takes: the images, or images and labels for conditional models."""
    if getattr(model, "needs_labels", False):
        return {"x": x, "label": np.asarray(labels, "int32")}
    return x


def plot_reconstructions(
    model, x: np.ndarray, image_shape, path: str, count: int = 10, labels: np.ndarray | None = None
) -> str:
    """Inputs (top row) next to their reconstructions (bottom row)."""
    plt = pyplot()
    x = x[:count]
    labels = None if labels is None else labels[:count]
    recon = np.asarray(model.reconstruct(model_inputs(model, x, labels)))
    fig, axes = plt.subplots(2, 1, figsize=(count, 2.4))
    for ax, images, title in zip(axes, (x, recon), ("input", "reconstruction")):
        ax.imshow(_grid(images, 1, len(x), image_shape), cmap="gray", vmin=0, vmax=1)
        ax.set_ylabel(title, rotation=0, ha="right", va="center")
        ax.set_xticks([])
        ax.set_yticks([])
    return _save(fig, path, plt)


def plot_samples(model, image_shape, path: str, rows: int = 8, cols: int = 8) -> str:
    """A grid of images decoded from prior draws z ~ p(z)."""
    plt = pyplot()
    if getattr(model, "needs_labels", False):  # one row per class
        labels = np.repeat(np.arange(rows) % model.num_classes, cols).astype("int32")
        images = np.asarray(model.sample(labels))
        title = "samples from the prior (row i: label i)"
    else:
        images = np.asarray(model.sample(rows * cols))
        title = "samples from the prior"
    fig, ax = plt.subplots(figsize=(cols * 0.8, rows * 0.8))
    ax.imshow(_grid(images, rows, cols, image_shape), cmap="gray", vmin=0, vmax=1)
    ax.set_title(title)
    ax.axis("off")
    return _save(fig, path, plt)


def plot_latent_map(model, x: np.ndarray, labels: np.ndarray, path: str) -> str:
    """Posterior means of `x` in a 2-D latent space, colored by label."""
    plt = pyplot()
    z_mean = np.asarray(model.encode(model_inputs(model, x, labels))[0])
    fig, ax = plt.subplots(figsize=(6, 5))
    points = ax.scatter(z_mean[:, 0], z_mean[:, 1], c=labels, cmap="tab10", s=8)
    fig.colorbar(points, ax=ax, label="label")
    ax.set_xlabel("z[0]")
    ax.set_ylabel("z[1]")
    ax.set_title("latent map (posterior means, test set)")
    return _save(fig, path, plt)


def plot_manifold(model, image_shape, path: str, size: int = 15) -> str:
    """Images decoded on a grid of prior quantiles of a 2-D latent space."""
    plt = pyplot()
    quantiles = norm.ppf(np.linspace(0.05, 0.95, size)).astype("float32")
    zz = np.array([[a, b] for b in quantiles[::-1] for a in quantiles], "float32")
    images = np.asarray(model.likelihood.mean(model.decode(zz)))
    fig, ax = plt.subplots(figsize=(size * 0.6, size * 0.6))
    ax.imshow(_grid(images, size, size, image_shape), cmap="gray", vmin=0, vmax=1)
    ax.set_title("decoded manifold (prior quantiles)")
    ax.axis("off")
    return _save(fig, path, plt)


def plot_all(
    model, x: np.ndarray, labels: np.ndarray, image_shape, directory: str
) -> dict[str, str]:
    """Writes every plot that applies to `model` into `directory`; returns name -> path."""
    os.makedirs(directory, exist_ok=True)
    paths = {
        "reconstructions": plot_reconstructions(
            model, x, image_shape, os.path.join(directory, "reconstructions.png"), labels=labels
        ),
        "samples": plot_samples(model, image_shape, os.path.join(directory, "samples.png")),
    }
    if tuple(model.latent_shape()) == (2,):
        paths["latent_map"] = plot_latent_map(
            model, x, labels, os.path.join(directory, "latent_map.png")
        )
        if not getattr(model, "needs_labels", False):
            paths["manifold"] = plot_manifold(
                model, image_shape, os.path.join(directory, "manifold.png")
            )
    return paths
