"""SinkhornClusteringHook without a Runner: memory, schedule, bad input, checkpoints."""
import logging
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import MessageHub

import hieraseg.engine.hooks.sinkhorn_clustering_hook as hook_module
from hieraseg.engine.hooks import SinkhornClusteringHook
from hieraseg.engine.hooks.sinkhorn_clustering_hook import CHECKPOINT_KEY
from hieraseg.models.utils import (HieraSubCentroidClassifier, SubCentroidClassifier,
                                   init_sub_centroids)


class TinyDNC(nn.Module):
    """A linear embedding + sub-centroid classifier (stands in for a DNC head); with a
    ``hierarchy``, a hierarchical one (logits over all nodes, leaf labels)."""

    def __init__(self, num_classes=4, k=2, dim=8, seed=0, hierarchy=None):
        super().__init__()
        torch.manual_seed(seed)
        self.embed = nn.Linear(dim, dim)
        self.classifier = SubCentroidClassifier(num_classes, k, dim) if hierarchy is None \
            else HieraSubCentroidClassifier(hierarchy, k, dim)

    def train_forward(self, x, labels):
        logits = self.classifier(self.embed(x))
        self.classifier.keep_for_clustering(self.embed(x), labels)
        return F.cross_entropy(logits, labels)


@pytest.fixture
def logged(monkeypatch):
    """Messages the hook logs (the MMLogger's stream outlives pytest's capture)."""
    messages = []
    monkeypatch.setattr(hook_module, 'print_log',
                        lambda msg, logger=None, level=None: messages.append((level, msg)))
    return messages


def fake_runner(model, iteration=0):
    return SimpleNamespace(model=model, iter=iteration,
                           message_hub=MessageHub.get_instance('dnc_hook_test'))


def run_iters(hook, model, iters, start=0, seed=0, n=32):
    g = torch.Generator().manual_seed(seed)
    for it in range(start, start + iters):
        x = torch.randn(n, 8, generator=g)
        num_labels = getattr(model.classifier, 'num_leaves', model.classifier.num_classes)
        labels = torch.randint(0, num_labels, (n, ), generator=g)
        model.train_forward(x, labels)
        hook.after_train_iter(fake_runner(model, it), it)


@pytest.mark.parametrize('kwargs,match', [
    (dict(interval=0), 'interval'),
    (dict(iterations=0), 'iterations'),
    (dict(memory_size=0), 'memory_size'),
    (dict(momentum=1.5), 'momentum'),
    (dict(epsilon=0.0), 'epsilon'),
    (dict(memory_dtype='int8'), 'memory_dtype'),
])
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SinkhornClusteringHook(**kwargs)


def test_memory_smaller_than_k_raises():
    hook = SinkhornClusteringHook(memory_size=3)
    with pytest.raises(ValueError, match='smaller than the 4 sub-centroids'):
        hook.before_train(fake_runner(TinyDNC(k=4)))


def test_model_without_dnc_head_raises():
    with pytest.raises(RuntimeError, match='no DNC head'):
        SinkhornClusteringHook().before_train(fake_runner(nn.Linear(2, 2)))


def test_features_enter_memory_every_iteration_and_clustering_follows_interval():
    model = TinyDNC()
    hook = SinkhornClusteringHook(interval=3, memory_size=40, momentum=0.5)
    hook.before_train(fake_runner(model))
    memory = hook.memories['classifier']
    before = model.classifier.centroids.clone()
    run_iters(hook, model, 2)
    assert int(memory.count.sum()) == 64  # 2 x 32 features, capacity not reached
    assert torch.equal(model.classifier.centroids, before)  # iterations 0, 1: no clustering
    assert model.classifier.pop_kept() is None  # the hook consumed the kept features
    run_iters(hook, model, 1, start=2)  # iteration 2 is the 3rd: clusters
    assert not torch.equal(model.classifier.centroids, before)
    norms = model.classifier.centroids.norm(dim=-1)
    assert torch.allclose(norms, torch.ones_like(norms), atol=1e-6)
    assert (memory.count <= 40).all()


