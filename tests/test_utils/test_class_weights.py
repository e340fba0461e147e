"""Balanced leaf weights from pixel counts, and setting them on a config's losses."""
import pytest
from mmengine.config import ConfigDict

from hieraseg.utils.class_weights import balanced_class_weights, set_class_weight


def test_median_frequency_weights_by_hand():
    # median of the counts 10, 20, 40, 80 is 30: 30/10, 30/20, 30/40, 30/80
    assert balanced_class_weights([10, 20, 40, 80], power=1) == [3.0, 1.5, 0.75, 0.375]
    # the default: their square roots; median of 4, 16, 64 is 16: sqrt(4), sqrt(1), sqrt(1/4)
    assert balanced_class_weights([4, 16, 64]) == [2.0, 1.0, 0.5]


def test_clipped_and_absent_leaves_weigh_one():
    # median of the present 1, 100, 10000 is 100: 100, 1, 0.01 clipped to [0.1, 10]
    assert balanced_class_weights([1, 100, 0, 10000], power=1) == [10.0, 1.0, 1.0, 0.1]
    assert balanced_class_weights([1, 100, 0, 10000], power=1, max_weight=200) == \
        [100.0, 1.0, 1.0, 0.01]
    # square roots 10, 1, 0.1: inside the bounds
    assert balanced_class_weights([1, 100, 0, 10000]) == [10.0, 1.0, 1.0, 0.1]


def test_rounded_to_four_significant_digits():
    assert balanced_class_weights([3, 7, 7], power=1) == [2.333, 1.0, 1.0]
    assert balanced_class_weights([3, 7, 7]) == [1.528, 1.0, 1.0]  # sqrt(7 / 3) = 1.5275


@pytest.mark.parametrize('counts,power,max_weight,message', [
    ([0, 0], 0.5, 10.0, 'no labelled pixel'),
    ([1, -1], 0.5, 10.0, 'one count >= 0 per leaf'),
    ([1, 2], 0.5, 1.0, 'max_weight must be > 1'),
    ([1, 2], 0.0, 10.0, 'power must be > 0'),
])
def test_bad_counts(counts, power, max_weight, message):
    with pytest.raises(ValueError, match=message):
        balanced_class_weights(counts, power=power, max_weight=max_weight)


def test_set_on_the_hierarchical_losses_of_every_head():
    model = ConfigDict(
        decode_head=dict(loss_decode=[dict(type='TreeMinLoss', gamma=2.0),
                                      dict(type='HieraCrossEntropyLoss'),
                                      dict(type='mmseg.CrossEntropyLoss')]),
        auxiliary_head=[dict(loss_decode=dict(type='HieraCrossEntropyLoss')),
                        dict(loss_decode=dict(type='CrossEntropyLoss'))])
    done = set_class_weight(model, (2, 0.5))
    assert done == ['decode_head.loss_decode[0] (TreeMinLoss)',
                    'decode_head.loss_decode[1] (HieraCrossEntropyLoss)',
                    'auxiliary_head[0].loss_decode[0] (HieraCrossEntropyLoss)']
    assert model.decode_head.loss_decode[0] == dict(type='TreeMinLoss', gamma=2.0,
                                                    class_weight=[2.0, 0.5])
    assert model.auxiliary_head[0].loss_decode.class_weight == [2.0, 0.5]
    assert 'class_weight' not in model.decode_head.loss_decode[2]
    assert 'class_weight' not in model.auxiliary_head[1].loss_decode


def test_a_model_without_hierarchical_losses_is_an_error():
    with pytest.raises(ValueError, match='no TreeMinLoss / HieraCrossEntropyLoss'):
        set_class_weight(ConfigDict(decode_head=dict(loss_decode=dict(type='CrossEntropyLoss'))),
                         [1.0])
