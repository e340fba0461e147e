"""A hook that kills its own training process (SIGKILL) in the middle of a checkpoint
write, for the tests of ``--resume``. Test configs load it with
``custom_imports = dict(imports=['hieraseg', 'tests.test_tools.kill_hook'])``."""
import os
import signal

from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

import hieraseg.utils.checkpoint as checkpoint_io

MOMENTS = ('before_rename', 'after_rename', 'after_save')


@HOOKS.register_module()
class KillDuringCheckpointHook(Hook):
    """SIGKILLs rank ``rank`` while it saves the checkpoint of iteration ``at_iter``.

    Args:
        at_iter (int): the checkpoint's iteration (``iter_<at_iter>.pth``).
        moment (str): ``'before_rename'``: the checkpoint's bytes are complete in its
            ``.partial`` file, which is not renamed yet; ``'after_rename'``: the checkpoint
            is in place, ``last_checkpoint`` still names the previous one;
            ``'after_save'``: everything is written, the process dies before the next
            iteration (kill -9 at a checkpoint).
        rank (int): the process that dies. Default 0 (the one that writes).
    """

    priority = 'LOWEST'  # after_train_iter: after the CheckpointHook (VERY_LOW) saved

    def __init__(self, at_iter: int, moment: str = 'before_rename', rank: int = 0):
        if moment not in MOMENTS:
            raise ValueError(f'moment must be one of {MOMENTS}, got {moment!r}')
        self.at_iter = at_iter
        self.moment = moment
        self.rank = rank

    def _now(self, runner) -> bool:
        return runner.iter + 1 == self.at_iter and get_rank() == self.rank

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if not self._now(runner) or self.moment == 'after_save':
            return
        rename = checkpoint_io.os.replace
        moment = self.moment

        def rename_then_die(src, dst):  # the checkpoint's rename is the first one
            if moment == 'after_rename':
                rename(src, dst)
            os.kill(os.getpid(), signal.SIGKILL)

        checkpoint_io.os.replace = rename_then_die

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None):
        if self._now(runner) and self.moment == 'after_save':
            os.kill(os.getpid(), signal.SIGKILL)
