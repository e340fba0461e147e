"""Mixed precision on the CPU: half-precision inputs (float16, bfloat16) and bf16 autocast.

The tree-min loss, the tree-triplet loss, path scoring and Sinkhorn compute in float32
whatever the input dtype (under autocast too) and return gradients in the input's dtype."""
import pytest
import torch

from hieraseg.hierarchy import build_hierarchy
from hieraseg.models.losses import TreeMinLoss, TreeTripletLoss
from hieraseg.models.utils import batched_sinkhorn, leaf_path_scores
from tests.device_checks import toy_train_step_on

HALF = [torch.float16, torch.bfloat16]
BF16 = dict(device_type='cpu', dtype=torch.bfloat16)


def hssn_case(seed=0, size=(6, 7)):
    hierarchy = build_hierarchy('cityscapes')
    gen = torch.Generator().manual_seed(seed)
    logits = 2 * torch.randn(2, hierarchy.num_nodes, *size, generator=gen)
    labels = torch.randint(0, hierarchy.num_leaves, (2, ) + size, generator=gen)
    labels[1, 0] = 255
    return hierarchy, logits, labels


def unit_embeddings(seed=0, shape=(2, 8, 6, 7)):
    gen = torch.Generator().manual_seed(seed)
    return torch.nn.functional.normalize(torch.randn(*shape, generator=gen), dim=1)


@pytest.mark.parametrize('dtype', HALF)
@pytest.mark.parametrize('gamma', [0.0, 2.0])
def test_tree_min_half_inputs_float32_loss_gradient_in_input_dtype(dtype, gamma):
    hierarchy, logits, labels = hssn_case()
    half = logits.to(dtype).requires_grad_()
    loss = TreeMinLoss(hierarchy, gamma=gamma)(half, labels)
    loss.backward()
    assert loss.dtype == torch.float32 and half.grad.dtype == dtype
    # the reference: the same (rounded) logits in float64
    reference = half.detach().double().requires_grad_()
    ref_loss = TreeMinLoss(hierarchy, gamma=gamma)(reference, labels)
    ref_loss.backward()
    torch.testing.assert_close(loss.double(), ref_loss, rtol=1e-5, atol=0)
    tol = 1e-2 if dtype == torch.float16 else 3e-2
    torch.testing.assert_close(half.grad.double(), reference.grad, rtol=tol, atol=tol * 1e-2)


@pytest.mark.parametrize('gamma', [0.0, 2.0])
def test_tree_min_under_bf16_autocast_is_the_float32_loss(gamma):
    hierarchy, logits, labels = hssn_case(seed=1)
    logits.requires_grad_()
    loss_fn = TreeMinLoss(hierarchy, gamma=gamma)
    plain = loss_fn(logits, labels)
    (grad, ) = torch.autograd.grad(plain, logits)
    with torch.autocast(**BF16):
        cast = loss_fn(logits, labels)
        (cast_grad, ) = torch.autograd.grad(cast, logits)
    assert cast.dtype == torch.float32 and cast_grad.dtype == torch.float32
    assert torch.equal(cast, plain) and torch.equal(cast_grad, grad)


def test_tree_min_on_bf16_logits_of_an_autocast_conv():
    hierarchy, _, labels = hssn_case(seed=2)
    gen = torch.Generator().manual_seed(2)
    features = torch.randn(2, 8, 6, 7, generator=gen)
    conv = torch.nn.Conv2d(8, hierarchy.num_nodes, 1)
    loss_fn = TreeMinLoss(hierarchy)
    with torch.autocast(**BF16):
        logits = conv(features)
        loss = loss_fn(logits, labels)
    assert logits.dtype == torch.bfloat16 and loss.dtype == torch.float32
    loss.backward()
    assert conv.weight.grad.dtype == torch.float32
    weight_grad = conv.weight.grad.clone()
    conv.zero_grad()
    loss_fn(conv(features), labels).backward()
    torch.testing.assert_close(weight_grad, conv.weight.grad, rtol=0.05, atol=5e-3)


