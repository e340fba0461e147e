from .feature_memory import FeatureMemory, class_ranks, subsample_per_class
from .label_check import check_label_range
from .path_scores import PATH_SCORE_MODES, check_path_score_mode, leaf_path_scores
from .sinkhorn import batched_sinkhorn
from .sub_centroid_classifier import SubCentroidClassifier
from .hiera_sub_centroid_classifier import HieraSubCentroidClassifier
from .sub_centroid_clustering import (ClusteringResult, assign_from_similarities,
                                      assign_sub_centroids, cluster_memory,
                                      cluster_sub_centroids, momentum_update_centroids)
from .sub_centroid_seeding import (farthest_point_seeds, init_sub_centroids,
                                   reseed_sub_centroids)
from .clustering_policy import (ClusteringStep, LevelStep, NonFiniteCentroidsError,
                                SubCentroidClusteringPolicy, leaf_view)
from .superpixel_inputs import stack_superpixels

__all__ = [
    'batched_sinkhorn', 'SubCentroidClassifier', 'HieraSubCentroidClassifier', 'FeatureMemory',
    'class_ranks', 'subsample_per_class', 'ClusteringResult', 'assign_sub_centroids',
    'assign_from_similarities', 'cluster_sub_centroids',
    'cluster_memory', 'momentum_update_centroids', 'farthest_point_seeds',
    'init_sub_centroids', 'reseed_sub_centroids', 'SubCentroidClusteringPolicy',
    'ClusteringStep', 'LevelStep', 'NonFiniteCentroidsError', 'leaf_view',
    'check_label_range', 'PATH_SCORE_MODES', 'check_path_score_mode', 'leaf_path_scores',
    'stack_superpixels'
]
