"""The ablation tool's rows build, and its table reports mean ± std and every seed."""
import os.path as osp

import pytest
from mmengine.config import Config
from mmseg.registry import MODELS

from hieraseg.utils import adapt_cfg_to_device
from hieraseg.utils.hssn_ablation import PAPER_ROWS, ROWS, apply_row, decoders, format_tables

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.mark.parametrize('row', sorted(ROWS))
def test_every_row_builds(row, mmseg_scope):
    cfg = apply_row(Config.fromfile(osp.join(REPO, ROWS[row]['config'])), row, 'data/x',
                    iters=7, seed=3, work_dir='w')
    assert cfg.train_cfg.max_iters == 7 and cfg.randomness.seed == 3
    assert cfg.param_scheduler[0]['end'] == 7
    assert all(s.get('begin', 0) < s['end'] for s in cfg.param_scheduler)
    assert cfg.train_dataloader.dataset.data_root == 'data/x'
    adapt_cfg_to_device(cfg)
    model = MODELS.build(cfg.model)
    is_flat = decoders(row) == ('leaf', )
    # the flat rows: cce, flat DNC and their variants
    assert is_flat == row.startswith(('cce', 'dnc'))
    assert hasattr(model.decode_head, 'hierarchy') != is_flat
    assert set(PAPER_ROWS) <= set(ROWS)


def test_hierarchical_dnc_rows_keep_what_they_were_measured_with(mmseg_scope):
    """The toy config classifies upsampled embeddings; the rows measured before that
    still upsample the logits, the '_up' rows classify upsampled embeddings."""
    path = osp.join(REPO, ROWS['hiera_dnc_ftm1_up4_warmup']['config'])
    shipped = Config.fromfile(path)
    assert shipped.model.decode_head.classify_upsampled is True
    assert [s['type'] for s in shipped.param_scheduler] == ['LinearLR', 'PolyLR']
    for row, spec in ROWS.items():
        if spec['config'] != ROWS['hiera_dnc_ftm1_up4_warmup']['config']:
            continue
        cfg = apply_row(Config.fromfile(path), row, 'data/x', iters=2000, seed=0, work_dir='w')
        assert cfg.model.decode_head.classify_upsampled is ('_up' in row), row
        warms_up = cfg.param_scheduler[0]['type'] == 'LinearLR'
        assert warms_up is ('warmup' in row), row
    as_shipped = apply_row(Config.fromfile(path), 'hiera_dnc_ftm1_up4_warmup', 'data/x', 2000,
                           0, 'w')
    assert as_shipped.model.decode_head == shipped.model.decode_head
    assert as_shipped.param_scheduler == shipped.param_scheduler


def test_table_reports_mean_std_and_per_seed_values():
    def result(row, seed, texture):
        decoders_ = {d: dict(texture=texture, colour=texture + 10) for d in decoders(row)}
        return dict(row=row, seed=seed, metrics=dict(val=decoders_, val_shifted=decoders_))

    results = [result('cce', 0, 80.0), result('cce', 1, 82.0), result('ftm', 0, 70.0),
               result('ftm', 1, 74.0), result('tm', 0, 60.0)]
    table = format_tables(results, ['texture', 'colour'])
    lines = table.splitlines()
    assert lines[0] == ('| row | inference | seeds | texture in-domain | colour in-domain | '
                        'texture shifted | colour shifted |')
    assert '| CCE (flat softmax) | leaf | 2 | 81.00 ± 1.41 | 91.00 ± 1.41 | 81.00 ± 1.41 | ' \
        '91.00 ± 1.41 |' in lines
    assert '| FTM | sum | 2 | 72.00 ± 2.83 | 82.00 ± 2.83 | 72.00 ± 2.83 | 82.00 ± 2.83 |' \
        in lines
    assert '| TM | log | 1 | 60.00 | 70.00 | 60.00 | 70.00 |' in lines
    assert '| FTM | min | 1 | 74.00 | 84.00 | 74.00 | 84.00 |' in lines
