"""The toy ablation's rows are configs that build and say what they vary; its table reports
mean ± std and every seed."""
import os.path as osp

import pytest
from mmengine.config import Config
from mmseg.registry import MODELS

from hieraseg.utils import adapt_cfg_to_device
from tests.scripts import REPO, load_script

ablation = load_script('experiments/run_toy_ablation.py')
ROWS = ablation.list_rows()
HIERA_DNC_TOY = 'configs/hssn/hiera-dnc-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py'


@pytest.mark.parametrize('row', ROWS)
def test_every_row_builds_and_runs_its_own_length(row, mmseg_scope):
    cfg = ablation.apply_run(ablation.load_row(row), 'data/x', iters=7, seed=3, work_dir='w')
    assert cfg.ablation_label and cfg.train_cfg.max_iters == 7 and cfg.randomness.seed == 3
    assert cfg.param_scheduler[-1]['end'] == 7  # the schedule scaled with the run
    assert all(s.get('begin', 0) < s['end'] for s in cfg.param_scheduler)
    assert cfg.train_dataloader.dataset.data_root == 'data/x'
    adapt_cfg_to_device(cfg)
    model = MODELS.build(cfg.model)
    is_flat = ablation.decoders(cfg) == ('leaf', )
    assert is_flat == row.startswith(('cce', 'dnc'))  # the flat rows and their variants
    assert hasattr(model.decode_head, 'hierarchy') != is_flat
    assert set(ablation.PAPER_ROWS) <= set(ROWS)


def test_rows_vary_the_shipped_configs_and_the_shipped_row_is_the_config():
    """A row inherits a shipped toy config; the hierarchical DNC rows measured before the
    toy config classified upsampled embeddings and warmed up still say what they trained."""
    shipped = Config.fromfile(osp.join(REPO, HIERA_DNC_TOY))
    assert shipped.model.decode_head.classify_upsampled is True
    for row in ROWS:
        cfg = ablation.load_row(row)
        if not row.startswith('hiera_dnc'):
            continue
        assert cfg.model.decode_head.classify_upsampled is ('_up' in row), row
        warms_up = cfg.param_scheduler[0]['type'] == 'LinearLR'
        assert warms_up is ('warmup' in row), row
    as_shipped = ablation.load_row('hiera_dnc_ftm1_up4_warmup')
    assert as_shipped.model == shipped.model
    assert as_shipped.param_scheduler == shipped.param_scheduler
    recipe = ablation.load_row('recipe')
    assert recipe.model == Config.fromfile(osp.join(
        REPO, 'configs/hssn/hssn-fcn_r18-w16_1xb8-2k_toy-shapes-64x64.py')).model


def test_table_reports_mean_std_and_per_seed_values():
    def result(row, label, seed, texture, decoders):
        per_decoder = {d: dict(texture=texture, colour=texture + 10) for d in decoders}
        return dict(row=row, label=label, decoders=list(decoders), seed=seed,
                    metrics=dict(val=per_decoder, val_shifted=per_decoder))

    hssn = ('sum', 'min', 'log')
    results = [result('cce', 'CCE', 0, 80.0, ['leaf']), result('cce', 'CCE', 1, 82.0, ['leaf']),
               result('ftm', 'FTM', 0, 70.0, hssn), result('ftm', 'FTM', 1, 74.0, hssn),
               result('tm', 'TM', 0, 60.0, hssn)]
    table = ablation.format_tables(results, ['texture', 'colour'])
    lines = table.splitlines()
    assert lines[0] == ('| row | inference | seeds | texture in-domain | colour in-domain | '
                        'texture shifted | colour shifted |')
    assert '| CCE | leaf | 2 | 81.00 ± 1.41 | 91.00 ± 1.41 | 81.00 ± 1.41 | 91.00 ± 1.41 |' \
        in lines
    assert '| FTM | sum | 2 | 72.00 ± 2.83 | 82.00 ± 2.83 | 72.00 ± 2.83 | 82.00 ± 2.83 |' \
        in lines
    assert '| TM | log | 1 | 60.00 | 70.00 | 60.00 | 70.00 |' in lines
    assert '| FTM | min | 1 | 74.00 | 84.00 | 74.00 | 84.00 |' in lines
