"""Temperature fitting recovers the temperature that generated the labels."""
import math

import pytest
import torch

from hieraseg.evaluation.temperature_scaling import (CalibrationPass, changed_predictions,
                                                     fit_level_temperatures, fit_temperature,
                                                     level_nll)
from hieraseg.hierarchy import build_hierarchy

HIERARCHY = build_hierarchy('toy_shapes')  # 6 textures -> 3 colours
N = 40000


def sampled_pass(logits, labels):
    return CalibrationPass(level_counts=[], logits=logits, labels=labels,
                           predictions=logits[:HIERARCHY.num_leaves].argmax(0))


@pytest.mark.parametrize('true_temperature', [0.5, 2.0])
def test_softmax_temperatures_are_recovered(true_temperature):
    """Labels drawn from softmax(z / T*): the NLL's minimiser is T* at the leaves and, since a
    parent's probability is the sum of its leaves', at the parents too (flat model); for the
    per-level softmax of node logits likewise at every level (hierarchical DNC)."""
    generator = torch.Generator().manual_seed(0)
    leaf_logits = torch.randn(6, N, generator=generator) * 3
    labels = torch.multinomial((leaf_logits / true_temperature).softmax(0).T, 1,
                               generator=generator).squeeze(1)
    fitted = fit_level_temperatures(sampled_pass(leaf_logits, labels), HIERARCHY,
                                    'leaf_softmax')
    assert fitted == pytest.approx([true_temperature] * 2, rel=0.05)

    node_logits = torch.randn(HIERARCHY.num_nodes, N, generator=generator) * 3
    parent = torch.multinomial((node_logits[6:] / true_temperature).softmax(0).T, 1,
                               generator=generator).squeeze(1)
    # a leaf under the drawn parent, drawn from the leaf softmax restricted to its children
    leaf_scores = (node_logits[:6] / true_temperature).T.masked_fill(
        HIERARCHY.leaf_to_level[1][None] != parent[:, None], -math.inf)
    labels = torch.multinomial(leaf_scores.softmax(1), 1, generator=generator).squeeze(1)
    fitted = fit_level_temperatures(sampled_pass(node_logits, labels), HIERARCHY,
                                    'level_softmax')
    assert fitted[1] == pytest.approx(true_temperature, rel=0.05)


def test_sigmoid_temperature_is_recovered_from_the_chosen_nodes_correctness():
    """HSSN: right with probability sigmoid(z_chosen / T*) -> the Bernoulli NLL's minimiser
    is T*."""
    generator = torch.Generator().manual_seed(1)
    node_logits = torch.randn(HIERARCHY.num_nodes, N, generator=generator) * 4
    predictions = node_logits[:6].argmax(0)
    chosen = node_logits[HIERARCHY.leaf_to_node[0][predictions], torch.arange(N)]
    right = torch.rand(N, generator=generator) < (chosen / 3.0).sigmoid()
    labels = torch.where(right, predictions, (predictions + 1) % 6)
    collected = CalibrationPass([], logits=node_logits, labels=labels, predictions=predictions)
    assert fit_level_temperatures(collected, HIERARCHY, 'node_sigmoid')[0] == \
        pytest.approx(3.0, rel=0.05)
    # the NLL at T* is below the NLL at T = 1 and at 9
    nll = [level_nll(node_logits, labels, predictions, HIERARCHY, 'node_sigmoid', 0, t)
           for t in (1.0, 3.0, 9.0)]
    assert nll[1] < nll[0] and nll[1] < nll[2]


def test_fit_temperature_finds_the_minimum_of_a_known_function():
    assert fit_temperature(lambda t: (math.log(t) - math.log(1.7)) ** 2) == \
        pytest.approx(1.7, rel=1e-4)
    assert fit_temperature(lambda t: t) == pytest.approx(0.02)  # the bound


def test_nothing_sampled_and_changed_predictions():
    with pytest.raises(ValueError, match='no labelled pixel was sampled'):
        fit_level_temperatures(CalibrationPass([]), HIERARCHY, 'leaf_softmax')
    assert changed_predictions(['a', 'b', 'c'], ['a', 'x', 'c']) == [1]
    with pytest.raises(ValueError, match='saw 2 and 1 images'):
        changed_predictions(['a', 'b'], ['a'])
