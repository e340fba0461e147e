"""Each HSSN head trains under 2-process gloo DDP, through a batch without any triplet."""
import gc
from datetime import timedelta

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from mmengine.registry import DefaultScope
from torch.nn.parallel import DistributedDataParallel

from test_hiera_heads import features, head_cfgs, samples


class HeadLoss(torch.nn.Module):
    """Wraps a head so that DDP sees one forward returning the summed loss."""

    def __init__(self, head):
        super().__init__()
        self.head = head

    def forward(self, inputs, data_samples):
        losses = self.head.loss(inputs, data_samples, None)
        return sum(v for k, v in losses.items() if k.startswith('loss'))


def worker(rank, world_size, rendezvous_file, names):
    # a file rendezvous needs no free port; the timeout turns a lost peer into an error
    dist.init_process_group('gloo', init_method=f'file://{rendezvous_file}', rank=rank,
                            world_size=world_size, timeout=timedelta(seconds=120))
    import hieraseg  # noqa: F401
    from mmseg.registry import MODELS
    generator = torch.Generator().manual_seed(100 + rank)  # each rank its own data
    with DefaultScope.overwrite_default_scope('mmseg'):
        for name in names:
            torch.manual_seed(0)
            model = DistributedDataParallel(HeadLoss(MODELS.build(head_cfgs()[name])))
            optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
            batches = [
                torch.randint(0, 7, (2, 32, 32), generator=generator),
                torch.full((2, 32, 32), 2),  # a single leaf: no negative, no triplet
                torch.randint(0, 7, (2, 32, 32), generator=generator),
            ]
            for labels in batches:  # DDP raises on the step after one with unused params
                optimizer.zero_grad()
                model(features(generator=generator), samples(labels)).backward()
                optimizer.step()
            flat = torch.cat([p.detach().flatten() for p in model.parameters()])
            gathered = [torch.zeros_like(flat) for _ in range(world_size)]
            dist.all_gather(gathered, flat)
            assert torch.equal(gathered[0], gathered[1]), f'{name}: ranks diverged'
    # DDP's reducers sit in reference cycles: free them while the group exists (freed by
    # the collector at exit they aborted a rank, 'terminate called without an active
    # exception'), then finish together and tear the group down
    del model, optimizer
    gc.collect()
    dist.barrier()
    dist.destroy_process_group()


def test_every_head_trains_under_ddp_without_unused_parameters(tmp_path):
    mp.spawn(worker, args=(2, str(tmp_path / 'rendezvous'),
                           ['HieraFCNHead', 'HieraSepASPPHead', 'HieraUPerHead']),
             nprocs=2, join=True)
