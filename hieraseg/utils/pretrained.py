"""Pre-trained weights a config initialises from, found before the model is built.

A config names its weights as mmengine's checkpoint loader reads them: ``model.pretrained``
(or a ``pretrained`` argument deeper in the model) and ``init_cfg=dict(type='Pretrained',
checkpoint=...)`` anywhere in the model, each a local path, an http(s) URL or a short name
(``open-mmlab://``, ``openmmlab://``, ``mmcls://``, ``torchvision://``, ``modelzoo://``),
resolved to a URL through mmengine's own tables. mmengine downloads a URL into the torch
hub cache, ``$TORCH_HOME/hub/checkpoints/<file name>`` (``torch.hub.get_dir()``), and reads
it from there afterwards.

:func:`check_pretrained_weights` looks for every file before anything is built: in a folder
of the user's (``--pretrained-dir`` / ``$HIERASEG_PRETRAINED_DIR``, filled by
``tools/fetch_pretrained.py`` where there is internet; a file found there replaces the URL in
the config), then in the torch hub cache; a file in neither is downloaded by mmengine if its
server answers within a few seconds. Otherwise (or at once with ``HIERASEG_OFFLINE=1``) one
error names, per missing file, the URL, the paths looked at and how to train without it.
"""
import os
import os.path as osp
import urllib.error
import urllib.request
from typing import Dict, Iterator, List, NamedTuple, Optional
from urllib.parse import urlparse

from mmengine.config import Config

PRETRAINED_DIR_ENV = 'HIERASEG_PRETRAINED_DIR'
OFFLINE_ENV = 'HIERASEG_OFFLINE'
PROBE_TIMEOUT_S = 5.0


class PretrainedWeights(NamedTuple):
    """One checkpoint a config initialises from.

    ``key``: the config key holding it (``model.backbone.init_cfg.checkpoint``);
    ``scratch``: the ``--cfg-options`` setting that trains without it; ``spec``: the value.
    """
    key: str
    scratch: str
    spec: str


class PretrainedWeightsError(FileNotFoundError):
    """Pre-trained weights that are neither on this machine nor downloadable."""


def pretrained_weights(cfg: Config) -> List[PretrainedWeights]:
    """Every checkpoint named under ``cfg.model``, in config order."""
    return list(_walk(cfg.get('model'), 'model'))


def _walk(node, where: str) -> Iterator[PretrainedWeights]:
    if isinstance(node, dict):
        if isinstance(node.get('pretrained'), str):
            yield PretrainedWeights(f'{where}.pretrained', f'{where}.pretrained=None',
                                    node['pretrained'])
        for key, value in node.items():
            if key == 'init_cfg':
                yield from _init_cfgs(value, f'{where}.init_cfg')
            elif isinstance(value, (dict, list, tuple)):
                yield from _walk(value, f'{where}.{key}')
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _walk(value, f'{where}.{i}')


def _init_cfgs(init_cfg, where: str) -> Iterator[PretrainedWeights]:
    entries = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    for i, entry in enumerate(entries):
        if isinstance(entry, dict) and entry.get('type') == 'Pretrained' and \
                isinstance(entry.get('checkpoint'), str):
            key = f'{where}.{i}' if isinstance(init_cfg, (list, tuple)) else where
            yield PretrainedWeights(f'{key}.checkpoint', f'{where}=None', entry['checkpoint'])


def resolve_url(spec: str) -> Optional[str]:
    """The http(s) URL mmengine downloads ``spec`` from; None for a local path.

    ``open-mmlab://NAME`` (and ``openmmlab://``) through mmengine's ``openmmlab.json``
    (plus ``$MMENGINE_HOME/open_mmlab.json``) after its table of renamed models,
    ``mmcls://NAME`` through ``mmcls.json``, ``torchvision://NAME`` through torchvision's
    model tables. An ``open-mmlab://`` name whose table entry is a path, not a URL, is a file
    under mmengine's home folder: that path is returned (not a URL).

    Raises:
        KeyError: a short name that is not in its table (with the closest names).
    """
    from mmengine.runner import checkpoint as loader
    if spec.startswith(('http://', 'https://')):
        return spec
    for prefix in ('open-mmlab://', 'openmmlab://'):
        if spec.startswith(prefix):
            name = spec[len(prefix):]
            name = loader.get_deprecated_model_names().get(name, name)
            value = _lookup(loader.get_external_models(), name, spec)
            if value.startswith(('http://', 'https://')):
                return value
            return osp.join(loader._get_mmengine_home(), value)
    if spec.startswith('mmcls://'):
        return _lookup(loader.get_mmcls_models(), spec[len('mmcls://'):], spec)
    for prefix in ('torchvision://', 'modelzoo://'):
        if spec.startswith(prefix):
            return _lookup(loader.get_torchvision_models(), spec[len(prefix):], spec)
    return None


