"""The hierarchy-aware data sets read tiny generated sets in their real on-disk layouts."""
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from hieraseg.datasets import (HieraCityscapesDataset, HieraLIPDataset,
                               HieraMapillaryDataset_v2, PascalPersonPartDataset)
from hieraseg.hierarchy import (CITYSCAPES_CLASSES, LIP_CLASSES, LIP_FLIP_PAIRS,
                                MAPILLARY_V2_CLASSES, PASCAL_PERSON_PART_CLASSES,
                                HierarchyError)

LOAD = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')]
PIPELINE = LOAD + [dict(type='PackSegInputs')]
H, W = 6, 10


def write_sample(root, image_rel, label_rel, labels, palette=None):
    """A random RGB image (JPEG or PNG by suffix) and its [H, W] label PNG (palette PNG if
    ``palette`` is given, as Mapillary ships them; greyscale otherwise)."""
    for rel in (image_rel, label_rel):
        os.makedirs(osp.dirname(osp.join(root, rel)), exist_ok=True)
    rng = np.random.default_rng(len(image_rel))
    Image.fromarray(rng.integers(0, 256, (H, W, 3), dtype=np.uint8)).save(
        osp.join(root, image_rel))
    label_image = Image.fromarray(labels.astype(np.uint8), mode='L')
    if palette is not None:
        label_image = label_image.convert('P')
        label_image.putpalette([c for rgb in palette for c in rgb])
        label_image.putdata(labels.reshape(-1).tolist())
    label_image.save(osp.join(root, label_rel))


def labels_for(num_classes, seed):
    """[H, W] labels that use the highest class id and the ignore index 255."""
    labels = np.random.default_rng(seed).integers(0, num_classes, (H, W))
    labels[0, 0], labels[-1, -1] = num_classes - 1, 255
    return labels


def cityscapes_layout(root):
    files = []
    for i, (city, frame) in enumerate([('aachen', '000000_000019'), ('bremen', '000004_000019')]):
        name = f'{city}_{frame}'
        files.append((f'leftImg8bit/train/{city}/{name}_leftImg8bit.png',
                      f'gtFine/train/{city}/{name}_gtFine_labelTrainIds.png',
                      labels_for(len(CITYSCAPES_CLASSES), i)))
    return files, dict(data_prefix=dict(img_path='leftImg8bit/train',
                                        seg_map_path='gtFine/train'))


def lip_layout(root):
    files = [(f'TrainVal_images/train_images/{name}.jpg',
              f'TrainVal_parsing_annotations/train_segmentations/{name}.png',
              labels_for(len(LIP_CLASSES), i))
             for i, name in enumerate(['100034_483681', '77_471474'])]
    return files, dict(data_prefix=dict(img_path='TrainVal_images/train_images',
                                        seg_map_path='TrainVal_parsing_annotations/'
                                        'train_segmentations'))


def mapillary_layout(root):
    files = [(f'training/images/{name}.jpg', f'training/v2.0/labels/{name}.png',
              labels_for(len(MAPILLARY_V2_CLASSES), i))
             for i, name in enumerate(['--0kXmB6XLuS2ov0yhH1yA', '_1Gn_xkw7sa_i9GU4mkxxQ'])]
    return files, dict(data_prefix=dict(img_path='training/images',
                                        seg_map_path='training/v2.0/labels'))


def ppp_layout(root):
    names = ['2008_000003', '2008_000008']
    files = [(f'JPEGImages/{name}.jpg', f'SegmentationPart/{name}.png',
              labels_for(len(PASCAL_PERSON_PART_CLASSES), i)) for i, name in enumerate(names)]
    with open(osp.join(root, 'train_id.txt'), 'w') as f:
        f.write('\n'.join(names) + '\n')
    return files, dict(data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationPart'),
                       ann_file='train_id.txt')


CASES = {
    'cityscapes': (HieraCityscapesDataset, cityscapes_layout, CITYSCAPES_CLASSES),
    'lip': (HieraLIPDataset, lip_layout, LIP_CLASSES),
    'mapillary_v2': (HieraMapillaryDataset_v2, mapillary_layout, MAPILLARY_V2_CLASSES),
    'pascal_person_part': (PascalPersonPartDataset, ppp_layout, PASCAL_PERSON_PART_CLASSES),
}


def make(name, tmp_path, **overrides):
    """Writes the named layout under ``tmp_path``; returns (dataset class, files, kwargs)."""
    dataset_class, layout, _ = CASES[name]
    root = str(tmp_path / name)
    os.makedirs(root)
    files, kwargs = layout(root)
    palette = dataset_class.METAINFO['palette'] if name == 'mapillary_v2' else None
    for image_rel, label_rel, labels in files:
        write_sample(root, image_rel, label_rel, labels, palette)
    kwargs = dict(kwargs, data_root=root, pipeline=PIPELINE, **overrides)
    return dataset_class, files, kwargs


@pytest.mark.parametrize('name', sorted(CASES))
def test_reads_its_layout_through_the_mmseg_pipeline(name, tmp_path, mmseg_scope):
    dataset_class, files, kwargs = make(name, tmp_path)
    dataset = dataset_class(**kwargs)
    assert dataset.metainfo['hierarchy'] == name
    assert tuple(dataset.metainfo['classes']) == CASES[name][2]
    assert len(dataset.metainfo['palette']) == len(CASES[name][2])
    assert len(dataset) == len(files)
    for index, (image_rel, label_rel, labels) in enumerate(sorted(files)):
        info = dataset.get_data_info(index)
        assert info['img_path'] == osp.join(kwargs['data_root'], image_rel)
        assert info['seg_map_path'] == osp.join(kwargs['data_root'], label_rel)
        item = dataset[index]
        assert tuple(item['inputs'].shape) == (3, H, W)
        assert np.array_equal(item['data_samples'].gt_sem_seg.data[0].numpy(), labels)


