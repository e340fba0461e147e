"""Pixel frequencies of every node of a class hierarchy over a data set's label files.

Used by ``tools/hierarchy_stats.py``: one pass over the label files (each read once,
optionally in several processes), the leaf counts summed up the tree, printed as a tree with
the leaves that never occur flagged.
"""
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np
from PIL import Image

from hieraseg.hierarchy import ClassHierarchy
from .config_checks import segmentor_heads

DATALOADERS = {'train': 'train_dataloader', 'val': 'val_dataloader', 'test': 'test_dataloader'}


class SplitCounts(NamedTuple):
    """Pixel counts of one split: the hierarchy, ``[C_0]`` leaf counts, ignored pixels and
    the number of label files read."""
    hierarchy: ClassHierarchy
    leaf_counts: np.ndarray
    ignored: int
    num_files: int


def count_labels(path: str, num_classes: int, ignore_index: int = 255,
                 reduce_zero_label: bool = False,
                 label_map: Optional[Dict[int, int]] = None) -> Tuple[np.ndarray, int]:
    """Pixel count per class id of one label file, and its number of ignored pixels.

    Values are read as mmseg's ``LoadAnnotations`` delivers them: ``label_map`` applied,
    then, with ``reduce_zero_label``, 0 becomes ignored and every other ``v`` is ``v - 1``.

    Raises:
        ValueError: naming the file and the first value outside the classes.
    """
    with Image.open(path) as image:
        labels = np.array(image).astype(np.int64)
    if labels.ndim != 2:
        raise ValueError(f'{path}: a label file must be single-channel (class ids), got an '
                         f'array of shape {labels.shape}')
    if label_map:
        mapped = labels.copy()
        for old, new in label_map.items():
            mapped[labels == old] = new
        labels = mapped
    if reduce_zero_label:
        labels = np.where(labels == 0, ignore_index, labels - 1)
        labels[labels == ignore_index - 1] = ignore_index
    valid = labels != ignore_index
    values = labels[valid]
    outside = (values < 0) | (values >= num_classes)
    if outside.any():
        bad = np.unique(values[outside])
        raise ValueError(f'{path}: label value {int(bad[0])} is outside the {num_classes} '
                         f'classes (0..{num_classes - 1}) and is not the ignore index '
                         f'{ignore_index}; values outside: {bad[:10].tolist()}')
    return np.bincount(values, minlength=num_classes), int((~valid).sum())


def level_counts(hierarchy: ClassHierarchy, leaf_counts: np.ndarray) -> List[np.ndarray]:
    """Pixel counts of every node, per level (finest first), from the leaf counts."""
    counts = []
    for level in range(hierarchy.num_levels):
        table = hierarchy.leaf_to_level[level].numpy()
        counts.append(np.bincount(table, weights=leaf_counts,
                                  minlength=hierarchy.level_sizes[level]).astype(np.int64))
    return counts


def format_tree(hierarchy: ClassHierarchy, leaf_counts: np.ndarray) -> Tuple[str, List[str]]:
    """The hierarchy as an indented tree, coarsest level first, each node with its pixel
    count and share of the labelled pixels; and the names of the leaves with no pixel."""
    counts = level_counts(hierarchy, np.asarray(leaf_counts, dtype=np.int64))
    total = max(int(np.sum(leaf_counts)), 1)
    children: Dict[Tuple[int, int], List[int]] = {}
    for level, links in enumerate(hierarchy.parents):
        for node, parent in enumerate(links):
            children.setdefault((level + 1, parent), []).append(node)
    width = max(len(name) for level in hierarchy.classes for name in level) + \
        4 * (hierarchy.num_levels - 1)
    tag_width = max(len(name) for name in hierarchy.level_names) + 2
    never = [name for name, count in zip(hierarchy.classes[0], counts[0]) if count == 0]
    lines = []

    def add(level: int, node: int, prefix: str, last: bool, top: bool):
        branch = '' if top else ('└── ' if last else '├── ')
        label = prefix + branch + hierarchy.classes[level][node]
        count = int(counts[level][node])
        flag = '   <- never occurs' if level == 0 and count == 0 else ''
        tag = f'[{hierarchy.level_names[level]}]'
        lines.append(f'{label:<{width}}  {tag:<{tag_width}}  '
                     f'{100 * count / total:6.2f}%  {count:>12,d} px{flag}')
        below = children.get((level, node), [])
        child_prefix = prefix + ('' if top else ('    ' if last else '│   '))
        for i, child in enumerate(below):
            add(level - 1, child, child_prefix, i == len(below) - 1, False)

    top = hierarchy.num_levels - 1
    for node in range(hierarchy.level_sizes[top]):
        add(top, node, '', True, True)
    return '\n'.join(lines), never


