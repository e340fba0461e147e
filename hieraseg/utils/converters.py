"""Helpers shared by ``tools/dataset_converters/*.py``: input checks before anything is
written, files written under a partial name and renamed when complete, a progress bar."""
import io
import os
import os.path as osp
from typing import Callable, Iterable, List, Optional, Sequence

import numpy as np
from PIL import Image

from .atomic_files import write_atomically


def first_missing(paths: Iterable[str]) -> Optional[str]:
    """The first path of ``paths`` that does not exist, or None."""
    for path in paths:
        if not osp.exists(path):
            return path
    return None


def require(paths: Iterable[str], what: str):
    """Raises FileNotFoundError naming the first missing path of ``paths``."""
    missing = first_missing(paths)
    if missing is not None:
        raise FileNotFoundError(f'{what}: {missing} does not exist')


def check_relative_name(name: str, where: str) -> str:
    """``name`` if it is a relative path that stays inside the folder it is joined to
    (no absolute path, no ``..`` part); else ValueError naming ``where``. Names read from
    data files become output paths, which must not escape the output folder."""
    parts = name.replace('\\', '/').split('/')
    if not name or osp.isabs(name) or '..' in parts or '\0' in name:
        raise ValueError(f'{where}: {name!r} is not a relative name inside the data set '
                         '(absolute paths and ".." are not allowed)')
    return name


def read_id_list(path: str) -> List[str]:
    """Non-empty, stripped lines of a split file (first column, as VOC's lists hold), each
    checked by :func:`check_relative_name` (the error names the file and line)."""
    ids = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if line.strip():
                ids.append(check_relative_name(line.split()[0], f'{path}, line {number}'))
    return ids


def write_lines(lines: Sequence[str], path: str):
    """Writes ``lines`` (one per line) to ``path`` through a partial file."""
    write_atomically(''.join(f'{line}\n' for line in lines).encode(), path)


def save_label_png(labels: np.ndarray, path: str, palette: Optional[Sequence] = None):
    """Saves ``[H, W]`` uint8 labels as a PNG (a palette PNG if ``palette``) through a
    partial file renamed into place."""
    if labels.dtype != np.uint8:
        if labels.size and (labels.min() < 0 or labels.max() > 255):
            raise ValueError(f'{path}: labels {labels.min()}..{labels.max()} do not fit uint8')
        labels = labels.astype(np.uint8)
    image = Image.fromarray(labels, mode='L')
    if palette is not None:
        image = image.convert('P')
        image.putpalette([int(c) for rgb in palette for c in rgb])
        image.putdata(labels.reshape(-1).tolist())
    buffer = io.BytesIO()
    image.save(buffer, format='PNG')
    write_atomically(buffer.getvalue(), path)


def copy_file(src: str, dst: str):
    """Copies ``src`` to ``dst`` (through a partial file) unless ``dst`` already holds a
    file of the same size that is not older; the source is only read."""
    if osp.isfile(dst) and osp.getsize(dst) == osp.getsize(src) and \
            osp.getmtime(dst) >= osp.getmtime(src):
        return
    with open(src, 'rb') as f:
        write_atomically(f.read(), dst)


def is_up_to_date(output: str, *inputs: str) -> bool:
    """Whether ``output`` exists and is not older than any of ``inputs``."""
    if not osp.isfile(output):
        return False
    made = osp.getmtime(output)
    return all(osp.getmtime(path) <= made for path in inputs)


def run(func: Callable, tasks: Sequence, nproc: int = 1) -> list:
    """``[func(task) for task in tasks]`` in ``nproc`` processes if more than one, with
    mmengine's progress bar on a terminal."""
    from .progress import track
    return track(func, tasks, nproc)


def makedirs(path: str):
    os.makedirs(path, exist_ok=True)
