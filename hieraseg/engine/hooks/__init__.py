from .sinkhorn_clustering_hook import SinkhornClusteringHook

__all__ = ['SinkhornClusteringHook']
