"""A self-contained config for a user's own data, written from the templates in
``configs/custom/`` (``tools/new_config.py``).

The templates share one data part, ``configs/custom/custom_data.py``, whose EDIT values
(data root, file layout, hierarchy, iterations, sizes) everything else is derived from:
the data loaders, the schedule (which ends at ``max_iters``; the warm-up is 10 % of it),
validation and checkpoint intervals, the heads. :func:`write_own_data_config` puts the
user's values in place of those EDIT values (in a private copy of the templates, so that
every derived value follows them), reads the method's template and writes the result fully
merged: one file without ``_base_``, with absolute data and hierarchy paths, that works
from any folder and wherever it is moved.

Everything is checked before anything is written: the data folders hold images with label
files beside them, the hierarchy file is valid, the sizes are positive.
"""
import ast
import os
import os.path as osp
import shutil
import tempfile
from collections import Counter
from typing import Dict, Optional, Sequence, Tuple, Union

from mmengine.config import Config

from hieraseg.hierarchy import build_hierarchy

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TEMPLATE_DIR = osp.join(REPO, 'configs', 'custom')
DATA_TEMPLATE = 'custom_data.py'
METHODS = ('flat', 'hssn', 'dnc', 'hiera-dnc')
MODELS = {'fcn': 'fcn_r18-w16', 'deeplabv3plus': 'deeplabv3plus_r101-d8'}
IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
# the EDIT values of custom_data.py that the tool may set
EDIT_NAMES = ('data_root', 'img_suffix', 'seg_map_suffix', 'train_prefix', 'val_prefix',
              'hierarchy', 'num_classes', 'max_iters', 'img_scale', 'crop_size', 'batch_size',
              'num_workers')


def template_path(method: str, model: str = 'fcn') -> str:
    """The template of ``method`` (flat, hssn, dnc, hiera-dnc) with ``model`` (fcn,
    deeplabv3plus)."""
    if method not in METHODS:
        raise ValueError(f'unknown method {method!r}; choose one of {list(METHODS)}')
    if model not in MODELS:
        raise ValueError(f'unknown model {model!r}; choose one of {list(MODELS)}')
    prefix = '' if method == 'flat' else f'{method}-'
    return osp.join(TEMPLATE_DIR, f'{prefix}{MODELS[model]}_custom.py')


def fill_template(text: str, values: Dict[str, object]) -> str:
    """``text`` (a config's source) with the right-hand side of each top-level assignment
    ``name = ...`` named in ``values`` replaced by ``repr(values[name])``; the rest of the
    text, and so every value derived from these, is kept.

    Raises:
        KeyError: a name of ``values`` is not assigned at the top level of ``text``.
    """
    spans = {}
    for node in ast.parse(text).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                isinstance(node.targets[0], ast.Name) and node.targets[0].id in values:
            spans[node.targets[0].id] = node.value
    missing = sorted(set(values) - set(spans))
    if missing:
        raise KeyError(f'the template assigns no {missing}')
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line.encode('utf-8')))
    data = text.encode('utf-8')
    # replace from the end so that earlier offsets stay valid (ast offsets are in bytes)
    for name, node in sorted(spans.items(), key=lambda item: -item[1].lineno):
        start = offsets[node.lineno - 1] + node.col_offset
        end = offsets[node.end_lineno - 1] + node.end_col_offset
        data = data[:start] + repr(values[name]).encode('utf-8') + data[end:]
    return data.decode('utf-8')


def _files(folder: str):
    for parent, _, names in os.walk(folder, followlinks=True):
        for name in sorted(names):
            yield osp.join(parent, name)


def image_suffix(folder: str) -> str:
    """The most common image ending (``.jpg``, ``.png``, ...) of the files under ``folder``.

    Raises:
        FileNotFoundError: no image file there.
    """
    counts = Counter(osp.splitext(path)[1] for path in _files(folder)
                     if osp.splitext(path)[1].lower() in IMAGE_SUFFIXES)
    if not counts:
        raise FileNotFoundError(f'image folder {folder} holds no file ending in '
                                f'{", ".join(IMAGE_SUFFIXES)} (give --img-suffix)')
    return counts.most_common(1)[0][0]


def check_folders(data_root: str, images: str, labels: str, split: str) -> None:
    """Raises FileNotFoundError naming a missing image / label folder of ``split`` and what
    ``data_root`` holds instead."""
    for what, folder in (('images', images), ('labels', labels)):
        path = osp.join(data_root, folder)
        if not osp.isdir(path):
            raise FileNotFoundError(
                f'the {split} {what} folder {path} does not exist ({data_root} holds '
                f'{sorted(os.listdir(data_root))}; give --{split}-{what} relative to it)')


