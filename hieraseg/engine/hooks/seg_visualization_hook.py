"""Pictures of the predictions of a test (or validation) run, one file per image."""
import os
import os.path as osp
from typing import Optional, Sequence

import mmcv
import numpy as np
import torch.nn.functional as F
from mmengine import fileio
from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from mmengine.structures import PixelData
from mmengine.visualization import Visualizer
from PIL import Image

__all__ = ['HieraSegVisualizationHook']

_MAPS = ('gt_sem_seg', 'pred_sem_seg')


@HOOKS.register_module()
class HieraSegVisualizationHook(Hook):
    """Draws predictions with the run's visualizer, as mmseg's ``SegVisualizationHook``
    does, but reads nothing of the training loop and writes plain files.

    mmseg's hook passes ``runner.iter`` as the picture's step, which builds the training
    loop, and with it the training data set, in a test run; this hook counts the pictures
    itself. ``tools/test.py --show-dir DIR`` uses it with ``out_dir=DIR``.

    Files (with ``out_dir``): ``<out_dir>/<image file name without extension>.png`` in a
    test run (the names ``tools/test.py --out`` writes too), and
    ``<out_dir>/iter_<N>/<name>.png`` for the validations during training (N: the training
    iteration). A picture is written under a temporary name and renamed when complete.
    Without ``out_dir`` the pictures go to the visualizer's backends (``add_image``), as
    mmseg's hook sends them.

    Size: an image wider than ``max_width`` pixels is shrunk (its label maps too, nearest
    neighbour) before it is drawn, and a picture still wider (the visualizer puts panels
    side by side) is shrunk to ``max_width``; 0 keeps the full size.

    Args:
        draw (bool): draw at all. Default False (a config can keep the hook, idle).
        interval (int): draw the images of every ``interval``-th batch (test) or the first
            image of every ``interval``-th batch (validation). Default 1.
        show (bool): show each picture in a window. Default False.
        wait_time (float): seconds each shown picture stays. Default 0.
        out_dir (str, optional): the folder for the files. Default None.
        max_width (int): the widest picture, in pixels; 0: no limit. Default 2048.
        backend_args (dict, optional): how to read the images (mmengine fileio).
    """

    priority = 'NORMAL'

    def __init__(self,
                 draw: bool = False,
                 interval: int = 1,
                 show: bool = False,
                 wait_time: float = 0.,
                 out_dir: Optional[str] = None,
                 max_width: int = 2048,
                 backend_args: Optional[dict] = None):
        if not isinstance(interval, int) or interval < 1:
            raise ValueError(f'HieraSegVisualizationHook: interval must be an integer >= 1, '
                             f'got {interval!r}')
        if not isinstance(max_width, int) or max_width < 0:
            raise ValueError('HieraSegVisualizationHook: max_width must be an integer >= 0 '
                             f'(0: full size), got {max_width!r}')
        self.draw = draw
        self.interval = interval
        self.show = show
        self.wait_time = wait_time
        self.out_dir = out_dir
        self.max_width = max_width
        self.backend_args = backend_args
        self._count = 0

    def after_val_iter(self, runner, batch_idx: int, data_batch=None,
                       outputs: Optional[Sequence] = None) -> None:
        if self.draw and outputs and self.every_n_inner_iters(batch_idx, self.interval):
            step = runner.message_hub.get_info('iter')  # set by training only, else None
            folder = None if self.out_dir is None else osp.join(
                self.out_dir, 'val' if step is None else f'iter_{step}')
            self._draw(runner, outputs[0], folder)

    def after_test_iter(self, runner, batch_idx: int, data_batch=None,
                        outputs: Optional[Sequence] = None) -> None:
        if self.draw and self.every_n_inner_iters(batch_idx, self.interval):
            for sample in outputs or ():
                self._draw(runner, sample, self.out_dir)

    def _draw(self, runner, sample, folder: Optional[str]) -> None:
        visualizer = Visualizer.get_current_instance()
        image = mmcv.imfrombytes(fileio.get(sample.img_path, backend_args=self.backend_args),
                                 channel_order='rgb')
        image, sample = self.shrink(image, sample)
        name = osp.splitext(osp.basename(sample.img_path))[0]
        self._count += 1
        if folder is None:
            visualizer.add_datasample(name, image, data_sample=sample, show=self.show,
                                      wait_time=self.wait_time, step=self._count)
            return
        os.makedirs(folder, exist_ok=True)
        final = osp.join(folder, name + '.png')
        partial = osp.join(folder, f'.{name}.{os.getpid()}.partial.png')
        try:
            visualizer.add_datasample(name, image, data_sample=sample, show=self.show,
                                      wait_time=self.wait_time, out_file=partial,
                                      step=self._count)
            self._fit_width(partial)
            os.replace(partial, final)
        finally:
            if osp.exists(partial):
                os.remove(partial)

    def shrink(self, image: np.ndarray, sample):
        """``image`` ([H, W, 3]) and the maps of ``sample`` shrunk to ``max_width`` pixels
        wide if wider (the maps by nearest neighbour); else both unchanged."""
        height, width = image.shape[:2]
        if not self.max_width or width <= self.max_width:
            return image, sample
        size = (max(1, round(height * self.max_width / width)), self.max_width)
        image = mmcv.imresize(image, size[::-1], interpolation='area')
        sample = sample.new()  # shares the other fields, so they are not copied
        for key in _MAPS:
            if key in sample:
                labels = sample.get(key).data  # [1, H, W]
                small = F.interpolate(labels[None].float(), size=size, mode='nearest')
                sample.set_data({key: PixelData(data=small[0].to(labels.dtype))})
        return image, sample

    def _fit_width(self, path: str) -> None:
        """Shrinks the picture at ``path`` to ``max_width`` pixels wide if it is wider."""
        if not self.max_width:
            return
        with Image.open(path) as picture:
            width, height = picture.size
            if width <= self.max_width:
                return
            size = (self.max_width, max(1, round(height * self.max_width / width)))
            smaller = picture.convert('RGB').resize(size, Image.Resampling.LANCZOS)
        smaller.save(path)
