"""The paper's "real observation" variant: a copy of a DNC checkpoint whose sub-centroids
are the features of their exemplars (the nearest real training samples)."""
import os.path as osp
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from hieraseg.utils.atomic_files import write_file_atomically
from hieraseg.utils.checkpoint import load_checkpoint_file
from .dnc_model import DNCModel, centroids_sha256
from .exemplar_search import NearestSampleSearch
from .model_loading import find_state_dict, strip_wrapper_prefix

__all__ = ['real_observation_centroids', 'write_real_observation_checkpoint']


def real_observation_centroids(dnc: DNCModel, search: NearestSampleSearch) -> Tensor:
    """``[C, K, D]``: each sub-centroid replaced by its exemplar's unit feature; a
    sub-centroid without an exemplar (class absent from training) keeps its value."""
    found = search.found[..., None]
    replaced = torch.where(found, F.normalize(search.features, dim=-1),
                           dnc.classifier.centroids.float())
    return replaced.to(dnc.classifier.centroids.dtype)


def write_real_observation_checkpoint(dnc: DNCModel, centroids: Tensor, out: str,
                                      exemplar_file: Optional[str] = None) -> dict:
    """A copy of the whole checkpoint whose sub-centroids are ``centroids`` ``[C, K, D]``,
    written atomically. Returns the ``real_observation`` entry of the exemplar file."""
    if osp.abspath(out) == osp.abspath(dnc.checkpoint_path):
        raise ValueError(f'--real-observation-checkpoint {out} would overwrite the source '
                         'checkpoint')
    checkpoint = load_checkpoint_file(dnc.checkpoint_path, map_location='cpu')
    state = find_state_dict(checkpoint)
    key = next(k for k in state if strip_wrapper_prefix(k) == dnc.centroids_key)
    if tuple(state[key].shape) != tuple(centroids.shape):
        raise ValueError(f'centroids {tuple(centroids.shape)} do not fit {key} '
                         f'{tuple(state[key].shape)}')
    state[key] = centroids.detach().to('cpu', state[key].dtype).clone()
    if isinstance(checkpoint.get('meta'), dict):
        checkpoint['meta']['dnc_real_observation'] = dict(
            source_checkpoint=dnc.checkpoint_path, exemplars=exemplar_file)
    write_file_atomically(out, lambda partial: torch.save(checkpoint, partial))
    return dict(checkpoint=out, centroids_sha256=centroids_sha256(centroids))
