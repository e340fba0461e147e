"""The part of :class:`SinkhornClusteringHook` that clusters the coarse levels of a
hierarchical DNC classifier (:class:`HieraSubCentroidClassifier`); see the hook's
docstring."""
from types import SimpleNamespace

import torch

from hieraseg.models.utils import HieraSubCentroidClassifier, SubCentroidClassifier
from hieraseg.models.utils.hiera_clustering import (cluster_level, init_level_sub_centroids,
                                                    level_members)

__all__ = ['HieraClusteringMixin']


def _leaves(clf: SubCentroidClassifier):
    """The classifier itself, or for a hierarchical one a view of its leaf nodes (the
    attributes :meth:`SinkhornClusteringHook.cluster` reads and writes, as views of the
    first C_0 rows of its buffers)."""
    if not isinstance(clf, HieraSubCentroidClassifier):
        return clf
    num = clf.num_leaves
    return SimpleNamespace(num_classes=num, num_sub_centroids=clf.num_sub_centroids,
                           centroids=clf.centroids[:num], initialized=clf.initialized[:num],
                           class_stale=clf.class_stale[:num],
                           centroid_stale=clf.centroid_stale[:num])


class HieraClusteringMixin:
    """Needs the hook's ``memories``, ``data_init``, ``momentum``, ``epsilon``,
    ``iterations`` and ``_log_once``."""

    @torch.no_grad()
    def cluster_coarse_levels(self, name: str, clf: HieraSubCentroidClassifier) -> list:
        """One clustering step of every coarse level of a hierarchical classifier, each
        over its nodes' descendant leaves in the memory (module docstring). Returns the
        :class:`ClusteringResult` of each level 1, 2, ..."""
        memory, hierarchy = self.memories[name], clf.hierarchy
        num_k, results = clf.num_sub_centroids, []
        for level in range(1, hierarchy.num_levels):
            part = hierarchy.level_slice(level)
            names = hierarchy.classes[level]
            tables = level_members(hierarchy.leaf_to_level[level].to(memory.count.device),
                                   hierarchy.level_sizes[level])
            centroids, initialized = clf.centroids[part].float(), clf.initialized[part]
            if self.data_init:
                count = torch.zeros_like(initialized, dtype=torch.long).index_add_(
                    0, tables.ancestor, memory.count)
                todo = ~initialized & (count >= num_k)
                if bool(todo.any()):
                    idx = todo.nonzero(as_tuple=True)[0]
                    centroids = centroids.clone()
                    centroids[idx] = init_level_sub_centroids(
                        memory, tables.members[idx], num_k, self.epsilon, self.iterations)
                    initialized[idx] = True  # a view: writes clf.initialized
                    self._log_once(name, f'init{level}', todo, len(names),
                                   'sub-centroids placed from the features in the memory '
                                   f'for {hierarchy.level_names[level]} node(s)', names)
            result = cluster_level(centroids, memory, tables, momentum=self.momentum,
                                   epsilon=self.epsilon, iters=self.iterations)
            if not bool(torch.isfinite(result.centroids).all()):
                raise RuntimeError(f'SinkhornClusteringHook: {name}: the clustering step of '
                                   f'{hierarchy.level_label(level)} produced non-finite '
                                   'centroids; they were not applied')
            clf.centroids[part] = result.centroids.to(clf.centroids.dtype)
            clf.centroid_stale[part] = torch.where(result.counts == 0,
                                                   clf.centroid_stale[part] + 1, 0)
            self._log_once(name, f'empty{level}', result.empty_classes, len(names),
                           f'no feature of {hierarchy.level_names[level]} node(s) in the '
                           'memory yet; their sub-centroids stay as they are', names)
            results.append(result)
        return results
