"""Fit one temperature per hierarchy level on a validation set (post-hoc calibration).

    python tools/calibrate_temperature.py CONFIG CHECKPOINT --out CALIBRATED_CONFIG
        [--split val] [--report-split val|test] [--pixels-per-image 1000] [--bins 15]
        [--seed 0] [--diagram PNG] [--device cpu|cuda] [--cfg-options KEY=VALUE ...]

1. Predicts every image of ``--split`` (default val: pixels the model was not trained on)
   and keeps ``--pixels-per-image`` random labelled pixels of each: their untempered logits,
   label and prediction.
2. Fits ``T_l`` per level by minimising the NLL of that level's probabilities
   (:mod:`hieraseg.evaluation.temperature_scaling`).
3. Predicts ``--report-split`` (default: the same split) without and with the temperatures
   and prints ECE and class-wise ECE per level before / after. The predictions of the two
   passes must be identical (checked image by image; an error otherwise).
4. Writes CALIBRATED_CONFIG: the whole config (``--cfg-options`` merged) with
   ``model.test_cfg.level_temperatures = [T_0, ..., T_{L-1}]``; a flat ``EncoderDecoder``
   becomes a ``FlatHieraEncoderDecoder`` with the data set's hierarchy (same weights), the
   segmentor that applies temperatures. ``--diagram`` also draws the reliability diagrams
   before / after as a PNG.

Test with the temperatures: ``python tools/test.py CALIBRATED_CONFIG CHECKPOINT`` (and
``--cfg-options test_evaluator.calibration_bins=15`` for the ECE keys): tools/test.py builds
the model from that config, and the segmentor reads ``test_cfg.level_temperatures`` in every
prediction. The checkpoint is not changed.
"""
import argparse
import datetime
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)


def parse_args(argv=None):
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('config', help='the model\'s config')
    parser.add_argument('checkpoint', help='the trained checkpoint')
    parser.add_argument('--out', required=True, help='the calibrated config to write (.py)')
    parser.add_argument('--split', choices=('val', 'test'), default='val',
                        help='the data loader to fit on (default: val)')
    parser.add_argument('--report-split', choices=('val', 'test'),
                        help='the data loader to report ECE on (default: --split)')
    parser.add_argument('--pixels-per-image', type=int, default=1000,
                        help='random labelled pixels per image to fit on (default 1000)')
    parser.add_argument('--bins', type=int, default=15, help='ECE bins (default 15)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the pixel sampling')
    parser.add_argument('--diagram', help='also write reliability diagrams (PNG) here')
    parser.add_argument('--device', help='cpu, cuda ... (default: cuda if there is one)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, as key=value pairs')
    args = parser.parse_args(argv)
    if not args.out.endswith('.py'):
        parser.error(f'--out must name a .py config, got {args.out!r}')
    if args.pixels_per_image < 1 or args.bins < 1:
        parser.error('--pixels-per-image and --bins must be >= 1')
    return args


def config_text(cfg, header: str) -> str:
    """The config as Python, under ``header`` comment lines."""
    comments = ''.join(f'# {line}\n' if line else '#\n' for line in header.splitlines())
    return comments + cfg.pretty_text + '\n'


def report(level_names, temperatures, before, after):
    """Printed table and the per-level figures (percent)."""
    from hieraseg.evaluation.calibration import calibration_metrics
    metrics_before = calibration_metrics(before.level_counts, level_names)
    metrics_after = calibration_metrics(after.level_counts, level_names)
    lines = [f'{"level":<14}{"T":>8}{"ECE before":>12}{"ECE after":>11}'
             f'{"cwECE before":>14}{"cwECE after":>13}']
    for name, temperature in zip(level_names, temperatures):
        key = name.replace(' ', '_')
        lines.append(f'{name:<14}{temperature:>8.4f}{metrics_before["ECE_" + key]:>12.2f}'
                     f'{metrics_after["ECE_" + key]:>11.2f}'
                     f'{metrics_before["cwECE_" + key]:>14.2f}'
                     f'{metrics_after["cwECE_" + key]:>13.2f}')
    return '\n'.join(lines), metrics_before, metrics_after


