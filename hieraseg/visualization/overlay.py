"""A label map drawn over its image so that the image stays readable."""
from typing import Sequence

import numpy as np


def overlay_labels(image: np.ndarray, labels: np.ndarray, palette: Sequence[Sequence[int]],
                   alpha: float = 0.5, ignore_index: int = 255,
                   boundary_colour: Sequence[int] = (255, 255, 255)) -> np.ndarray:
    """The image with every labelled pixel blended with its class colour, and the
    boundaries between regions drawn.

    Args:
        image: ``[H, W, 3]`` uint8 RGB.
        labels: ``[H, W]`` integer class ids; ``ignore_index`` and ids outside the palette
            are left as the image is (not darkened).
        palette: ``[C, 3]`` RGB colours.
        alpha: the colour's weight (0: the image, 1: the colour alone).
        boundary_colour: drawn on the pixels whose right or lower neighbour has another
            label, so that regions stay apart at any ``alpha``; None draws none.

    Returns:
        ``[H, W, 3]`` uint8.
    """
    colours = np.asarray(palette, dtype=np.float32).reshape(-1, 3)
    labels = np.asarray(labels)
    valid = (labels >= 0) & (labels < len(colours)) & (labels != ignore_index)
    out = image.astype(np.float32)
    painted = colours[np.where(valid, labels, 0)]
    out = np.where(valid[..., None], (1 - alpha) * out + alpha * painted, out)
    if boundary_colour is not None:
        edge = np.zeros(labels.shape, dtype=bool)
        edge[:, :-1] |= labels[:, :-1] != labels[:, 1:]
        edge[:-1, :] |= labels[:-1, :] != labels[1:, :]
        out[edge] = boundary_colour
    return np.clip(np.round(out), 0, 255).astype(np.uint8)