def test_mapillary_labels_are_palette_indices(tmp_path, mmseg_scope):
    # the check above would also pass for greyscale files; make sure the test data is P mode
    _, files, kwargs = make('mapillary_v2', tmp_path)
    assert Image.open(osp.join(kwargs['data_root'], files[0][1])).mode == 'P'


@pytest.mark.parametrize('name', sorted(CASES))
def test_a_hierarchy_of_other_classes_fails_at_construction(name, tmp_path, mmseg_scope):
    dataset_class, _, kwargs = make(name, tmp_path, metainfo=dict(hierarchy='toy_shapes'))
    count = len(CASES[name][2])
    with pytest.raises(HierarchyError,
                       match=f'has 6 leaf classes but {dataset_class.__name__} has {count}'):
        dataset_class(**kwargs)


def test_a_hierarchy_with_other_leaf_names_fails_at_construction(tmp_path, mmseg_scope):
    renamed = ['background', 'head', 'torso', 'arm', 'hand', 'upper leg', 'lower leg']
    spec = dict(classes=[renamed, ['all']], parents=[[0] * 7])
    _, _, kwargs = make('pascal_person_part', tmp_path, metainfo=dict(hierarchy=spec))
    with pytest.raises(HierarchyError, match=r"differ .*\(3, 'arm', 'upper arm'\)"):
        PascalPersonPartDataset(**kwargs)


def test_a_custom_hierarchy_with_the_right_leaves_is_kept(tmp_path, mmseg_scope):
    spec = dict(classes=[list(PASCAL_PERSON_PART_CLASSES), ['background', 'person']],
                parents=[[0, 1, 1, 1, 1, 1, 1]])
    _, _, kwargs = make('pascal_person_part', tmp_path, metainfo=dict(hierarchy=spec))
    assert PascalPersonPartDataset(**kwargs).metainfo['hierarchy'] == spec


def test_missing_image_folder_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='HieraLIPDataset: image folder .*train_images'):
        HieraLIPDataset(data_root=str(tmp_path),
                        data_prefix=dict(img_path='TrainVal_images/train_images',
                                         seg_map_path='TrainVal_parsing_annotations/'
                                         'train_segmentations'))


def test_ppp_split_file_is_optional(tmp_path, mmseg_scope):
    _, files, kwargs = make('pascal_person_part', tmp_path)
    root = kwargs['data_root']
    write_sample(root, 'JPEGImages/2009_000001.jpg', 'SegmentationPart/2009_000001.png',
                 labels_for(7, 5))  # not listed in train_id.txt
    listed = PascalPersonPartDataset(**kwargs)
    assert len(listed) == 2
    everything = PascalPersonPartDataset(**dict(kwargs, ann_file=''))
    assert [osp.basename(everything.get_data_info(i)['img_path']) for i in range(3)] == [
        '2008_000003.jpg', '2008_000008.jpg', '2009_000001.jpg']


def test_ppp_split_file_blank_lines_and_order(tmp_path, mmseg_scope):
    _, _, kwargs = make('pascal_person_part', tmp_path)
    with open(osp.join(kwargs['data_root'], 'val_id.txt'), 'w') as f:
        f.write('2008_000008\n\n  \n2008_000003\n\n')
    dataset = PascalPersonPartDataset(**dict(kwargs, ann_file='val_id.txt'))
    assert [osp.basename(dataset.get_data_info(i)['seg_map_path']) for i in range(2)] == [
        '2008_000008.png', '2008_000003.png']  # the split file's order


def test_ppp_split_file_errors(tmp_path, mmseg_scope):
    _, _, kwargs = make('pascal_person_part', tmp_path)
    with pytest.raises(FileNotFoundError, match="split file .*val_id.txt' does not exist"):
        PascalPersonPartDataset(**dict(kwargs, ann_file='val_id.txt'))
    with open(osp.join(kwargs['data_root'], 'val_id.txt'), 'w') as f:
        f.write('2008_000003\n2010_999999\n')
    with pytest.raises(FileNotFoundError,
                       match=r"1 of the 2 images listed in .*val_id.txt' do not exist, "
                             r"e\.g\. \[.*2010_999999\.jpg'\]"):
        PascalPersonPartDataset(**dict(kwargs, ann_file='val_id.txt'))


def test_lip_train_pipeline_flips_with_label_swap(tmp_path, mmseg_scope):
    _, files, kwargs = make('lip', tmp_path)
    flip = dict(type='RandomFlipWithLabelSwap', prob=1.0, swap_label_pairs=LIP_FLIP_PAIRS)
    dataset = HieraLIPDataset(**dict(kwargs, pipeline=LOAD + [flip, dict(type='PackSegInputs')]))
    partner = {14: 15, 15: 14, 16: 17, 17: 16, 18: 19, 19: 18}
    for index, (_, _, labels) in enumerate(sorted(files)):
        expected = np.vectorize(lambda v: partner.get(v, v))(labels[:, ::-1])
        sample = dataset[index]['data_samples']
        assert sample.flip and sample.flip_direction == 'horizontal'
        assert np.array_equal(sample.gt_sem_seg.data[0].numpy(), expected)