@pytest.mark.parametrize('dtype', HALF)
def test_tree_triplet_half_embeddings_float32_loss_gradient_in_input_dtype(dtype):
    hierarchy = build_hierarchy('cityscapes')
    _, _, labels = hssn_case()
    half = unit_embeddings().to(dtype).requires_grad_()
    loss = TreeTripletLoss(hierarchy, ramp=None)(half, labels)
    loss.backward()
    assert loss.dtype == torch.float32 and half.grad.dtype == dtype
    reference = half.detach().double().requires_grad_()
    ref_loss = TreeTripletLoss(hierarchy, ramp=None)(reference, labels)
    ref_loss.backward()
    torch.testing.assert_close(loss.double(), ref_loss, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(half.grad.double(), reference.grad, rtol=1e-2, atol=1e-5)


@pytest.mark.parametrize('dtype', HALF)
def test_tree_triplet_without_triplets_is_a_float32_zero_in_the_graph(dtype):
    hierarchy = build_hierarchy('cityscapes')
    half = unit_embeddings().to(dtype).requires_grad_()
    labels = torch.zeros(2, 6, 7, dtype=torch.long)  # one leaf: no negative
    loss = TreeTripletLoss(hierarchy, ramp=None)(half, labels)
    assert loss.dtype == torch.float32 and float(loss) == 0
    loss.backward()
    assert half.grad.dtype == dtype and not half.grad.any()


def test_tree_triplet_under_bf16_autocast_is_the_float32_loss():
    hierarchy = build_hierarchy('cityscapes')
    _, _, labels = hssn_case()
    embeddings = unit_embeddings(seed=3).requires_grad_()
    plain = TreeTripletLoss(hierarchy, ramp=None)(embeddings, labels)
    with torch.autocast(**BF16):
        cast = TreeTripletLoss(hierarchy, ramp=None)(embeddings, labels)
    assert cast.dtype == torch.float32 and torch.equal(cast, plain)


@pytest.mark.parametrize('dtype', HALF)
@pytest.mark.parametrize('mode', ['sum', 'min', 'log'])
def test_path_scores_of_half_logits_are_float32_scores_of_the_same_values(dtype, mode):
    hierarchy, logits, _ = hssn_case()
    half = logits.to(dtype)
    with torch.autocast(**BF16):
        scores = leaf_path_scores(half, hierarchy.leaf_to_node, mode)
    expected = leaf_path_scores(half.float(), hierarchy.leaf_to_node, mode)
    assert scores.dtype == torch.float32
    torch.testing.assert_close(scores, expected, rtol=1e-6, atol=1e-7)
    assert torch.equal(scores.argmax(1), expected.argmax(1))


def test_path_scores_separate_paths_that_half_precision_sums_would_tie():
    # two leaves one bf16 step apart, the rest of their paths equal: summed in bf16 the
    # path scores tie (the step is lost in the sum); in float32 the higher leaf wins
    hierarchy = build_hierarchy('cityscapes')
    leaf_to_node = hierarchy.leaf_to_node
    logits = torch.full((1, hierarchy.num_nodes, 1, 1), -10.0, dtype=torch.bfloat16)
    for leaf in (0, 1):
        logits[0, leaf_to_node[:, leaf], 0, 0] = 3.0
    logits[0, leaf_to_node[0, 1], 0, 0] = 3.015625
    in_bf16 = [sum(logits[0, leaf_to_node[:, leaf], 0, 0].sigmoid()) for leaf in (0, 1)]
    assert in_bf16[0] == in_bf16[1]
    scores = leaf_path_scores(logits, leaf_to_node, 'sum')
    assert scores[0, 1, 0, 0] > scores[0, 0, 0, 0]
    assert int(scores[0, :, 0, 0].argmax()) == 1


@pytest.mark.parametrize('dtype', HALF)
def test_sinkhorn_of_half_similarities_is_float32(dtype):
    gen = torch.Generator().manual_seed(0)
    sim = torch.nn.functional.normalize(torch.randn(3, 20, 4, generator=gen), dim=-1)
    with torch.autocast(**BF16):
        q = batched_sinkhorn(sim.to(dtype))
    assert q.dtype == torch.float32
    torch.testing.assert_close(q, batched_sinkhorn(sim.to(dtype).float()), rtol=0, atol=0)


def test_toy_hssn_training_step_under_bf16_autocast():
    """The toy HSSN model's forward and backward under CPU bf16 autocast: finite losses
    close to the float32 step, the decode head reached by a finite gradient."""
    cast = toy_train_step_on('cpu', 'bf16', 'hssn')
    plain = toy_train_step_on('cpu', 'fp32', 'hssn')
    assert set(cast) == set(plain) and any('tree_min' in key for key in plain), plain
    for key, value in plain.items():
        assert torch.isfinite(cast[key]).all(), key
        torch.testing.assert_close(cast[key], value, rtol=0.1, atol=1e-3)
