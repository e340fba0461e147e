"""FeatureMemory: FIFO semantics per class, vectorised enqueue, state round trip."""
import pytest
import torch

from hieraseg.models.utils import FeatureMemory, class_ranks, subsample_per_class


def reference_enqueue(store, features, labels, correct, capacity):
    """Per-feature loop: store[c] is a list, newest last, at most `capacity` long."""
    for f, c, ok in zip(features, labels.tolist(), correct.tolist()):
        store[c].append((f.clone(), ok))
        del store[c][:-capacity]


def memory_as_lists(memory):
    """Contents of every class in insertion order (oldest first)."""
    out = []
    for c in range(memory.num_classes):
        n, p = int(memory.count[c]), int(memory.ptr[c])
        order = list(range(n)) if n < memory.capacity else \
            [(p + i) % memory.capacity for i in range(memory.capacity)]
        out.append([(memory.features[c, i], bool(memory.correct[c, i])) for i in order])
    return out


def test_class_ranks():
    labels = torch.tensor([2, 0, 2, 1, 2, 0])
    ranks, counts = class_ranks(labels, 4)
    assert ranks.tolist() == [0, 0, 1, 0, 2, 1]
    assert counts.tolist() == [2, 1, 3, 0]


def test_enqueue_matches_per_feature_fifo():
    g = torch.Generator().manual_seed(0)
    num_classes, capacity, dim = 5, 6, 3
    memory = FeatureMemory(num_classes, capacity, dim)
    store = [[] for _ in range(num_classes)]
    for step in range(8):
        n = int(torch.randint(0, 15, (1, ), generator=g))
        feats = torch.randn(n, dim, generator=g)
        labels = torch.randint(0, num_classes - 1, (n, ), generator=g)  # class 4 unused
        correct = torch.rand(n, generator=g) > 0.5
        memory.enqueue(feats, labels, correct)
        reference_enqueue(store, feats, labels, correct, capacity)
        got = memory_as_lists(memory)
        for c in range(num_classes):
            assert len(got[c]) == len(store[c])
            for (f1, ok1), (f2, ok2) in zip(got[c], store[c]):
                assert torch.equal(f1, f2) and ok1 == ok2
    assert memory.count[4] == 0
    assert torch.equal(memory.valid, torch.arange(capacity) < memory.count.unsqueeze(1))


def test_batch_larger_than_capacity_keeps_newest():
    memory = FeatureMemory(2, 3, 1)
    feats = torch.arange(7.).unsqueeze(1)
    memory.enqueue(feats, torch.zeros(7, dtype=torch.long))
    assert sorted(memory.features[0, :, 0].tolist()) == [4., 5., 6.]
    assert memory.count.tolist() == [3, 0]


def test_subsample_per_class_bounds_and_randomness():
    labels = torch.tensor([0] * 50 + [1] * 3 + [2] * 10)
    idx = subsample_per_class(labels, 5, 4, torch.Generator().manual_seed(0))
    counts = torch.bincount(labels[idx], minlength=4)
    assert counts.tolist() == [5, 3, 5, 0]
    assert len(set(idx.tolist())) == idx.numel()
    idx2 = subsample_per_class(labels, 5, 4, torch.Generator().manual_seed(1))
    assert set(idx.tolist()) != set(idx2.tolist())
    idx3 = subsample_per_class(labels, 5, 4, torch.Generator().manual_seed(0))
    assert torch.equal(idx, idx3)


def test_fp16_storage_and_footprint():
    memory = FeatureMemory(4, 8, 16, dtype='float16')
    x = torch.nn.functional.normalize(torch.randn(10, 16), dim=1)
    memory.enqueue(x, torch.arange(10) % 4)
    assert memory.features.dtype == torch.float16
    assert memory.nbytes() == 4 * 8 * 16 * 2 + 4 * 8 + 2 * 4 * 8
    assert torch.allclose(memory.features[0, 0].float(), x[0], atol=1e-3)


def test_state_dict_round_trip_is_exact():
    memory = FeatureMemory(3, 4, 5)
    memory.enqueue(torch.randn(20, 5), torch.randint(0, 3, (20, )),
                   torch.rand(20) > 0.5)
    other = FeatureMemory(3, 4, 5)
    other.load_state_dict(memory.state_dict())
    for name, buf in memory.state_dict().items():
        assert torch.equal(buf, other.state_dict()[name]), name


def test_bad_input_raises():
    with pytest.raises(ValueError, match='capacity'):
        FeatureMemory(3, 0, 4)
    with pytest.raises(ValueError, match='dtype'):
        FeatureMemory(3, 2, 4, dtype='int8')
    memory = FeatureMemory(3, 2, 4)
    with pytest.raises(ValueError, match='labels'):
        memory.enqueue(torch.randn(2, 4), torch.tensor([0, 3]))
    with pytest.raises(ValueError, match='features'):
        memory.enqueue(torch.randn(2, 5), torch.tensor([0, 1]))