def test_only_classes_with_correct_features_move():
    model = TinyDNC(num_classes=4)
    hook = SinkhornClusteringHook(memory_size=8, momentum=0.5)
    hook.before_train(fake_runner(model))
    before = model.classifier.centroids.clone()
    x = torch.randn(20, 8)
    with torch.no_grad():
        pred = model.classifier.predict(model.embed(x))
    labels = pred.clone()
    labels[pred == 1] = 2  # nothing labelled 1; wrong labels on what predicts 1
    labels[labels == 3] = 0  # class 3 never labelled
    model.classifier.keep_for_clustering(model.embed(x), labels)
    hook.after_train_iter(fake_runner(model), 0)
    after = model.classifier.centroids
    assert torch.equal(after[1], before[1]) and torch.equal(after[3], before[3])
    moved = (after != before).any(-1).any(-1)
    for c in (0, 2):
        assert moved[c] == bool((labels[pred == c] == c).any())


def test_nan_features_are_dropped_and_logged(logged):
    model = TinyDNC()
    hook = SinkhornClusteringHook(memory_size=16)
    hook.before_train(fake_runner(model))
    feats = torch.randn(10, 8)
    feats[3, 2] = float('nan')
    feats[7] = float('inf')
    model.classifier.keep_for_clustering(feats, torch.arange(10) % 4)
    hook.after_train_iter(fake_runner(model), 0)
    assert any(level == logging.WARNING and 'dropped 2 non-finite features' in msg
               for level, msg in logged)
    assert int(hook.memories['classifier'].count.sum()) == 8
    assert torch.isfinite(model.classifier.centroids).all()
    assert torch.isfinite(hook.memories['classifier'].features).all()


def test_class_without_features_keeps_centroids_and_is_logged(logged):
    model = TinyDNC(num_classes=4)
    hook = SinkhornClusteringHook(memory_size=8)
    runner = fake_runner(model)
    hook.before_train(runner)
    before = model.classifier.centroids.clone()
    x = torch.randn(12, 8)
    model.classifier.keep_for_clustering(x, torch.arange(12) % 3)  # class 3: nothing
    hook.after_train_iter(runner, 0)
    assert torch.equal(model.classifier.centroids[3], before[3])
    assert runner.message_hub.get_scalar('train/dnc_empty_classes').current() == 1
    assert any('1 of 4 classes have no feature' in msg for _, msg in logged)


def test_iteration_without_kept_features_is_harmless():
    model = TinyDNC()
    hook = SinkhornClusteringHook(memory_size=8)
    hook.before_train(fake_runner(model))
    before = model.classifier.centroids.clone()
    hook.after_train_iter(fake_runner(model), 0)
    assert torch.equal(model.classifier.centroids, before)
    assert int(hook.memories['classifier'].count.sum()) == 0


def test_fp16_memory():
    model = TinyDNC()
    hook = SinkhornClusteringHook(memory_size=8, memory_dtype='float16')
    hook.before_train(fake_runner(model))
    run_iters(hook, model, 3)
    assert hook.memories['classifier'].features.dtype == torch.float16
    assert torch.isfinite(model.classifier.centroids).all()


def test_checkpoint_round_trip_restores_centroids_and_memory_exactly(tmp_path):
    model = TinyDNC(seed=0)
    hook = SinkhornClusteringHook(memory_size=8, momentum=0.9)
    hook.before_train(fake_runner(model))
    run_iters(hook, model, 5)
    checkpoint = {'state_dict': model.state_dict()}
    hook.before_save_checkpoint(fake_runner(model), checkpoint)
    assert set(checkpoint[CHECKPOINT_KEY]) == {'classifier'}
    path = tmp_path / 'ckpt.pth'
    torch.save(checkpoint, path)

    # A fresh model and hook, as on resume: the checkpoint is read before the hook
    # creates its memories (before_train), as mmengine's Runner does.
    loaded = torch.load(path, weights_only=True)  # tensors and dicts only
    model2 = TinyDNC(seed=1)
    hook2 = SinkhornClusteringHook(memory_size=8, momentum=0.9)
    hook2.after_load_checkpoint(fake_runner(model2), loaded)
    model2.load_state_dict(loaded['state_dict'])
    hook2.before_train(fake_runner(model2))
    assert torch.equal(model2.classifier.centroids, model.classifier.centroids)
    for name, buf in hook.memories['classifier'].state_dict().items():
        assert torch.equal(hook2.memories['classifier'].state_dict()[name], buf), name

    # Both continue identically.
    run_iters(hook, model, 2, start=5, seed=7)
    run_iters(hook2, model2, 2, start=5, seed=7)
    assert torch.equal(model2.classifier.centroids, model.classifier.centroids)


