"""Pre-trained weights: short names resolved through mmengine's tables, found in a folder of
the user's or the torch hub cache, fetched for an offline machine by
tools/fetch_pretrained.py (from a local HTTP server here: nothing leaves the machine)."""
import functools
import http.server
import importlib.util
import os.path as osp
import threading

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, DefaultScope

from hieraseg.utils.pretrained import (PretrainedWeightsError, check_pretrained_weights,
                                       hub_cache_path, pretrained_weights, probe, resolve_url)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOY = osp.join(REPO, 'configs/hssn/fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py')
R101_V1C = 'https://download.openmmlab.com/pretrain/third_party/resnet101_v1c-e67eebb6.pth'


@pytest.mark.parametrize('spec, url', [
    ('open-mmlab://resnet101_v1c', R101_V1C),
    ('openmmlab://resnet101_v1c', R101_V1C),
    # a renamed model: mmengine's deprecated.json, then openmmlab.json
    ('open-mmlab://resnet50_caffe',
     'https://download.openmmlab.com/pretrain/third_party/resnet50_caffe-788b5fa3.pth'),
    ('mmcls://vgg11', 'https://download.openmmlab.com/mmclassification/v0/vgg/'
     'vgg11_batch256_imagenet_20210208-4271cd6c.pth'),
    ('torchvision://alexnet', 'https://download.pytorch.org/models/alexnet-owt-7be5be79.pth'),
    ('https://example.org/a/b.pth', 'https://example.org/a/b.pth'),
    ('work_dirs/run/epoch_3.pth', None),
])
def test_short_names_resolve_to_the_urls_mmengine_downloads(spec, url):
    assert resolve_url(spec) == url


def test_an_unknown_short_name_names_the_closest():
    with pytest.raises(KeyError, match=r"mmengine knows no pre-trained model 'resnet101_v1x'"
                       r" \(closest: resnet101_v1c"):
        resolve_url('open-mmlab://resnet101_v1x')


def test_the_hub_cache_path_is_the_one_the_loader_reads(monkeypatch, tmp_path):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    assert hub_cache_path(R101_V1C) == str(tmp_path / 'hub' / 'checkpoints' /
                                           'resnet101_v1c-e67eebb6.pth')


def test_every_checkpoint_of_the_model_is_found():
    cfg = Config(dict(model=dict(
        pretrained='open-mmlab://resnet101_v1c',
        backbone=dict(init_cfg=[dict(type='Kaiming'),
                                dict(type='Pretrained', checkpoint='a.pth', prefix='backbone.')]),
        decode_head=dict(init_cfg=dict(type='Pretrained', checkpoint='https://x.org/h.pth')))))
    assert [(w.key, w.scratch, w.spec) for w in pretrained_weights(cfg)] == [
        ('model.pretrained', 'model.pretrained=None', 'open-mmlab://resnet101_v1c'),
        ('model.backbone.init_cfg.1.checkpoint', 'model.backbone.init_cfg=None', 'a.pth'),
        ('model.decode_head.init_cfg.checkpoint', 'model.decode_head.init_cfg=None',
         'https://x.org/h.pth'),
    ]


@pytest.fixture
def server(tmp_path):
    """A local HTTP server of ``tmp_path / 'served'``; yields (folder, base URL)."""
    folder = tmp_path / 'served'
    folder.mkdir()
    handler = functools.partial(QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield folder, f'http://127.0.0.1:{httpd.server_address[1]}'
    httpd.shutdown()
    httpd.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def fetch_pretrained():
    path = osp.join(REPO, 'tools', 'fetch_pretrained.py')
    spec = importlib.util.spec_from_file_location('fetch_pretrained', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fetched_weights_are_read_offline_from_the_pretrained_dir(server, tmp_path, capsys,
                                                                  monkeypatch):
    folder, base = server
    with DefaultScope.overwrite_default_scope('mmseg'):
        cfg = Config.fromfile(TOY)
        backbone = MODELS.build(cfg.model.backbone)
        weights = {k: torch.full_like(v, 0.25) if v.is_floating_point() else v
                   for k, v in backbone.state_dict().items()}
    torch.save(weights, folder / 'r18-w16-abcd.pth')
    config = tmp_path / 'pretrained.py'
    config.write_text(f'_base_ = [{TOY!r}]\nmodel = dict(pretrained="{base}/r18-w16-abcd.pth")\n')

    out = tmp_path / 'weights'
    fetch_pretrained().main([str(config), '--out', str(out), '--dry-run'])
    assert f'{base}/r18-w16-abcd.pth -> {out}/r18-w16-abcd.pth (would download' in \
        capsys.readouterr().out
    assert not out.exists()
    fetch_pretrained().main([str(config), '--out', str(out)])
    assert (out / 'r18-w16-abcd.pth').read_bytes() == (folder / 'r18-w16-abcd.pth').read_bytes()

    monkeypatch.setenv('HIERASEG_OFFLINE', '1')
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))
    cfg = Config.fromfile(str(config))
    with pytest.raises(PretrainedWeightsError, match='not tried: HIERASEG_OFFLINE=1'):
        check_pretrained_weights(cfg)
    lines = check_pretrained_weights(cfg, str(out))
    assert cfg.model.pretrained == str(out / 'r18-w16-abcd.pth')
    assert lines == [f'model.pretrained: {base}/r18-w16-abcd.pth read from '
                     f'{out}/r18-w16-abcd.pth']
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(cfg.model)
    model.init_weights()  # as the Runner does before training
    stem = model.backbone.stem[0].weight  # ResNetV1c's first stem convolution
    assert torch.equal(stem, torch.full_like(stem, 0.25))


def test_probe_says_why_a_url_cannot_be_fetched(server, monkeypatch):
    monkeypatch.delenv('HIERASEG_OFFLINE', raising=False)
    folder, base = server
    (folder / 'there.pth').write_bytes(b'x')
    assert probe(f'{base}/there.pth') is None
    assert probe(f'{base}/missing.pth') == 'the server answers 404 File not found'
