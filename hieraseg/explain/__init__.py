"""Explanations of DNC models a person can look at.

- :mod:`.exemplars`: the nearest real training sample of every sub-centroid, the exemplar
  file, and the "real observation" checkpoint (sub-centroids replaced by those samples).
- :mod:`.explain`: one prediction explained (the IF-THEN rule; the per-pixel winning
  sub-centroid map for segmentation).
- :mod:`.drawing`: the pictures.

Not imported by ``import hieraseg`` (it registers nothing); the tools import it.
"""
from .dnc_model import (CLASSIFICATION, SEGMENTATION, DNCModel, NotADNCModelError,
                        load_dnc_model, read_image)
from .exemplars import (ExemplarMismatchError, NearestSampleSearch, default_exemplar_path,
                        find_exemplars, load_exemplars, real_observation_centroids,
                        save_exemplars, write_real_observation_checkpoint)
from .explain import (ClassificationExplanation, SegmentationExplanation,
                      explain_classification, explain_segmentation)

__all__ = [
    'CLASSIFICATION', 'SEGMENTATION', 'DNCModel', 'NotADNCModelError', 'load_dnc_model',
    'read_image', 'ExemplarMismatchError', 'NearestSampleSearch', 'default_exemplar_path',
    'find_exemplars', 'load_exemplars', 'real_observation_centroids', 'save_exemplars',
    'write_real_observation_checkpoint', 'ClassificationExplanation',
    'SegmentationExplanation', 'explain_classification', 'explain_segmentation'
]
