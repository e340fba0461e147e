"""A check of every training batch's labels against the segmentor's classes."""
from typing import List, Tuple

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

from hieraseg.models.utils import check_label_range

__all__ = ['LabelRangeCheckHook']


@HOOKS.register_module()
class LabelRangeCheckHook(Hook):
    """Before every training iteration, checks that the ground truth of the batch holds
    only ids of the classes of the model's decode and auxiliary heads and their ignore
    index (:func:`~hieraseg.models.utils.check_label_range`).

    mmseg's flat heads (FCNHead, ...) would otherwise fail inside the loss with
    ``IndexError: Target 9 is out of bounds``, naming neither the file nor the classes; the
    error names the label file, the value and the classes. HSSN and DNC heads run the
    same check in their own loss paths. ``tools/train.py`` adds this hook to segmentors.
    """

    priority = 'VERY_HIGH'

    def __init__(self):
        self.heads: List[Tuple[str, int, int]] = []

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        self.heads = []
        for key in ('decode_head', 'auxiliary_head'):
            heads = getattr(model, key, None)
            heads = heads if isinstance(heads, (list, tuple)) else [heads]
            for i, head in enumerate(heads):
                if head is None or not hasattr(head, 'num_classes'):
                    continue
                where = f'{type(head).__name__} (model.{key}' + (
                    f'[{i}])' if len(heads) > 1 else ')')
                self.heads.append((where, head.num_classes, getattr(head, 'ignore_index', 255)))

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        samples = (data_batch or {}).get('data_samples') or []
        for sample in samples:
            if 'gt_sem_seg' not in sample:
                continue
            for where, num_classes, ignore_index in self.heads:
                check_label_range(sample.gt_sem_seg.data[None], num_classes, ignore_index,
                                  where, [sample])
