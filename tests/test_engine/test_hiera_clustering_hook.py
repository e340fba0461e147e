"""SinkhornClusteringHook on a hierarchical classifier: one memory per leaf, every level
clustered, empty nodes kept and logged once, checkpoints."""
import torch

from hieraseg.engine.hooks import SinkhornClusteringHook
from hieraseg.engine.hooks.sinkhorn_clustering_hook import CHECKPOINT_KEY
from hieraseg.hierarchy import build_hierarchy
from hieraseg.models.utils import cluster_sub_centroids
from hieraseg.models.utils.hiera_clustering import cluster_level, level_members
from tests.test_engine.test_sinkhorn_clustering_hook import (  # noqa: F401
    TinyDNC, fake_runner, logged, run_iters)

# 5 leaves -> 3 -> 2 (V = 10)
HIERARCHY = dict(classes=[['a', 'b', 'c', 'd', 'e'], ['ab', 'c', 'de'], ['abc', 'de2']],
                 parents=[[0, 0, 1, 2, 2], [0, 0, 1]])


def model_and_hook(**hook_args):
    model = TinyDNC(k=2, hierarchy=HIERARCHY)
    hook = SinkhornClusteringHook(**dict(dict(memory_size=16, momentum=0.6), **hook_args))
    hook.before_train(fake_runner(model))
    return model, hook


def test_one_step_clusters_leaves_and_every_coarse_level_from_the_leaf_memory():
    model, hook = model_and_hook(data_init=False, rescue_after=None)
    memory = hook.memories['classifier']
    assert memory.features.shape == (5, 16, 8)  # leaves only
    before = model.classifier.centroids.clone()
    run_iters(hook, model, 1)  # fills the memory, then clusters once
    after = model.classifier.centroids
    hierarchy = build_hierarchy(HIERARCHY)
    # leaves: plain DNC clustering of the leaf memory
    leaf = cluster_sub_centroids(before[:5], memory.features, memory.valid, memory.correct,
                                 momentum=0.6)
    assert torch.allclose(after[:5], leaf.centroids, atol=1e-6)
    # every coarse level: its nodes over their descendant leaves' memories
    for level in (1, 2):
        part = hierarchy.level_slice(level)
        tables = level_members(hierarchy.leaf_to_level[level], hierarchy.level_sizes[level])
        ref = cluster_level(before[part], memory, tables, momentum=0.6)
        assert torch.allclose(after[part], ref.centroids, atol=1e-6)
    assert not torch.equal(after[5:], before[5:])


def test_coarse_nodes_are_placed_from_data_and_empty_nodes_keep_theirs(logged):  # noqa: F811
    model, hook = model_and_hook()
    before = model.classifier.centroids.clone()
    x = torch.randn(40, 8)
    for it in range(2):  # leaf 2 ('c', alone under node 'c') never labelled
        labels = torch.tensor([0, 1, 3, 4])[torch.arange(40) % 4]
        model.classifier.keep_for_clustering(model.embed(x), labels)
        hook.after_train_iter(fake_runner(model, it), it)
    clf = model.classifier
    # nodes 'ab', 'de' (level 1) and both top nodes were placed; leaf 'c', node 'c' not
    assert clf.initialized.tolist() == [True, True, False, True, True,
                                        True, False, True, True, True]
    assert torch.equal(clf.centroids[[2, 6]], before[[2, 6]])
    empty = [msg for _, msg in logged if 'no feature of level2 node(s)' in msg]
    assert len(empty) == 1 and empty[0].endswith(': c')  # logged once, by name
    assert any('placed from the features in the memory for level3 node(s): abc, de2' in msg
               for _, msg in logged)


def test_checkpoint_round_trip_restores_every_node_exactly(tmp_path):
    model, hook = model_and_hook()
    run_iters(hook, model, 4)
    checkpoint = {'state_dict': model.state_dict()}
    hook.before_save_checkpoint(fake_runner(model), checkpoint)
    torch.save(checkpoint, tmp_path / 'ckpt.pth')
    loaded = torch.load(tmp_path / 'ckpt.pth', weights_only=True)
    model2 = TinyDNC(k=2, hierarchy=HIERARCHY, seed=1)
    hook2 = SinkhornClusteringHook(memory_size=16, momentum=0.6)
    hook2.after_load_checkpoint(fake_runner(model2), loaded)
    model2.load_state_dict(loaded['state_dict'])
    hook2.before_train(fake_runner(model2))
    for name, buf in hook.memories['classifier'].state_dict().items():
        assert torch.equal(hook2.memories['classifier'].state_dict()[name], buf), name
    run_iters(hook, model, 2, start=4, seed=7)
    run_iters(hook2, model2, 2, start=4, seed=7)
    assert torch.equal(model2.classifier.centroids, model.classifier.centroids)
    assert CHECKPOINT_KEY in checkpoint
