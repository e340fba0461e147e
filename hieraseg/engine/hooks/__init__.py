from .label_range_hook import LabelRangeCheckHook
from .resumable_checkpoint_hook import ResumableCheckpointHook
from .seg_visualization_hook import HieraSegVisualizationHook
from .sinkhorn_clustering_hook import SinkhornClusteringHook

__all__ = [
    'HieraSegVisualizationHook', 'LabelRangeCheckHook', 'ResumableCheckpointHook',
    'SinkhornClusteringHook'
]
