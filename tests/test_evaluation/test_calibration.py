"""ECE and class-wise ECE against the formula written out bin by bin, accumulation over
batches and processes, and the metric's calibration keys."""
import numpy as np
import pytest
import torch

from hieraseg.evaluation import (HierarchicalIoUMetric, calibration_counts,
                                 classwise_expected_calibration_error,
                                 expected_calibration_error)
from hieraseg.evaluation.calibration import (calibration_metrics, classwise_ece_from_counts,
                                             ece_from_counts)
from hieraseg.hierarchy import TOY_SHAPES_CLASSES, build_hierarchy


def reference_ece(confidence, correct, num_bins):
    """sum over bins of |S_b| / N * |acc(S_b) - conf(S_b)|, bin b = [b/B, (b+1)/B), the
    last bin closed."""
    confidence = np.asarray(confidence, dtype=np.float64)
    correct = np.asarray(correct, dtype=np.float64)
    total = 0.0
    for b in range(num_bins):
        low, high = b / num_bins, (b + 1) / num_bins
        in_bin = (confidence >= low) & ((confidence < high) if b < num_bins - 1
                                        else (confidence <= high))
        if in_bin.any():
            total += in_bin.sum() / len(confidence) * abs(correct[in_bin].mean()
                                                          - confidence[in_bin].mean())
    return total


def reference_classwise_ece(confidence, correct, predicted, num_classes, num_bins):
    errors = [reference_ece(confidence[predicted == c], correct[predicted == c], num_bins)
              for c in range(num_classes) if (predicted == c).any()]
    return float(np.mean(errors))


def random_predictions(seed, n=5000, num_classes=4):
    generator = torch.Generator().manual_seed(seed)
    confidence = torch.rand(n, generator=generator)
    # over-confident: right with probability confidence ** 2
    correct = torch.rand(n, generator=generator) < confidence ** 2
    predicted = torch.randint(0, num_classes, (n, ), generator=generator)
    return confidence, correct, predicted


@pytest.mark.parametrize('seed,num_bins', [(0, 15), (1, 10), (2, 1), (3, 100)])
def test_ece_equals_the_formula_on_random_inputs(seed, num_bins):
    confidence, correct, predicted = random_predictions(seed)
    confidence[:3] = torch.tensor([0.0, 1.0, 0.5])  # the edges
    ours = expected_calibration_error(confidence, correct, num_bins)
    assert ours == pytest.approx(reference_ece(confidence.numpy(), correct.numpy(), num_bins),
                                 abs=1e-12)
    assert ours > 0.05  # the inputs are miscalibrated on purpose
    ours = classwise_expected_calibration_error(confidence, correct, predicted, 6, num_bins)
    expected = reference_classwise_ece(confidence.numpy(), correct.numpy(),
                                       predicted.numpy(), 6, num_bins)
    assert ours == pytest.approx(expected, abs=1e-12)  # classes 4, 5 never predicted: left out


def test_hand_computed_values():
    # 2 bins: [0.2, 0.4] in bin 0 (acc 1/2, conf 0.3); [0.9, 0.7] in bin 1 (acc 1, conf 0.8)
    confidence = [0.2, 0.4, 0.9, 0.7]
    correct = [False, True, True, True]
    assert expected_calibration_error(confidence, torch.tensor(correct), 2) == \
        pytest.approx(2 / 4 * 0.2 + 2 / 4 * 0.2)
    # class 0 = first two pixels (ECE 0.2), class 1 = last two (ECE 0.2), class 2 unused
    assert classwise_expected_calibration_error(
        confidence, torch.tensor(correct), [0, 0, 1, 1], 3, 2) == pytest.approx(0.2)
    # perfectly calibrated in each bin
    assert expected_calibration_error([0.5, 0.5], torch.tensor([True, False]), 4) == 0.0
    assert np.isnan(expected_calibration_error(torch.zeros(0), torch.zeros(0, dtype=bool)))


