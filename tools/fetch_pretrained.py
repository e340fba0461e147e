"""Download the pre-trained weights of configs, for a machine without internet.

    python tools/fetch_pretrained.py CONFIG [CONFIG ...] --out DIR [--cfg-options ...]
        [--dry-run]

Run it where there is internet. Every checkpoint the configs initialise from
(``model.pretrained``, ``init_cfg=dict(type='Pretrained', checkpoint=...)``; short names
such as ``open-mmlab://resnet101_v1c`` resolved through mmengine's tables) is downloaded to
``DIR/<file name>``, the name mmengine's loader gives it; files already there are kept.
Copy DIR to the cluster and train with ``tools/train.py CONFIG --pretrained-dir DIR`` (or
``export HIERASEG_PRETRAINED_DIR=DIR``), or copy the files into the torch hub cache
(``$TORCH_HOME/hub/checkpoints``) there. ``--dry-run`` prints the URLs and paths only.
Local paths in a config (your own earlier runs) are listed, not copied.
"""
import argparse
import os
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)


def parse_args(argv=None):
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('configs', nargs='+', metavar='CONFIG', help='config files')
    parser.add_argument('--out', required=True, metavar='DIR',
                        help='the folder to download into')
    parser.add_argument('--dry-run', action='store_true',
                        help='print what would be downloaded, download nothing')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, as in tools/train.py')
    return parser.parse_args(argv)


def plan(config_paths, cfg_options=None):
    """``(urls, local files)``: every URL to download (in first-seen order, each once) with
    the config keys that use it, and the local paths the configs name."""
    from hieraseg.utils.pretrained import pretrained_weights, resolve_url
    from hieraseg.utils.tools import load_config
    urls, local = {}, []
    for path in config_paths:
        cfg = load_config(path, cfg_options)
        for weights in pretrained_weights(cfg):
            url = resolve_url(weights.spec)
            if url is not None and url.startswith(('http://', 'https://')):
                urls.setdefault(url, []).append(f'{path}: {weights.key}')
            else:
                local.append((f'{path}: {weights.key}', url or weights.spec))
    return urls, local


def main(argv=None):
    import hieraseg  # noqa: F401  (first: it silences pkg_resources' warning)
    from torch.hub import download_url_to_file

    from hieraseg.utils.pretrained import file_name
    from hieraseg.utils.progress import on_terminal
    args = parse_args(argv)
    urls, local = plan(args.configs, args.cfg_options)
    for where, path in local:
        print(f'{where}: a local file, {path} (copy it yourself)')
    if not urls:
        print('no pre-trained weights to download')
        return
    if not args.dry_run:
        os.makedirs(args.out, exist_ok=True)
    for url, users in urls.items():
        target = osp.join(args.out, file_name(url))
        state = 'there already' if osp.isfile(target) else (
            'would download' if args.dry_run else 'downloading')
        print(f'{url} -> {target} ({state}; for {", ".join(users)})')
        if not args.dry_run and not osp.isfile(target):
            # writes a temporary file in the folder and renames it when complete
            download_url_to_file(url, target, progress=on_terminal(sys.stderr))
    if not args.dry_run:
        print(f'done: copy {args.out} to the machine without internet and train with '
              f'--pretrained-dir {args.out}')


if __name__ == '__main__':
    main()
