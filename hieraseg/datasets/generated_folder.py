"""Writing a generated data set into a folder: idempotent, and whole or not at all.

Shared by the toy generators (:mod:`.toy_shapes`, :mod:`.toy_objects`).
"""
import json
import os
import os.path as osp
import shutil
import tempfile
from typing import Callable, Dict


def write_generated_dataset(root: str, manifest: Dict, manifest_name: str,
                            write: Callable[[str], None]) -> Dict:
    """Writes a generated data set under ``root`` and returns its manifest.

    If ``root`` already holds the data set described by ``manifest`` (its
    ``manifest_name`` file equals it), nothing is written. Otherwise ``write(folder)``
    fills a temporary folder next to ``root``, the manifest is added last and the folder
    is moved into place, so files appear only when complete; on any error the temporary
    folder is removed.

    Args:
        root (str): the data set's folder (absent or empty, or holding this data set).
        manifest (dict): JSON-serialisable description of the arguments that made it.
        manifest_name (str): file name of the manifest inside ``root``.
        write (callable): ``write(folder)`` writes every data file under ``folder``.

    Raises:
        FileExistsError: ``root`` exists and is not this data set (nothing is touched).
    """
    manifest_path = osp.join(root, manifest_name)
    if osp.exists(root):
        existing = None
        if osp.isfile(manifest_path):
            with open(manifest_path) as f:
                existing = json.load(f)
        if existing == manifest:
            return manifest
        if existing is not None or os.listdir(root):
            raise FileExistsError(
                f'{root} exists and is not a {manifest.get("name", "generated")} data set '
                f'made with {manifest} (found {existing}); remove it or choose another folder')
    parent = osp.dirname(osp.abspath(root))
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f'.{manifest.get("name", "generated")}_', dir=parent)
    try:
        write(staging)
        with open(osp.join(staging, manifest_name), 'w') as f:
            json.dump(manifest, f, indent=1)
        if osp.isdir(root):
            os.rmdir(root)  # empty, checked above
        os.replace(staging, root)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest
