"""TreeMinLoss against a loop reference written from the formulas (SPEC section 2)."""
import pytest
import torch

from hieraseg.hierarchy import HierarchyError, build_hierarchy
from hieraseg.models.losses.tree_min_loss import TreeMinLoss

IGNORE = 255


# ---------------------------------------------------------------- reference, from the parents
def node_sets(hierarchy):
    """Ancestor and descendant sets (each including the node) from the raw parent lists."""
    sizes = [len(level) for level in hierarchy.classes]
    offsets = [sum(sizes[:level]) for level in range(len(sizes))]
    parent_of = {}
    for level, links in enumerate(hierarchy.parents):
        for node, parent in enumerate(links):
            parent_of[offsets[level] + node] = offsets[level + 1] + parent
    num_nodes = sum(sizes)
    ancestors = []
    for node in range(num_nodes):
        chain = {node}
        while node in parent_of:
            node = parent_of[node]
            chain.add(node)
        ancestors.append(chain)
    descendants = [{u for u in range(num_nodes) if v in ancestors[u]} for v in range(num_nodes)]
    level_size_of = [size for size in sizes for _ in range(size)]
    return ancestors, descendants, level_size_of


def reference_tree_min(logits, labels, hierarchy, gamma, reduction_mode, weight=None):
    """Loops over pixels and nodes; ``min``/``max`` over explicit node sets of sigmoid scores."""
    ancestors, descendants, level_size_of = node_sets(hierarchy)
    scores = torch.sigmoid(logits)
    total, num_valid = logits.new_zeros(()), 0
    batch, height, width = labels.shape
    for b in range(batch):
        for i in range(height):
            for j in range(width):
                leaf = int(labels[b, i, j])
                if leaf == IGNORE:
                    continue
                num_valid += 1
                path = ancestors[leaf]
                pixel = logits.new_zeros(())
                for v in range(len(ancestors)):
                    if v in path:
                        p = torch.stack([scores[b, u, i, j] for u in ancestors[v]]).min()
                        term = -(1 - p)**gamma * torch.log(p)
                    else:
                        n = torch.stack([scores[b, u, i, j] for u in descendants[v]]).max()
                        term = -n**gamma * torch.log(1 - n)
                    if reduction_mode == 'level_mean':
                        term = term / level_size_of[v]
                    pixel = pixel + term
                if weight is not None:
                    pixel = pixel * weight[b, i, j]
                total = total + pixel
    return total / num_valid


def dense_reference(logits, labels, hierarchy, gamma, reduction_mode):
    """The same formula vectorised with [V, V] masks built from the test's own node sets."""
    ancestors, descendants, level_size_of = node_sets(hierarchy)
    num_nodes = len(ancestors)
    is_ancestor = torch.zeros(num_nodes, num_nodes, dtype=torch.bool)  # [v, u]: u in A_v
    for v, chain in enumerate(ancestors):
        is_ancestor[v, list(chain)] = True
    is_descendant = torch.zeros(num_nodes, num_nodes, dtype=torch.bool)  # [v, u]: u in C_v
    for v, below in enumerate(descendants):
        is_descendant[v, list(below)] = True
    scores = torch.sigmoid(logits).unsqueeze(1)  # [B, 1, V(u), H, W]
    big = torch.tensor(2.0, dtype=logits.dtype)
    p = torch.where(is_ancestor.view(1, num_nodes, num_nodes, 1, 1), scores, big).amin(2)
    n = torch.where(is_descendant.view(1, num_nodes, num_nodes, 1, 1), scores, -big).amax(2)
    valid = labels != IGNORE
    on_path = torch.zeros_like(p, dtype=torch.bool)
    for v in range(num_nodes):
        members = torch.tensor([leaf for leaf in range(hierarchy.num_leaves)
                                if v in ancestors[leaf]])
        on_path[:, v] = torch.isin(labels, members)
    term = torch.where(on_path, -(1 - p)**gamma * torch.log(p), -n**gamma * torch.log(1 - n))
    if reduction_mode == 'level_mean':
        term = term / torch.tensor(level_size_of, dtype=logits.dtype).view(1, -1, 1, 1)
    return term.sum(1)[valid].mean()


