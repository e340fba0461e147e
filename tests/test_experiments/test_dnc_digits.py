"""DNC against a linear head on a small real image set (scikit-learn's handwritten
digits, shipped with the package), through mmengine's Runner, three seeds.

DNC must lose no class (no class with zero recall) and its mean top-1 must be within one
point of the linear head's. About 1 minute on one CPU thread (6 runs of 400 iterations).
"""
import pytest

pytest.importorskip('sklearn')

from tests.scripts import load_script  # noqa: E402

pytestmark = pytest.mark.slow  # end-to-end: left out by -m 'not slow'

digits = load_script('experiments/dnc_digits.py')
digits_cfg, run_digits, write_digits = digits.digits_cfg, digits.run_digits, digits.write_digits

SEEDS = (0, 1, 2)
ITERS = 400


@pytest.fixture(scope='module')
def digits_root(tmp_path_factory):
    return write_digits(str(tmp_path_factory.mktemp('digits')))


def test_digits_split_is_fixed_and_has_every_class(digits_root):
    import os
    for split, total in (('train', 1200), ('val', 597)):
        folders = sorted(os.listdir(os.path.join(digits_root, split)))
        assert folders == [str(d) for d in range(10)]
        assert sum(len(os.listdir(os.path.join(digits_root, split, f)))
                   for f in folders) == total


def test_unknown_head_is_named(tmp_path):
    with pytest.raises(ValueError, match="'cosine'"):
        digits_cfg(str(tmp_path), str(tmp_path), head='cosine')


def test_dnc_loses_no_class_and_matches_the_linear_head(digits_root, tmp_path):
    results = {head: [run_digits(digits_root, str(tmp_path / f'{head}{seed}'), head, seed,
                                 ITERS) for seed in SEEDS]
               for head in ('linear', 'dnc')}
    for res in results['dnc']:
        assert min(res['recall']) > 0, res['recall']
        # the hook's health reached the message hub (what the LoggerHook prints)
        health = res['health']
        assert {'dnc_correct_min', 'dnc_used_centroids', 'dnc_centroid_cos',
                'dnc_centroid_cos_max', 'dnc_dead_classes'} <= set(health), health
        assert 0 <= health['dnc_correct_min'] <= 1
        assert -1 <= health['dnc_centroid_cos'] <= health['dnc_centroid_cos_max'] < 1
        assert len(health['worst_classes'].split(', ')) == 3
    assert results['linear'][0]['health'] == {}
    mean = {head: sum(r['top1'] for r in rs) / len(rs) for head, rs in results.items()}
    assert mean['dnc'] >= mean['linear'] - 1.0, mean
