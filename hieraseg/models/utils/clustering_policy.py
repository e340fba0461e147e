"""DNC's clustering policy: one clustering step of a sub-centroid classifier over its
:class:`FeatureMemory`, with the rules that keep every class alive (issue 10).

Tensor-level and silent: :class:`SubCentroidClusteringPolicy` reads and writes the
classifier's buffers (``centroids``, ``initialized``, ``class_stale``, ``centroid_stale``)
and the memory's clustering state, and returns what it did; the
:class:`~hieraseg.engine.hooks.SinkhornClusteringHook` fills the memory, calls it, and
logs the events by class name. Every rank runs the same deterministic step.

One step of a flat classifier, or of the leaves of a hierarchical one (:meth:`step`):

1. data-driven start (``data_init``): a class never initialised with at least K features
   in the memory gets its sub-centroids placed from them (:func:`init_sub_centroids`);
2. rescue (``rescue_after``): a class whose ``class_stale`` reached ``rescue_after`` moves
   with all its features, correctly classified or not;
3. the clustering step (:func:`cluster_memory`): Sinkhorn with equipartition, hard
   assignment, momentum update from the correctly classified features;
4. staleness: ``class_stale`` counts the steps in a row a class had features but none
   classified right (dead), ``centroid_stale`` those a sub-centroid of a class with
   features moved with no feature; each is reset otherwise;
5. re-seeding: a sub-centroid stale for ``rescue_after`` steps, of a live class with at
   least K features, moves onto its class's worst-served feature
   (:func:`reseed_sub_centroids`);
6. the new centroids are written only if they are all finite
   (:class:`NonFiniteCentroidsError` otherwise).

Coarse levels of a :class:`HieraSubCentroidClassifier` (:meth:`step_coarse_levels`): each
level's nodes over their descendant leaves' memories (:func:`cluster_level`), with the
data-driven start and ``centroid_stale``; a node without features keeps its sub-centroids;
no rescues.
"""
from types import SimpleNamespace
from typing import Dict, List, NamedTuple, Optional

import torch
from torch import Tensor

from .feature_memory import FeatureMemory
from .hiera_clustering import cluster_level, init_level_sub_centroids, level_members
from .hiera_sub_centroid_classifier import HieraSubCentroidClassifier
from .sub_centroid_classifier import SubCentroidClassifier
from .sub_centroid_clustering import ClusteringResult, cluster_memory
from .sub_centroid_seeding import init_sub_centroids, reseed_sub_centroids

__all__ = [
    'SubCentroidClusteringPolicy', 'ClusteringStep', 'LevelStep', 'NonFiniteCentroidsError',
    'leaf_view'
]


class NonFiniteCentroidsError(RuntimeError):
    """A clustering step produced non-finite centroids; they were not applied."""


class ClusteringStep(NamedTuple):
    """What :meth:`SubCentroidClusteringPolicy.step` did, over C classes.

    result: the :class:`ClusteringResult` of :func:`cluster_memory` (``centroids
        [C, K, D]`` before re-seeding; ``counts`` / ``updated [C, K]``;
        ``empty_classes [C]``).
    initialized: ``[C]`` bool, classes placed from their features at this step.
    rescued: ``[C]`` bool, classes moved with all their features (all False when
        ``rescue_after`` is None).
    reseeded: ``[C]`` bool, classes with a sub-centroid re-seeded at this step.
    correct_share: ``[C]`` float, share of the class's memory features classified right
        (0 for a class without features).
    present: ``[C]`` bool, classes with features in the memory.
    dead: ``[C]`` bool, ``present`` and ``correct_share == 0``.
    """
    result: ClusteringResult
    initialized: Tensor
    rescued: Tensor
    reseeded: Tensor
    correct_share: Tensor
    present: Tensor
    dead: Tensor


class LevelStep(NamedTuple):
    """What :meth:`SubCentroidClusteringPolicy.step_coarse_levels` did at one level l.

    level: l >= 1.
    result: the :class:`ClusteringResult` of :func:`cluster_level` (``empty_classes
        [C_l]``: nodes without any feature, whose sub-centroids were kept).
    initialized: ``[C_l]`` bool, nodes placed from their descendants' features.
    """
    level: int
    result: ClusteringResult
    initialized: Tensor