def random_case(hierarchy, shape=(2, 3, 4), seed=0, num_ignored=3):
    generator = torch.Generator().manual_seed(seed)
    batch, height, width = shape
    logits = 2 * torch.randn(batch, hierarchy.num_nodes, height, width, generator=generator,
                             dtype=torch.float64)
    labels = torch.randint(0, hierarchy.num_leaves, shape, generator=generator)
    flat = labels.view(-1)
    flat[torch.randperm(flat.numel(), generator=generator)[:num_ignored]] = IGNORE
    return logits.requires_grad_(), labels


# ---------------------------------------------------------------- values and gradients
@pytest.mark.parametrize('name', ['pascal_person_part', 'cityscapes'])
@pytest.mark.parametrize('gamma', [0.0, 2.0])
@pytest.mark.parametrize('reduction_mode', ['level_mean', 'node_sum'])
def test_matches_loop_reference(name, gamma, reduction_mode):
    hierarchy = build_hierarchy(name)
    logits, labels = random_case(hierarchy)
    loss_fn = TreeMinLoss(name, gamma=gamma, reduction_mode=reduction_mode)

    loss = loss_fn(logits, labels)
    (grad, ) = torch.autograd.grad(loss, logits)
    expected = reference_tree_min(logits, labels, hierarchy, gamma, reduction_mode)
    (expected_grad, ) = torch.autograd.grad(expected, logits)

    assert loss.dtype == torch.float64
    torch.testing.assert_close(loss, expected, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(grad, expected_grad, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize('name', ['toy_shapes', 'lip', 'mapillary_v2'])
@pytest.mark.parametrize('gamma,reduction_mode', [(2.0, 'level_mean'), (0.0, 'node_sum')])
def test_matches_dense_reference_on_other_hierarchies(name, gamma, reduction_mode):
    hierarchy = build_hierarchy(name)
    logits, labels = random_case(hierarchy, shape=(1, 3, 3), seed=1, num_ignored=1)
    loss_fn = TreeMinLoss(name, gamma=gamma, reduction_mode=reduction_mode)
    loss = loss_fn(logits, labels)
    (grad, ) = torch.autograd.grad(loss, logits)
    expected = dense_reference(logits, labels, hierarchy, gamma, reduction_mode)
    (expected_grad, ) = torch.autograd.grad(expected, logits)
    torch.testing.assert_close(loss, expected, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(grad, expected_grad, rtol=1e-8, atol=1e-12)


def test_loss_weight_and_pixel_weight():
    hierarchy = build_hierarchy('pascal_person_part')
    logits, labels = random_case(hierarchy, shape=(1, 2, 3))
    generator = torch.Generator().manual_seed(3)
    pixel_weight = torch.rand(1, 2, 3, dtype=torch.float64, generator=generator)
    loss = TreeMinLoss(hierarchy, gamma=2.0, loss_weight=0.25)(logits, labels, weight=pixel_weight)
    expected = 0.25 * reference_tree_min(logits, labels, hierarchy, 2.0, 'level_mean',
                                         weight=pixel_weight)
    torch.testing.assert_close(loss, expected, rtol=1e-10, atol=1e-12)


def test_float32_logits_give_float32_loss():
    hierarchy = build_hierarchy('cityscapes')
    logits, labels = random_case(hierarchy)
    loss = TreeMinLoss(hierarchy)(logits.detach().float(), labels)
    expected = TreeMinLoss(hierarchy)(logits.detach(), labels)
    assert loss.dtype == torch.float32
    torch.testing.assert_close(loss.double(), expected, rtol=1e-5, atol=1e-6)


def integer_logits(hierarchy, shape=(2, 3, 4), seed=0):
    """Logits in {-1, 0, 1}: most mins and maxes are exact ties."""
    generator = torch.Generator().manual_seed(seed)
    batch, height, width = shape
    logits = torch.randint(-1, 2, (batch, hierarchy.num_nodes, height, width),
                           generator=generator).double()
    labels = torch.randint(0, hierarchy.num_leaves, shape, generator=generator)
    return logits.requires_grad_(), labels


def test_ties_split_the_gradient_like_amin_and_amax():
    """Two levels: every max is over a node and its children, as amax in the reference."""
    hierarchy = build_hierarchy('cityscapes')
    logits, labels = integer_logits(hierarchy)
    loss = TreeMinLoss(hierarchy)(logits, labels)
    (grad, ) = torch.autograd.grad(loss, logits)
    expected = dense_reference(logits, labels, hierarchy, 2.0, 'level_mean')
    (expected_grad, ) = torch.autograd.grad(expected, logits)
    torch.testing.assert_close(loss, expected, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(grad, expected_grad, rtol=1e-8, atol=1e-12)


def test_ties_on_deeper_trees_keep_the_gradient_of_a_common_shift():
    """Deeper trees split a tie level by level, amax over the whole subtree at once: both
    are subgradients; the derivative along shifting all logits of a pixel is the same."""
    hierarchy = build_hierarchy('pascal_person_part')
    logits, labels = integer_logits(hierarchy, seed=2)
    loss = TreeMinLoss(hierarchy, gamma=2.0)(logits, labels)
    (grad, ) = torch.autograd.grad(loss, logits)
    expected = dense_reference(logits, labels, hierarchy, 2.0, 'level_mean')
    (expected_grad, ) = torch.autograd.grad(expected, logits)
    torch.testing.assert_close(loss, expected, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(grad.sum(1), expected_grad.sum(1), rtol=1e-8, atol=1e-12)


def test_without_gradient_the_value_is_the_same():
    hierarchy = build_hierarchy('lip')
    logits, labels = random_case(hierarchy)
    loss_fn = TreeMinLoss(hierarchy)
    with torch.no_grad():
        value = loss_fn(logits, labels)
    torch.testing.assert_close(value, loss_fn(logits, labels).detach(), rtol=0, atol=0)
    assert not value.requires_grad


def test_backward_scales_with_the_incoming_gradient_and_can_repeat():
    hierarchy = build_hierarchy('pascal_person_part')
    logits, labels = random_case(hierarchy)
    loss = TreeMinLoss(hierarchy)(logits, labels)
    (once, ) = torch.autograd.grad(loss, logits, retain_graph=True)
    (again, ) = torch.autograd.grad(loss, logits, retain_graph=True)
    (scaled, ) = torch.autograd.grad(-3 * loss, logits)
    assert torch.equal(once, again)
    torch.testing.assert_close(scaled, -3 * once, rtol=1e-12, atol=0)


def test_half_precision_logits_get_a_half_precision_gradient():
    hierarchy = build_hierarchy('cityscapes')
    logits, labels = random_case(hierarchy)
    half = logits.detach().half().requires_grad_()
    loss = TreeMinLoss(hierarchy)(half, labels)
    loss.backward()
    assert loss.dtype == torch.float32 and half.grad.dtype == torch.float16
    reference = half.detach().double().requires_grad_()
    TreeMinLoss(hierarchy)(reference, labels).backward()
    torch.testing.assert_close(half.grad.double(), reference.grad, rtol=1e-2, atol=1e-4)


# ---------------------------------------------------------------- numerical safety
@pytest.mark.parametrize('magnitude', [100.0, 1e4])
@pytest.mark.parametrize('gamma', [0.0, 2.0])
@pytest.mark.parametrize('reduction_mode', ['level_mean', 'node_sum'])
def test_extreme_logits_are_finite(magnitude, gamma, reduction_mode):
    hierarchy = build_hierarchy('pascal_person_part')
    generator = torch.Generator().manual_seed(0)
    signs = torch.randint(0, 2, (2, hierarchy.num_nodes, 3, 4), generator=generator) * 2 - 1
    logits = (magnitude * signs).float().requires_grad_()
    labels = torch.randint(0, hierarchy.num_leaves, (2, 3, 4), generator=generator)
    loss = TreeMinLoss(hierarchy, gamma=gamma, reduction_mode=reduction_mode)(logits, labels)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(logits.grad).all()


@pytest.mark.parametrize('gamma', [0.0, 2.0])
def test_saturated_logits_give_exact_values(gamma):
    """All logits -100: each path node costs -log sigmoid(-100) = 100, the others ~0."""
    hierarchy = build_hierarchy('pascal_person_part')
    labels = torch.tensor([[[0, 3], [6, IGNORE]]])
    logits = torch.full((1, hierarchy.num_nodes, 2, 2), -100.0, requires_grad=True)
    node_sum = TreeMinLoss(hierarchy, gamma=gamma, reduction_mode='node_sum')(logits, labels)
    torch.testing.assert_close(node_sum, torch.tensor(300.0))
    level_mean = TreeMinLoss(hierarchy, gamma=gamma)(logits, labels)
    torch.testing.assert_close(level_mean, torch.tensor(100.0 / 7 + 100.0 / 3 + 100.0 / 2))
    # A confident, correct prediction costs nothing.
    perfect = torch.full((1, hierarchy.num_nodes, 2, 2), -100.0)
    for i, j in [(0, 0), (0, 1), (1, 0)]:
        perfect[0, hierarchy.leaf_to_node[:, labels[0, i, j]], i, j] = 100.0
    assert float(TreeMinLoss(hierarchy, gamma=gamma)(perfect, labels)) < 1e-30


# ---------------------------------------------------------------- ignore pixels and labels
def test_ignored_pixels_contribute_nothing():
    hierarchy = build_hierarchy('pascal_person_part')
    logits, labels = random_case(hierarchy, num_ignored=5)
    loss_fn = TreeMinLoss(hierarchy)
    loss = loss_fn(logits, labels)
    (grad, ) = torch.autograd.grad(loss, logits)
    ignored = (labels == IGNORE).unsqueeze(1).expand_as(logits)
    assert (grad[ignored] == 0).all()  # at every level
    changed = torch.where(ignored, torch.full_like(logits, 1e3), logits.detach())
    assert torch.equal(loss_fn(changed, labels), loss.detach())


def test_labels_are_not_modified():
    hierarchy = build_hierarchy('cityscapes')
    logits, labels = random_case(hierarchy, num_ignored=4)
    before = labels.clone()
    TreeMinLoss(hierarchy)(logits, labels).backward()
    assert torch.equal(labels, before)


def test_all_ignored_gives_zero_in_the_graph():
    hierarchy = build_hierarchy('cityscapes')
    logits = torch.randn(1, hierarchy.num_nodes, 2, 2, requires_grad=True)
    labels = torch.full((1, 2, 2), IGNORE)
    loss = TreeMinLoss(hierarchy)(logits, labels)
    assert loss.requires_grad and float(loss.detach()) == 0
    loss.backward()
    assert torch.equal(logits.grad, torch.zeros_like(logits))


def test_call_time_ignore_index_overrides():
    hierarchy = build_hierarchy('pascal_person_part')
    logits, labels = random_case(hierarchy, num_ignored=0)
    labels[0, 0, 0] = -1
    loss = TreeMinLoss(hierarchy)(logits, labels, ignore_index=-1)
    expected = reference_tree_min(logits, torch.where(labels == -1, IGNORE, labels), hierarchy,
                                  2.0, 'level_mean')
    torch.testing.assert_close(loss, expected, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- errors
def test_wrong_channel_count_is_a_clear_error():
    hierarchy = build_hierarchy('cityscapes')
    with pytest.raises(HierarchyError, match='26 nodes.*19 channels'):
        TreeMinLoss(hierarchy)(torch.randn(1, 19, 2, 2), torch.zeros(1, 2, 2, dtype=torch.long))


@pytest.mark.parametrize('bad_label', [19, -3])
def test_out_of_range_label_is_a_clear_error(bad_label):
    hierarchy = build_hierarchy('cityscapes')
    labels = torch.zeros(1, 2, 2, dtype=torch.long)
    labels[0, 1, 1] = bad_label
    with pytest.raises(HierarchyError, match=f'label {bad_label} is outside the 19 leaf'):
        TreeMinLoss(hierarchy)(torch.randn(1, 26, 2, 2), labels)


def test_label_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match='labels must be'):
        TreeMinLoss('cityscapes')(torch.randn(1, 26, 2, 2), torch.zeros(1, 3, 2, dtype=torch.long))


@pytest.mark.parametrize('kwargs,message', [
    (dict(gamma=-1.0), 'gamma'),
    (dict(reduction_mode='mean'), 'reduction_mode'),
    (dict(ignore_index=3), 'ignore_index 3 is a leaf'),
    (dict(loss_weight=float('nan')), 'loss_weight'),
    (dict(hierarchy='no_such_dataset'), 'unknown built-in hierarchy'),
])
def test_bad_construction_is_a_clear_error(kwargs, message):
    kwargs = dict(dict(hierarchy='cityscapes'), **kwargs)
    with pytest.raises(ValueError, match=message):
        TreeMinLoss(**kwargs)


# ---------------------------------------------------------------- integration
def test_registry_name_and_buffers():
    from mmseg.registry import MODELS
    loss_fn = MODELS.build(dict(type='TreeMinLoss', hierarchy='cityscapes', gamma=0.0))
    assert isinstance(loss_fn, TreeMinLoss)
    assert loss_fn.loss_name == 'loss_tree_min'
    assert loss_fn.state_dict() == {}  # tables are non-persistent buffers
    assert 'leaf_to_level' in dict(loss_fn.named_buffers())
