"""The hook that owns DNC's sub-centroid clustering.

After every training iteration it takes, from every :class:`SubCentroidClassifier` in the
model, the detached features and labels of that iteration's forward, gathers them from all
ranks, marks which ones the classifier gets right (its prediction, as it stands after that
iteration's optimizer step, equals the label; the mark stays with the feature), and
appends them to a per-class :class:`FeatureMemory`. Every ``interval`` iterations it
clusters the whole memory (batched Sinkhorn with equipartition over all of a class's
features, hard assignment) and moves each sub-centroid towards the mean of the correctly
classified features assigned to it (momentum update). Every rank sees the same gathered
data and runs the same deterministic step, so the centroids stay identical across ranks
without being broadcast.

The clustering step is incremental (:func:`cluster_memory`): the memory keeps the sums of
the assigned features and only the features whose assignment changed are read again.

No class is lost (issue 10): the first clustering step that finds at least K features of
a class whose sub-centroids were never initialised (a new model, or a checkpoint written
before the ``initialized`` flags existed) places them from those features
(:func:`init_sub_centroids`); a class with no correctly classified feature in the memory
for ``rescue_after`` clustering steps is moved with all its features until it has one
again; a sub-centroid that no feature moved for ``rescue_after`` steps is re-seeded on its
class's worst-served feature. Each of these is logged once per class, with its name.

Health, in the training log through the message hub (scalars of every clustering step,
averaged over its window by the LoggerHook's processor): ``dnc_correct_min`` (lowest
per-class share of correctly classified memory features), ``dnc_used_centroids``
(sub-centroids of the C x K that a feature moved in this step), ``dnc_centroid_cos`` /
``dnc_centroid_cos_max`` (mean pairwise cosine between a class's sub-centroids, averaged /
worst over classes; collapse shows as values near 1), ``dnc_dead_classes`` (classes with
features in the memory but none of them classified right at this step),
``dnc_rescued_classes`` (those dead for ``rescue_after`` steps, being rescued),
``dnc_empty_classes``, ``dnc_moved_centroids``; at every logger interval one line names
the three classes with the lowest correct share, and at the end of training a warning
names the classes dead at the last clustering step. These judge the training features by
the leaf level's own scores; the metric's end-of-evaluation warning lists the classes the
full prediction misses on the evaluated images (a dead class is on both).

Hierarchical classifiers (:class:`HieraSubCentroidClassifier`, sub-centroids for every node
of a class hierarchy) get one memory per LEAF, filled with the leaf labels; the leaf
sub-centroids are clustered as above (with the rescues), then every coarser level's nodes
over their descendant leaves' memories, one batched Sinkhorn call per level
(:func:`~hieraseg.models.utils.hiera_clustering.cluster_level`): data-driven
initialisation and momentum update as for leaves; a node with no feature keeps its
sub-centroids (logged once). The rescues are the leaves' only.

The memories (with that clustering state) are saved in checkpoints under
``checkpoint['dnc_memory']`` and restored on resume (``after_load_checkpoint``); the
centroids are model buffers and travel with the model's state dict.
"""
import logging
import math
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.dist import all_gather, broadcast, get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS
from torch import Tensor

from hieraseg.models.utils import (FeatureMemory, HieraSubCentroidClassifier,
                                   SubCentroidClassifier, cluster_memory, init_sub_centroids,
                                   reseed_sub_centroids, subsample_per_class)
from .hiera_clustering_mixin import HieraClusteringMixin, _leaves

__all__ = ['SinkhornClusteringHook']

CHECKPOINT_KEY = 'dnc_memory'


def _all_gather_rows(x: Tensor) -> Tensor:
    """Concatenate ``x [n_r, ...]`` of every rank in rank order (``n_r`` may differ)."""
    if get_world_size() == 1:
        return x
    size = torch.tensor([x.shape[0]], device=x.device, dtype=torch.long)
    sizes = [int(s) for s in all_gather(size)]
    padded = x.new_zeros((max(sizes), ) + tuple(x.shape[1:]))
    padded[:x.shape[0]] = x
    parts = all_gather(padded)
    return torch.cat([p[:n] for p, n in zip(parts, sizes)], dim=0)


