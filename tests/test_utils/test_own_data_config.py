"""The own-data templates and tools/new_config.py: one data part for every method, the
schedule derived from max_iters, clear errors before anything is written; how a config's
relative hierarchy path is found; a copied template's missing _base_."""
import os
import os.path as osp
import shutil

import pytest
from mmengine.config import Config

from hieraseg.datasets import generate_toy_shapes_deep
from hieraseg.hierarchy import HierarchyError
from hieraseg.utils.config_files import read_config
from hieraseg.utils.own_data_config import (METHODS, MODELS, TEMPLATE_DIR, fill_template,
                                            own_data_values, template_path,
                                            write_own_data_config)
from hieraseg.utils.tools import load_config

TEMPLATES = [(method, model) for method in METHODS for model in MODELS]


@pytest.fixture(scope='module')
def own_data(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('own') / 'data')
    generate_toy_shapes_deep(root, num_train=2, num_val=1, size=40, seed=0)
    return root


@pytest.mark.parametrize('method, model', TEMPLATES)
def test_every_template_reads_the_one_data_part(method, model):
    cfg = Config.fromfile(template_path(method, model))
    data = Config.fromfile(osp.join(TEMPLATE_DIR, 'custom_data.py'))
    assert cfg.train_dataloader.dataset.data_root == data.data_root
    assert cfg.model.data_preprocessor.size == data.crop_size
    # the schedule ends where training ends; checkpoints four times per run
    assert cfg.param_scheduler[-1].end == cfg.train_cfg.max_iters == data.max_iters
    assert cfg.default_hooks.checkpoint.interval == data.max_iters // 4
    hierarchical = method in ('hssn', 'hiera-dnc')
    head = cfg.model.decode_head
    assert (head.get('hierarchy') == data.hierarchy) is hierarchical
    assert (cfg.model.type == 'HieraEncoderDecoder') is hierarchical
    assert ('custom_hooks' in cfg) is ('dnc' in method)
    if method == 'hiera-dnc':  # the toy config's warm-up, 200 of 2000
        warmup, poly = cfg.param_scheduler
        assert (warmup.type, warmup.end, poly.begin) == ('LinearLR', 200, 200)
        assert head.classify_upsampled and head.num_sub_centroids in (4, 10)


def test_fill_template_keeps_what_is_derived():
    text = ('a = 1  # EDIT\nb = dict(x=1,\n         y=2)\nc = a * 10\nd = [b]\n')
    filled = fill_template(text, dict(a=40, b={'x': 'é'}))
    assert filled == "a = 40  # EDIT\nb = {'x': 'é'}\nc = a * 10\nd = [b]\n"
    with pytest.raises(KeyError, match=r"assigns no \['zz'\]"):
        fill_template(text, dict(zz=1))


