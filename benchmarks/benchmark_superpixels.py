"""Cost of CAST's Superpixels transform per image (issue #14, item 6c).

    OMP_NUM_THREADS=1 python benchmarks/benchmark_superpixels.py [--size 224]
        [--segments 196] [--repeats 20]

Times, on one CPU thread, the registered ``Superpixels`` transform (SLIC, Lab colour) on
four natural photographs shipped with scikit-image (astronaut, chelsea, coffee, rocket),
each resized to SIZE x SIZE, and, for scale, the rest of a DeiT-style mmpretrain training
pipeline on the same images (RandomResizedCrop + RandomFlip + RandAugment +
RandomErasing + PackInputs). Prints the median time per image and the segment counts.
"""
import argparse
import statistics
import time

import cv2
import numpy as np
from mmengine.dataset import Compose
from mmengine.registry import TRANSFORMS, DefaultScope
from skimage import data as skdata

import hieraseg  # noqa: F401  (registers Superpixels)

PHOTOS = ('astronaut', 'chelsea', 'coffee', 'rocket')
DEIT_STEPS = [
    dict(type='RandomResizedCrop', scale=224, backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandAugment', policies='timm_increasing', num_policies=2, total_level=10,
         magnitude_level=9, magnitude_std=0.5,
         hparams=dict(pad_val=[104, 116, 124], interpolation='bicubic')),
    dict(type='RandomErasing', erase_prob=0.25, mode='rand', min_area_ratio=0.02,
         max_area_ratio=1 / 3, fill_color=[103.53, 116.28, 123.675],
         fill_std=[57.375, 57.12, 58.395]),
    dict(type='PackInputs'),
]


def photos(size: int):
    """The photographs as BGR uint8 ``[size, size, 3]`` (as mmcv loads images)."""
    return [cv2.resize(getattr(skdata, name)()[..., ::-1], (size, size),
                       interpolation=cv2.INTER_AREA) for name in PHOTOS]


def median_ms(step, images, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        for image in images:
            results = dict(img=image.copy(), img_shape=image.shape[:2],
                           ori_shape=image.shape[:2])
            start = time.perf_counter()
            step(results)
            times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument('--segments', type=int, default=196)
    parser.add_argument('--repeats', type=int, default=20)
    args = parser.parse_args()
    images = photos(args.size)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        superpixels = TRANSFORMS.build(dict(type='Superpixels', num_segments=args.segments))
        deit = Compose([TRANSFORMS.build(step) for step in DEIT_STEPS])
    counts = [int(superpixels(dict(img=image))['superpixels'].max()) + 1 for image in images]
    np.random.seed(0)
    slic_ms = median_ms(superpixels, images, args.repeats)
    deit_ms = median_ms(deit, images, args.repeats)
    print(f'{args.size}x{args.size}, {args.segments} segments asked, '
          f'{len(images)} photos x {args.repeats} repeats, one thread')
    print(f'segments found per photo: {dict(zip(PHOTOS, counts))}')
    print(f'Superpixels (SLIC): {slic_ms:.1f} ms / image (median)')
    print(f'DeiT pipeline without it: {deit_ms:.1f} ms / image (median)')
    print(f'Superpixels / DeiT pipeline: {slic_ms / deit_ms:.1f}x')


if __name__ == '__main__':
    main()