@HOOKS.register_module()
class SinkhornClusteringHook(HieraClusteringMixin, Hook):
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
        if rescue_after is not None and (not isinstance(rescue_after, int) or
                                         isinstance(rescue_after, bool) or rescue_after < 1):
            raise ValueError('SinkhornClusteringHook: rescue_after must be an integer >= 1 '
                             f'(clustering steps) or None, got {rescue_after!r}')
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f'SinkhornClusteringHook: momentum must lie in [0, 1], '
                             f'got {momentum}')
        if not epsilon > 0:
            raise ValueError(f'SinkhornClusteringHook: epsilon must be > 0, got {epsilon}')
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
        self.classifiers: Optional[List[Tuple[str, SubCentroidClassifier]]] = None
        self.memories: Dict[str, FeatureMemory] = {}
        self._pending_state: Optional[dict] = None
        self.data_init = bool(data_init)
        self.rescue_after = rescue_after
        self._warned_empty = False
        self._logged: Dict[str, set] = {}  # (event, class) pairs already logged per head
        self._dead: Dict[str, Tensor] = {}  # [C] bool per head, at its last clustering step
        self.class_names: Optional[List[str]] = None
        self.log_interval: Optional[int] = None

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
            memory = FeatureMemory(_leaves(clf).num_classes, self.memory_size, clf.feat_dim,
                                   dtype=self.memory_dtype,
                                   num_sub_centroids=clf.num_sub_centroids)
            self.memories[name] = memory.to(clf.centroids.device)
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
            checkpoint[CHECKPOINT_KEY] = {
                name: {k: v.detach().cpu() for k, v in memory.state_dict().items()}
                for name, memory in self.memories.items()
            }

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get(CHECKPOINT_KEY)
        if state is None:
            return
        if self.memories:
            self._load_memories(state)
        else:
            self._pending_state = state  # memories are created in before_train

    def _load_memories(self, state: dict) -> None:
        for name, memory in self.memories.items():
            saved = state.get(name)
            if saved is None:
                print_log(f'SinkhornClusteringHook: no saved memory for {name!r}; it '
                          'starts empty', logger='current', level=logging.WARNING)
                continue
            expected = {k: tuple(v.shape) for k, v in memory.state_dict().items()}
            found = {k: tuple(v.shape) for k, v in saved.items()}
            if found != expected:
                print_log(f'SinkhornClusteringHook: saved memory of {name!r} has buffers '
                          f'{found}, expected {expected}; it starts empty',
                          logger='current', level=logging.WARNING)
                continue
            memory.load_state_dict(saved)

    # --- the training step --------------------------------------------------------------
    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        self.setup(runner.model)
        do_cluster = runner.iter >= self.begin and \
            self.every_n_train_iters(runner, self.interval)
        for name, clf in self.classifiers:
            self.update_memory(name, clf, runner.iter)
            if do_cluster:
                self.cluster(name, _leaves(clf), runner)
                if isinstance(clf, HieraSubCentroidClassifier):
                    self.cluster_coarse_levels(name, clf)

    def after_train(self, runner) -> None:
        """Names the classes that ended training dead (no correctly classified feature in
        the memory at the last clustering step)."""
        for name, dead in self._dead.items():
            if bool(dead.any()):
                names = ', '.join(self._class_name(c, dead.numel())
                                  for c in dead.nonzero(as_tuple=True)[0].tolist())
                count = int(dead.sum())
                print_log(f'SinkhornClusteringHook: {name}: training ended with {count} '
                          f'dead class{"" if count == 1 else "es"} (no feature of it in the '
                          f'memory classified right); expect IoU 0 for: {names} (train '
                          'longer; docs/own_data.md, "What the warnings mean")',
                          logger='current', level=logging.WARNING)

    @torch.no_grad()
    def update_memory(self, name: str, clf: SubCentroidClassifier, step: int = 0) -> None:
        """Gather the classifier's kept features from all ranks into its memory."""
        memory = self.memories[name]
        device = clf.centroids.device
        kept = clf.pop_kept()
        if kept is None:  # still take part in the collectives below
            kept = (torch.zeros(0, clf.feat_dim, device=device),
                    torch.zeros(0, dtype=torch.long, device=device))
        feats, labels = kept[0].to(device), kept[1].to(device)

        num_classes = _leaves(clf).num_classes
        finite = torch.isfinite(feats).all(dim=1)
        in_range = (labels >= 0) & (labels < num_classes)
        good = finite & in_range
        if not bool(good.all()):
            print_log(f'SinkhornClusteringHook: {name}: dropped '
                      f'{int((~finite).sum())} non-finite features and '
                      f'{int((~in_range).sum())} labels outside [0, {num_classes}) '
                      'before clustering', logger='current', level=logging.WARNING)
            feats, labels = feats[good], labels[good]

        generator = torch.Generator(device=device)
        generator.manual_seed(self.seed + 1000003 * step + get_rank())
        per_rank = math.ceil(self.memory_size / get_world_size())
        idx = subsample_per_class(labels, per_rank, num_classes, generator)
        feats, labels = feats[idx], labels[idx]
        correct = clf.correct_embedded(feats, labels) if feats.shape[0] else \
            torch.zeros(0, dtype=torch.bool, device=device)

        feats = _all_gather_rows(feats)
        meta = _all_gather_rows(torch.stack([labels, correct.long()], dim=1))
        memory.enqueue(feats, meta[:, 0], meta[:, 1].bool())

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
        print_log(f'SinkhornClusteringHook: {name}: {message}: {names}', logger='current',
                  level=logging.INFO if event.startswith('init') else logging.WARNING)

    @torch.no_grad()
    def cluster(self, name: str, clf: SubCentroidClassifier, runner=None):
        """One clustering step on the memory of ``name``; updates ``clf.centroids``
        (after the data-driven initialisation and the rescues, see the module docstring)."""
        memory = self.memories[name]
        num_classes, num_k = clf.num_classes, clf.num_sub_centroids
        valid = memory.valid
        present = valid.any(dim=1)
        centroids = clf.centroids.float()
        if self.data_init:
            todo = ~clf.initialized & (memory.count >= num_k)
            if bool(todo.any()):
                idx = todo.nonzero(as_tuple=True)[0]
                centroids = centroids.clone()
                centroids[idx] = init_sub_centroids(memory.features[idx], valid[idx], num_k,
                                                    self.epsilon, self.iterations)
                clf.initialized[idx] = True
                self._log_once(name, 'init', todo, num_classes,
                               'sub-centroids placed from the features in the memory for')
        rescue = None
        if self.rescue_after is not None:
            rescue = clf.class_stale >= self.rescue_after
            self._log_once(name, 'dead', rescue, num_classes,
                           f'no correctly classified feature for {self.rescue_after} '
                           'clustering steps; moving its sub-centroids with all its '
                           'features from now on, for')
        result = cluster_memory(centroids, memory, momentum=self.momentum,
                                epsilon=self.epsilon, iters=self.iterations, rescue=rescue)
        new_centroids = result.centroids
        correct_share = (valid & memory.correct).sum(dim=1).float() / \
            valid.sum(dim=1).clamp(min=1).float()  # [C]
        # Staleness: classes (sub-centroids) with features but none correct (none moving it).
        clf.class_stale.copy_(torch.where(present & (correct_share == 0),
                                          clf.class_stale + 1, 0))
        clf.centroid_stale.copy_(torch.where(present.unsqueeze(1) & (result.counts == 0),
                                             clf.centroid_stale + 1, 0))
        if self.rescue_after is not None:
            # Sub-centroids of live classes only (a dead class is the class rescue's).
            starved = (clf.centroid_stale >= self.rescue_after) & \
                ((memory.count >= num_k) & (clf.class_stale == 0)).unsqueeze(1)
            if bool(starved.any()):
                new_centroids = reseed_sub_centroids(new_centroids, memory.features, valid,
                                                     starved)
                clf.centroid_stale.masked_fill_(starved, 0)
                self._log_once(name, 'reseed', starved.any(dim=1), num_classes,
                               f'a sub-centroid no feature moved for {self.rescue_after} '
                               "clustering steps was re-seeded on its class's "
                               'worst-served feature, for')
        if not bool(torch.isfinite(new_centroids).all()):
            raise RuntimeError(f'SinkhornClusteringHook: {name}: the clustering step '
                               'produced non-finite centroids; they were not applied')
        clf.centroids.copy_(new_centroids)
        if runner is not None:
            self._log_health(name, clf, runner, result, correct_share, present, rescue)

        num_empty = int(result.empty_classes.sum())
        if num_empty and not self._warned_empty:
            print_log(f'SinkhornClusteringHook: {name}: {num_empty} of '
                      f'{clf.num_classes} classes have no feature in the memory yet; '
                      'their sub-centroids stay as they are (counted as '
                      '"dnc_empty_classes" in the training log)',
                      logger='current', level=logging.INFO)
            self._warned_empty = True
        return result

    def _log_health(self, name, clf, runner, result, correct_share, present,
                    rescue) -> None:
        """The health scalars of the module docstring, and the worst-classes line."""
        suffix = '' if len(self.classifiers) == 1 else f'/{name}'
        hub = runner.message_hub
        cents = clf.centroids.float()
        num_k = clf.num_sub_centroids
        dead = present & (correct_share == 0)
        self._dead[name] = dead
        scalars = {
            'dnc_empty_classes': int(result.empty_classes.sum()),
            'dnc_moved_centroids': float(result.updated.float().mean()),
            'dnc_used_centroids': int((clf.centroid_stale == 0).sum()),
            # classes with features but none classified right now, however long
            'dnc_dead_classes': int(dead.sum()),
            'dnc_rescued_classes': int(rescue.sum()) if rescue is not None else 0,
        }
        if bool(present.any()):
            scalars['dnc_correct_min'] = float(correct_share[present].min())
        if num_k > 1:
            gram = torch.bmm(cents, cents.transpose(1, 2))  # [C, K, K]
            off = (gram.sum(dim=(1, 2)) - gram.diagonal(dim1=1, dim2=2).sum(dim=1)) / \
                (num_k * (num_k - 1))
            scalars['dnc_centroid_cos'] = float(off.mean())
            scalars['dnc_centroid_cos_max'] = float(off.max())
        for key, value in scalars.items():
            hub.update_scalar(f'train/{key}{suffix}', value)
        if self.log_interval and bool(present.any()) and \
                self.every_n_train_iters(runner, self.log_interval):
            share = correct_share.masked_fill(~present, float('inf'))
            worst = share.argsort()[:min(3, int(present.sum()))].tolist()
            text = ', '.join(f'{self._class_name(c, clf.num_classes)} '
                             f'({float(correct_share[c]):.2f})' for c in worst)
            hub.update_info(f'dnc_worst_classes{suffix}', text)
            print_log(f'SinkhornClusteringHook: {name}: lowest share of correctly '
                      f'classified memory features: {text}', logger='current',
                      level=logging.INFO)