def test_mismatched_saved_memory_is_skipped_with_a_warning(logged):
    model = TinyDNC()
    hook = SinkhornClusteringHook(memory_size=8)
    hook.before_train(fake_runner(model))
    state = {'classifier': {k: v[..., :1] if v.dim() == 3 else v
                            for k, v in hook.memories['classifier'].state_dict().items()}}
    hook.after_load_checkpoint(fake_runner(model), {CHECKPOINT_KEY: state})
    assert any(level == logging.WARNING and 'it starts empty' in msg for level, msg in logged)
    assert int(hook.memories['classifier'].count.sum()) == 0


# --- issue 10: data-driven initialisation, rescues, health --------------------------------
@pytest.mark.parametrize('value', [0, -3, 2.5, True])
def test_bad_rescue_after_raises(value):
    with pytest.raises(ValueError, match=f'rescue_after must be an integer >= 1.*{value!r}'):
        SinkhornClusteringHook(rescue_after=value)


def feed(hook, model, feats, labels, it, runner=None):
    model.classifier.keep_for_clustering(feats, labels)
    hook.after_train_iter(runner or fake_runner(model, it), it)


def test_first_step_places_sub_centroids_from_the_class_features(logged):
    model = TinyDNC(num_classes=3, k=2, dim=8)
    hook = SinkhornClusteringHook(memory_size=16, momentum=1.0)  # momentum 1: init only
    hook.before_train(fake_runner(model))
    hook.class_names = ['cat', 'dog', 'eel']
    feats = torch.randn(12, 8)
    labels = torch.tensor([0] * 6 + [1] * 5 + [2])  # class 2: fewer than K features
    before = model.classifier.centroids.clone()
    feed(hook, model, feats, labels, 0)
    clf = model.classifier
    assert clf.initialized.tolist() == [True, True, False]
    assert torch.equal(clf.centroids[2], before[2])
    kept = clf.embed(feats)
    mem = hook.memories['classifier']
    for c in (0, 1):
        expected = init_sub_centroids(mem.features[c:c + 1], mem.valid[c:c + 1], 2)[0]
        assert torch.allclose(clf.centroids[c], expected, atol=1e-6)
        # each sub-centroid is the normalised mean of some of the class's features
        sims = clf.centroids[c] @ kept[labels == c].t()
        assert (sims.amax(1) > 0.5).all()
    assert any('placed from the features' in m and 'cat, dog' in m for _, m in logged)
    # the second step initialises class 2 (now K features), and only class 2
    n_logs = len(logged)
    feed(hook, model, feats, labels, 1)
    assert [m.split(': ')[-1] for _, m in logged[n_logs:] if 'placed from' in m] == ['eel']
    assert clf.initialized.all()


def test_dead_class_is_rescued_and_logged_once(logged):
    model = TinyDNC(num_classes=3, k=2, dim=8)
    hook = SinkhornClusteringHook(memory_size=16, momentum=0.5, rescue_after=3,
                                  data_init=False)
    hook.before_train(fake_runner(model))
    hook.class_names = ['cat', 'dog', 'eel']
    clf = model.classifier
    g = torch.Generator().manual_seed(0)
    # Make class 2 unreachable: its sub-centroids point away from every feature.
    feats = F.normalize(torch.rand(30, 8, generator=g), dim=1)  # non-negative orthant
    with torch.no_grad():
        clf.feat_norm = None
        clf.centroids[2] = -F.normalize(torch.ones(2, 8), dim=-1)
    labels = torch.arange(30) % 3
    moved_at = []
    for it in range(6):
        before = clf.centroids[2].clone()
        feed(hook, model, feats, labels, it)
        moved_at.append(not torch.equal(clf.centroids[2], before))
    # no correct feature of class 2: stale 1, 2, 3 -> rescued from the 4th step on
    assert moved_at == [False, False, False, True, True, True]
    dead = [m for _, m in logged if 'no correctly classified feature' in m]
    assert len(dead) == 1 and dead[0].endswith(': eel')


