"""tools/dnc_exemplars.py and tools/dnc_explain.py on a hierarchical DNC model (toy set):
an exemplar for every (node, sub-centroid), checked by brute force, and per-level
explanations."""
import json
import os.path as osp
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from .conftest import call_tool, run_tool, short_run_options
from .test_dnc_explain_tools import STRIDE, data_options

pytestmark = pytest.mark.slow  # end-to-end: left out by -m 'not slow'

CONFIG = 'configs/hssn/hiera-dnc-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py'
KEY = 'decode_head.classifier.centroids'


@pytest.fixture(scope='module')
def hiera_run(toy_root, tmp_path_factory):
    """Two training iterations (tools/train.py), then tools/dnc_exemplars.py in this process
    (test_dnc_explain_tools.py runs it as its own process)."""
    work_dir = tmp_path_factory.mktemp('hiera_dnc_work')
    code, out = run_tool([sys.executable, 'tools/train.py', CONFIG, '--work-dir',
                          str(work_dir)] + short_run_options(toy_root, 2, 2))
    assert code == 0, out
    checkpoint = str(work_dir / 'iter_2.pth')
    real = str(work_dir / 'real_observation.pth')
    with pytest.MonkeyPatch.context() as monkeypatch:
        call_tool(monkeypatch, 'tools/dnc_exemplars.py', CONFIG, checkpoint,
                  '--real-observation-checkpoint', real, '--device', 'cpu', '--no-progress',
                  '--cfg-options', *[f'{k}={v}' for k, v in data_options(toy_root).items()])
    with open(checkpoint + '.exemplars.json') as f:
        return checkpoint, real, json.load(f)


def test_an_exemplar_for_every_node_is_its_nearest_descendant_pixel(hiera_run, toy_root):
    from hieraseg.explain import load_dnc_model
    checkpoint, real, content = hiera_run
    dnc = load_dnc_model(CONFIG, checkpoint, 'cpu', data_options(toy_root))
    hierarchy = dnc.hierarchy
    dataset = dnc.build_train_dataset()
    centre = np.arange(4) * STRIDE + STRIDE // 2
    feats, labels = [], []
    for index in range(len(dataset)):
        feats.append(dnc.embed([dataset[index]]).features[0])
        gt = np.array(Image.open(dataset.get_data_info(index)['seg_map_path']))
        labels.append(torch.from_numpy(gt[np.ix_(centre, centre)].astype(np.int64)))
    feats, labels = torch.stack(feats), torch.stack(labels)
    centroids = dnc.classifier.centroids
    sims = torch.einsum('nyxd,vkd->nyxvk', feats, centroids)
    records = {(r['class'], r['sub_centroid']): r for r in content['exemplars']}
    assert content['model']['num_classes'] == hierarchy.num_nodes == 9
    real_centroids = torch.load(real, weights_only=False)['state_dict'][KEY]
    for node in range(hierarchy.num_nodes):
        level = next(lv for lv in range(hierarchy.num_levels)
                     if node < hierarchy.level_offsets[lv] + hierarchy.level_sizes[lv])
        leaves = (hierarchy.leaf_to_node[level] == node).nonzero().flatten()
        own = torch.isin(labels, leaves)  # pixels of any descendant leaf
        for k in range(dnc.num_sub_centroids):
            if not own.any():
                assert [node, k] in content['missing']
                continue
            record = records[(node, k)]
            n, (fy, fx) = record['index'], record['feature_pixel']
            assert record['level'] == level and own[n, fy, fx]
            assert record['class_name'] == hierarchy.classes[level][
                node - hierarchy.level_offsets[level]]
            assert record['similarity'] == pytest.approx(
                float(sims[..., node, k][own].max()), abs=1e-5)
            torch.testing.assert_close(real_centroids[node, k], feats[n, fy, fx],
                                       atol=1e-5, rtol=0)


def test_explain_names_an_exemplar_per_level(hiera_run, toy_root, tmp_path, monkeypatch,
                                             capfd):
    checkpoint, _, content = hiera_run
    image = osp.join(toy_root, 'leftImg8bit/val/toyville/toyville_val_000000_leftImg8bit.png')
    out_png = str(tmp_path / 'explain.png')
    call_tool(monkeypatch, 'tools/dnc_explain.py', CONFIG, checkpoint, image, '--out',
              out_png, '--device', 'cpu', '--pixel', '5', '9')
    out = capfd.readouterr().out
    assert 'exemplars behind the prediction, per level:' in out
    for level in ('texture', 'colour'):
        assert f'  {level}: pixel (y, x) (5, 9) is ' in out
        path = str(tmp_path / f'explain.{level}.png')
        assert f'picture: {path}' in out
        assert np.asarray(Image.open(path).convert('RGB')).shape == (360, 1200, 3)
    assert out.count('; exemplar: ') >= 2  # one per level (every node has exemplars)
