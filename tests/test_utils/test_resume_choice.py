import os
import random
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.runner.checkpoint import save_checkpoint

import hieraseg  # noqa: F401  (registers the backend and the loader)
from hieraseg.utils.atomic_files import remove_stale_partials
from hieraseg.utils.random_state import get_random_state, set_random_state
from hieraseg.utils.resume import (NoResumableCheckpointError, checkpoint_candidates,
                                   checkpoint_seed, find_resumable_checkpoint)


def full_checkpoint(path, iteration, seed=None):
    save_checkpoint(dict(meta=dict(iter=iteration, seed=seed), state_dict={'w': torch.ones(2)},
                         message_hub={}), str(path))


def test_newest_whole_checkpoint_wins_whatever_last_checkpoint_says(tmp_path):
    for i in (2, 4, 10):
        full_checkpoint(tmp_path / f'iter_{i}.pth', i)
    (tmp_path / 'iter_10.pth').write_bytes((tmp_path / 'iter_10.pth').read_bytes()[:100])
    (tmp_path / 'best_mIoU_iter_12.pth').write_bytes(b'not a candidate')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_2.pth'))
    assert checkpoint_candidates(str(tmp_path)) == [
        str(tmp_path / f'iter_{i}.pth') for i in (10, 4, 2)]
    chosen, skipped = find_resumable_checkpoint(str(tmp_path))
    assert chosen == str(tmp_path / 'iter_4.pth')
    assert len(skipped) == 1 and skipped[0].startswith(f'{tmp_path}/iter_10.pth: ')


def test_the_seed_of_the_run_is_read_from_the_checkpoint(tmp_path):
    full_checkpoint(tmp_path / 'iter_2.pth', 2, seed=np.int64(1234))
    assert checkpoint_seed(str(tmp_path / 'iter_2.pth')) == 1234
    full_checkpoint(tmp_path / 'iter_4.pth', 4)
    assert checkpoint_seed(str(tmp_path / 'iter_4.pth')) is None


def test_weights_only_checkpoints_are_not_resumed_from(tmp_path):
    torch.save({'state_dict': {'w': torch.ones(1)}}, tmp_path / 'iter_8.pth')
    with pytest.raises(NoResumableCheckpointError,
                       match=r"(?s)none of the 1 checkpoints.*lacks \['meta', 'message_hub'\]"):
        find_resumable_checkpoint(str(tmp_path))
    assert find_resumable_checkpoint(str(tmp_path / 'empty')) == (None, [])


def test_only_partial_files_of_dead_writers_are_removed(tmp_path):
    dead = subprocess.Popen([sys.executable, '-c', 'pass'])
    dead.wait()
    stale = tmp_path / f'iter_4.pth.{dead.pid}.partial'
    live = tmp_path / f'iter_4.pth.{os.getppid()}.partial'  # our parent runs
    for path in (stale, live):
        path.write_bytes(b'half')
    assert remove_stale_partials(str(tmp_path)) == [str(stale)]
    assert sorted(os.listdir(tmp_path)) == [live.name]


def test_random_state_round_trip():
    state = get_random_state()
    expected = (random.random(), np.random.rand(), torch.rand(1))
    random.random(), np.random.rand(), torch.rand(3)  # move on
    set_random_state(state)
    assert (random.random(), np.random.rand()) == expected[:2]
    assert torch.equal(torch.rand(1), expected[2])
    with pytest.raises(KeyError, match='numpy'):
        set_random_state(dict(python=state['python'], torch=state['torch'], cuda=[]))