def test_counts_add_up_over_batches():
    confidence, correct, predicted = random_predictions(4)
    whole = calibration_counts(confidence, correct, predicted, 4, 15)
    parts = sum(calibration_counts(confidence[i:i + 700], correct[i:i + 700],
                                   predicted[i:i + 700], 4, 15) for i in range(0, 5000, 700))
    np.testing.assert_allclose(parts, whole)
    assert whole.shape == (4, 15, 3) and whole[..., 0].sum() == 5000
    assert ece_from_counts(whole.sum(0)) == pytest.approx(
        expected_calibration_error(confidence, correct, 15))
    assert classwise_ece_from_counts(whole) == pytest.approx(
        classwise_expected_calibration_error(confidence, correct, predicted, 4, 15))


def test_bad_inputs_are_clear_errors():
    with pytest.raises(ValueError, match=r'confidences must lie in \[0, 1\]'):
        expected_calibration_error(torch.tensor([0.5, 1.5]), torch.tensor([True, True]))
    with pytest.raises(ValueError, match='must be 1-D'):
        expected_calibration_error(torch.rand(2, 2), torch.ones(2, 2, dtype=bool))
    with pytest.raises(ValueError, match='one value per pixel'):
        expected_calibration_error(torch.rand(3), torch.ones(2, dtype=bool))
    with pytest.raises(ValueError, match='must be a bool tensor'):
        expected_calibration_error(torch.rand(2), torch.ones(2))
    with pytest.raises(ValueError, match='num_bins must be a positive integer'):
        expected_calibration_error(torch.rand(2), torch.ones(2, dtype=bool), 0)
    with pytest.raises(ValueError, match=r'predicted class ids must lie in 0..2'):
        calibration_counts(torch.rand(2), torch.ones(2, dtype=bool), torch.tensor([0, 3]), 3)


# ----------------------------------------------------------------------------- the metric
HIERARCHY = build_hierarchy('toy_shapes')  # 6 textures -> 3 colours


def image_sample(seed, flat=False, size=(9, 11)):
    """A prediction with ``level_confidences`` (or, ``flat``, only leaf ``seg_logits``)."""
    generator = torch.Generator().manual_seed(seed)
    logits = torch.randn(6, *size, generator=generator) * 3
    pred = logits.argmax(0)
    gt = torch.where(torch.rand(size, generator=generator) < 0.7, pred,
                     torch.randint(0, 6, size, generator=generator))
    gt[torch.rand(size, generator=generator) < 0.1] = 255
    sample = dict(pred_sem_seg=dict(data=pred[None]), gt_sem_seg=dict(data=gt[None]))
    if flat:
        sample['seg_logits'] = dict(data=logits)
    else:
        confidences = torch.rand(2, *size, generator=generator)
        sample['level_confidences'] = dict(data=confidences)
        sample['pred_levels'] = dict(data=torch.stack(
            [HIERARCHY.labels_at_level(pred, level) for level in range(2)]))
    return sample, logits


def run_metric(samples, bins=15, **kwargs):
    metric = HierarchicalIoUMetric(calibration_bins=bins, **kwargs)
    metric.dataset_meta = dict(classes=TOY_SHAPES_CLASSES, hierarchy='toy_shapes')
    metric.process({}, samples)
    return metric, metric.compute_metrics(metric.results)


def direct_level_metrics(samples, confidences_of, bins=15):
    """ECE / cwECE per level over the samples' labelled pixels, from all pixels at once."""
    expected = {}
    for level, name in enumerate(HIERARCHY.level_names):
        conf, correct, predicted = [], [], []
        for sample in samples:
            pred = sample['pred_sem_seg']['data'][0]
            gt = sample['gt_sem_seg']['data'][0]
            valid = gt != 255
            pred_l = HIERARCHY.leaf_to_level[level][pred[valid]]
            gt_l = HIERARCHY.leaf_to_level[level][gt[valid]]
            conf.append(confidences_of(sample)[level][valid])
            correct.append(pred_l == gt_l)
            predicted.append(pred_l)
        conf, correct, predicted = map(torch.cat, (conf, correct, predicted))
        expected[f'ECE_{name}'] = round(reference_ece(conf.numpy(), correct.numpy(), bins)
                                        * 100, 2)
        expected[f'cwECE_{name}'] = round(reference_classwise_ece(
            conf.numpy(), correct.numpy(), predicted.numpy(), HIERARCHY.level_sizes[level],
            bins) * 100, 2)
    return expected


