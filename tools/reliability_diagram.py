"""Reliability diagrams per hierarchy level of a trained model, as a PNG.

    python tools/reliability_diagram.py CONFIG CHECKPOINT --out PNG [--split val|test]
        [--bins 15] [--device cpu|cuda] [--cfg-options KEY=VALUE ...]

Predicts every image of the split (the model as configured, temperatures of
``model.test_cfg.level_temperatures`` included: point it at a config written by
tools/calibrate_temperature.py to see the calibrated model), sums the calibration counts of
all labelled pixels per level and draws one panel per level: accuracy per confidence bin
against the diagonal, the share of pixels per bin, ECE and class-wise ECE
(hieraseg.visualization.reliability). Also prints ECE / cwECE per level. A flat
``EncoderDecoder`` config is evaluated as a ``FlatHieraEncoderDecoder`` (same weights).
"""
import argparse
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)


def parse_args(argv=None):
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('config', help='the model\'s config')
    parser.add_argument('checkpoint', help='the trained checkpoint')
    parser.add_argument('--out', required=True, help='the PNG to write')
    parser.add_argument('--split', choices=('val', 'test'), default='val',
                        help='the data loader to evaluate (default: val)')
    parser.add_argument('--bins', type=int, default=15, help='confidence bins (default 15)')
    parser.add_argument('--device', help='cpu, cuda ... (default: cuda if there is one)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, as key=value pairs')
    args = parser.parse_args(argv)
    if args.bins < 1:
        parser.error('--bins must be >= 1')
    return args


def main(argv=None):
    args = parse_args(argv)
    import hieraseg  # noqa: F401  (registers the models and data sets)
    from hieraseg.evaluation.calibration import calibration_metrics
    from hieraseg.evaluation.calibration_runs import (build_split_dataloader,
                                                      build_trained_segmentor,
                                                      dataset_hierarchy, make_calibratable)
    from hieraseg.evaluation.temperature_scaling import run_calibration_pass
    from hieraseg.utils.tools import load_config
    from hieraseg.visualization.reliability import draw_reliability_diagrams

    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint!r} does not exist')
    cfg = load_config(args.config, args.cfg_options)
    loader = build_split_dataloader(cfg, args.split)
    hierarchy = dataset_hierarchy(loader, cfg)
    make_calibratable(cfg, hierarchy, loader.dataset.metainfo.get('hierarchy'))
    model = build_trained_segmentor(cfg, args.checkpoint, args.device)
    collected = run_calibration_pass(model, loader, hierarchy, args.bins, 0,
                                     getattr(loader.dataset, 'ignore_index', 255))
    metrics = calibration_metrics(collected.level_counts, hierarchy.level_names)
    print(f'{args.split} ({len(loader.dataset)} images), ECE / cwECE (%): ' + ', '.join(
        f'{name}={metrics["ECE_" + name.replace(" ", "_")]:.2f} / '
        f'{metrics["cwECE_" + name.replace(" ", "_")]:.2f}' for name in hierarchy.level_names))
    name = osp.splitext(osp.basename(args.config))[0]
    draw_reliability_diagrams([(name[:40], collected.level_counts)], hierarchy.level_names,
                              args.out)
    print(f'written: {args.out}')
    return metrics


if __name__ == '__main__':
    main()
