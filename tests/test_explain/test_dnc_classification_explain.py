"""Exemplars and explanations of a DNC image classifier (mmpretrain ImageClassifier +
DNCClsHead) on generated 32x32 images, and the errors for bad input."""
import json
import os.path as osp

import numpy as np
import pytest
import torch
from PIL import Image

from hieraseg.explain import (ExemplarMismatchError, NotADNCModelError, explain_classification,
                              find_exemplars, load_dnc_model, load_exemplars, read_image,
                              real_observation_centroids, save_exemplars,
                              write_real_observation_checkpoint)
from hieraseg.explain.drawing import draw_classification
from tests.test_tools.conftest import call_tool
from .toy_classification import CLASSES, make_toy_classification

KEY = 'head.classifier.centroids'


def build_and_save(config, path, seed=0):
    """A freshly built model of ``config`` saved as an mmengine-style checkpoint."""
    from mmengine.registry import MODELS, DefaultScope

    from hieraseg.utils.tools import load_config
    cfg = load_config(config)
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = MODELS.build(dict(cfg.model, data_preprocessor=cfg.data_preprocessor))
    torch.save(dict(meta=dict(seed=seed), state_dict=model.state_dict()), path)
    return path


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    root = tmp_path_factory.mktemp('toy_cls')
    config = make_toy_classification(str(root))
    checkpoint = build_and_save(config, str(root / 'model.pth'))
    dnc = load_dnc_model(config, checkpoint, 'cpu')
    result = find_exemplars(dnc, progress=False)
    real = str(root / 'real.pth')
    entry = write_real_observation_checkpoint(dnc, real_observation_centroids(dnc,
                                                                              result.search),
                                              real)
    exemplar_file = checkpoint + '.exemplars.json'
    content = save_exemplars(exemplar_file, result, dnc, real_observation=entry)
    return dict(root=root, config=config, checkpoint=checkpoint, dnc=dnc, real=real,
                exemplar_file=exemplar_file, content=content)


def brute_force_features(dnc):
    dataset = dnc.build_train_dataset()
    features = torch.cat([dnc.embed([dataset[i]]).features for i in range(len(dataset))])
    labels = torch.tensor([dataset.get_data_info(i)['gt_label'] for i in range(len(dataset))])
    paths = [dataset.get_data_info(i)['img_path'] for i in range(len(dataset))]
    return features, labels, paths


def test_exemplars_are_the_nearest_training_images(toy):
    dnc, content = toy['dnc'], toy['content']
    features, labels, paths = brute_force_features(dnc)
    centroids = dnc.classifier.centroids
    sims = torch.einsum('nd,ckd->nck', features, centroids)
    assert content['classes'] == list(CLASSES)
    assert content['missing'] == []
    assert len(content['exemplars']) == 3 * 2  # every (c, k)
    for record in content['exemplars']:
        c, k, n = record['class'], record['sub_centroid'], record['index']
        assert labels[n] == c and record['img_path'] == paths[n]
        assert osp.basename(osp.dirname(record['img_path'])) == CLASSES[c]
        assert record['similarity'] == pytest.approx(float(sims[n, c, k]), abs=1e-5)
        assert record['similarity'] == pytest.approx(float(sims[labels == c, c, k].max()),
                                                     abs=1e-5)
    # the real-observation checkpoint's sub-centroids are those images' features
    real = torch.load(toy['real'], weights_only=False)['state_dict'][KEY]
    for record in content['exemplars']:
        torch.testing.assert_close(real[record['class'], record['sub_centroid']],
                                   features[record['index']], atol=1e-5, rtol=0)


def test_explanation_is_the_model_decision(toy):
    dnc = toy['dnc']
    image = str(toy['root'] / 'val' / 'red' / 'red_00.png')
    explanation = explain_classification(dnc, image, toy['content'], num_runner_ups=3)
    sample, _ = dnc.prepare_image(image)
    emb = dnc.embed([sample])
    sims = dnc.classifier.similarities(emb.features)[0]
    order = emb.logits[0].argsort(descending=True).tolist()
    shown = [explanation.prediction] + explanation.runner_ups
    assert [e.class_id for e in shown] == order  # only 2 runner-ups exist
    for e in shown:
        assert e.sub_centroid == int(sims[e.class_id].argmax())
        assert e.similarity == pytest.approx(float(sims[e.class_id].max()), abs=1e-6)
        assert e.exemplar['class'] == e.class_id and e.exemplar['sub_centroid'] == \
            e.sub_centroid
        exemplar_sample, _ = dnc.prepare_image(e.exemplar['img_path'])
        exemplar_feature = dnc.embed([exemplar_sample]).features
        assert e.exemplar_similarity == pytest.approx(
            float((emb.features * exemplar_feature).sum()), abs=1e-5)
        assert e.exemplar_image.shape == (32, 32, 3)
    rule = explanation.rule()
    winner = explanation.prediction
    assert rule.startswith(f"IF x is most like exemplar ({winner.class_id} "
                           f"'{winner.class_name}', k={winner.sub_centroid})")
    assert f"THEN class {winner.class_id} '{winner.class_name}'" in rule
    out = draw_classification(explanation, str(toy['root'] / 'in_process.png'))
    assert Image.open(out).size == (4 * 300, 420)