def test_metric_reports_ece_per_level_from_level_confidences():
    samples = [image_sample(seed)[0] for seed in range(3)]
    _, result = run_metric(samples)
    expected = direct_level_metrics(samples, lambda s: s['level_confidences']['data'])
    assert {key: result[key] for key in expected} == expected
    assert list(result)[-4:] == ['ECE_texture', 'cwECE_texture', 'ECE_colour', 'cwECE_colour']
    assert result['mIoU_texture'] == run_metric(samples, bins=0)[1]['mIoU_texture']
    assert 'ECE_texture' not in run_metric(samples, bins=0)[1]


def test_metric_computes_a_flat_models_confidences_from_its_leaf_logits():
    pairs = [image_sample(seed, flat=True) for seed in range(3)]
    samples = [sample for sample, _ in pairs]
    logits_of = {id(sample): logits for sample, logits in pairs}

    def confidences(sample):
        probs = logits_of[id(sample)].softmax(0)
        leaf = sample['pred_sem_seg']['data'][0]
        parent_probs = torch.stack([probs[HIERARCHY.leaf_to_level[1] == parent].sum(0)
                                    for parent in range(3)])  # parents sum their leaves
        return torch.stack([probs.gather(0, leaf[None])[0],
                            parent_probs.gather(0, HIERARCHY.leaf_to_level[1][leaf][None])[0]])

    _, result = run_metric(samples)
    assert {key: result[key] for key in direct_level_metrics(samples, confidences)} == \
        direct_level_metrics(samples, confidences)


def test_metric_results_merge_across_processes():
    """mmengine collects ``results`` from every rank into one list: the metric over the
    concatenated per-rank results equals the metric over all images in one process."""
    samples = [image_sample(seed)[0] for seed in range(4)]
    rank0, _ = run_metric(samples[:2])
    rank1, _ = run_metric(samples[2:])
    _, together = run_metric(samples)
    merged = HierarchicalIoUMetric(calibration_bins=15)
    merged.dataset_meta = rank0.dataset_meta
    assert merged.compute_metrics(rank0.results + rank1.results) == together
    # and it keeps per-bin sums, never the pixels: [C_l, B, 3] per level and image
    assert [counts.shape for counts in rank0.results[0][1]] == [(6, 15, 3), (3, 15, 3)]


def test_metric_calibration_errors_name_the_problem():
    with pytest.raises(ValueError, match='calibration_bins must be an integer >= 0'):
        HierarchicalIoUMetric(calibration_bins=-1)
    sample, _ = image_sample(0)
    del sample['level_confidences']  # e.g. a merged TTA prediction of an HSSN model
    with pytest.raises(ValueError, match='needs the per-level confidences'):
        run_metric([sample])
    sample, _ = image_sample(0, flat=True)
    del sample['seg_logits']  # mmseg's SegTTAModel keeps no logits
    with pytest.raises(ValueError, match='neither level_confidences nor seg_logits'):
        run_metric([sample])


def test_calibration_metrics_are_percent():
    counts = [np.zeros((6, 2, 3)), np.zeros((3, 2, 3))]
    counts[0][1, 1] = [4, 3.6, 2]  # 4 pixels of class 1 at conf 0.9, 2 right: gap 1.6 / 4
    counts[1][0, 1] = [4, 3.6, 4]
    metrics = calibration_metrics(counts, ['texture', 'colour'])
    assert metrics == dict(ECE_texture=40.0, cwECE_texture=40.0, ECE_colour=10.0,
                           cwECE_colour=10.0)


def test_float_rounding_at_the_ends_counts_as_zero_and_one():
    """A float32 softmax can give 1.0000001 (seen on the toy set); it is the last bin, not an
    error, and -1e-7 the first; 1.01 is still an error."""
    from hieraseg.evaluation.calibration import confidence_bins
    confidence = torch.tensor([1.0000001, -1e-7, 0.5], dtype=torch.float32)
    assert confidence_bins(confidence, 10).tolist() == [9, 0, 5]
    with pytest.raises(ValueError, match=r'confidences must lie in \[0, 1\]'):
        confidence_bins(torch.tensor([1.01]), 10)
