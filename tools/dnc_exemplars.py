"""Find the real training sample nearest to every DNC sub-centroid.

    python tools/dnc_exemplars.py CONFIG CHECKPOINT [--out JSON]
        [--real-observation-checkpoint OUT.pth] [--batch-size N] [--num-workers N]
        [--device DEVICE] [--no-progress] [--trust-checkpoint] [--cfg-options KEY=VALUE ...]

One pass over the training set (its test pipeline, the model in eval mode) finds, for
every class c and sub-centroid k, the training sample of class c whose feature is most
similar to p_{c,k} (an image for classification, a position of the embedding map for
segmentation). For a hierarchical DNC model the classes are all nodes of the hierarchy
(every level): a pixel is a sample of every node on its label's root-to-leaf path. Writes
them to CHECKPOINT.exemplars.json (image path, index, pixel, similarity). With
--real-observation-checkpoint, also writes a copy of the checkpoint whose sub-centroids
are those samples' features: `tools/test.py CONFIG OUT.pth` evaluates the paper's "real
observation" variant.
"""
import argparse

from mmengine.config import DictAction

from hieraseg.explain import (default_exemplar_path, find_exemplars, load_dnc_model,
                              real_observation_centroids, save_exemplars,
                              write_real_observation_checkpoint)
from hieraseg.explain.exemplar_search import similarity_summary
from hieraseg.utils.checkpoint import set_checkpoint_trust
from hieraseg.utils.tools import add_trust_checkpoint_argument


def parse_args():
    parser = argparse.ArgumentParser(
        description='Nearest real training sample of every DNC sub-centroid')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='a trained DNC checkpoint')
    parser.add_argument('--out', help='exemplar file (default: CHECKPOINT.exemplars.json)')
    parser.add_argument('--real-observation-checkpoint', metavar='OUT.pth',
                        help='also write a copy of the checkpoint whose sub-centroids are '
                        'the exemplars\' features')
    parser.add_argument('--batch-size', type=int,
                        help='images per forward (default: the config\'s test batch size)')
    parser.add_argument('--num-workers', type=int, default=0, help='data loading workers')
    parser.add_argument('--device', help='cpu, cuda, cuda:1 ... (default: cuda if there is '
                        'one, else cpu)')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    add_trust_checkpoint_argument(parser)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, as key=value pairs')
    args = parser.parse_args()
    if args.batch_size is not None and args.batch_size < 1:
        parser.error('--batch-size must be >= 1')
    return args


def main():
    args = parse_args()
    set_checkpoint_trust(args.trust_checkpoint)
    out = args.out or default_exemplar_path(args.checkpoint)
    dnc = load_dnc_model(args.config, args.checkpoint, args.device, args.cfg_options)
    print(f'{dnc.task} model, {dnc.num_classes} classes x {dnc.num_sub_centroids} '
          f'sub-centroids ({dnc.classifier_name}, {dnc.feat_dim}-d features)', flush=True)
    result = find_exemplars(dnc, batch_size=args.batch_size, num_workers=args.num_workers,
                            progress=not args.no_progress)
    print(f'searched {result.num_samples} training images: {similarity_summary(result)}')
    if result.missing:
        classes = sorted({c for c, _ in result.missing})
        print(f'no training sample of class(es) {classes}: their sub-centroids have no '
              'exemplar' + (' and keep their values in the real-observation checkpoint'
                            if args.real_observation_checkpoint else ''))
    real = None
    if args.real_observation_checkpoint:
        centroids = real_observation_centroids(dnc, result.search)
        real = write_real_observation_checkpoint(dnc, centroids,
                                                 args.real_observation_checkpoint, out)
        print(f'real-observation checkpoint: {args.real_observation_checkpoint} (evaluate '
              f'it with: python tools/test.py {args.config} '
              f'{args.real_observation_checkpoint})')
    save_exemplars(out, result, dnc, real_observation=real)
    print(f'exemplars: {out}')


if __name__ == '__main__':
    main()
