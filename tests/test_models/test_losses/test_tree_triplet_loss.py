"""TreeTripletLoss against an exhaustive reference written from the formula (SPEC section 2)."""
import itertools
import math
import uuid

import pytest
import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub

from hieraseg.hierarchy import HierarchyError, build_hierarchy
from hieraseg.models.losses.tree_triplet_loss import TreeTripletLoss

IGNORE = 255
PPP = 'pascal_person_part'  # leaves: 0 background, 1 head, 2 torso, 3 upper arm, 4 lower arm,
# 5 upper leg, 6 lower leg; parents: background / upper body {1..4} / lower body {5, 6}


def fresh_message_hub() -> MessageHub:
    """A new MessageHub; the most recently created one is mmengine's current instance."""
    return MessageHub.get_instance(f'test_tree_triplet_loss_{uuid.uuid4().hex}')


@pytest.fixture(autouse=True)
def hub_without_iterations():
    """A current MessageHub without 'iter' / 'max_iters', as outside a runner."""
    fresh_message_hub()


def tree_distance(hierarchy, a, b):
    """Edges between leaves a and b, walking the raw parent lists up to a common ancestor."""
    for level in range(hierarchy.num_levels):
        if a == b:
            return 2 * level
        if level < hierarchy.num_levels - 1:
            a, b = hierarchy.parents[level][a], hierarchy.parents[level][b]
    return 2 * hierarchy.num_levels  # they meet at the implicit root


def exhaustive_reference(embeddings, labels, hierarchy, margin_eps=0.1):
    """Mean over every (anchor, positive != anchor, negative) pixel triple of the batch."""
    features = embeddings.permute(0, 2, 3, 1).reshape(-1, embeddings.shape[1])
    leaves = labels.reshape(-1).tolist()
    parent = hierarchy.parents[0]
    height = hierarchy.height  # D
    terms = []
    pixels = [i for i, leaf in enumerate(leaves) if leaf != IGNORE]
    for a, p, n in itertools.product(pixels, repeat=3):
        if p == a or parent[leaves[p]] != parent[leaves[a]]:
            continue
        if parent[leaves[n]] == parent[leaves[a]]:
            continue
        # The embeddings are unit vectors, so cos(x, y) is the dot product.
        d_pos = (1 - features[a] @ features[p]) / 2
        d_neg = (1 - features[a] @ features[n]) / 2
        margin = margin_eps + 0.5 * (tree_distance(hierarchy, leaves[a], leaves[n]) -
                                     tree_distance(hierarchy, leaves[a], leaves[p])) / (2 * height)
        terms.append(torch.relu(d_pos - d_neg + margin))
    return torch.stack(terms).mean()


def unit_embeddings(shape, seed=0):
    generator = torch.Generator().manual_seed(seed)
    embeddings = F.normalize(torch.randn(*shape, generator=generator, dtype=torch.float64), dim=1)
    return embeddings.requires_grad_()


TINY_LABELS = torch.tensor([[[1, 1, 2, 0], [5, IGNORE, 0, 6], [3, 1, 5, 0]]])  # [1, 3, 4]


