"""mmengine's CheckpointHook made safe to kill at any moment and exact to resume.

What it changes (everything else, options included, is mmengine's ``CheckpointHook``):

* Checkpoints in a local folder are written atomically (partial file + rename, with
  :class:`~hieraseg.utils.atomic_files.AtomicLocalBackend`, for this hook's saves only),
  and ``last_checkpoint`` likewise right after the checkpoint was renamed into place, so it
  names a whole checkpoint or the previous one.
* With ``max_keep_ckpts``, the oldest checkpoint is deleted after the new one is whole, not
  before: a run killed while saving keeps its previous checkpoint.
* Every checkpoint carries ``meta['resume_state']``: the global random state of every rank
  (Python, NumPy, torch CPU and every CUDA device), the seed of the training sampler and
  its position (the batches drawn; mmengine's iteration loop replays them on resume, and a
  mismatch is logged).
  On resume they are restored right before the first batch after the checkpoint is drawn,
  i.e. after mmengine's loop has skipped the batches already trained (the skip runs the
  data pipeline, which draws), so the resumed run draws exactly what the interrupted one
  would have drawn.
* Validation during training is taken out of the training's random streams: the state is
  saved before it and restored after it, so whether a run validated at a checkpoint (the
  uninterrupted run) or not (the resumed run) changes nothing.

``tools/train.py`` puts this hook in place of ``default_hooks.checkpoint`` when that is
mmengine's ``CheckpointHook``.
"""
import logging
import os.path as osp
from typing import Optional

from mmengine.dist import get_rank, get_world_size, is_main_process
from mmengine.fileio import get_file_backend
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log
from mmengine.registry import HOOKS

from hieraseg.utils.atomic_files import atomic_backend_args, write_atomically
from hieraseg.utils.random_state import (gather_random_states, get_random_state,
                                         set_random_state)

__all__ = ['ResumableCheckpointHook']

RESUME_STATE_KEY = 'resume_state'


class _RestoreAfterSkip:
    """Wraps a training loop's data iterator: after ``skip`` batches (those the loop skips
    on resume) it calls ``restore`` once, right before the next batch is drawn."""

    def __init__(self, iterator, skip: int, restore):
        self._iterator = iterator
        self._skip = skip
        self._restore = restore

    def __iter__(self):
        return self

    def __next__(self):
        if self._skip > 0:
            self._skip -= 1
        elif self._restore is not None:
            restore, self._restore = self._restore, None
            restore()
        return next(self._iterator)


def _train_sampler(runner):
    loader = getattr(runner.train_loop, 'dataloader', None)
    return getattr(loader, 'sampler', None)


