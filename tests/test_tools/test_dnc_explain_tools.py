"""tools/dnc_exemplars.py, tools/test.py on the real-observation checkpoint and
tools/dnc_explain.py on the toy segmentation set, run as a user runs them, with the
exemplars checked against a brute-force search."""
import json
import os.path as osp
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from .conftest import call_tool, eval_options, run_tool, short_run_options

pytestmark = pytest.mark.slow  # end-to-end: left out by -m 'not slow'

CONFIG = 'configs/dnc/dnc-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py'
KEY = 'decode_head.classifier.centroids'
STRIDE = 8  # the toy FCN's output stride: 32x32 toy images give 4x4 embedding maps


def data_options(root):
    return {f'{loader}.dataset.data_root': root
            for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')}


@pytest.fixture(scope='module')
def exemplar_run(toy_root, tmp_path_factory):
    """Two training iterations, then dnc_exemplars with a real-observation checkpoint."""
    work_dir = tmp_path_factory.mktemp('dnc_work')
    code, out = run_tool([sys.executable, 'tools/train.py', CONFIG, '--work-dir',
                          str(work_dir)] + short_run_options(toy_root, 2, 2))
    assert code == 0, out
    checkpoint = str(work_dir / 'iter_2.pth')
    real = str(work_dir / 'real_observation.pth')
    code, out = run_tool([sys.executable, 'tools/dnc_exemplars.py', CONFIG, checkpoint,
                          '--real-observation-checkpoint', real, '--device', 'cpu',
                          '--cfg-options'] +
                         [f'{k}={v}' for k, v in data_options(toy_root).items()])
    assert code == 0, out
    with open(checkpoint + '.exemplars.json') as f:
        exemplars = json.load(f)
    return checkpoint, real, exemplars, out


@pytest.fixture(scope='module')
def brute_force(exemplar_run, toy_root):
    """Every training image's embedding map, one image at a time, with the label under
    each cell's centre: ``(features [N, 4, 4, D], labels [N, 4, 4], centroids, paths)``."""
    from hieraseg.explain import load_dnc_model
    checkpoint = exemplar_run[0]
    dnc = load_dnc_model(CONFIG, checkpoint, 'cpu', data_options(toy_root))
    dataset = dnc.build_train_dataset()
    features, labels, paths = [], [], []
    centre = np.arange(4) * STRIDE + STRIDE // 2
    for index in range(len(dataset)):
        features.append(dnc.embed([dataset[index]]).features[0])
        info = dataset.get_data_info(index)
        gt = np.array(Image.open(info['seg_map_path']))
        labels.append(torch.from_numpy(gt[np.ix_(centre, centre)].astype(np.int64)))
        paths.append(info['img_path'])
    return (torch.stack(features), torch.stack(labels),
            dnc.classifier.centroids.detach().clone(), paths)


def test_exemplars_are_the_nearest_training_pixels(exemplar_run, brute_force):
    checkpoint, _, content, out = exemplar_run
    features, labels, centroids, paths = brute_force
    num_classes, k_count, _ = centroids.shape
    assert 'exemplar search' not in out  # no progress bar: the output is not a terminal
    assert content['model']['num_classes'] == num_classes
    assert content['model']['num_sub_centroids'] == k_count
    assert content['model']['checkpoint'] == checkpoint
    sims = torch.einsum('nyxd,ckd->nyxck', features, centroids)
    records = {(r['class'], r['sub_centroid']): r for r in content['exemplars']}
    present = set(labels.unique().tolist()) - {255}
    assert {c for c, _ in records} == present
    assert sorted(map(tuple, content['missing'])) == [
        (c, k) for c in range(num_classes) if c not in present for k in range(k_count)]
    for c in present:
        own = labels == c
        for k in range(k_count):
            record = records[(c, k)]
            best = sims[..., c, k][own].max()
            n, (fy, fx) = record['index'], record['feature_pixel']
            assert record['img_path'] == paths[n]
            assert labels[n, fy, fx] == c  # a sample of its own class
            assert record['pixel'] == [fy * STRIDE + STRIDE // 2, fx * STRIDE + STRIDE // 2]
            assert record['feature_size'] == [4, 4]
            # its similarity is the recomputed cosine, and no pixel of class c is closer
            assert record['similarity'] == pytest.approx(float(sims[n, fy, fx, c, k]),
                                                         abs=1e-5)
            assert record['similarity'] == pytest.approx(float(best), abs=1e-5)


def test_real_observation_checkpoint_holds_the_exemplar_features(exemplar_run, brute_force):
    checkpoint, real, content, _ = exemplar_run
    features, _, centroids, _ = brute_force
    source = torch.load(checkpoint, weights_only=False)
    copy = torch.load(real, weights_only=False)
    assert set(copy) == set(source)  # the whole checkpoint
    replaced = copy['state_dict'][KEY]
    expected = centroids.clone()
    for r in content['exemplars']:
        fy, fx = r['feature_pixel']
        expected[r['class'], r['sub_centroid']] = features[r['index'], fy, fx]
    torch.testing.assert_close(replaced, expected, atol=1e-5, rtol=0)
    for key, value in source['state_dict'].items():
        if key != KEY:
            assert torch.equal(copy['state_dict'][key], value), key
    assert content['real_observation']['checkpoint'] == real


def test_test_tool_evaluates_the_real_observation_checkpoint(exemplar_run, toy_root,
                                                             tmp_path, monkeypatch, capfd):
    call_tool(monkeypatch, 'tools/test.py', CONFIG, exemplar_run[1], '--work-dir', tmp_path,
              *eval_options(toy_root))
    assert 'mIoU per level (finest first): texture=' in capfd.readouterr().out


def test_explain_writes_a_picture_of_the_sub_centroid_map(exemplar_run, toy_root, tmp_path):
    checkpoint = exemplar_run[0]
    image = osp.join(toy_root, 'leftImg8bit/val/toyville/toyville_val_000000_leftImg8bit.png')
    out_png = tmp_path / 'explain.png'
    code, out = run_tool([sys.executable, 'tools/dnc_explain.py', CONFIG, checkpoint, image,
                          '--out', str(out_png), '--device', 'cpu'])
    assert code == 0, out
    assert 'share of pixels, winning sub-centroids' in out and 'exemplar of k=' in out
    assert f'picture: {out_png}' in out
    picture = np.asarray(Image.open(out_png).convert('RGB'), dtype=np.float64)
    assert picture.shape == (360, 1200, 3)  # 4 panels of 300 px
    assert picture.std() > 20
    # every panel holds something: the image, prediction, sub-centroid map, legend
    for panel in np.split(picture, 4, axis=1):
        assert panel.std() > 10


# The refusals run the tool's main() in this process (they come before any drawing).
def test_explain_refuses_an_unreadable_image(exemplar_run, tmp_path, monkeypatch):
    bad = tmp_path / 'broken.png'
    bad.write_bytes(b'this is not a PNG')
    with pytest.raises(ValueError, match=f"cannot read image '{bad}': not a decodable image "
                       r'\(17 bytes\)'):
        call_tool(monkeypatch, 'tools/dnc_explain.py', CONFIG, exemplar_run[0], bad)


def test_explain_refuses_the_exemplar_file_of_another_model(exemplar_run, toy_root,
                                                            tmp_path, monkeypatch):
    from hieraseg.explain import ExemplarMismatchError
    checkpoint, _, content, _ = exemplar_run
    content = dict(content, model=dict(content['model'], centroids_sha256='0' * 64),
                   real_observation=None)
    foreign = tmp_path / 'foreign.exemplars.json'
    foreign.write_text(json.dumps(content))
    image = osp.join(toy_root, 'leftImg8bit/val/toyville/toyville_val_000000_leftImg8bit.png')
    with pytest.raises(ExemplarMismatchError) as error:
        call_tool(monkeypatch, 'tools/dnc_explain.py', CONFIG, checkpoint, image,
                  '--exemplars', foreign, '--out', tmp_path / 'x.png', '--device', 'cpu')
    assert not (tmp_path / 'x.png').exists()
    assert f'exemplar file {foreign} is from another model' in str(error.value)
    assert f"file's hash {'0' * 64}" in str(error.value)


def test_a_parametric_checkpoint_is_not_a_dnc_model(tmp_path):
    from mmengine.registry import MODELS, DefaultScope

    from hieraseg.explain import NotADNCModelError, load_dnc_model
    from hieraseg.utils.tools import load_config
    baseline = 'configs/dnc/fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py'
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(load_config(baseline).model)
    checkpoint = str(tmp_path / 'fcn.pth')
    torch.save(dict(meta={}, state_dict=model.state_dict()), checkpoint)
    with pytest.raises(NotADNCModelError, match=f'checkpoint {checkpoint} has no DNC '
                       r"sub-centroids \(no '...classifier.centroids' buffer\): not a DNC"):
        load_dnc_model(CONFIG, checkpoint, 'cpu')