def leaf_view(clf: SubCentroidClassifier):
    """The classifier itself, or for a hierarchical one a view of its leaf nodes: the
    attributes :meth:`SubCentroidClusteringPolicy.step` reads and writes, as views of the
    first C_0 rows of its buffers (``centroids [C_0, K, D]``, ``initialized`` /
    ``class_stale [C_0]``, ``centroid_stale [C_0, K]``)."""
    if not isinstance(clf, HieraSubCentroidClassifier):
        return clf
    num = clf.num_leaves
    return SimpleNamespace(num_classes=num, num_sub_centroids=clf.num_sub_centroids,
                           centroids=clf.centroids[:num], initialized=clf.initialized[:num],
                           class_stale=clf.class_stale[:num],
                           centroid_stale=clf.centroid_stale[:num])


class SubCentroidClusteringPolicy:
    """The clustering rule of the module docstring.

    Args:
        momentum (float): mu of ``p <- normalise(mu p + (1 - mu) mean)``, in [0, 1].
        epsilon (float): Sinkhorn temperature, > 0. (Both checked: ValueError.)
        iterations (int): Sinkhorn iterations, >= 1.
        data_init (bool): place never-initialised sub-centroids from their class's
            features at the first step that has K of them. Defaults to True.
        rescue_after (int | None): steps without a correctly classified feature after
            which a class moves with all its features, and without any feature after
            which a sub-centroid is re-seeded; None turns both off. Defaults to 200.
    """

    def __init__(self,
                 momentum: float,
                 epsilon: float,
                 iterations: int,
                 data_init: bool = True,
                 rescue_after: Optional[int] = 200):
        if rescue_after is not None and (not isinstance(rescue_after, int) or
                                         isinstance(rescue_after, bool) or rescue_after < 1):
            raise ValueError('rescue_after must be an integer >= 1 (clustering steps) or '
                             f'None, got {rescue_after!r}')
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f'momentum must lie in [0, 1], got {momentum}')
        if not epsilon > 0:
            raise ValueError(f'epsilon must be > 0, got {epsilon}')
        self.momentum = momentum
        self.epsilon = epsilon
        self.iterations = iterations
        self.data_init = data_init
        self.rescue_after = rescue_after

    @torch.no_grad()
    def step(self, clf, memory: FeatureMemory) -> ClusteringStep:
        """One clustering step of ``clf`` (a :class:`SubCentroidClassifier` or a
        :func:`leaf_view`, C classes) over ``memory`` (``[C, cap, D]``, built with K
        sub-centroids); writes ``clf.centroids`` and the flags and counters.

        Raises:
            NonFiniteCentroidsError: the new centroids are not all finite (not written).
        """
        num_k = clf.num_sub_centroids
        valid = memory.valid
        present = valid.any(dim=1)
        centroids = clf.centroids.float()
        initialized = torch.zeros_like(present)
        if self.data_init:
            todo = ~clf.initialized & (memory.count >= num_k)
            if bool(todo.any()):
                idx = todo.nonzero(as_tuple=True)[0]
                centroids = centroids.clone()
                centroids[idx] = init_sub_centroids(memory.features[idx], valid[idx], num_k,
                                                    self.epsilon, self.iterations)
                clf.initialized[idx] = True
                initialized = todo
        rescue = None
        if self.rescue_after is not None:
            rescue = clf.class_stale >= self.rescue_after
        result = cluster_memory(centroids, memory, momentum=self.momentum,
                                epsilon=self.epsilon, iters=self.iterations, rescue=rescue)
        new_centroids = result.centroids
        correct_share = (valid & memory.correct).sum(dim=1).float() / \
            valid.sum(dim=1).clamp(min=1).float()  # [C]
        # Staleness: classes (sub-centroids) with features but none correct (none moving it).
        dead = present & (correct_share == 0)
        clf.class_stale.copy_(torch.where(dead, clf.class_stale + 1, 0))
        clf.centroid_stale.copy_(torch.where(present.unsqueeze(1) & (result.counts == 0),
                                             clf.centroid_stale + 1, 0))
        reseeded = torch.zeros_like(present)
        if self.rescue_after is not None:
            # Sub-centroids of live classes only (a dead class is the class rescue's).
            starved = (clf.centroid_stale >= self.rescue_after) & \
                ((memory.count >= num_k) & (clf.class_stale == 0)).unsqueeze(1)
            if bool(starved.any()):
                new_centroids = reseed_sub_centroids(new_centroids, memory.features, valid,
                                                     starved)
                clf.centroid_stale.masked_fill_(starved, 0)
                reseeded = starved.any(dim=1)
        if not bool(torch.isfinite(new_centroids).all()):
            raise NonFiniteCentroidsError('the clustering step produced non-finite '
                                          'centroids; they were not applied')
        clf.centroids.copy_(new_centroids)
        return ClusteringStep(result=result, initialized=initialized,
                              rescued=rescue if rescue is not None else
                              torch.zeros_like(present), reseeded=reseeded,
                              correct_share=correct_share, present=present, dead=dead)

    @torch.no_grad()
    def step_coarse_levels(self, clf: HieraSubCentroidClassifier,
                           memory: FeatureMemory) -> List[LevelStep]:
        """One clustering step of every coarse level 1, 2, ... of ``clf``, each over its
        nodes' descendant leaves in the per-leaf ``memory`` (``[C_0, cap, D]``); writes the
        level's rows of ``clf.centroids``, ``initialized`` and ``centroid_stale``.

        Raises:
            NonFiniteCentroidsError: a level's new centroids are not all finite (that
                level and the ones after it are not written).
        """
        hierarchy = clf.hierarchy
        num_k, steps = clf.num_sub_centroids, []
        for level in range(1, hierarchy.num_levels):
            part = hierarchy.level_slice(level)
            tables = level_members(hierarchy.leaf_to_level[level].to(memory.count.device),
                                   hierarchy.level_sizes[level])
            centroids, initialized = clf.centroids[part].float(), clf.initialized[part]
            placed = torch.zeros_like(initialized)
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
                    placed = todo
            result = cluster_level(centroids, memory, tables, momentum=self.momentum,
                                   epsilon=self.epsilon, iters=self.iterations)
            if not bool(torch.isfinite(result.centroids).all()):
                raise NonFiniteCentroidsError(
                    f'the clustering step of {hierarchy.level_label(level)} produced '
                    'non-finite centroids; they were not applied')
            clf.centroids[part] = result.centroids.to(clf.centroids.dtype)
            clf.centroid_stale[part] = torch.where(result.counts == 0,
                                                   clf.centroid_stale[part] + 1, 0)
            steps.append(LevelStep(level=level, result=result, initialized=placed))
        return steps

    @staticmethod
    @torch.no_grad()
    def health(clf, step: ClusteringStep) -> Dict[str, float]:
        """Health scalars of ``clf`` (or a :func:`leaf_view`) after ``step``.

        ``dnc_empty_classes`` (classes without features), ``dnc_moved_centroids`` (share
        of the C x K sub-centroids a feature moved), ``dnc_used_centroids`` (those with
        ``centroid_stale == 0``), ``dnc_dead_classes``, ``dnc_rescued_classes``,
        ``dnc_correct_min`` (lowest ``correct_share`` of a present class; only if there is
        one) and, for K > 1, ``dnc_centroid_cos`` / ``dnc_centroid_cos_max`` (mean
        pairwise cosine between a class's sub-centroids, mean / max over the classes).
        """
        result, present, correct_share = step.result, step.present, step.correct_share
        cents = clf.centroids.float()
        num_k = clf.num_sub_centroids
        scalars = {
            'dnc_empty_classes': int(result.empty_classes.sum()),
            'dnc_moved_centroids': float(result.updated.float().mean()),
            'dnc_used_centroids': int((clf.centroid_stale == 0).sum()),
            # classes with features but none classified right now, however long
            'dnc_dead_classes': int(step.dead.sum()),
            'dnc_rescued_classes': int(step.rescued.sum()),
        }
        if bool(present.any()):
            scalars['dnc_correct_min'] = float(correct_share[present].min())
        if num_k > 1:
            gram = torch.bmm(cents, cents.transpose(1, 2))  # [C, K, K]
            off = (gram.sum(dim=(1, 2)) - gram.diagonal(dim1=1, dim2=2).sum(dim=1)) / \
                (num_k * (num_k - 1))
            scalars['dnc_centroid_cos'] = float(off.mean())
            scalars['dnc_centroid_cos_max'] = float(off.max())
        return scalars
