"""A hierarchy-aware palette: siblings share their parent's hue family, distinct within it.

The hue circle is shared out top-down. The coarsest level's nodes (but the greys, below)
get sectors of it in proportion to their number of leaves (each at least half a fair
share, so a small family is not squeezed); every node passes the middle 80 % of its sector
on to its children the same way (gaps between families). A top node's colour is the hue at
the middle of its sector at a fixed saturation and brightness: the family colour. Its
descendants' hues lie inside that sector; the nodes of a level, met in hue order, take
their saturation and brightness from a fixed cycle, so that siblings (and neighbours on
the hue circle) differ in those too and even twenty siblings in a narrow sector stay apart.
A node with one child hands it its own colour. Nodes named like a background
(``background``, ``unlabeled``, ``void``, ...) and their descendants are drawn in greys, so
that they do not compete with the classes for the eye.
"""
import colorsys
from typing import Dict, List, NamedTuple, Sequence, Tuple

from hieraseg.hierarchy import ClassHierarchy

BACKGROUND_NAMES = ('background', 'unlabeled', 'unlabelled', 'void', 'ignore', 'other')
FAMILY_SV = (0.80, 0.90)  # saturation, brightness of a family colour
# saturation / brightness of the nodes of a level in hue order (a cycle): siblings, and
# neighbours on the hue circle, never share one
SIBLING_SV = ((0.80, 0.90), (0.50, 0.65), (1.00, 0.55), (0.40, 1.00), (0.95, 0.38),
              (0.65, 0.78), (0.30, 0.70), (1.00, 0.80), (0.55, 0.45), (0.75, 1.00),
              (0.25, 0.95), (0.90, 0.65))
GREYS = (96, 150, 60, 200, 120, 40, 175, 220)
SECTOR_FILL = 0.8  # share of its sector a node passes on to its children (gaps between)


def _rgb(hue: float, saturation: float, value: float) -> List[int]:
    return [int(round(255 * c)) for c in colorsys.hsv_to_rgb(hue % 1.0, saturation, value)]


def _children(hierarchy: ClassHierarchy, level: int) -> Dict[int, List[int]]:
    """Level ``level``'s nodes -> their children in level ``level - 1``, in order."""
    children: Dict[int, List[int]] = {}
    for child, parent in enumerate(hierarchy.parents[level - 1]):
        children.setdefault(parent, []).append(child)
    return children


def _leaf_counts(hierarchy: ClassHierarchy, level: int) -> List[int]:
    counts = [0] * hierarchy.level_sizes[level]
    for node in hierarchy.leaf_to_level[level].tolist():
        counts[node] += 1
    return counts


def _share(start: float, width: float, weights: Sequence[int]) -> List[Tuple[float, float]]:
    """``(start, width)`` sectors for ``weights``, in order, filling ``[start, start +
    width)``: proportional to the weights, each at least half a fair share."""
    fair = 1.0 / len(weights)
    raw = [max(w / sum(weights), fair / 2) for w in weights]
    raw = [r / sum(raw) for r in raw]
    sectors, at = [], start
    for r in raw:
        sectors.append((at, width * r))
        at += width * r
    return sectors


def _is_background(name: str) -> bool:
    return name.strip().lower() in BACKGROUND_NAMES


class PaletteLayout(NamedTuple):
    """colours: per level (finest first), ``[r, g, b]`` per node. sectors: per level, each
    node's ``(start, width)`` on the hue circle ([0, 1)); ``(0, 0)`` for the greys."""
    colours: List[List[List[int]]]
    sectors: List[List[Tuple[float, float]]]


def hierarchy_palette(hierarchy: ClassHierarchy) -> List[List[List[int]]]:
    """Per level (finest first), an RGB colour ``[r, g, b]`` per node (module docstring)."""
    return palette_layout(hierarchy).colours


def palette_layout(hierarchy: ClassHierarchy) -> PaletteLayout:
    """The colours of :func:`hierarchy_palette` with the hue sectors they come from."""
    top = hierarchy.num_levels - 1
    palettes: List[List[List[int]]] = [[] for _ in range(hierarchy.num_levels)]
    sectors: List[List[Tuple[float, float]]] = [[] for _ in range(hierarchy.num_levels)]
    grey: List[List[bool]] = [[] for _ in range(hierarchy.num_levels)]
    # the coarsest level: sectors of the hue circle, starting at red
    grey[top] = [_is_background(n) for n in hierarchy.classes[top]]
    coloured = [node for node, is_grey in enumerate(grey[top]) if not is_grey]
    counts = _leaf_counts(hierarchy, top)
    sectors[top] = [(0.0, 0.0)] * hierarchy.level_sizes[top]
    for node, sector in zip(coloured, _share(0.0, 1.0, [counts[n] for n in coloured])
                            if coloured else []):
        sectors[top][node] = sector
    greys = iter(range(10**6))
    palettes[top] = [[GREYS[next(greys) % len(GREYS)]] * 3 if grey[top][node] else
                     _rgb(start + width / 2, *FAMILY_SV)
                     for node, (start, width) in enumerate(sectors[top])]
    for level in range(top, 0, -1):
        below = level - 1
        size = hierarchy.level_sizes[below]
        sectors[below], palettes[below] = [None] * size, [None] * size
        grey[below] = [False] * size
        counts = _leaf_counts(hierarchy, below)
        children = _children(hierarchy, level)
        # walk the parents in hue order, so that the nodes of this level are met in hue
        # order too: neighbours on the hue circle take neighbouring looks of the cycle
        turn = 0
        for parent in sorted(children, key=lambda p: sectors[level][p][0]):
            kids = children[parent]
            start, width = sectors[level][parent]
            inner = width * SECTOR_FILL
            shares = _share(start + (width - inner) / 2, inner, [counts[k] for k in kids])
            for kid, sector in zip(kids, shares):
                sectors[below][kid] = sector
                grey[below][kid] = grey[level][parent]
                if len(kids) == 1:  # the family is this one node
                    palettes[below][kid] = list(palettes[level][parent])
                elif grey[level][parent]:
                    palettes[below][kid] = [GREYS[next(greys) % len(GREYS)]] * 3
                else:
                    saturation, value = SIBLING_SV[turn % len(SIBLING_SV)]
                    palettes[below][kid] = _rgb(sector[0] + sector[1] / 2, saturation, value)
                    turn += 1
    return PaletteLayout(palettes, sectors)
