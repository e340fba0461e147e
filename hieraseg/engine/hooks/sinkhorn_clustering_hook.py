"""The hook that owns DNC's sub-centroid clustering: its schedule, memories and reports.

After every training iteration it takes, from every :class:`SubCentroidClassifier` in the
model, the detached features and labels of that iteration's forward, gathers them from all
ranks, marks which ones the classifier gets right (its prediction after that iteration's
optimizer step equals the label) and appends them to a per-class :class:`FeatureMemory`
(:mod:`.clustering_memory`). Every ``interval`` iterations it runs one step of
:class:`~hieraseg.models.utils.SubCentroidClusteringPolicy` on the whole memory (Sinkhorn,
momentum update, and the rules that keep every class alive: data-driven placement, rescue,
re-seeding) and logs each of its events once per class, with the class's name. Every rank
sees the same gathered data and runs the same deterministic step, so the centroids stay
identical across ranks without being broadcast. Hierarchical classifiers get one memory per
LEAF; their coarse levels are clustered over the leaves' memories after the leaves.

Health, through the message hub (scalars of every clustering step, averaged over its window
by the LoggerHook; :meth:`SubCentroidClusteringPolicy.health`): ``dnc_correct_min``,
``dnc_used_centroids``, ``dnc_centroid_cos`` / ``dnc_centroid_cos_max`` (collapse shows as
values near 1), ``dnc_dead_classes`` (features in the memory, none classified right at this
step), ``dnc_rescued_classes``, ``dnc_empty_classes``, ``dnc_moved_centroids``; at every
logger interval a line names the three classes with the lowest correct share, and at the
end of training a warning names the classes dead at the last clustering step. These judge
the training features by the leaf level's own scores; the metric's end-of-evaluation
warning lists the classes the full prediction misses (a dead class is on both).

The memories (with their clustering state) are saved in checkpoints under
``checkpoint['dnc_memory']`` and restored on resume (``after_load_checkpoint``); the
centroids, flags and counters are model buffers and travel with the model's state dict.
"""
import logging
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.dist import broadcast
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS
from torch import Tensor

from hieraseg.models.utils import (ClusteringStep, FeatureMemory, HieraSubCentroidClassifier,
                                   NonFiniteCentroidsError, SubCentroidClassifier,
                                   SubCentroidClusteringPolicy, leaf_view)
from .clustering_memory import fill_memory, load_memories, memories_state, new_memory

__all__ = ['SinkhornClusteringHook']

CHECKPOINT_KEY = 'dnc_memory'


