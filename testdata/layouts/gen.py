"""Re-pickle fitted scikit-learn 1.2.1 trees in the node layouts of other builds.

Debian ships one scikit-learn (1.2.1, 64-bit), but users' pickles come from
32-bit builds (intp fields are int32) and from 1.3+ (a missing_go_to_left byte,
64-byte records) and 1.4+ (leaf values stored as fractions instead of weighted
counts). This script takes real fitted models from ../models/, rewrites only
the Tree state into each of those layouts, and pickles them through a stand-in
whose __reduce__ names sklearn.tree._tree.Tree, so the bytes are exactly what
such a build writes for the same tree. Each case reuses the golden outputs of
the model it came from: the tree, and so every prediction, is the same.

Run with /usr/bin/python3 (Debian's scikit-learn). Deterministic.
"""
import json
import os
import shutil

import cloudpickle
import numpy as np
import sklearn.tree._tree as _tree

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "..", "models")


class TreeStandIn:
    """Pickles as sklearn.tree._tree.Tree(args) with the given state."""

    def __init__(self, args, state):
        self.args, self.state = args, state

    def __reduce__(self):
        return (_tree.Tree, self.args, self.state)


def relayout(tree, layout):
    n_features, n_classes, n_outputs = tree.n_features, tree.n_classes, tree.n_outputs
    state = tree.__getstate__()
    nodes = state["nodes"]
    if layout == "int32":
        dt = np.dtype([("left_child", "<i4"), ("right_child", "<i4"), ("feature", "<i4"),
                       ("threshold", "<f8"), ("impurity", "<f8"), ("n_node_samples", "<i4"),
                       ("weighted_n_node_samples", "<f8")])
    else:  # skl13 / skl14: 64-bit with missing_go_to_left, aligned to 64 bytes
        dt = np.dtype({"names": ["left_child", "right_child", "feature", "threshold", "impurity",
                                 "n_node_samples", "weighted_n_node_samples", "missing_go_to_left"],
                       "formats": ["<i8", "<i8", "<i8", "<f8", "<f8", "<i8", "<f8", "u1"],
                       "offsets": [0, 8, 16, 24, 32, 40, 48, 56], "itemsize": 64})
    new = np.zeros(nodes.shape, dtype=dt)
    for name in nodes.dtype.names:
        new[name] = nodes[name]
    values = state["values"]
    if layout == "skl14":
        # 1.4+ stores each node's class weights as fractions of the node's total.
        sums = values.sum(axis=2, keepdims=True)
        sums[sums == 0] = 1
        values = values / sums
    state = dict(state, nodes=new, values=values)
    return TreeStandIn((n_features, np.asarray(n_classes, dtype=np.intp), n_outputs), state)


def main():
    cases = []
    for src in ["dtree_clf_iris", "rf_clf_iris", "dtree_reg_diabetes"]:
        with open(os.path.join(MODELS, src, "model.pkl"), "rb") as f:
            est = cloudpickle.load(f)
        for layout in ["int32", "skl13", "skl14"]:
            if layout == "skl14" and "reg" in src:
                continue  # regression values are means either way
            name = f"{src}_{layout}"
            out = os.path.join(HERE, name)
            shutil.rmtree(out, ignore_errors=True)
            os.makedirs(out)
            import copy
            clone = copy.copy(est)
            if hasattr(est, "estimators_"):
                subs = []
                for t in est.estimators_:
                    c = copy.copy(t)
                    c.tree_ = relayout(t.tree_, layout)
                    subs.append(c)
                clone.estimators_ = subs
            else:
                clone.tree_ = relayout(est.tree_, layout)
            with open(os.path.join(out, "model.pkl"), "wb") as f:
                cloudpickle.dump(clone, f, protocol=4)
            for fn in ["MLmodel", "conda.yaml", "python_env.yaml", "requirements.txt"]:
                shutil.copy(os.path.join(MODELS, src, fn), os.path.join(out, fn))
            cases.append({"name": name, "model_dir": f"layouts/{name}", "like": f"models/{src}"})
    with open(os.path.join(HERE, "cases.json"), "w") as f:
        json.dump({"about": __doc__.strip().splitlines()[0], "cases": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
