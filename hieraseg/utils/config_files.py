"""Reading a config file as the hieraseg tools do.

- A ``_base_`` file that does not exist is an error naming the config, the missing file
  and the way out (``tools/new_config.py``), not mmengine's bare FileNotFoundError: a
  template copied out of ``configs/`` loses its bases, which are read relative to the
  config's own folder.
- A class hierarchy given as a relative file path (any ``hierarchy=...`` in the config: the
  head's, the data set's metainfo, the metric's) is looked up in the config's folder first,
  then in the current folder, and replaced by the absolute path of the file found. A path
  found in both places that names two different files is an error (it would depend on
  where training is started).
"""
import filecmp
import os.path as osp
from typing import List, Tuple

from mmengine.config import Config

from hieraseg.hierarchy import HierarchyError
from hieraseg.hierarchy.files import is_hierarchy_file

from .config_index import use_cached_model_index

NEW_CONFIG_HINT = ('python tools/new_config.py --method {flat,hssn,dnc,hiera-dnc} --data-root '
                   'DIR --hierarchy FILE --out my_config.py')


def read_config(path: str) -> Config:
    """``Config.fromfile(path)`` with the checks of the module docstring.

    Raises:
        FileNotFoundError: the config or one of its ``_base_`` files (named) is missing;
            a hierarchy file is in neither folder (both named).
        HierarchyError: a relative hierarchy path names a file in both folders.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file {path!r} does not exist (from the current folder '
                                f'{osp.abspath(".")})')
    use_cached_model_index()
    try:
        cfg = Config.fromfile(path)
    except FileNotFoundError as error:
        missing = getattr(error, 'filename', None)
        if not missing or osp.abspath(missing) == osp.abspath(path):
            raise
        raise FileNotFoundError(
            f'{path}: the _base_ file {osp.normpath(missing)} does not exist. _base_ paths '
            f"are read relative to the config's own folder ({osp.dirname(osp.abspath(path))})"
            ', so a template copied out of configs/ loses its bases. Write a self-contained '
            f'config for your data instead: {NEW_CONFIG_HINT} (docs/own_data.md), or keep the '
            'copy in the folder of the template it came from.') from None
    resolve_hierarchy_paths(cfg, osp.dirname(osp.abspath(path)))
    return cfg


def _resolve(spec: str, config_dir: str, where: str) -> str:
    """The absolute path of one hierarchy file named by ``spec`` (module docstring)."""
    if osp.isabs(spec):
        return spec
    beside, here = osp.join(config_dir, spec), osp.abspath(spec)
    found = [p for p in (beside, here) if osp.isfile(p)]
    if not found:
        raise FileNotFoundError(
            f'{where}: hierarchy file {spec!r} not found: a relative path is looked up in the '
            f"config's folder ({beside}), then in the current folder ({here})")
    if len(found) == 2 and not osp.samefile(*found) and not filecmp.cmp(*found, shallow=False):
        raise HierarchyError(
            f'{where}: hierarchy file {spec!r} names two different files, {beside} (beside '
            f'the config) and {here} (in the current folder); the one beside the config '
            f'would be read. Give an absolute path, or remove one of them.')
    return osp.normpath(found[0])


def resolve_hierarchy_paths(cfg, config_dir: str) -> List[Tuple[str, object, object]]:
    """Replaces every relative hierarchy file path in ``cfg`` (in place) by the absolute
    path of the file it names (module docstring). Returns ``(key, old, new)`` for each
    replaced value."""
    changed = []

    def visit(node, where: str):
        items = node.items() if isinstance(node, dict) else \
            enumerate(node) if isinstance(node, list) else ()
        for key, value in list(items):
            here = f'{where}.{key}' if isinstance(node, dict) else f'{where}[{key}]'
            here = here.lstrip('.')
            if key == 'hierarchy' and is_hierarchy_file(value):
                new = _resolve(value, config_dir, here) if isinstance(value, str) else \
                    [_resolve(v, config_dir, here) for v in value]
                if new != value:
                    node[key] = new
                    changed.append((here, value, new))
            else:
                visit(value, here)

    visit(cfg._cfg_dict if isinstance(cfg, Config) else cfg, '')
    return changed
