from .resumable_checkpoint_hook import ResumableCheckpointHook
from .sinkhorn_clustering_hook import SinkhornClusteringHook

__all__ = ['ResumableCheckpointHook', 'SinkhornClusteringHook']