@HOOKS.register_module()
class SinkhornClusteringHook(Hook):
    """Sub-centroid discovery for DNC heads (Sinkhorn-Knopp + momentum update).

    Args:
        interval (int): cluster every ``interval`` training iterations (features are
            added to the memory at every iteration). Defaults to 1.
        momentum (float): mu of ``p <- normalise(mu p + (1 - mu) mean)``, in [0, 1].
            Defaults to 0.999.
        epsilon (float): Sinkhorn temperature, > 0. Defaults to 0.05.
        iterations (int): Sinkhorn iterations, >= 1. Defaults to 3.
        memory_size (int): features kept per class (FIFO), at least K of every DNC head.
            Each iteration adds at most ``memory_size`` (randomly chosen) features per
            class. Defaults to 256.
        memory_dtype (str): ``'float32'`` or ``'float16'`` storage. Defaults to float32.
        begin (int): first iteration (0-based) that may cluster. Defaults to 0.
        seed (int): seed of the per-iteration feature subsampling. Defaults to 0.
        data_init (bool): place never-initialised sub-centroids from their class's
            features at the first clustering step that has K of them. Defaults to True.
        rescue_after (int | None): clustering steps without a correctly classified
            feature after which a class moves with all its features, and without any
            feature after which a sub-centroid is re-seeded; >= 1, None turns both off.
            Defaults to 200.
    """

    priority = 'NORMAL'  # before CheckpointHook (VERY_LOW): checkpoints see the update

    def __init__(self,
                 interval: int = 1,
                 momentum: float = 0.999,
                 epsilon: float = 0.05,
                 iterations: int = 3,
                 memory_size: int = 256,
                 memory_dtype: str = 'float32',
                 begin: int = 0,
                 seed: int = 0,
                 data_init: bool = True,
                 rescue_after: Optional[int] = 200):
        for name, value, low in (('interval', interval, 1), ('iterations', iterations, 1),
                                 ('memory_size', memory_size, 1), ('begin', begin, 0)):
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise ValueError(f'SinkhornClusteringHook: {name} must be an integer '
                                 f'>= {low}, got {value!r}')
        try:  # the policy checks rescue_after, momentum and epsilon
            SubCentroidClusteringPolicy(momentum, epsilon, iterations, data_init, rescue_after)
        except ValueError as error:
            raise ValueError(f'SinkhornClusteringHook: {error}') from None
        if memory_dtype not in ('float32', 'float16', 'bfloat16'):
            raise ValueError('SinkhornClusteringHook: memory_dtype must be float32, '
                             f'float16 or bfloat16, got {memory_dtype!r}')
        self.interval = interval
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.iterations = iterations
        self.memory_size = memory_size
        self.memory_dtype = memory_dtype
        self.begin = begin
        self.seed = seed
        self.data_init = bool(data_init)
        self.rescue_after = rescue_after
        self.classifiers: Optional[List[Tuple[str, SubCentroidClassifier]]] = None
        self.memories: Dict[str, FeatureMemory] = {}
        self._pending_state: Optional[dict] = None
        self._warned_empty = False
        self._logged: Dict[str, set] = {}  # (event, class) pairs already logged per head
        self._dead: Dict[str, Tensor] = {}  # [C] bool per head, at its last clustering step
        self.class_names: Optional[List[str]] = None
        self.log_interval: Optional[int] = None

    @property
    def policy(self) -> SubCentroidClusteringPolicy:
        """The clustering rule, with the hook's current settings."""
        return SubCentroidClusteringPolicy(self.momentum, self.epsilon, self.iterations,
                                           self.data_init, self.rescue_after)

    # --- set-up -------------------------------------------------------------------------
    @staticmethod
    def find_classifiers(model) -> List[Tuple[str, SubCentroidClassifier]]:
        """``(name, module)`` of every SubCentroidClassifier in a (wrapped) model."""
        if is_model_wrapper(model):
            model = model.module
        return [(name, m) for name, m in model.named_modules()
                if isinstance(m, SubCentroidClassifier)]

    def setup(self, model) -> None:
        """Find the DNC classifiers and create their memories (idempotent)."""
        if self.classifiers is not None:
            return
        classifiers = self.find_classifiers(model)
        if not classifiers:
            raise RuntimeError('SinkhornClusteringHook: the model has no DNC head '
                               '(no SubCentroidClassifier module)')
        for name, clf in classifiers:
            if self.memory_size < clf.num_sub_centroids:
                raise ValueError(
                    f'SinkhornClusteringHook: memory_size={self.memory_size} is smaller '
                    f'than the {clf.num_sub_centroids} sub-centroids per class of '
                    f'{name!r}; every class needs at least K features to cluster')
            self.memories[name] = new_memory(clf, self.memory_size, self.memory_dtype)
        self.classifiers = classifiers
        if self._pending_state is not None:
            self._load_memories(self._pending_state)
            self._pending_state = None

    def before_train(self, runner) -> None:
        self.setup(runner.model)
        try:
            self.class_names = list(runner.train_dataloader.dataset.metainfo['classes'])
        except (AttributeError, KeyError, TypeError):
            self.class_names = None
        self.log_interval = next((h.interval for h in getattr(runner, 'hooks', [])
                                  if type(h).__name__ == 'LoggerHook'), None)
        # Start every rank from rank 0's centroids (DDP also does this when it wraps the
        # model, but not for buffers it was told to ignore, nor after a custom init).
        for _, clf in self.classifiers:
            broadcast(clf.centroids, src=0)

    # --- checkpoints --------------------------------------------------------------------
    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self.memories:
            checkpoint[CHECKPOINT_KEY] = memories_state(self.memories)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get(CHECKPOINT_KEY)
        if state is None:
            return
        if self.memories:
            self._load_memories(state)
        else:
            self._pending_state = state  # memories are created in before_train

    def _load_memories(self, state: dict) -> None:
        for problem in load_memories(self.memories, state):
            self._log(problem, logging.WARNING)

    # --- the training step --------------------------------------------------------------
    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        self.setup(runner.model)
        do_cluster = runner.iter >= self.begin and \
            self.every_n_train_iters(runner, self.interval)
        for name, clf in self.classifiers:
            dropped = fill_memory(self.memories[name], clf, self.memory_size, self.seed,
                                  runner.iter)
            if dropped:
                self._log(f'{name}: {dropped}', logging.WARNING)
            if do_cluster:
                self.cluster(name, clf, runner)

    @torch.no_grad()
    def cluster(self, name: str, clf: SubCentroidClassifier,
                runner=None) -> ClusteringStep:
        """One clustering step on the memory of ``name`` (the policy's step of the leaves,
        then of a hierarchical classifier's coarse levels); logs what it did, and with a
        ``runner`` the health. Returns the leaves' :class:`ClusteringStep`."""
        memory, leaves = self.memories[name], leaf_view(clf)
        num_classes = leaves.num_classes
        try:
            step = self.policy.step(leaves, memory)
        except NonFiniteCentroidsError as error:
            raise RuntimeError(f'SinkhornClusteringHook: {name}: {error}') from None
        self._log_once(name, 'init', step.initialized, num_classes,
                       'sub-centroids placed from the features in the memory for')
        if self.rescue_after is not None:
            self._log_once(name, 'dead', step.rescued, num_classes,
                           f'no correctly classified feature for {self.rescue_after} '
                           'clustering steps; moving its sub-centroids with all its '
                           'features from now on, for')
            self._log_once(name, 'reseed', step.reseeded, num_classes,
                           f'a sub-centroid no feature moved for {self.rescue_after} '
                           "clustering steps was re-seeded on its class's "
                           'worst-served feature, for')
        if runner is not None:
            self._log_health(name, leaves, runner, step)
        num_empty = int(step.result.empty_classes.sum())
        if num_empty and not self._warned_empty:
            self._log(f'{name}: {num_empty} of {num_classes} classes have no feature in the '
                      'memory yet; their sub-centroids stay as they are (counted as '
                      '"dnc_empty_classes" in the training log)', logging.INFO)
            self._warned_empty = True
        if isinstance(clf, HieraSubCentroidClassifier):
            self.cluster_coarse_levels(name, clf)
        return step

    @torch.no_grad()
    def cluster_coarse_levels(self, name: str, clf: HieraSubCentroidClassifier) -> list:
        """The policy's step of every coarse level, with its events logged by node name;
        returns the :class:`LevelStep` of each level 1, 2, ..."""
        hierarchy = clf.hierarchy
        try:
            steps = self.policy.step_coarse_levels(clf, self.memories[name])
        except NonFiniteCentroidsError as error:
            raise RuntimeError(f'SinkhornClusteringHook: {name}: {error}') from None
        for step in steps:
            level, names = step.level, hierarchy.classes[step.level]
            self._log_once(name, f'init{level}', step.initialized, len(names),
                           'sub-centroids placed from the features in the memory '
                           f'for {hierarchy.level_names[level]} node(s)', names)
            self._log_once(name, f'empty{level}', step.result.empty_classes, len(names),
                           f'no feature of {hierarchy.level_names[level]} node(s) in the '
                           'memory yet; their sub-centroids stay as they are', names)
        return steps

    def after_train(self, runner) -> None:
        """Names the classes that ended training dead (no correctly classified feature in
        the memory at the last clustering step)."""
        for name, dead in self._dead.items():
            if bool(dead.any()):
                names = ', '.join(self._class_name(c, dead.numel())
                                  for c in dead.nonzero(as_tuple=True)[0].tolist())
                count = int(dead.sum())
                self._log(f'{name}: training ended with {count} '
                          f'dead class{"" if count == 1 else "es"} (no feature of it in the '
                          f'memory classified right); expect IoU 0 for: {names} (train '
                          'longer; docs/own_data.md, "What the warnings mean")',
                          logging.WARNING)

    # --- reports ------------------------------------------------------------------------
    @staticmethod
    def _log(message: str, level: int) -> None:
        print_log(f'SinkhornClusteringHook: {message}', logger='current', level=level)

    def _class_name(self, c: int, num_classes: int, names=None) -> str:
        names = self.class_names if names is None else names
        return str(names[c]) if names is not None and len(names) == num_classes else str(c)

    def _log_once(self, name: str, event: str, classes: Tensor, num_classes: int,
                  message: str, node_names=None) -> None:
        """Log ``message`` with the names of ``classes`` ([C] bool) not yet logged for
        ``event``."""
        seen = self._logged.setdefault(name, set())
        new = [c for c in classes.nonzero(as_tuple=True)[0].tolist()
               if (event, c) not in seen]
        if not new:
            return
        seen.update((event, c) for c in new)
        names = ', '.join(self._class_name(c, num_classes, node_names) for c in new[:20])
        if len(new) > 20:
            names += f' and {len(new) - 20} more'
        self._log(f'{name}: {message}: {names}',
                  logging.INFO if event.startswith('init') else logging.WARNING)

    def _log_health(self, name: str, leaves, runner, step: ClusteringStep) -> None:
        """The health scalars to the message hub, and the worst-classes line."""
        suffix = '' if len(self.classifiers) == 1 else f'/{name}'
        hub = runner.message_hub
        self._dead[name] = step.dead
        for key, value in self.policy.health(leaves, step).items():
            hub.update_scalar(f'train/{key}{suffix}', value)
        present, correct_share = step.present, step.correct_share
        if self.log_interval and bool(present.any()) and \
                self.every_n_train_iters(runner, self.log_interval):
            share = correct_share.masked_fill(~present, float('inf'))
            worst = share.argsort()[:min(3, int(present.sum()))].tolist()
            text = ', '.join(f'{self._class_name(c, leaves.num_classes)} '
                             f'({float(correct_share[c]):.2f})' for c in worst)
            hub.update_info(f'dnc_worst_classes{suffix}', text)
            self._log(f'{name}: lowest share of correctly classified memory features: '
                      f'{text}', logging.INFO)