def test_starved_sub_centroid_is_reseeded_on_the_worst_served_feature(logged):
    model = TinyDNC(num_classes=2, k=2, dim=8)
    # momentum 1: only the re-seeding moves a sub-centroid
    hook = SinkhornClusteringHook(memory_size=16, momentum=1.0, rescue_after=2,
                                  data_init=False)
    runner = fake_runner(model)
    hook.before_train(runner)
    clf = model.classifier
    clf.feat_norm = None
    # Class 1 has two clusters: near e1 (classified correctly) and near e3, where class
    # 0's sub-centroid 1 sits exactly, so those are classified as class 0. Class 1's
    # sub-centroid 1 takes the e3 cluster and never a correct feature: starved.
    e = torch.eye(8)
    g = torch.Generator().manual_seed(1)
    f0 = F.normalize(e[0] + 0.05 * torch.randn(10, 8, generator=g), dim=1)
    f1 = F.normalize(e[1] + 0.05 * torch.randn(5, 8, generator=g), dim=1)
    f3 = F.normalize(e[3] + 0.02 * torch.randn(5, 8, generator=g), dim=1)
    with torch.no_grad():
        clf.centroids.copy_(torch.stack([
            torch.stack([e[0], e[3]]),
            torch.stack([e[1], F.normalize(e[3] + 0.5 * e[4], dim=0)])]))
    feats, labels = torch.cat([f0, f1, f3]), torch.tensor([0] * 10 + [1] * 10)
    feed(hook, model, feats, labels, 0, runner)
    assert clf.centroid_stale[1].tolist() == [0, 1] and clf.class_stale.tolist() == [0, 0]
    assert not any('re-seeded' in m for _, m in logged)
    before = clf.centroids[1, 1].clone()
    feed(hook, model, feats, labels, 1, runner)
    mem = hook.memories['classifier']
    x = mem.features[1][mem.valid[1]]
    # the worst-served feature of class 1 (lowest best cosine to its sub-centroids)
    service = (x @ before.unsqueeze(1)).squeeze(1)
    service = torch.maximum(service, x @ clf.centroids[1, 0])
    assert torch.allclose(clf.centroids[1, 1], x[service.argmin()], atol=1e-5)
    assert clf.centroid_stale[1, 1] == 0
    assert sum('re-seeded' in m and m.endswith(': 1') for _, m in logged) == 1


def test_health_scalars_and_worst_classes_line(logged):
    model = TinyDNC(num_classes=4, k=2, dim=8)
    hook = SinkhornClusteringHook(memory_size=16)
    runner = fake_runner(model)
    hook.before_train(runner)
    hook.log_interval = 1
    run_iters(hook, model, 2)
    hub = runner.message_hub
    clf = model.classifier
    mem = hook.memories['classifier']
    share = (mem.valid & mem.correct).sum(1).float() / mem.valid.sum(1).float()
    assert hub.get_scalar('train/dnc_correct_min').current() == pytest.approx(
        float(share.min()))
    cos = torch.einsum('ckd,cjd->ckj', clf.centroids, clf.centroids)
    pair = cos[:, 0, 1]  # K = 2: the one pair
    assert hub.get_scalar('train/dnc_centroid_cos').current() == pytest.approx(
        float(pair.mean()), abs=1e-6)
    assert hub.get_scalar('train/dnc_centroid_cos_max').current() == pytest.approx(
        float(pair.max()), abs=1e-6)
    assert hub.get_scalar('train/dnc_used_centroids').current() == int(
        (clf.centroid_stale == 0).sum())
    worst = share.argsort()[:3].tolist()
    lines = [m for _, m in logged if 'lowest share' in m]
    assert len(lines) == 2 and lines[-1].split(': ')[-1].startswith(f'{worst[0]} (')


def test_bad_rescue_after_is_an_error_when_the_registry_builds_the_hook():
    from mmengine.registry import HOOKS
    with pytest.raises(ValueError, match='rescue_after must be an integer >= 1.*0'):
        HOOKS.build(dict(type='SinkhornClusteringHook', rescue_after=0))
    assert HOOKS.build(dict(type='SinkhornClusteringHook', rescue_after=None)).rescue_after \
        is None