@pytest.mark.parametrize('max_iters', [400, 30])
def test_written_config_scales_the_schedule_with_max_iters(own_data, tmp_path, max_iters):
    values = own_data_values(own_data, osp.join(own_data, 'hierarchy.yaml'),
                             max_iters=max_iters, crop=(32, 24))
    out = str(tmp_path / 'c.py')
    write_own_data_config(out, 'hiera-dnc', 'fcn', values, command='python tools/new_config.py')
    cfg = Config.fromfile(out)
    assert '_base_ =' not in open(out).read()
    warmup, poly = cfg.param_scheduler
    assert (warmup.end, poly.begin, poly.end) == (max_iters // 10, max_iters // 10, max_iters)
    assert cfg.train_cfg.max_iters == max_iters
    assert cfg.default_hooks.checkpoint.interval == max_iters // 4  # some to resume from
    assert cfg.train_cfg.val_interval == max_iters // 2
    assert cfg.model.data_preprocessor.size == (32, 24)
    assert cfg.train_dataloader.dataset.pipeline[3].crop_size == (32, 24)
    assert cfg.test_dataloader.dataset.pipeline[1].scale == (40, 40)  # the images' size
    assert cfg.train_dataloader.dataset.img_suffix == '.jpg'  # found in the folder
    assert cfg.model.decode_head.hierarchy == osp.join(own_data, 'hierarchy.yaml')
    assert cfg.train_dataloader.dataset.data_root == own_data


def test_flat_config_gets_the_number_of_leaves(own_data, tmp_path):
    values = own_data_values(own_data, osp.join(own_data, 'hierarchy.yaml'))
    out = str(tmp_path / 'flat.py')
    cfg = write_own_data_config(out, 'flat', 'deeplabv3plus', values)
    assert cfg.model.decode_head.num_classes == cfg.model.auxiliary_head.num_classes == 8
    assert cfg.model.decode_head.type == 'DepthwiseSeparableASPPHead'


def test_errors_come_first_and_nothing_is_written(own_data, tmp_path):
    yaml = osp.join(own_data, 'hierarchy.yaml')
    with pytest.raises(FileNotFoundError, match=r"the train images folder .*/pics does not "
                       r"exist \(.* holds \['hierarchy.yaml', 'images', 'labels'"):
        own_data_values(own_data, yaml, train_images='pics')
    with pytest.raises(FileNotFoundError, match=r'no label file for .*train_00000.jpg: '
                       r"expected .*train_00000_gt.png"):
        own_data_values(own_data, yaml, seg_map_suffix='_gt.png')
    bad = tmp_path / 'bad.yaml'
    bad.write_text(open(yaml).read().replace('[red plain, red striped]',
                                             '[red plian, red striped]'))
    with pytest.raises(HierarchyError, match=r"bad.yaml, line 8: groups\[0\]\['red'\] lists "
                       r"'red plian', .*level 1 \(texture\) \(did you mean 'red plain'\?\)"):
        own_data_values(own_data, str(bad))
    with pytest.raises(ValueError, match='max_iters must be >= 1'):
        own_data_values(own_data, yaml, max_iters=0)
    out = tmp_path / 'exists.py'
    out.write_text('# mine\n')
    with pytest.raises(FileExistsError, match='--force'):
        write_own_data_config(str(out), 'hssn', 'fcn', own_data_values(own_data, yaml))
    assert out.read_text() == '# mine\n'
    assert sorted(os.listdir(tmp_path)) == ['bad.yaml', 'exists.py']


def test_a_copied_template_names_its_missing_base(tmp_path):
    copy = tmp_path / 'my_hssn.py'
    shutil.copy(template_path('hssn', 'fcn'), copy)
    with pytest.raises(FileNotFoundError) as info:
        load_config(str(copy))
    message = str(info.value)
    assert message.startswith(f'{copy}: the _base_ file {tmp_path}/fcn_r18-w16_custom.py '
                              'does not exist.')
    assert 'python tools/new_config.py --method' in message


HIERARCHY = 'classes: [a, b]\ngroups:\n  - ab: [a, b]\n'
OTHER = 'classes: [a, b]\ngroups:\n  - x: [a]\n    y: [b]\n'


def config_with_relative_hierarchy(folder):
    folder.mkdir(exist_ok=True)
    path = folder / 'cfg.py'
    path.write_text("hierarchy = 'h.yaml'\n"
                    'model = dict(decode_head=dict(hierarchy=hierarchy))\n'
                    "data = dict(metainfo=dict(hierarchy=['l1.csv']))\n")
    (folder / 'l1.csv').write_text('child,parent\na,ab\nb,ab\n')
    return str(path)


def test_relative_hierarchy_path_config_folder_first_then_current_folder(
        tmp_path, monkeypatch):
    config = config_with_relative_hierarchy(tmp_path / 'configs')
    cwd = tmp_path / 'run'
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    with pytest.raises(FileNotFoundError, match=r"hierarchy file 'h.yaml' not found: .*in the "
                       r"config's folder \(.*configs/h.yaml\), then in the current folder "
                       r'\(.*run/h.yaml\)'):
        read_config(config)
    (cwd / 'h.yaml').write_text(HIERARCHY)  # only in the current folder
    cfg = read_config(config)
    assert cfg.hierarchy == cfg.model.decode_head.hierarchy == str(cwd / 'h.yaml')
    assert cfg.data.metainfo.hierarchy == [str(tmp_path / 'configs' / 'l1.csv')]
    (tmp_path / 'configs' / 'h.yaml').write_text(HIERARCHY)  # the same beside the config
    assert read_config(config).hierarchy == str(tmp_path / 'configs' / 'h.yaml')
    (cwd / 'h.yaml').write_text(OTHER)  # two different files: which one is meant?
    with pytest.raises(HierarchyError, match=r"'h.yaml' names two different files"):
        read_config(config)
    os.remove(cwd / 'h.yaml')
    assert read_config(config).hierarchy == str(tmp_path / 'configs' / 'h.yaml')


def test_balanced_class_weight_from_the_training_pixels(own_data, tmp_path):
    from hieraseg.utils.class_weights import balanced_class_weights
    from hieraseg.utils.hierarchy_stats import count_files
    values = own_data_values(own_data, osp.join(own_data, 'hierarchy.yaml'))
    out = str(tmp_path / 'weighted.py')
    write_own_data_config(out, 'hiera-dnc', 'fcn', values, class_weight='balanced')
    labels = osp.join(own_data, 'labels', 'train')
    counts, _ = count_files([osp.join(labels, n) for n in sorted(os.listdir(labels))], 8)
    expected = balanced_class_weights(counts)
    assert len(expected) == 8 and len(set(expected)) > 2
    cfg = Config.fromfile(out)
    losses = cfg.model.decode_head.loss_decode
    assert [loss.type for loss in losses] == ['TreeMinLoss', 'HieraCrossEntropyLoss']
    assert [loss.class_weight for loss in losses] == [expected, expected]
    assert f'frequency of the training pixels): {expected}' in open(out).read()
    unweighted = write_own_data_config(str(tmp_path / 'plain.py'), 'hssn', 'fcn', values)
    assert all('class_weight' not in loss for loss in unweighted.model.decode_head.loss_decode)


def test_balanced_class_weight_needs_a_hierarchical_method(own_data, tmp_path):
    values = own_data_values(own_data, osp.join(own_data, 'hierarchy.yaml'))
    for method in ('flat', 'dnc'):
        with pytest.raises(ValueError, match=f'method {method} has no hierarchical loss'):
            write_own_data_config(str(tmp_path / 'c.py'), method, 'fcn', values,
                                  class_weight='balanced')
    with pytest.raises(ValueError, match="class_weight must be one of"):
        write_own_data_config(str(tmp_path / 'c.py'), 'hssn', 'fcn', values,
                              class_weight='inverse')
    assert not os.listdir(tmp_path)