def _lookup(table: Dict[str, str], name: str, spec: str) -> str:
    if name not in table:
        from .config_checks import _close
        raise KeyError(f'{spec!r}: mmengine knows no pre-trained model {name!r}'
                       f'{_close(name, table)}')
    return table[name]


def file_name(url: str) -> str:
    """The file name mmengine's downloader gives ``url`` (the last part of its path)."""
    return osp.basename(urlparse(url).path)


def hub_cache_path(url: str) -> str:
    """Where mmengine's loader keeps (and first looks for) the download of ``url``."""
    import torch
    return osp.join(torch.hub.get_dir(), 'checkpoints', file_name(url))


def _offline() -> bool:
    return os.environ.get(OFFLINE_ENV, '').strip().lower() not in ('', '0', 'false', 'no')


def probe(url: str, timeout: float = PROBE_TIMEOUT_S) -> Optional[str]:
    """None if ``url``'s server answers a HEAD request within ``timeout`` seconds (and the
    file is not missing there), else the reason it cannot be fetched."""
    if _offline():
        return f'not tried: {OFFLINE_ENV}={os.environ[OFFLINE_ENV]}'
    try:
        urllib.request.urlopen(urllib.request.Request(url, method='HEAD'), timeout=timeout)
    except urllib.error.HTTPError as error:
        if error.code in (404, 410):
            return f'the server answers {error.code} {error.reason}'
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, 'reason', error)
        return f'download failed within {timeout:g} s: {reason}'
    return None


def check_pretrained_weights(cfg: Config, pretrained_dir: Optional[str] = None) -> List[str]:
    """Finds every pre-trained checkpoint of ``cfg`` (see the module doc); returns log lines.

    A file found in ``pretrained_dir`` (default: ``$HIERASEG_PRETRAINED_DIR``) replaces the
    URL in ``cfg``, so the loader reads that file. A local path must exist.

    Raises:
        PretrainedWeightsError: naming every checkpoint that is missing and cannot be
            fetched, the paths looked at and the options that train without it.
        FileNotFoundError: ``pretrained_dir`` is not a folder.
    """
    pretrained_dir = pretrained_dir or os.environ.get(PRETRAINED_DIR_ENV) or None
    if pretrained_dir is not None and not osp.isdir(pretrained_dir):
        raise FileNotFoundError(f'--pretrained-dir / ${PRETRAINED_DIR_ENV}: '
                                f'{pretrained_dir!r} is not a folder')
    lines, missing, probed = [], [], {}
    for weights in pretrained_weights(cfg):
        url = resolve_url(weights.spec)
        if url is None or not url.startswith(('http://', 'https://')):
            path = osp.expanduser(url or weights.spec)
            if not osp.isfile(path):
                missing.append((weights, None, [path], 'the file does not exist'))
            continue
        looked = []
        if pretrained_dir is not None and not weights.spec.startswith('mmcls://'):
            # mmcls:// checkpoints are reduced to their backbone by their own loader, so only
            # the hub cache (which that loader reads) can stand in for them
            local = osp.join(pretrained_dir, file_name(url))
            if osp.isfile(local):
                _set_key(cfg, weights.key, local)
                lines.append(f'{weights.key}: {weights.spec} read from {local}')
                continue
            looked.append(f'{local} (--pretrained-dir)')
        cached = hub_cache_path(url)
        if osp.isfile(cached):
            continue
        looked.append(f'{cached} (the torch hub cache, $TORCH_HOME/hub/checkpoints)')
        if url not in probed:
            probed[url] = probe(url)
        if probed[url] is not None:
            missing.append((weights, url, looked, probed[url]))
    if missing:
        raise PretrainedWeightsError(_message(missing, pretrained_dir))
    return lines


def _set_key(cfg: Config, key: str, value: str):
    *parents, last = key.split('.')
    node = cfg
    for part in parents:
        node = node[int(part)] if isinstance(node, (list, tuple)) else node[part]
    node[last] = value


def _message(missing, pretrained_dir: Optional[str]) -> str:
    parts = ['pre-trained weights the config initialises from are not on this machine and '
             'cannot be downloaded:']
    for weights, url, looked, reason in missing:
        parts.append(f'  {weights.key} = {weights.spec!r}')
        if url is not None and url != weights.spec:
            parts.append(f'    URL: {url}')
        parts.append('    looked for: ' + '\n                 '.join(looked))
        parts.append(f'    {reason}')
    scratch = ' '.join(sorted({weights.scratch for weights, *_ in missing}))
    where = pretrained_dir or 'DIR'
    parts += [
        'Provide the files: on a machine with internet run `python tools/fetch_pretrained.py '
        f'CONFIG --out DIR`, copy DIR here and pass --pretrained-dir {where} (or set '
        f'${PRETRAINED_DIR_ENV}); or put each file at the torch hub cache path above. '
        f'Or train from scratch (random initial weights): --cfg-options {scratch}']
    return '\n'.join(parts)