# ---------------------------------------------------------------- exact values
@pytest.mark.parametrize('seed', [0, 7])
def test_takes_every_triplet_and_matches_the_exhaustive_mean(seed):
    hierarchy = build_hierarchy(PPP)
    embeddings = unit_embeddings((1, 5, 3, 4))
    loss_fn = TreeTripletLoss(PPP, max_triplets_per_class=10_000, loss_weight=1.0, ramp=None,
                              seed=seed)
    loss = loss_fn(embeddings, TINY_LABELS)
    (grad, ) = torch.autograd.grad(loss, embeddings)
    expected = exhaustive_reference(embeddings, TINY_LABELS, hierarchy)
    (expected_grad, ) = torch.autograd.grad(expected, embeddings)
    torch.testing.assert_close(loss, expected, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(grad, expected_grad, rtol=1e-10, atol=1e-12)


def test_cityscapes_two_images_exhaustive():
    hierarchy = build_hierarchy('cityscapes')
    generator = torch.Generator().manual_seed(1)
    labels = torch.randint(0, 6, (2, 2, 3), generator=generator)  # flat, construction, object
    labels[1, 0, 0] = IGNORE
    embeddings = unit_embeddings((2, 4, 2, 3), seed=2)
    loss = TreeTripletLoss('cityscapes', max_triplets_per_class=1000, loss_weight=1.0,
                           ramp=None)(embeddings, labels)
    torch.testing.assert_close(loss, exhaustive_reference(embeddings, labels, hierarchy),
                               rtol=1e-12, atol=1e-12)


def test_labels_are_nearest_downsampled_to_the_embeddings():
    hierarchy = build_hierarchy(PPP)
    full = TINY_LABELS.repeat_interleave(2, dim=1).repeat_interleave(2, dim=2)  # [1, 6, 8]
    full[0, 1, 1] = 4  # off the sampled grid (odd rows/columns): must not matter
    before = full.clone()
    embeddings = unit_embeddings((1, 5, 3, 4))
    loss = TreeTripletLoss(PPP, max_triplets_per_class=10_000, loss_weight=1.0,
                           ramp=None)(embeddings, full)
    torch.testing.assert_close(loss, exhaustive_reference(embeddings, TINY_LABELS, hierarchy),
                               rtol=1e-12, atol=1e-12)
    assert torch.equal(full, before)  # labels untouched


@pytest.mark.parametrize('name,labels,margin', [
    ('cityscapes', [0, 0, 13], 0.1 + 0.5 * 4 / 4),  # road, road | car: same leaf
    ('cityscapes', [0, 1, 13], 0.1 + 0.5 * (4 - 2) / 4),  # road, sidewalk | car: siblings
    (PPP, [1, 1, 5], 0.1 + 0.5 * 4 / 6),  # head, head | upper leg: same top node
    (PPP, [1, 1, 0], 0.1 + 0.5 * 6 / 6),  # head, head | background: different top node
    (PPP, [1, 2, 0], 0.1 + 0.5 * (6 - 2) / 6),  # head, torso | background
])
def test_margins(name, labels, margin):
    """Equal embeddings make every distance 0, so the loss is the mean margin."""
    embeddings = torch.ones(1, 2, 1, 3, requires_grad=True) / math.sqrt(2)
    loss = TreeTripletLoss(name, loss_weight=1.0, ramp=None)(embeddings, torch.tensor([[labels]]))
    # The third pixel's class has no positive, so only the first two anchor triplets.
    torch.testing.assert_close(loss, torch.tensor(margin))


@pytest.mark.parametrize('labels', [
    [[1, 2], [3, 4]],  # one sibling group only: no negative
    [[1, 0], [IGNORE, 5]],  # every class alone in its group: no positive
    [[IGNORE, IGNORE], [IGNORE, IGNORE]],
])
def test_no_triplet_gives_zero_in_the_graph(labels):
    embeddings = unit_embeddings((1, 3, 2, 2))
    loss = TreeTripletLoss(PPP)(embeddings, torch.tensor([labels]))
    assert loss.requires_grad and float(loss.detach()) == 0
    loss.backward()
    assert embeddings.grad is not None and torch.equal(embeddings.grad,
                                                       torch.zeros_like(embeddings))


# ---------------------------------------------------------------- weight ramp
def test_cosine_ramp_follows_the_runner_iteration():
    embeddings = unit_embeddings((1, 5, 3, 4))
    unweighted = TreeTripletLoss(PPP, loss_weight=1.0, ramp=None, seed=3)(embeddings, TINY_LABELS)
    hub = fresh_message_hub()
    hub.update_info('max_iters', 1000)
    for iteration, weight in [(0, 0.0), (250, 0.5 * (1 - math.cos(math.pi / 4)) / 2),
                              (500, 0.25), (1000, 0.5)]:
        hub.update_info('iter', iteration)
        loss_fn = TreeTripletLoss(PPP, loss_weight=0.5, seed=3)  # default cosine ramp
        assert loss_fn.current_weight() == pytest.approx(weight, abs=1e-15)
        torch.testing.assert_close(loss_fn(embeddings, TINY_LABELS), weight * unweighted)
    # Forwards (train or validation) do not advance the weight; only the runner does.
    assert loss_fn.current_weight() == pytest.approx(0.5)
    hub.update_info('iter', 100)
    loss_fn(embeddings, TINY_LABELS)
    loss_fn.eval()
    loss_fn(embeddings, TINY_LABELS)
    assert loss_fn.current_weight() == pytest.approx(0.5 * (1 - math.cos(math.pi / 10)) / 2)


def test_without_runner_information_the_final_weight_is_used():
    assert TreeTripletLoss(PPP, loss_weight=0.5).current_weight() == 0.5
    assert TreeTripletLoss(PPP, loss_weight=0.5, ramp=None).current_weight() == 0.5


# ---------------------------------------------------------------- sampling
def big_labels():
    """32 pixels of head, 32 of torso, 32 of upper leg, 32 of background, in raster blocks."""
    return torch.tensor([1] * 32 + [2] * 32 + [5] * 32 + [0] * 32)


def test_sampled_triplets_are_valid_and_capped():
    hierarchy = build_hierarchy(PPP)
    labels = big_labels()
    triplets = TreeTripletLoss(PPP, max_triplets_per_class=50).sample_triplets(labels)
    parent = torch.tensor(hierarchy.parents[0])
    anchor, positive, negative = (labels[t] for t in triplets)
    assert torch.bincount(anchor, minlength=7).tolist() == [50, 50, 50, 0, 0, 50, 0]
    assert (triplets.positive != triplets.anchor).all()
    assert (parent[positive] == parent[anchor]).all()
    assert (parent[negative] != parent[anchor]).all()


def test_sampling_is_reproducible_and_advances_per_call():
    labels = big_labels()
    first, second = TreeTripletLoss(PPP, max_triplets_per_class=20, seed=5), \
        TreeTripletLoss(PPP, max_triplets_per_class=20, seed=5)
    calls_first = [first.sample_triplets(labels) for _ in range(2)]
    calls_second = [second.sample_triplets(labels) for _ in range(2)]
    for a, b in zip(calls_first, calls_second):
        assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert not torch.equal(calls_first[0].anchor, calls_first[1].anchor)
    other = TreeTripletLoss(PPP, max_triplets_per_class=20, seed=6).sample_triplets(labels)
    assert not torch.equal(other.anchor, calls_first[0].anchor)


def test_sampling_is_not_raster_order():
    labels = big_labels()
    triplets = TreeTripletLoss(PPP, max_triplets_per_class=5).sample_triplets(labels)
    head = triplets.anchor[labels[triplets.anchor] == 1]
    assert len(head) == 5
    assert not torch.equal(head.sort().values, torch.arange(5))  # not the first 5 head pixels
    assert int(head.max()) >= 5 and int(triplets.negative.max()) >= 64


def test_labels_are_not_modified_and_embeddings_get_gradients():
    labels = TINY_LABELS.clone()
    embeddings = unit_embeddings((1, 5, 3, 4))
    TreeTripletLoss(PPP, loss_weight=1.0, ramp=None)(embeddings, labels).backward()
    assert torch.equal(labels, TINY_LABELS)
    assert embeddings.grad.abs().sum() > 0


# ---------------------------------------------------------------- errors and integration
def test_out_of_range_label_is_a_clear_error():
    labels = TINY_LABELS.clone()
    labels[0, 0, 0] = 7
    with pytest.raises(HierarchyError, match='label 7 is outside the 7 leaf'):
        TreeTripletLoss(PPP)(unit_embeddings((1, 5, 3, 4)), labels)


def test_wrong_shapes_are_clear_errors():
    with pytest.raises(ValueError, match='embeddings must be'):
        TreeTripletLoss(PPP)(torch.zeros(5, 3, 4), TINY_LABELS)
    with pytest.raises(ValueError, match='labels must be'):
        TreeTripletLoss(PPP)(torch.zeros(2, 5, 3, 4), TINY_LABELS)


@pytest.mark.parametrize('kwargs,message', [
    (dict(hierarchy=dict(classes=[['a', 'b']], parents=[])), 'one level'),
    (dict(max_triplets_per_class=0), 'max_triplets_per_class'),
    (dict(ramp='linear'), 'ramp'),
    (dict(ignore_index=0), 'ignore_index 0 is a leaf'),
    (dict(margin_eps=float('inf')), 'margin_eps'),
])
def test_bad_construction_is_a_clear_error(kwargs, message):
    kwargs = dict(dict(hierarchy=PPP), **kwargs)
    with pytest.raises(ValueError, match=message):
        TreeTripletLoss(**kwargs)


def test_registry_name_and_buffers():
    from mmseg.registry import MODELS
    loss_fn = MODELS.build(dict(type='TreeTripletLoss', hierarchy='cityscapes'))
    assert isinstance(loss_fn, TreeTripletLoss)
    assert loss_fn.loss_name == 'loss_tree_triplet'
    assert list(loss_fn.state_dict()) == ['generator_state']  # tables are not saved


def test_checkpointed_generator_continues_the_sequence(tmp_path):
    labels = big_labels()
    running = TreeTripletLoss(PPP, max_triplets_per_class=20, seed=5)
    running.sample_triplets(labels)
    running.sample_triplets(labels)
    torch.save(running.state_dict(), tmp_path / 'loss.pth')
    resumed = TreeTripletLoss(PPP, max_triplets_per_class=20, seed=5)
    resumed.load_state_dict(torch.load(tmp_path / 'loss.pth'))
    fresh = TreeTripletLoss(PPP, max_triplets_per_class=20, seed=5)
    expected = running.sample_triplets(labels)
    assert all(torch.equal(x, y) for x, y in zip(resumed.sample_triplets(labels), expected))
    assert not torch.equal(fresh.sample_triplets(labels).anchor, expected.anchor)