def test_exemplars_without_a_path_come_from_the_training_set(toy):
    """In-memory data sets (CIFAR) record no image path: the exemplar is read by index."""
    content = json.loads(json.dumps(toy['content']))
    for record in content['exemplars']:
        record['img_path'] = None
    image = str(toy['root'] / 'val' / 'blue' / 'blue_01.png')
    by_index = explain_classification(toy['dnc'], image, content)
    by_path = explain_classification(toy['dnc'], image, toy['content'])
    for a, b in zip([by_index.prediction] + by_index.runner_ups,
                    [by_path.prediction] + by_path.runner_ups):
        assert a.exemplar_similarity == pytest.approx(b.exemplar_similarity, abs=1e-6)
        assert np.array_equal(a.exemplar_image, b.exemplar_image)
    assert 'training sample #' in by_index.rule()


def test_exemplar_and_explain_tools(toy, tmp_path, monkeypatch, capfd):
    """The tools as a user runs them: dnc_exemplars (classification), then dnc_explain (their
    main() in this process; tests/test_tools/test_dnc_explain_tools.py starts them as
    processes)."""
    checkpoint = str(tmp_path / 'model.pth')
    build_and_save(toy['config'], checkpoint)
    call_tool(monkeypatch, 'tools/dnc_exemplars.py', toy['config'], checkpoint, '--device',
              'cpu', '--batch-size', '5')
    out = capfd.readouterr().out
    assert 'classification model, 3 classes x 2 sub-centroids' in out
    assert 'searched 12 training images: 6 exemplars' in out
    with open(checkpoint + '.exemplars.json') as f:
        written = json.load(f)
    assert written['exemplars'] == toy['content']['exemplars']  # same model, same answer

    image = str(toy['root'] / 'val' / 'green' / 'green_01.png')
    out_png = tmp_path / 'rule.png'
    call_tool(monkeypatch, 'tools/dnc_explain.py', toy['config'], checkpoint, image, '--out',
              out_png, '--device', 'cpu')
    out = capfd.readouterr().out
    assert 'IF x is most like exemplar (' in out and 'THEN class ' in out
    assert 'runner-up #2: class' in out and 'runner-up #3: class' in out
    assert 'cos(x, exemplar)=' in out and f'picture: {out_png}' in out
    picture = np.asarray(Image.open(out_png).convert('RGB'), dtype=np.float64)
    assert picture.shape == (420, 4 * 300, 3)  # input, winner, 2 runner-ups
    assert picture.std() > 20
    for panel in np.split(picture, 4, axis=1):
        assert panel.std() > 10


def test_the_real_observation_model_accepts_its_exemplar_file(toy):
    dnc = load_dnc_model(toy['config'], toy['real'], 'cpu')
    assert load_exemplars(toy['exemplar_file'], dnc)['exemplars'] == toy['content'][
        'exemplars']


# --- bad input --------------------------------------------------------------------------
def test_unreadable_images_are_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="cannot read image '.*nope.png': no such"):
        read_image(str(tmp_path / 'nope.png'))
    broken = tmp_path / 'broken.jpg'
    broken.write_bytes(b'\x00' * 10)
    with pytest.raises(ValueError, match=r"cannot read image '.*broken.jpg': not a "
                       r'decodable image \(10 bytes\)'):
        read_image(str(broken))
    with pytest.raises(ValueError, match='not a file'):
        read_image(str(tmp_path))
    Image.fromarray(np.zeros((5, 7, 3), np.uint8)).save(tmp_path / 'ok.png')
    assert read_image(str(tmp_path / 'ok.png')).shape == (5, 7, 3)


def test_checkpoint_without_sub_centroids_is_not_a_dnc_model(toy, tmp_path):
    config = toy['config']
    plain = tmp_path / 'linear.py'
    with open(config) as f:
        plain.write_text(f.read().replace(
            "type='DNCClsHead', num_classes=3, in_channels=128, num_sub_centroids=2,",
            "type='LinearClsHead', num_classes=3, in_channels=128,"))
    checkpoint = build_and_save(str(plain), str(tmp_path / 'linear.pth'))
    with pytest.raises(NotADNCModelError,
                       match=r"checkpoint .*linear.pth has no DNC sub-centroids \(no "
                       r"'...classifier.centroids' buffer\): not a DNC model"):
        load_dnc_model(config, checkpoint, 'cpu')
    # a DNC checkpoint with a config whose head is not DNC
    with pytest.raises(NotADNCModelError, match='head is LinearClsHead, not a DNC head'):
        load_dnc_model(str(plain), toy['checkpoint'], 'cpu')


def test_exemplar_file_of_another_model_is_refused(toy, tmp_path):
    other = build_and_save(toy['config'], str(tmp_path / 'other.pth'), seed=1)
    dnc = load_dnc_model(toy['config'], other, 'cpu')
    with pytest.raises(ExemplarMismatchError,
                       match=r'exemplar file .* is from another model .*centroids: '
                       r"file's hash [0-9a-f]{64}, this checkpoint's [0-9a-f]{64}"):
        load_exemplars(toy['exemplar_file'], dnc)
    content = json.loads(open(toy['exemplar_file']).read())
    content['model']['num_sub_centroids'] = 5
    content['model']['task'] = 'segmentation'
    edited = tmp_path / 'edited.json'
    edited.write_text(json.dumps(content))
    with pytest.raises(ExemplarMismatchError, match="task: file 'segmentation', model "
                       "'classification'; num_sub_centroids: file 5, model 2"):
        load_exemplars(str(edited), toy['dnc'])
    (tmp_path / 'foreign.json').write_text('{"hello": 1}')
    with pytest.raises(ValueError, match='is not an exemplar file'):
        load_exemplars(str(tmp_path / 'foreign.json'), toy['dnc'])
    with pytest.raises(FileNotFoundError, match='run tools/dnc_exemplars.py'):
        load_exemplars(str(tmp_path / 'missing.json'), toy['dnc'])
