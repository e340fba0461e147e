"""The exemplar file: the exemplars of one DNC checkpoint as JSON, checked on reading.

Written next to the checkpoint (``<checkpoint>.exemplars.json``) by ``tools/dnc_exemplars.py``
and read by ``tools/dnc_explain.py``. It records which model it was made for (config,
checkpoint and centroid hashes, sizes); reading it for another model is an error. It is
JSON: reading it runs no code.
"""
import hashlib
import json
import os.path as osp
from typing import Dict, Optional, Tuple

from hieraseg.utils.atomic_files import write_file_atomically
from .dnc_model import CLASSIFICATION, DNCModel
from .exemplar_search import ExemplarSearchResult

__all__ = ['EXEMPLAR_FORMAT', 'ExemplarMismatchError', 'default_exemplar_path',
           'exemplar_lookup', 'load_exemplars', 'save_exemplars']

EXEMPLAR_FORMAT = 'hieraseg.dnc-exemplars/1'


class ExemplarMismatchError(ValueError):
    """An exemplar file made for another model."""


def default_exemplar_path(checkpoint: str) -> str:
    return checkpoint + '.exemplars.json'


def file_sha256(path: str, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            digest.update(block)
    return digest.hexdigest()


def model_identity(dnc: DNCModel) -> dict:
    """What identifies the model an exemplar file belongs to."""
    return dict(config=dnc.config_path, checkpoint=dnc.checkpoint_path,
                checkpoint_sha256=file_sha256(dnc.checkpoint_path),
                centroids_sha256=dnc.centroids_sha256(), classifier=dnc.classifier_name,
                task=dnc.task, num_classes=dnc.num_classes,
                num_sub_centroids=dnc.num_sub_centroids, feat_dim=dnc.feat_dim)


def save_exemplars(path: str, result: ExemplarSearchResult, dnc: DNCModel,
                   real_observation: Optional[dict] = None) -> dict:
    """Writes the exemplar file (JSON); returns its content."""
    content = dict(
        format=EXEMPLAR_FORMAT,
        model=model_identity(dnc),
        classes=result.classes,
        dataset=dict(split='train', type=result.dataset_type, num_samples=result.num_samples,
                     pipeline='test'),
        sample=('image' if dnc.task == CLASSIFICATION else
                'embedding-map position; pixel = its centre in the original image [y, x]'),
        real_observation=real_observation,
        missing=[list(m) for m in result.missing],
        exemplars=result.records)

    def write(tmp):
        with open(tmp, 'w') as f:
            json.dump(content, f, indent=1)

    write_file_atomically(path, write)
    return content


def load_exemplars(path: str, dnc: DNCModel) -> dict:
    """Reads an exemplar file and checks that it was made for ``dnc``.

    The file fits when its centroid hash is this model's, or the hash of the
    real-observation checkpoint made from it.

    Raises:
        FileNotFoundError: no such file.
        ValueError: not an exemplar file.
        ExemplarMismatchError: made for another model.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'exemplar file {path!r} does not exist: run tools/dnc_exemplars.py '
            f'{dnc.config_path} {dnc.checkpoint_path} first (or pass --exemplars)')
    try:
        with open(path) as f:
            content = json.load(f)
    except (OSError, ValueError) as error:
        raise ValueError(f'{path} is not an exemplar file: {error}') from None
    if not isinstance(content, dict) or content.get('format') != EXEMPLAR_FORMAT:
        raise ValueError(f'{path} is not an exemplar file (format {EXEMPLAR_FORMAT!r})')
    recorded = content.get('model') or {}
    own = dict(task=dnc.task, num_classes=dnc.num_classes,
               num_sub_centroids=dnc.num_sub_centroids, feat_dim=dnc.feat_dim,
               classifier=dnc.classifier_name)
    differences = [f'{k}: file {recorded.get(k)!r}, model {v!r}' for k, v in own.items()
                   if recorded.get(k) != v]
    digest = dnc.centroids_sha256()
    accepted = {recorded.get('centroids_sha256'),
                (content.get('real_observation') or {}).get('centroids_sha256')}
    if not differences and digest not in accepted:
        differences.append(f"centroids: file's hash {recorded.get('centroids_sha256')}, "
                           f'this checkpoint\'s {digest}')
    if differences:
        raise ExemplarMismatchError(
            f'exemplar file {path} is from another model (config '
            f"{recorded.get('config')}, checkpoint {recorded.get('checkpoint')}), not from "
            f'checkpoint {dnc.checkpoint_path}: ' + '; '.join(differences) +
            f'. Run tools/dnc_exemplars.py {dnc.config_path} {dnc.checkpoint_path}')
    return content


def exemplar_lookup(content: dict) -> Dict[Tuple[int, int], dict]:
    """``{(c, k): record}`` of an exemplar file's content."""
    return {(r['class'], r['sub_centroid']): r for r in content['exemplars']}
