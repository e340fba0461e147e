"""Explanations of DNC models a person can look at.

- :mod:`.dnc_model`: a trained DNC model as the tools see it (classifier, data, features);
  :mod:`.model_loading`: built from a config and loaded from a checkpoint.
- :mod:`.exemplar_search`: the nearest real training sample of every sub-centroid.
- :mod:`.exemplar_file`: those exemplars as a JSON file, checked against the model on reading.
- :mod:`.real_observation`: the "real observation" checkpoint (sub-centroids replaced by the
  exemplars' features).
- :mod:`.explain`, :mod:`.hiera_explain`: one prediction explained (the IF-THEN rule; the
  per-pixel winning sub-centroid map for segmentation; one per level for a hierarchy).
- :mod:`.inputs`: images and the test pipeline; :mod:`.drawing`: the pictures.

Not imported by ``import hieraseg`` (it registers nothing); the tools import it.
"""
from .dnc_model import CLASSIFICATION, SEGMENTATION, DNCModel, NotADNCModelError
from .exemplar_file import (ExemplarMismatchError, default_exemplar_path, load_exemplars,
                            save_exemplars)
from .exemplar_search import NearestSampleSearch, find_exemplars
from .explain import (ClassificationExplanation, SegmentationExplanation,
                      explain_classification, explain_segmentation)
from .inputs import read_image
from .model_loading import load_dnc_model
from .real_observation import real_observation_centroids, write_real_observation_checkpoint

__all__ = [
    'CLASSIFICATION', 'SEGMENTATION', 'DNCModel', 'NotADNCModelError', 'load_dnc_model',
    'read_image', 'ExemplarMismatchError', 'NearestSampleSearch', 'default_exemplar_path',
    'find_exemplars', 'load_exemplars', 'real_observation_centroids', 'save_exemplars',
    'write_real_observation_checkpoint', 'ClassificationExplanation',
    'SegmentationExplanation', 'explain_classification', 'explain_segmentation'
]
