"""Farthest point sampling, graph pooling assignments and their composition."""
import pytest
import torch
import torch.nn.functional as F

from hieraseg.models.backbones.cast import (GraphPooling, compose_segments,
                                            farthest_point_sampling)


def fps_reference(x, k, valid):
    """One sample, plain loops: start farthest from the mean, then farthest-first."""
    f = F.normalize(x.double(), dim=-1)
    ids = [i for i in range(len(f)) if valid[i]]
    mean = f[ids].mean(0)
    picks = [max(ids, key=lambda i: (float(((f[i] - mean)**2).sum()), -i))]
    while len(picks) < k:
        def gap(i):
            return min(float(((f[i] - f[p])**2).sum()) for p in picks)
        rest = [i for i in ids if i not in picks]
        picks.append(max(rest, key=lambda i: (gap(i), -i)))
    return picks


def test_fps_matches_reference_distinct_and_skips_padding():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 12, 4, generator=g)
    valid = torch.ones(3, 12, dtype=torch.bool)
    valid[1, 8:] = False
    valid[2, ::3] = False
    picks = farthest_point_sampling(x, 6, valid)
    assert picks.shape == (3, 6)
    for b in range(3):
        assert picks[b].tolist() == fps_reference(x[b], 6, valid[b])
        assert len(set(picks[b].tolist())) == 6
        assert bool(valid[b, picks[b]].all())


def test_fps_distinct_on_duplicate_tokens():
    x = torch.ones(1, 5, 3)
    picks = farthest_point_sampling(x, 5)
    assert sorted(picks[0].tolist()) == [0, 1, 2, 3, 4]


def test_fps_too_many_clusters():
    valid = torch.tensor([[True] * 4 + [False] * 4])
    with pytest.raises(ValueError, match='5 clusters requested but a sample has only 4 tokens'):
        farthest_point_sampling(torch.randn(1, 8, 3), 5, valid)


def test_assignments_sum_to_one_and_coarse_shapes():
    pool = GraphPooling(8, num_clusters=3)
    x = torch.randn(2, 10, 8, requires_grad=True)
    valid = torch.ones(2, 10, dtype=torch.bool)
    valid[1, 7:] = False
    coarse, assign, index = pool(x, valid)
    assert coarse.shape == (2, 3, 8) and assign.shape == (2, 10, 3) and index.shape == (2, 3)
    sums = assign.sum(-1)
    torch.testing.assert_close(sums[valid], torch.ones(int(valid.sum())))
    assert torch.all(sums[~valid] == 0)
    # each centroid is its own most likely cluster (cosine 1 to itself)
    rows = torch.arange(2)[:, None]
    assert torch.equal(assign[rows, index].argmax(-1), torch.arange(3).expand(2, 3))
    coarse.sum().backward()
    assert x.grad is not None and pool.mlp.layers[0][0].weight.grad is not None
    last = GraphPooling(8, num_clusters=3, with_coarse_tokens=False)
    assert last(x, valid)[0] is None and len(list(last.parameters())) == 0


def test_composed_segments_are_nested():
    g = torch.Generator().manual_seed(0)
    B, H, W, S = 2, 16, 16, 20
    sp = torch.randint(0, S, (B, H, W), generator=g)
    sp[1, :, -3:] = -1
    sizes = [S, 8, 4, 2]
    assignments = [torch.rand(B, a, b, generator=g).softmax(-1) for a, b in zip(sizes, sizes[1:])]
    seg = compose_segments(sp, assignments)
    assert seg.shape == (B, 4, H, W)
    assert torch.equal(seg[:, 0], sp)
    assert torch.all((seg == -1) == (sp == -1).unsqueeze(1))
    for lvl in range(3):
        fine, coarse = seg[:, lvl].flatten(1), seg[:, lvl + 1].flatten(1)
        for b in range(B):
            for s in fine[b].unique():
                # every fine segment lies inside a single coarse segment
                assert coarse[b][fine[b] == s].unique().numel() == 1
    # the composition is the argmax chain
    tok = assignments[0][0].argmax(-1)
    assert torch.equal(seg[0, 1], tok[sp[0]])


def test_compose_errors():
    sp = torch.zeros(1, 4, 4, dtype=torch.long)
    sp[0, 0, 0] = 9
    with pytest.raises(ValueError, match='up to 9 but the first assignment has only 5'):
        compose_segments(sp, [torch.rand(1, 5, 2)])
    with pytest.raises(ValueError, match='levels must chain'):
        compose_segments(sp.clamp(max=4), [torch.rand(1, 5, 3), torch.rand(1, 4, 2)])