def main(argv=None):
    args = parse_args(argv)
    import hieraseg  # noqa: F401  (registers the models and data sets)
    from hieraseg.evaluation.calibration_runs import (build_split_dataloader,
                                                      build_trained_segmentor,
                                                      dataset_hierarchy, make_calibratable,
                                                      set_level_temperatures)
    from hieraseg.evaluation.temperature_scaling import (T_MAX, T_MIN, changed_predictions,
                                                         fit_level_temperatures,
                                                         level_probability_mode,
                                                         run_calibration_pass)
    from hieraseg.utils.atomic_files import write_atomically
    from hieraseg.utils.tools import load_config

    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint!r} does not exist')
    cfg = load_config(args.config, args.cfg_options)
    fit_loader = build_split_dataloader(cfg, args.split)
    report_split = args.report_split or args.split
    report_loader = fit_loader if report_split == args.split else \
        build_split_dataloader(cfg, report_split)
    hierarchy = dataset_hierarchy(fit_loader, cfg)
    switched = make_calibratable(cfg, hierarchy,
                                 fit_loader.dataset.metainfo.get('hierarchy'))
    model = build_trained_segmentor(cfg, args.checkpoint, args.device)
    mode = level_probability_mode(model)
    ignore_index = getattr(fit_loader.dataset, 'ignore_index', 255)

    set_level_temperatures(model, None)
    print(f'fitting on {args.split} ({len(fit_loader.dataset)} images, level probability '
          f'{mode!r})')
    fit_pass = run_calibration_pass(model, fit_loader, hierarchy, args.bins,
                                    args.pixels_per_image, ignore_index, args.seed)
    temperatures = fit_level_temperatures(fit_pass, hierarchy, mode)
    for name, temperature in zip(hierarchy.level_names, temperatures):
        if not T_MIN * 1.01 < temperature < T_MAX / 1.01:
            print(f'warning: the temperature of level {name!r} ({temperature:.4g}) is at the '
                  f'bound of the search [{T_MIN}, {T_MAX}]: the model\'s confidences at that '
                  f'level hardly depend on being right (an untrained model?)')
    before = fit_pass if report_loader is fit_loader else run_calibration_pass(
        model, report_loader, hierarchy, args.bins, 0, ignore_index)
    set_level_temperatures(model, temperatures)
    after = run_calibration_pass(model, report_loader, hierarchy, args.bins, 0, ignore_index)
    changed = changed_predictions(before.prediction_digests, after.prediction_digests)
    if changed:
        raise RuntimeError(f'the temperatures changed the predictions of {len(changed)} '
                           f'images (first: index {changed[0]}); this is a bug')
    table, metrics_before, metrics_after = report(hierarchy.level_names, temperatures,
                                                  before, after)
    print(f'{fit_pass.num_sampled} pixels fitted; ECE / cwECE (%) on {report_split} '
          f'({len(report_loader.dataset)} images, {args.bins} bins), predictions '
          f'unchanged:\n{table}')

    rounded = [round(t, 4) for t in temperatures]
    cfg.model.setdefault('test_cfg', {})
    cfg.model.test_cfg['level_temperatures'] = rounded
    header = '\n'.join([
        f'Calibrated by tools/calibrate_temperature.py on {datetime.date.today()}:',
        f'  config {args.config}, checkpoint {args.checkpoint}',
        f'  level temperatures {rounded} ({", ".join(hierarchy.level_names)}), fitted on '
        f'{fit_pass.num_sampled} pixels of {args.split}',
        *(f'  {line}' for line in table.splitlines()),
        *(['  the flat EncoderDecoder became a FlatHieraEncoderDecoder (same weights)']
          if switched else []),
    ])
    write_atomically(config_text(cfg, header).encode(), args.out)
    print(f'written: {args.out} (python tools/test.py {args.out} {args.checkpoint})')
    if args.diagram:
        from hieraseg.visualization.reliability import draw_reliability_diagrams
        draw_reliability_diagrams([('before', before.level_counts),
                                   ('after', after.level_counts)],
                                  hierarchy.level_names, args.diagram)
        print(f'reliability diagrams: {args.diagram}')
    return dict(temperatures=temperatures, before=metrics_before, after=metrics_after,
                switched=switched)


if __name__ == '__main__':
    main()