def summarize(hierarchy: ClassHierarchy, leaf_counts: np.ndarray, ignored: int,
              num_files: int, what: str = 'the training split') -> str:
    """The report ``tools/hierarchy_stats.py`` prints."""
    tree, never = format_tree(hierarchy, leaf_counts)
    sizes = ' -> '.join(str(s) for s in hierarchy.level_sizes)
    lines = [f'hierarchy {hierarchy.name!r} ({sizes}; levels finest first: '
             f'{", ".join(hierarchy.level_names)})',
             f'{what}: {num_files} label files, {int(np.sum(leaf_counts)):,d} labelled pixels, '
             f'{ignored:,d} ignored', '', tree, '']
    if never:
        lines.append(f'WARNING: {len(never)} of {hierarchy.num_leaves} leaves never occur in '
                     f'{what}: {never}')
    else:
        lines.append(f'every one of the {hierarchy.num_leaves} leaves occurs in {what}')
    return '\n'.join(lines)


def count_files(paths: Sequence[str], num_classes: int, nproc: int = 1,
                **kwargs) -> Tuple[np.ndarray, int]:
    """Leaf counts and ignored pixels summed over ``paths`` (a progress bar on a
    terminal)."""
    from functools import partial

    from .progress import track
    results = track(partial(count_labels, num_classes=num_classes, **kwargs), paths, nproc)
    leaf = np.zeros(num_classes, dtype=np.int64)
    ignored = 0
    for counts, skipped in results:
        leaf += counts
        ignored += skipped
    return leaf, ignored


def find_hierarchy(cfg, dataset):
    """The data set's hierarchy, else the first head's that has one."""
    spec = dataset.metainfo.get('hierarchy')
    if spec is not None:
        return spec
    for _, head in segmentor_heads(cfg.get('model') or {}):
        if head.get('hierarchy') is not None:
            return head['hierarchy']
    raise SystemExit(f'{cfg.filename}: neither the data set nor a head names a class hierarchy')


def count_split(cfg, split: str = 'train', nproc: int = 1,
                config_name: Optional[str] = None) -> SplitCounts:
    """Counts the leaf pixels of a config's ``split`` (train, val, test): its data set is
    built without a pipeline (through RepeatDataset / ClassBalancedDataset wrappers) and
    every label file read once, as mmseg loads it.

    Raises:
        SystemExit: the config has no such data loader, no hierarchy, or a sample without
            a label file.
    """
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS

    import hieraseg  # noqa: F401  (registers the data sets)
    from hieraseg.hierarchy import build_hierarchy
    config_name = config_name or cfg.filename
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    loader = DATALOADERS[split]
    if loader not in cfg:
        raise SystemExit(f'{config_name} has no {loader}')
    dataset_cfg = cfg[loader].dataset.copy()
    while dataset_cfg.get('type') in ('RepeatDataset', 'ClassBalancedDataset'):
        dataset_cfg = dataset_cfg.dataset.copy()  # the wrapped data set's files
    dataset_cfg.pipeline = []
    if 'check_labels' in dataset_cfg:
        dataset_cfg.check_labels = False  # every label file is read here anyway
    dataset = DATASETS.build(dataset_cfg)
    hierarchy = build_hierarchy(find_hierarchy(cfg, dataset))
    hierarchy.check_classes(dataset.metainfo['classes'], f'{loader}.dataset')
    paths = [dataset.get_data_info(i).get('seg_map_path') for i in range(len(dataset))]
    missing = [i for i, p in enumerate(paths) if not p]
    if missing:
        raise SystemExit(f'{loader}.dataset: sample {missing[0]} has no label file '
                         f'(data_prefix.seg_map_path unset?)')
    print(f'counting pixels in {len(paths)} label files of {loader}.dataset')
    leaf_counts, ignored = count_files(
        paths, hierarchy.num_leaves, nproc, ignore_index=dataset.ignore_index,
        reduce_zero_label=dataset.reduce_zero_label, label_map=dataset.label_map)
    return SplitCounts(hierarchy, leaf_counts, ignored, len(paths))
