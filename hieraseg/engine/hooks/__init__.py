from .label_range_hook import LabelRangeCheckHook
from .resumable_checkpoint_hook import ResumableCheckpointHook
from .sinkhorn_clustering_hook import SinkhornClusteringHook

__all__ = ['LabelRangeCheckHook', 'ResumableCheckpointHook', 'SinkhornClusteringHook']
