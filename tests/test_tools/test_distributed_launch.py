"""tools/dist_train.sh (torchrun) and tools/slurm_train.sh (srun) with 2 CPU processes."""
import glob
import os
import os.path as osp
import stat

import pytest
import torch

from .conftest import TOY_CONFIG, free_port, run_tool, short_run_options

pytestmark = pytest.mark.slow  # end-to-end: left out by -m 'not slow'

# A stand-in for slurm's srun: starts --ntasks copies of the command with the variables a
# real cluster sets for each task, and fails if any task fails.
FAKE_SRUN = r'''#!/usr/bin/env bash
ntasks=1
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --ntasks=*) ntasks="${1#*=}"; shift ;;
    -p|--partition) shift 2 ;;
    -*=*|--kill-on-bad-exit*) shift ;;
    -*) shift ;;
    *) break ;;
  esac
done
echo "fake srun: ${ntasks} tasks: $*" >&2
pids=()
for ((i = 0; i < ntasks; i++)); do
  SLURM_PROCID=$i SLURM_LOCALID=$i SLURM_NTASKS=$ntasks SLURM_NODELIST=cpu-node[01] \
  SLURM_JOB_ID=4242 SLURM_NNODES=1 "$@" &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=$?; done
exit $status
'''
FAKE_SCONTROL = r'''#!/usr/bin/env bash
# "scontrol show hostname LIST" -> the host names, one per line.
[[ "$1 $2" == "show hostname" ]] && echo 127.0.0.1
'''


def check_two_process_run(out, work_dir):
    assert 'Distributed training: True' in out, out
    assert out.count('No CUDA device: using the gloo backend') == 2
    checkpoint = torch.load(osp.join(work_dir, 'iter_2.pth'), weights_only=False)
    assert checkpoint['meta']['iter'] == 2
    logs = glob.glob(osp.join(work_dir, '*', '*.log'))
    assert logs, 'rank 0 writes the log'
    with open(logs[0]) as f:
        assert 'world_size: 2' in f.read() or 'GPU number: 2' in out


def test_dist_train_two_cpu_processes(toy_root, tmp_path):
    work_dir = str(tmp_path / 'work')
    code, out = run_tool(['bash', 'tools/dist_train.sh', TOY_CONFIG, '2', '--work-dir', work_dir] +
                         short_run_options(toy_root, max_iters=2, checkpoint_interval=2),
                         env=dict(PORT=str(free_port())))
    assert code == 0, out
    check_two_process_run(out, work_dir)


def test_slurm_train_with_a_stand_in_srun(toy_root, tmp_path):
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    for name, text in (('srun', FAKE_SRUN), ('scontrol', FAKE_SCONTROL)):
        path = bin_dir / name
        path.write_text(text)
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    work_dir = str(tmp_path / 'work')
    code, out = run_tool(
        ['bash', 'tools/slurm_train.sh', 'cpu', 'toy', TOY_CONFIG, '--work-dir', work_dir] +
        short_run_options(toy_root, max_iters=2, checkpoint_interval=2),
        env=dict(PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}', GPUS='2',
                 GPUS_PER_NODE='2', MASTER_PORT=str(free_port())))
    assert code == 0, out
    assert 'fake srun: 2 tasks' in out
    check_two_process_run(out, work_dir)
