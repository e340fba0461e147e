"""A one-off scan of a segmentation data set's label files for values outside its classes.

A label outside the classes otherwise surfaces mid-training as ``IndexError: Target 9 is
out of bounds`` (or a CUDA device-side assert), with no file named. The scan reads every
label file once (a progress bar on the main process, when it writes to a terminal), and
remembers the files that passed by size and modification time in
``$XDG_CACHE_HOME/hieraseg/label_checks`` (default ``~/.cache``), so later runs only read
new or changed files.
"""
import hashlib
import json
import os
import os.path as osp
from typing import Dict, Optional, Sequence

import numpy as np
from mmengine.dist import is_main_process
from PIL import Image

from hieraseg.utils.atomic_files import write_atomically
from hieraseg.utils.progress import finish, progress_bar

__all__ = ['scan_label_files', 'label_check_cache_dir']


def label_check_cache_dir() -> str:
    root = os.environ.get('XDG_CACHE_HOME') or osp.join(osp.expanduser('~'), '.cache')
    return osp.join(root, 'hieraseg', 'label_checks')


def _cache_path(paths: Sequence[str], settings: dict) -> str:
    key = json.dumps(dict(settings, folder=osp.dirname(osp.abspath(paths[0]))),
                     sort_keys=True)
    return osp.join(label_check_cache_dir(),
                    hashlib.sha1(key.encode()).hexdigest()[:16] + '.json')


def _stamp(path: str) -> list:
    stat = os.stat(path)
    return [stat.st_size, stat.st_mtime_ns]


def _read_cache(path: str) -> Dict[str, list]:
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def scan_label_files(paths: Sequence[str], num_classes: int, ignore_index: int = 255,
                     reduce_zero_label: bool = False, label_map: Optional[dict] = None,
                     where: str = 'dataset') -> int:
    """Checks that every label file holds only class ids and ``ignore_index``.

    Values are taken as mmseg's ``LoadAnnotations`` delivers them: ``label_map`` applied,
    then, with ``reduce_zero_label``, 0 becomes the ignore index and every other value
    ``v`` becomes ``v - 1``.

    Args:
        paths: the label files.
        num_classes (int): valid ids are ``0 .. num_classes - 1``.
        where (str): the data set, for the message.

    Returns:
        int: how many files were read (the others passed before, unchanged).

    Raises:
        ValueError: naming the first file (in order) that holds a value outside the classes,
            the value as stored in the file, and the classes.
    """
    if not paths:
        return 0
    settings = dict(num_classes=num_classes, ignore_index=ignore_index,
                    reduce_zero_label=bool(reduce_zero_label),
                    label_map=sorted((label_map or {}).items()))
    cache_file = _cache_path(paths, settings)
    passed = _read_cache(cache_file)
    todo = [p for p in paths if passed.get(osp.abspath(p)) != _stamp(p)]
    progress = progress_bar(len(todo)) if is_main_process() else None
    try:
        for path in todo:
            raw = np.unique(np.asarray(Image.open(path)))
            values = np.array([(label_map or {}).get(int(v), int(v)) for v in raw])
            if reduce_zero_label:
                values = np.where(values == 0, ignore_index, values - 1)
                values[values == ignore_index - 1] = ignore_index
            bad = (values < 0) | (values >= num_classes)
            bad &= values != ignore_index
            if bad.any():
                raise ValueError(
                    f'{where}: label file {path} holds the value {int(raw[bad][0])}, outside '
                    f'the {num_classes} classes (0..{num_classes - 1}) and not the ignore '
                    f'index {ignore_index}' +
                    (' (reduce_zero_label: file values 1..C are the classes)'
                     if reduce_zero_label else '') +
                    '. Fix the file, or the number of classes of the data set.')
            passed[osp.abspath(path)] = _stamp(path)
            if progress is not None:
                progress.update()
    finally:
        if todo:
            os.makedirs(osp.dirname(cache_file), exist_ok=True)
            write_atomically(json.dumps(passed).encode(), cache_file)
        finish(progress)
    return len(todo)
