"""batched_sinkhorn: marginals, agreement with a per-class loop, masks, stability."""
import math

import pytest
import torch

from hieraseg.models.utils import batched_sinkhorn


def reference_sinkhorn(sim, epsilon, iters):
    """The paper's per-class Sinkhorn-Knopp (exp domain), for one class: sim [N, K]."""
    n, k = sim.shape
    q = torch.exp((sim - sim.max()) / epsilon).t()  # [K, N]
    q = q / q.sum()
    for _ in range(iters):
        q = q / q.sum(dim=1, keepdim=True) / k  # sub-centroid marginals 1/K
        q = q / q.sum(dim=0, keepdim=True) / n  # feature marginals 1/N
    return (q * n).t()  # rows of each feature sum to 1


def random_problem(seed, num_classes=5, max_n=40, k=4):
    g = torch.Generator().manual_seed(seed)
    sim = torch.rand(num_classes, max_n, k, generator=g) * 2 - 1
    counts = torch.randint(1, max_n + 1, (num_classes, ), generator=g)
    counts[0] = max_n
    mask = torch.arange(max_n).unsqueeze(0) < counts.unsqueeze(1)
    return sim, mask, counts


def test_rows_sum_to_one_and_masked_rows_are_zero():
    sim, mask, _ = random_problem(0)
    q = batched_sinkhorn(sim, mask)
    assert q.shape == sim.shape and q.dtype == torch.float32
    assert torch.allclose(q.sum(-1)[mask], torch.ones(int(mask.sum())), atol=1e-6)
    assert torch.equal(q[~mask], torch.zeros_like(q[~mask]))
    assert (q >= 0).all()


def test_equipartition_with_enough_iterations():
    sim, mask, counts = random_problem(1)
    q = batched_sinkhorn(sim, mask, epsilon=0.05, iters=300)
    column_share = q.sum(dim=1) / counts.unsqueeze(1).float()  # [C, K]
    assert torch.allclose(column_share, torch.full_like(column_share, 0.25), atol=1e-3)


def test_iterations_move_towards_equipartition():
    sim, mask, counts = random_problem(2)

    def imbalance(q):
        share = q.sum(dim=1) / counts.unsqueeze(1).float()
        return float((share - 0.25).abs().max())

    plain = torch.softmax(sim / 0.05, dim=-1) * mask.unsqueeze(-1)  # no Sinkhorn
    devs = [imbalance(batched_sinkhorn(sim, mask, iters=i)) for i in (1, 3, 30, 300)]
    assert imbalance(plain) > devs[0] > devs[1] > devs[2] > devs[3]


@pytest.mark.parametrize('iters', [1, 3, 50])
def test_batched_equals_per_class_loop(iters):
    sim, mask, counts = random_problem(3)
    q = batched_sinkhorn(sim, mask, epsilon=0.05, iters=iters)
    for c in range(sim.shape[0]):
        n = int(counts[c])
        ref = reference_sinkhorn(sim[c, :n].double(), 0.05, iters).float()
        assert torch.allclose(q[c, :n], ref, atol=1e-5, rtol=1e-4), c
        top2 = ref.topk(2, dim=1).values
        clear = top2[:, 0] - top2[:, 1] > 1e-4  # exact ties (e.g. N_c = 1) may go either way
        assert torch.equal(q[c, :n].argmax(1)[clear], ref.argmax(1)[clear])


def test_no_mask_means_all_valid():
    sim, _, _ = random_problem(4)
    full = torch.ones(sim.shape[:2], dtype=torch.bool)
    assert torch.equal(batched_sinkhorn(sim), batched_sinkhorn(sim, full))


def test_class_without_features_gives_zeros():
    sim, mask, _ = random_problem(5)
    mask[2] = False
    q = batched_sinkhorn(sim, mask)
    assert torch.equal(q[2], torch.zeros_like(q[2]))
    assert torch.isfinite(q).all()


@pytest.mark.parametrize('scale', [1e-6, 1.0, 1e3, 1e5])
def test_stable_for_any_similarity_range(scale):
    sim, mask, _ = random_problem(6)
    q = batched_sinkhorn(sim * scale, mask)
    assert torch.isfinite(q).all()
    assert torch.allclose(q.sum(-1)[mask], torch.ones(int(mask.sum())), atol=1e-5)


def test_half_input_is_computed_in_float32():
    sim, mask, _ = random_problem(7)
    q16 = batched_sinkhorn(sim.half(), mask)
    q32 = batched_sinkhorn(sim.half().float(), mask)
    assert q16.dtype == torch.float32
    assert torch.equal(q16, q32)


def test_single_sub_centroid():
    sim, mask, _ = random_problem(8, k=1)
    q = batched_sinkhorn(sim, mask)
    assert torch.equal(q[mask], torch.ones_like(q[mask]))


def test_recovers_clear_clusters_balanced():
    # Each class has K well-separated groups of equal size, shuffled; columns of sim are
    # the similarity to the K true cluster centres, permuted differently per class.
    g = torch.Generator().manual_seed(9)
    num_classes, k, per = 3, 4, 10
    truth = torch.arange(k).repeat_interleave(per)
    sims, truths = [], []
    for _ in range(num_classes):
        perm = torch.randperm(k * per, generator=g)
        lab = truth[perm]
        s = torch.full((k * per, k), -0.2) + 0.05 * torch.rand(k * per, k, generator=g)
        s[torch.arange(k * per), lab] = 0.9
        sims.append(s)
        truths.append(lab)
    q = batched_sinkhorn(torch.stack(sims))
    hard = q.argmax(-1)
    for c in range(num_classes):
        assert torch.equal(hard[c], truths[c])
        assert torch.equal(torch.bincount(hard[c], minlength=k), torch.full((k, ), per))


@pytest.mark.parametrize('kwargs', [dict(epsilon=0.0), dict(epsilon=-1.0), dict(iters=0),
                                    dict(iters=1.5)])
def test_bad_arguments_raise(kwargs):
    with pytest.raises(ValueError):
        batched_sinkhorn(torch.rand(2, 3, 4), **kwargs)


def test_bad_shapes_and_nan_raise():
    with pytest.raises(ValueError, match=r'\[C, N, K\]'):
        batched_sinkhorn(torch.rand(3, 4))
    with pytest.raises(ValueError, match='mask'):
        batched_sinkhorn(torch.rand(2, 3, 4), torch.ones(2, 4, dtype=torch.bool))
    sim = torch.rand(2, 3, 4)
    sim[1, 2, 0] = math.nan
    with pytest.raises(ValueError, match='non-finite'):
        batched_sinkhorn(sim)
    mask = torch.ones(2, 3, dtype=torch.bool)
    mask[1, 2] = False  # NaN on padding is ignored
    assert torch.isfinite(batched_sinkhorn(sim, mask)).all()