@HOOKS.register_module()
class ResumableCheckpointHook(CheckpointHook):
    """:class:`mmengine.hooks.CheckpointHook` with atomic ``last_checkpoint``, deletion of
    old checkpoints after the new one is saved, and the random state of every rank saved
    and restored for a bit-exact resume. Takes exactly CheckpointHook's arguments."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pending: Optional[dict] = None  # loaded resume state, until applied
        self._training = False
        self._state_before_val = None

    # --- saving -------------------------------------------------------------------------
    def _resume_state(self, runner) -> dict:
        """What a checkpoint needs besides mmengine's content (collective call)."""
        sampler = _train_sampler(runner)
        loop = runner.train_loop
        drawn = loop.iter + 1 if hasattr(loop, 'dataloader_iterator') else None
        return dict(world_size=get_world_size(), random_states=gather_random_states(),
                    sampler_seed=getattr(sampler, 'seed', None), batches_drawn=drawn)

    def _save_checkpoint_with_step(self, runner, step, meta):
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        expired = self._keep(runner, step)
        meta = dict(meta)
        meta[RESUME_STATE_KEY] = self._resume_state(runner)
        runner.save_checkpoint(
            self.out_dir, filename, self.file_client_args, save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler, meta=meta, by_epoch=self.by_epoch,
            backend_args=self.backend_args, **self.args)
        if not is_main_process():
            return
        write_atomically(self.last_ckpt.encode(), osp.join(runner.work_dir, 'last_checkpoint'))
        for old in expired:
            self._remove(self.file_backend.join_path(self.out_dir,
                                                     self.filename_tmpl.format(old)))

    def _keep(self, runner, step) -> list:
        """Records ``step`` among the kept checkpoints; returns the steps that fall out of
        ``max_keep_ckpts`` (deleted by the caller once the new checkpoint is saved)."""
        if self.max_keep_ckpts <= 0:
            return []
        kept = list(self.keep_ckpt_ids)
        if kept and kept[-1] == step:  # saved twice at one step (e.g. last and best)
            return []
        kept.append(step)
        expired, kept = kept[:-self.max_keep_ckpts], kept[-self.max_keep_ckpts:]
        self.keep_ckpt_ids.clear()
        self.keep_ckpt_ids.extend(kept)
        runner.message_hub.update_info('keep_ckpt_ids', kept)
        return expired

    def _remove(self, path: str) -> None:
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):
            self.file_backend.rmtree(path)

    # --- resuming -----------------------------------------------------------------------
    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        meta = checkpoint.get('meta') or {}
        state = meta.get(RESUME_STATE_KEY)
        self._pending = None if state is None else dict(state, iter=meta.get('iter'))

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if self.file_client_args is None and '://' not in str(self.out_dir):
            self.backend_args = atomic_backend_args(self.backend_args)
            self.file_backend = get_file_backend(self.out_dir, backend_args=self.backend_args)
        self._training = True
        pending, self._pending = self._pending, None
        if pending is None or runner.iter == 0 or pending['iter'] != runner.iter:
            return  # a fresh run, or weights loaded with load_from (not a resume)
        if pending['world_size'] != get_world_size():
            print_log(f'ResumableCheckpointHook: the checkpoint was written by '
                      f'{pending["world_size"]} processes, this run has {get_world_size()}: '
                      'random states are not restored, the resumed run is not bit-exact',
                      logger='current', level=logging.WARNING)
            return
        self._restore_sampler_seed(runner, pending['sampler_seed'])
        state = pending['random_states'][get_rank()]
        loop = runner.train_loop
        if hasattr(loop, 'dataloader_iterator'):  # IterBasedTrainLoop skips runner.iter
            drawn = pending.get('batches_drawn')
            if drawn is not None and drawn != loop.iter:
                print_log(f'ResumableCheckpointHook: the checkpoint was written after '
                          f'{drawn} batches, the loop skips {loop.iter}: the resumed run '
                          'does not see the same data', logger='current',
                          level=logging.WARNING)
            loop.dataloader_iterator = _RestoreAfterSkip(
                loop.dataloader_iterator, loop.iter, lambda: set_random_state(state))
        else:  # EpochBasedTrainLoop: checkpoints at epoch ends, nothing is skipped
            set_random_state(state)
        print_log(f'ResumableCheckpointHook: random states of iteration {runner.iter} '
                  'restored', logger='current')

    def _restore_sampler_seed(self, runner, seed) -> None:
        sampler = _train_sampler(runner)
        if seed is None or getattr(sampler, 'seed', seed) == seed:
            return
        from mmengine.runner.loops import _InfiniteDataloaderIterator
        print_log(f'ResumableCheckpointHook: train sampler seed {sampler.seed} -> {seed} '
                  '(the checkpoint\'s)', logger='current')
        sampler.seed = seed
        if hasattr(sampler, '_indices_of_rank'):  # InfiniteSampler draws its order once
            sampler.indices = sampler._indices_of_rank()
        loop = runner.train_loop
        if hasattr(loop, 'dataloader_iterator'):
            loop.dataloader_iterator = _InfiniteDataloaderIterator(loop.dataloader)

    def after_train(self, runner) -> None:
        super().after_train(runner)
        self._training = False

    # --- validation does not draw from the training's streams ---------------------------
    def before_val(self, runner) -> None:
        if self._training:
            self._state_before_val = get_random_state()

    def after_val(self, runner) -> None:
        if self._state_before_val is not None:
            set_random_state(self._state_before_val)
            self._state_before_val = None
