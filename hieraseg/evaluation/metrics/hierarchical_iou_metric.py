import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.logging import print_log
from mmengine.utils import mkdir_or_exist
from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS
from PIL import Image
from prettytable import PrettyTable

from hieraseg.hierarchy import ClassHierarchy, HierarchyLike, build_hierarchy
from ..calibration import (calibration_metrics, level_calibration_counts,
                           sample_level_confidences, summed_level_counts)
from .missed_classes import warn_missed_classes


@METRICS.register_module()
class HierarchicalIoUMetric(IoUMetric):
    """mIoU, mAcc and aAcc at every level of a class hierarchy.

    The leaf prediction (``pred_sem_seg``) and the leaf ground truth are mapped to each level
    with the hierarchy's lookup table (ignore pixels stay ignored) and scored as mmseg's
    :class:`IoUMetric` scores them. For an HSSN model the mapped leaf prediction is exactly its
    hierarchy-consistent prediction at that level.

    Keys returned, finest level first: ``mIoU``, ``mAcc``, ``aAcc`` (the finest level, equal
    to what :class:`IoUMetric` reports, so ``save_best='mIoU'`` keeps working), then
    ``mIoU_<level>``, ``mAcc_<level>``, ``aAcc_<level>`` for every level, named by the
    hierarchy's level names (spaces become underscores), e.g. ``mIoU_class`` and
    ``mIoU_category`` for Cityscapes. A class-wise table is logged per level.

    Predictions written (``output_dir``, which ``tools/test.py --out`` sets): for every
    image ``<output_dir>/<image name>.png``, the leaf prediction as mmseg's IoUMetric writes
    it (8-bit label ids, ``reduce_zero_label`` undone), and one sub-folder per level,
    ``<output_dir>/<level name>/<image name>.png``, with that level's class ids. With
    ``format_only=True`` only the PNGs are written, no ground truth is read and no metric
    is computed.

    Calibration (``calibration_bins > 0``): ``ECE_<level>`` and ``cwECE_<level>`` for every
    level, in percent, over that many equal-width confidence bins
    (:mod:`hieraseg.evaluation.calibration`), from the prediction's ``level_confidences``
    (hieraseg's segmentors write them) or, for a flat mmseg segmentor, the softmax of its
    leaf ``seg_logits`` with a parent's probability the sum of its leaves'. Only per-bin
    sums are kept per image, never the pixels.

    Args:
        hierarchy: the class hierarchy (a built-in name, a dict or a ClassHierarchy); if
            None, the data set's ``dataset_meta['hierarchy']`` is used.
        calibration_bins (int): confidence bins for ECE and class-wise ECE; 0 (the default)
            computes neither.
        prefix (str, optional): prepended to the metric names (``<prefix>/mIoU``). Default:
            none (``default_prefix`` is ``''``: the names stay those of mmseg's IoUMetric).
        Other arguments are those of :class:`IoUMetric`; ``iou_metrics`` must be
        ``['mIoU']`` (the default). Any other argument is an error (IoUMetric would drop it).
    """

    # No prefix, as mmseg's IoUMetric writes its names, and said so: mmengine warns "The
    # prefix is not set" where a metric leaves it None.
    default_prefix: Optional[str] = ''

    def __init__(self,
                 hierarchy: Optional[HierarchyLike] = None,
                 calibration_bins: int = 0,
                 ignore_index: int = 255,
                 iou_metrics: Sequence[str] = ('mIoU', ),
                 nan_to_num: Optional[int] = None,
                 beta: int = 1,
                 collect_device: str = 'cpu',
                 output_dir: Optional[str] = None,
                 format_only: bool = False,
                 prefix: Optional[str] = None):
        super().__init__(
            ignore_index=ignore_index,
            iou_metrics=list(iou_metrics) if isinstance(iou_metrics, (list, tuple))
            else iou_metrics,
            nan_to_num=nan_to_num,
            beta=beta,
            collect_device=collect_device,
            output_dir=output_dir,
            format_only=format_only,
            prefix=prefix)
        if not isinstance(calibration_bins, int) or isinstance(calibration_bins, bool) or \
                calibration_bins < 0:
            raise ValueError(f'HierarchicalIoUMetric: calibration_bins must be an integer >= 0 '
                             f'(0 = no calibration metrics), got {calibration_bins!r}')
        self.calibration_bins = calibration_bins
        if self.metrics != ['mIoU'] and self.metrics != 'mIoU':
            raise ValueError(f'HierarchicalIoUMetric computes mIoU; got iou_metrics='
                             f'{self.metrics}')
        if self.format_only and not self.output_dir:
            raise ValueError('HierarchicalIoUMetric: format_only=True writes predictions '
                             'and computes nothing, so it needs output_dir (tools/test.py '
                             '--out DIR)')
        self._hierarchy = None if hierarchy is None else build_hierarchy(hierarchy)

    @property
    def hierarchy(self) -> ClassHierarchy:
        if self._hierarchy is None:
            spec = (self.dataset_meta or {}).get('hierarchy')
            if spec is None:
                raise ValueError('HierarchicalIoUMetric has no hierarchy: give it one '
                                 '(hierarchy=...) or use a data set whose metainfo has one')
            self._hierarchy = build_hierarchy(spec)
        return self._hierarchy

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Stores, per image, ``(intersect, union, pred area, label area)`` per level, and
        writes the predictions where ``output_dir`` is set."""
        hierarchy = self.hierarchy
        if self.dataset_meta and 'classes' in self.dataset_meta:
            hierarchy.check_classes(self.dataset_meta['classes'], 'the evaluated data set')
        for data_sample in data_samples:
            pred = data_sample['pred_sem_seg']['data'].squeeze()
            if self.output_dir:
                self.write_prediction(data_sample, pred)
            if self.format_only:
                continue
            label = data_sample['gt_sem_seg']['data'].squeeze().to(pred)
            per_level = []
            for level in range(hierarchy.num_levels):
                per_level.append(
                    self.intersect_and_union(
                        hierarchy.labels_at_level(pred, level, self.ignore_index),
                        hierarchy.labels_at_level(label, level, self.ignore_index),
                        hierarchy.level_sizes[level], self.ignore_index))
            calibration = None
            if self.calibration_bins:
                calibration = level_calibration_counts(
                    sample_level_confidences(data_sample, hierarchy).to(pred.device), pred,
                    label, hierarchy, self.calibration_bins, self.ignore_index)
            self.results.append((per_level, calibration))

    def write_prediction(self, data_sample: dict, pred) -> None:
        """Writes the PNGs of one image; ``pred`` is its ``[H, W]`` leaf prediction."""
        hierarchy = self.hierarchy
        name = osp.splitext(osp.basename(data_sample['img_path']))[0] + '.png'
        leaf = pred.cpu().numpy().astype(np.int64)
        if data_sample.get('reduce_zero_label', False):
            leaf = leaf + 1  # mmseg's convention: the data set's own label ids
        maps = [('', leaf)]
        for level, level_name in enumerate(hierarchy.level_names):
            maps.append((level_name.replace(' ', '_'),
                         hierarchy.labels_at_level(pred.cpu(), level).numpy()))
        for folder, labels in maps:
            folder = osp.join(self.output_dir, folder)
            mkdir_or_exist(folder)
            Image.fromarray(labels.astype(np.uint8)).save(osp.join(folder, name))

    def compute_metrics(self, results: List) -> Dict[str, float]:
        if self.format_only:
            print_log(f'predictions written to {osp.abspath(self.output_dir)} '
                      '(format_only: no metric computed)', logger='current')
            return OrderedDict()
        hierarchy = self.hierarchy
        calibration = [image[1] for image in results]
        results = [image[0] for image in results]
        metrics = OrderedDict()
        for level in range(hierarchy.num_levels):
            areas = [sum(parts) for parts in zip(*(image[level] for image in results))]
            per_class = {
                key: np.asarray(value, dtype=np.float64)
                for key, value in self.total_area_to_metrics(
                    *areas, self.metrics, self.nan_to_num, self.beta).items()
            }
            summary = OrderedDict(
                aAcc=np.round(np.nanmean(per_class['aAcc']) * 100, 2),
                mIoU=np.round(np.nanmean(per_class['IoU']) * 100, 2),
                mAcc=np.round(np.nanmean(per_class['Acc']) * 100, 2))
            name = hierarchy.level_names[level].replace(' ', '_')
            if level == 0:
                metrics.update(mIoU=summary['mIoU'], mAcc=summary['mAcc'],
                               aAcc=summary['aAcc'])
            for key, value in summary.items():
                metrics[f'{key}_{name}'] = value
            self._log_class_table(level, per_class)
        print_log('mIoU per level (finest first): ' + ', '.join(
            f'{name}={metrics["mIoU_" + name.replace(" ", "_")]:.2f}'
            for name in hierarchy.level_names), logger='current')
        if self.calibration_bins:
            metrics.update(calibration_metrics(summed_level_counts(calibration),
                                               hierarchy.level_names))
            print_log('ECE / class-wise ECE per level (finest first): ' + ', '.join(
                f'{name}={metrics["ECE_" + name.replace(" ", "_")]:.2f} / '
                f'{metrics["cwECE_" + name.replace(" ", "_")]:.2f}'
                for name in hierarchy.level_names), logger='current')
        warn_missed_classes(hierarchy, results)
        return metrics

    def _log_class_table(self, level: int, per_class: Dict[str, np.ndarray]):
        table = PrettyTable()
        table.add_column('Class', list(self.hierarchy.classes[level]))
        table.add_column('IoU', np.round(per_class['IoU'] * 100, 2).tolist())
        table.add_column('Acc', np.round(per_class['Acc'] * 100, 2).tolist())
        print_log(f'per class results at level {level + 1} '
                  f'({self.hierarchy.level_names[level]}):', logger='current')
        print_log('\n' + table.get_string(), logger='current')