def check_split(data_root: str, images: str, labels: str, img_suffix: str,
                seg_map_suffix: str, split: str) -> Tuple[str, int]:
    """Checks that ``<data_root>/<images>`` holds images ending in ``img_suffix`` and that
    the first one's label file exists; returns (its path, the number of images)."""
    check_folders(data_root, images, labels, split)
    img_dir, seg_dir = osp.join(data_root, images), osp.join(data_root, labels)
    found = [p for p in _files(img_dir) if p.endswith(img_suffix)]
    if not found:
        raise FileNotFoundError(f'{img_dir} holds no image ending in {img_suffix!r}')
    stem = osp.relpath(found[0], img_dir)[:-len(img_suffix)]
    label = osp.join(seg_dir, stem + seg_map_suffix)
    if not osp.isfile(label):
        raise FileNotFoundError(f'no label file for {found[0]}: expected {label} (labels '
                                f'have the image\'s relative name, ending in {seg_map_suffix!r})')
    return found[0], len(found)


def own_data_values(data_root: str, hierarchy: Union[str, Sequence[str]],
                    max_iters: Optional[int] = None,
                    crop: Optional[Sequence[int]] = None,
                    scale: Optional[Sequence[int]] = None,
                    batch_size: Optional[int] = None,
                    workers: Optional[int] = None,
                    train_images: str = 'images/train', train_labels: str = 'labels/train',
                    val_images: str = 'images/val', val_labels: str = 'labels/val',
                    img_suffix: Optional[str] = None,
                    seg_map_suffix: str = '.png') -> Dict[str, object]:
    """The EDIT values for custom_data.py, checked (module docstring). ``scale`` defaults to
    the first training image's (width, height), ``crop`` to that size capped at 512 per
    side (height, width)."""
    from PIL import Image
    for name, value in (('max_iters', max_iters), ('batch_size', batch_size)):
        if value is not None and value < 1:
            raise ValueError(f'{name} must be >= 1, got {value}')
    if workers is not None and workers < 0:
        raise ValueError(f'workers must be >= 0, got {workers}')
    for name, value in (('crop', crop), ('scale', scale)):
        if value is not None and (len(value) != 2 or min(value) < 1):
            raise ValueError(f'{name} takes two sizes >= 1, got {list(value)}')
    data_root = osp.abspath(data_root)
    if not osp.isdir(data_root):
        raise FileNotFoundError(f'data root {data_root} does not exist')
    paths = [hierarchy] if isinstance(hierarchy, str) else list(hierarchy)
    paths = [osp.abspath(p) for p in paths]
    # a bad hierarchy fails here, naming the file and line
    tree = build_hierarchy(paths[0] if len(paths) == 1 else paths)
    check_folders(data_root, train_images, train_labels, 'train')
    check_folders(data_root, val_images, val_labels, 'val')
    img_suffix = img_suffix or image_suffix(osp.join(data_root, train_images))
    first, _ = check_split(data_root, train_images, train_labels, img_suffix, seg_map_suffix,
                           'train')
    check_split(data_root, val_images, val_labels, img_suffix, seg_map_suffix, 'val')
    if scale is None:
        with Image.open(first) as image:
            scale = image.size  # (width, height)
    if crop is None:
        crop = (min(scale[1], 512), min(scale[0], 512))
    values = dict(
        data_root=data_root, img_suffix=img_suffix, seg_map_suffix=seg_map_suffix,
        train_prefix=dict(img_path=train_images, seg_map_path=train_labels),
        val_prefix=dict(img_path=val_images, seg_map_path=val_labels),
        hierarchy=paths[0] if len(paths) == 1 else paths, num_classes=tree.num_leaves,
        img_scale=tuple(int(s) for s in scale), crop_size=tuple(int(c) for c in crop))
    for name, value in (('max_iters', max_iters), ('batch_size', batch_size),
                        ('num_workers', workers)):
        if value is not None:
            values[name] = int(value)
    return values


