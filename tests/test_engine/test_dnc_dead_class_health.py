"""DNC health counts a dead class from its first dead step (issue 21, item 8): the log said
``dnc_dead_classes: 0`` while two leaves had IoU 0, because it counted only the classes
past ``rescue_after``; and training ends with a warning that names the dead classes."""
import logging

import torch
import torch.nn.functional as F

from hieraseg.engine.hooks import SinkhornClusteringHook
from .test_sinkhorn_clustering_hook import TinyDNC, fake_runner, feed, logged  # noqa: F401


def unreachable_class_two(rescue_after):
    """Three classes; class 2's sub-centroids point away from every feature (dead)."""
    model = TinyDNC(num_classes=3, k=2, dim=8)
    hook = SinkhornClusteringHook(memory_size=16, momentum=0.5, rescue_after=rescue_after,
                                  data_init=False)
    runner = fake_runner(model)
    hook.before_train(runner)
    hook.class_names = ['cat', 'dog', 'eel']
    clf = model.classifier
    with torch.no_grad():
        clf.feat_norm = None
        clf.centroids[2] = -F.normalize(torch.ones(2, 8), dim=-1)
    g = torch.Generator().manual_seed(0)
    feats = F.normalize(torch.rand(30, 8, generator=g), dim=1)  # non-negative orthant
    return model, hook, runner, feats, torch.arange(30) % 3


def test_dead_classes_are_counted_from_their_first_step_and_rescued_ones_apart():
    model, hook, runner, feats, labels = unreachable_class_two(rescue_after=3)
    hub = runner.message_hub
    counts = []
    for it in range(5):
        feed(hook, model, feats, labels, it, runner)
        counts.append((hub.get_scalar('train/dnc_dead_classes').current(),
                       hub.get_scalar('train/dnc_rescued_classes').current()))
    # dead from the first step (the count was 0 here before), rescued from the 4th on
    assert counts == [(1, 0), (1, 0), (1, 0), (1, 1), (1, 1)]


def test_no_rescue_still_counts_the_dead_class():
    model, hook, runner, feats, labels = unreachable_class_two(rescue_after=None)
    feed(hook, model, feats, labels, 0, runner)
    hub = runner.message_hub
    assert hub.get_scalar('train/dnc_dead_classes').current() == 1
    assert hub.get_scalar('train/dnc_rescued_classes').current() == 0


def test_training_ends_with_a_warning_naming_the_dead_classes(logged):  # noqa: F811
    model, hook, runner, feats, labels = unreachable_class_two(rescue_after=None)
    feed(hook, model, feats, labels, 0, runner)
    hook.after_train(runner)
    ends = [(level, m) for level, m in logged if 'training ended' in m]
    assert len(ends) == 1
    level, message = ends[0]
    assert level == logging.WARNING
    assert 'ended with 1 dead class (' in message and 'expect IoU 0 for: eel (' in message


def test_no_warning_when_every_class_has_a_correct_feature(logged):  # noqa: F811
    model = TinyDNC(num_classes=2, k=1, dim=8)
    hook = SinkhornClusteringHook(memory_size=16, momentum=0.5, data_init=False)
    runner = fake_runner(model)
    hook.before_train(runner)
    clf = model.classifier
    clf.feat_norm = None
    e = torch.eye(8)
    with torch.no_grad():
        clf.centroids.copy_(torch.stack([e[0], e[1]]).unsqueeze(1))
    feats = torch.cat([e[0].expand(4, 8), e[1].expand(4, 8)])
    feed(hook, model, feats, torch.tensor([0] * 4 + [1] * 4), 0, runner)
    assert runner.message_hub.get_scalar('train/dnc_dead_classes').current() == 0
    hook.after_train(runner)
    assert not any('training ended' in m for _, m in logged)
