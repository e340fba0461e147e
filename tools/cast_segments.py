"""Draw CAST's hierarchical segmentation of one image and print the segment counts.

    python tools/cast_segments.py CONFIG CHECKPOINT IMAGE [--out PNG] [--device cpu]
        [--trust-checkpoint] [--cfg-options KEY=VALUE ...]

CONFIG is a CAST classification config (model ``CASTImageClassifier``); the image goes
through its test pipeline (so its superpixels are computed as in evaluation). The PNG holds
the image, then one panel per level (level 0 = the superpixels, then every graph-pooling
level): each segment filled with its mean colour, boundaries in white.
"""
import argparse
import os.path as osp
import sys

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import MODELS, TRANSFORMS, DefaultScope
from mmengine.runner import load_checkpoint
from PIL import Image, ImageDraw

from hieraseg.utils.checkpoint import use_safe_checkpoint_loading
from hieraseg.utils.tools import add_trust_checkpoint_argument

MIN_PANEL = 192  # small images are enlarged (nearest) to at least this side


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('image')
    parser.add_argument('--out', help='PNG to write (default: IMAGE_cast_segments.png)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    add_trust_checkpoint_argument(parser)
    return parser.parse_args(argv)


def mean_colours(image: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """``image`` ``[H, W, 3]`` with every segment of ``segments`` ``[H, W]`` (ids >= 0)
    filled with its mean colour (vectorised: one bincount per channel)."""
    ids = segments.ravel()
    counts = np.bincount(ids).clip(min=1)
    means = np.stack([np.bincount(ids, weights=image[..., c].ravel(), minlength=len(counts))
                      for c in range(3)], 1) / counts[:, None]
    return means[segments].round().astype(np.uint8)


def boundaries(segments: np.ndarray) -> np.ndarray:
    """``[H, W]`` bool: pixels whose right or lower neighbour is in another segment."""
    edge = np.zeros(segments.shape, dtype=bool)
    edge[:, :-1] |= segments[:, :-1] != segments[:, 1:]
    edge[:-1] |= segments[:-1] != segments[1:]
    return edge


def draw_panels(image: np.ndarray, levels: np.ndarray, titles) -> Image.Image:
    """The image and one panel per level of ``levels`` ``[L, H, W]`` side by side, each
    titled; returns a PIL image."""
    scale = max(1, int(np.ceil(MIN_PANEL / max(image.shape[:2]))))
    panels = [image]
    for segments in levels:
        panel = mean_colours(image, segments)
        panel[boundaries(segments)] = 255
        panels.append(panel)
    height, width = image.shape[0] * scale, image.shape[1] * scale
    gap, title_h = 4, 14
    canvas = Image.new('RGB', (len(panels) * (width + gap) - gap, height + title_h), 'black')
    draw = ImageDraw.Draw(canvas)
    for index, (panel, title) in enumerate(zip(panels, ['image'] + list(titles))):
        x = index * (width + gap)
        canvas.paste(Image.fromarray(panel).resize((width, height), Image.NEAREST),
                     (x, title_h))
        draw.text((x + 2, 1), title, fill='white')
    return canvas


def segment_image(cfg: Config, checkpoint: str, image_path: str, device: str = 'cpu'):
    """Runs the config's test pipeline and model on one image. Returns the pipeline's RGB
    image ``[H, W, 3]`` uint8, the segments ``[L + 1, H, W]`` and the cluster counts."""
    import hieraseg  # noqa: F401  (registers CAST)
    scope = cfg.get('default_scope', 'mmpretrain')
    with DefaultScope.overwrite_default_scope(scope):
        model = MODELS.build(cfg.model)
        pipeline = Compose([TRANSFORMS.build(step)
                            for step in cfg.test_dataloader.dataset.pipeline])
    if not hasattr(model, 'predict_segments'):
        raise TypeError(f'{type(model).__name__} has no predict_segments: CONFIG must be a '
                        'CAST classifier config (CASTImageClassifier)')
    load_checkpoint(model, checkpoint, map_location='cpu')
    model.to(device).eval()
    packed = pipeline(dict(img_path=image_path, sample_idx=0))
    image = packed['inputs'].permute(1, 2, 0).numpy()
    if cfg.model.data_preprocessor.get('to_rgb', False):
        image = image[..., ::-1]
    data = model.data_preprocessor(pseudo_collate([packed]), False)
    with torch.no_grad():
        segments, _ = model.predict_segments(data['inputs'], data['data_samples'])
    height, width = image.shape[:2]
    return (np.ascontiguousarray(image), segments[0, :, :height, :width].cpu().numpy(),
            tuple(model.backbone.num_clusters))


def main(argv=None):
    args = parse_args(argv)
    use_safe_checkpoint_loading(trusted=args.trust_checkpoint)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    image, segments, clusters = segment_image(cfg, args.checkpoint, args.image, args.device)
    counts = [len(np.unique(level[level >= 0])) for level in segments]
    print(f'level 0 (superpixels): {counts[0]} segments')
    for level, (count, k) in enumerate(zip(counts[1:], clusters), 1):
        print(f'level {level} ({k} clusters): {count} segments')
    titles = [f'superpixels: {counts[0]}'] + [
        f'level {i}: {n}' for i, n in enumerate(counts[1:], 1)]
    out = args.out or osp.splitext(args.image)[0] + '_cast_segments.png'
    draw_panels(image, np.clip(segments, 0, None), titles).save(out)
    print(f'wrote {out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