def build_own_data_config(method: str, model: str, values: Dict[str, object]) -> Config:
    """The method's template read with ``values`` in custom_data.py (module docstring)."""
    template = template_path(method, model)
    with open(osp.join(TEMPLATE_DIR, DATA_TEMPLATE), encoding='utf-8') as f:
        data_text = fill_template(f.read(), values)
    with tempfile.TemporaryDirectory(prefix='hieraseg_new_config_') as tmp:
        # the templates' relative _base_ paths, with the filled-in data part
        shutil.copytree(TEMPLATE_DIR, osp.join(tmp, 'custom'))
        shutil.copytree(osp.join(REPO, 'configs', '_base_'), osp.join(tmp, '_base_'))
        with open(osp.join(tmp, 'custom', DATA_TEMPLATE), 'w', encoding='utf-8') as f:
            f.write(data_text)
        return Config.fromfile(osp.join(tmp, 'custom', osp.basename(template)))


CLASS_WEIGHTS = ('none', 'balanced')


def add_balanced_class_weight(cfg: Config) -> list:
    """Sets balanced per-leaf class weights, from the training split's pixel counts, on the
    hierarchical losses of ``cfg`` (in place) and returns them
    (:mod:`hieraseg.utils.class_weights`).

    Raises:
        ValueError: the method has no hierarchical loss (flat, dnc).
    """
    from .class_weights import balanced_class_weights, set_class_weight
    from .hierarchy_stats import count_split
    counts = count_split(cfg, 'train')
    weights = balanced_class_weights(counts.leaf_counts)
    set_class_weight(cfg.model, weights)
    return weights


def write_own_data_config(out: str, method: str, model: str, values: Dict[str, object],
                          command: str = '', force: bool = False,
                          class_weight: str = 'none') -> Config:
    """Writes the merged config to ``out`` (whole or not at all) and returns it.

    ``class_weight='balanced'`` (methods hssn and hiera-dnc) counts the training pixels and
    gives the hierarchical losses square-root median-frequency leaf weights
    (:func:`add_balanced_class_weight`).

    Raises:
        FileExistsError: ``out`` exists and ``force`` is not set.
        ValueError: ``class_weight`` is not one of CLASS_WEIGHTS, or ``'balanced'`` for a
            method without hierarchical losses.
    """
    if class_weight not in CLASS_WEIGHTS:
        raise ValueError(f'class_weight must be one of {CLASS_WEIGHTS}, got {class_weight!r}')
    if class_weight == 'balanced' and method not in ('hssn', 'hiera-dnc'):
        raise ValueError(f'--class-weight balanced: method {method} has no hierarchical loss '
                         f'to weigh; it is for hssn and hiera-dnc')
    if osp.exists(out) and not force:
        raise FileExistsError(f'{out} exists; choose another --out or give --force')
    cfg = build_own_data_config(method, model, values)
    weights = add_balanced_class_weight(cfg) if class_weight == 'balanced' else None
    tree = build_hierarchy(values['hierarchy'])
    template = osp.relpath(template_path(method, model), REPO)
    header = [
        f'# {method} ({model}) on your data, written by tools/new_config.py from {template}',
        f'# (and configs/custom/{DATA_TEMPLATE}); fully merged: no _base_, absolute paths, so it',
        '# works from any folder and wherever it is moved.',
        f'#   data: {values["data_root"]}',
        f'#   hierarchy: {values["hierarchy"]} ({tree.num_levels} levels, '
        f'{" -> ".join(map(str, tree.level_sizes))}: {", ".join(tree.level_names)})',
        f'#   {cfg.train_cfg.max_iters} iterations, checkpoints every '
        f'{cfg.default_hooks.checkpoint.interval}, crop {tuple(cfg.crop_size)}, '
        f'batch {cfg.train_dataloader.batch_size}',
        '# To change the data, hierarchy, method or schedule, run the command again with other',
        '# options (a changed hierarchy changes num_classes); for one run, tools/train.py',
        '# --max-iters N rescales the whole schedule.',
    ]
    if weights is not None:
        header.insert(6, f'#   class weights of the losses (balanced: square root of the median '
                      f'frequency of the training pixels): {weights}')
    if command:
        header.insert(3, f'#   {command}')
    text = '\n'.join(header) + '\n' + cfg.pretty_text
    folder = osp.dirname(osp.abspath(out))
    os.makedirs(folder, exist_ok=True)
    fd, partial = tempfile.mkstemp(prefix='.new_config_', suffix='.py', dir=folder)
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            f.write(text)
        Config.fromfile(partial)  # what was written reads back
        os.replace(partial, out)
    except BaseException:
        if osp.exists(partial):
            os.remove(partial)
        raise
    return cfg
