"""Two gloo processes: gathered features give identical centroids and memories on both ranks."""
import gc
from datetime import timedelta

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

WORLD_SIZE = 2
STEPS = 6
NUM_CLASSES = 5
MEMORY_SIZE = 12


# 5 leaves -> 2 nodes, for the hierarchical run
HIERARCHY = dict(classes=[['a', 'b', 'c', 'd', 'e'], ['abc', 'de']], parents=[[0, 0, 0, 1, 1]])


def train_and_collect(rank, hierarchical):
    """A few DDP steps with the hook; returns every rank's final state (gathered)."""
    from types import SimpleNamespace

    from mmengine.logging import MessageHub
    from torch.nn.parallel import DistributedDataParallel

    from hieraseg.engine.hooks import SinkhornClusteringHook
    from tests.test_engine.test_sinkhorn_clustering_hook import TinyDNC

    class Model(TinyDNC):
        forward = TinyDNC.train_forward

    model = Model(num_classes=NUM_CLASSES, k=3, seed=0,
                  hierarchy=HIERARCHY if hierarchical else None)
    # broadcast_buffers=False: DDP must not re-sync the centroids at each forward, so
    # equality at the end comes from the hook alone.
    ddp = DistributedDataParallel(model, broadcast_buffers=False)
    if rank == 1:  # different starting centroids: the hook's before_train aligns them
        torch.manual_seed(123)
        model.classifier.centroids.copy_(
            F.normalize(torch.randn_like(model.classifier.centroids), dim=-1))
    hook = SinkhornClusteringHook(memory_size=MEMORY_SIZE, momentum=0.8)
    runner = SimpleNamespace(model=ddp, iter=0,
                             message_hub=MessageHub.get_instance(f'ddp_test_{rank}'))
    hook.before_train(runner)
    optim = torch.optim.SGD(ddp.parameters(), lr=0.1)
    g = torch.Generator().manual_seed(100 + rank)  # each rank sees different data
    local_counts = torch.zeros(NUM_CLASSES, dtype=torch.long)
    for step in range(STEPS):
        x = torch.randn(8 + 4 * rank, 8, generator=g)  # unequal batch sizes
        labels = torch.randint(0, NUM_CLASSES, (x.shape[0], ), generator=g)
        local_counts += torch.bincount(labels, minlength=NUM_CLASSES)
        loss = ddp(x, labels)
        optim.zero_grad()
        loss.backward()
        optim.step()
        runner.iter = step
        hook.after_train_iter(runner, step)

    memory = hook.memories['classifier']
    state = [model.classifier.centroids, memory.features, memory.count,
             memory.correct.to(torch.uint8)]
    gathered = []
    for t in state:
        parts = [torch.empty_like(t) for _ in range(WORLD_SIZE)]
        dist.all_gather(parts, t.contiguous())
        gathered.append(parts)
    dist.all_reduce(local_counts)
    return gathered, local_counts


def worker(rank, rendezvous_file, result_file):
    """Both runs (flat, hierarchical) in one pair of processes: one start-up, not two."""
    torch.set_num_threads(1)
    # a file rendezvous needs no free port; the timeout turns a lost peer into an error
    dist.init_process_group('gloo', init_method=f'file://{rendezvous_file}', rank=rank,
                            world_size=WORLD_SIZE, timeout=timedelta(seconds=120))
    try:
        results = {}
        for hierarchical in (False, True):
            # In a function of its own, so that the DDP objects are gone before the process
            # group is destroyed (the reverse order can hang at exit).
            gathered, total_counts = train_and_collect(rank, hierarchical)
            results[hierarchical] = dict(gathered=gathered, total_counts=total_counts)
        if rank == 0:
            torch.save(results, result_file)
        # DDP's reducer sits in reference cycles: free it now, while the group exists; freed
        # by the collector after destroy_process_group it aborted the process at exit
        # ('terminate called without an active exception', 3 of 10 runs before this)
        gc.collect()
        dist.barrier()
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope='module')
def ranks_results(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp('ddp_hook')
    result_file = str(tmp_path / 'result.pth')
    mp.spawn(worker, args=(str(tmp_path / 'rendezvous'), result_file), nprocs=WORLD_SIZE,
             join=True)
    return torch.load(result_file, weights_only=True)


@pytest.mark.parametrize('hierarchical', [False, True])
def test_identical_centroids_and_memory_on_both_ranks(ranks_results, hierarchical):
    """Flat DNC, and hierarchical DNC (every node, coarse ones included)."""
    result = ranks_results[hierarchical]
    centroids, features, counts, correct = result['gathered']
    assert centroids[0].shape[0] == (7 if hierarchical else 5)  # every node's
    assert torch.equal(centroids[0], centroids[1])
    assert torch.equal(features[0], features[1])
    assert torch.equal(counts[0], counts[1])
    assert torch.equal(correct[0], correct[1])
    # The memory holds the features of both ranks (at most MEMORY_SIZE per class).
    assert torch.equal(counts[0], result['total_counts'].clamp(max=MEMORY_SIZE))
    norms = centroids[0].norm(dim=-1)
    assert torch.allclose(norms, torch.ones_like(norms), atol=1e-6)
