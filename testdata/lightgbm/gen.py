#!/usr/bin/python3
"""Write the LightGBM fixtures of mlbatch: testdata/lightgbm/.

Debian has no LightGBM, so the models are written by hand, as LightGBM 2.x, 3.x and
4.x write them (Booster.save_model: header, Tree= blocks with their tree_sizes,
"end of trees", feature importances, parameters, pandas_categorical), each in an
MLflow model folder laid out as mlflow.lightgbm.save_model writes it.

The expected predictions come from `Reference`, a small evaluator in this file
written from LightGBM's C++ sources (GBDT::LoadModelFromString, Tree::Tree(const
char*), Tree::Decision / NumericalDecision / CategoricalDecision, Tree::Predict,
GBDT::Predict, the objectives' ConvertOutput, Common::Atof, and the C API's dense
row reader that drops |x| <= kZeroThreshold). It parses the written text, not the
in-memory trees, so the text layout is checked too. It shares nothing with the Go
code.

Inputs are built from the trees so that every branch is taken: every node both
ways, every missing-value path (NaN, zeros, values below kZeroThreshold), values
exactly on thresholds and one ulp either side, categorical NaN, negatives,
fractions, unseen and huge categories, and linear leaves with and without a NaN
feature. The script asserts that coverage from the evaluator's trace.

Deterministic: fixed seeds; a rerun writes identical bytes. Run with Debian's
Python (numpy is not needed):

    /usr/bin/python3 testdata/lightgbm/gen.py
"""

import json
import math
import os
import random
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# LightGBM: const double kZeroThreshold = 1e-35f; (a float widened to double)
KZT = struct.unpack("<f", struct.pack("<f", 1e-35))[0]
NAN = float("nan")
INT_MIN = -2147483648

PY_VERSION = "3.11.2"


# --------------------------------------------------------------------------
# Reference evaluator (from LightGBM's C++ sources)


def lgb_split(s, delim):
    """Common::Split: split on one character, dropping empty pieces."""
    return [p for p in s.split(delim) if p != ""]


def lgb_pow(base, power):
    """Common::Pow."""
    if power < 0:
        return 1.0 / lgb_pow(base, -power)
    if power == 0:
        return 1.0
    if power % 2 == 0:
        return lgb_pow(base * base, power // 2)
    if power % 3 == 0:
        return lgb_pow(base * base * base, power // 3)
    return base * lgb_pow(base, power - 1)


def lgb_atof(s):
    """Common::Atof, the parser LightGBM uses for objective parameters."""
    p = 0
    while p < len(s) and s[p] == " ":
        p += 1
    sign = 1.0
    if p < len(s) and s[p] == "-":
        sign = -1.0
        p += 1
    elif p < len(s) and s[p] == "+":
        p += 1
    digit = lambda i: i < len(s) and "0" <= s[i] <= "9"
    if not (digit(p) or (p < len(s) and s[p] in ".eE")):
        raise ValueError("not a number: %r" % s)
    value = 0.0
    while digit(p):
        value = value * 10.0 + (ord(s[p]) - 48)
        p += 1
    if p < len(s) and s[p] == ".":
        right = 0.0
        nn = 0
        p += 1
        while digit(p):
            right = (ord(s[p]) - 48) + right * 10.0
            nn += 1
            p += 1
        value += right / lgb_pow(10.0, nn)
    frac = False
    scale = 1.0
    if p < len(s) and s[p] in "eE":
        p += 1
        if p < len(s) and s[p] == "-":
            frac = True
            p += 1
        elif p < len(s) and s[p] == "+":
            p += 1
        expon = 0
        while digit(p):
            expon = expon * 10 + (ord(s[p]) - 48)
            p += 1
        expon = min(expon, 308)
        while expon >= 50:
            scale *= 1e50
            expon -= 50
        while expon >= 8:
            scale *= 1e8
            expon -= 8
        while expon > 0:
            scale *= 10.0
            expon -= 1
    return sign * (value / scale if frac else value * scale)


def cpp_int(x):
    """static_cast<int>(double) as x86-64 does it: truncation, INT_MIN when out of range."""
    if math.isnan(x) or not (-2147483649.0 < x < 2147483648.0):
        return INT_MIN
    return int(x)


def cpp_sign(x):
    return (x > 0) - (x < 0)


class RefTree:
    def __init__(self, kv):
        self.num_leaves = int(kv["num_leaves"])
        self.num_cat = int(kv["num_cat"])
        n = self.num_leaves
        self.leaf_value = [float(v) for v in lgb_split(kv["leaf_value"], " ")]
        assert len(self.leaf_value) == n
        self.is_linear = bool(int(kv.get("is_linear", "0")))
        self.split_feature, self.threshold, self.decision_type = [], [], []
        self.left_child, self.right_child = [], []
        self.cat_boundaries, self.cat_threshold = [0], []
        if n > 1:
            self.left_child = [int(v) for v in lgb_split(kv["left_child"], " ")]
            self.right_child = [int(v) for v in lgb_split(kv["right_child"], " ")]
            self.split_feature = [int(v) for v in lgb_split(kv["split_feature"], " ")]
            self.threshold = [float(v) for v in lgb_split(kv["threshold"], " ")]
            if "decision_type" in kv:
                self.decision_type = [int(v) for v in lgb_split(kv["decision_type"], " ")]
            else:
                self.decision_type = [0] * (n - 1)
            for arr in (self.left_child, self.right_child, self.split_feature,
                        self.threshold, self.decision_type):
                assert len(arr) == n - 1
        if self.num_cat > 0:
            self.cat_boundaries = [int(v) for v in lgb_split(kv["cat_boundaries"], " ")]
            self.cat_threshold = [int(v) for v in lgb_split(kv["cat_threshold"], " ")]
            assert len(self.cat_boundaries) == self.num_cat + 1
            assert len(self.cat_threshold) == self.cat_boundaries[-1]
        if self.is_linear:
            if "leaf_const" in kv:
                self.leaf_const = [float(v) for v in lgb_split(kv["leaf_const"], " ")]
            else:
                self.leaf_const = [0.0] * n
            num_feat = [int(v) for v in lgb_split(kv.get("num_features", ""), " ")]
            feats = [int(v) for v in lgb_split(kv.get("leaf_features", ""), " ")]
            coeffs = [float(v) for v in lgb_split(kv.get("leaf_coeff", ""), " ")]
            self.leaf_features, self.leaf_coeff = [[] for _ in range(n)], [[] for _ in range(n)]
            pos = 0
            for i, c in enumerate(num_feat):
                self.leaf_features[i] = feats[pos:pos + c]
                self.leaf_coeff[i] = coeffs[pos:pos + c]
                pos += c

    @staticmethod
    def is_zero(x):
        return -KZT <= x <= KZT

    def decision(self, fval, node, trace):
        dt = self.decision_type[node]
        if dt & 1:
            return self.categorical_decision(fval, node, trace)
        return self.numerical_decision(fval, node, trace)

    def numerical_decision(self, fval, node, trace):
        dt = self.decision_type[node]
        missing_type = (dt >> 2) & 3
        orig_nan = math.isnan(fval)
        if math.isnan(fval) and missing_type != 2:
            fval = 0.0
        if (missing_type == 1 and self.is_zero(fval)) or (missing_type == 2 and math.isnan(fval)):
            go_left = bool(dt & 2)
            trace.add((node, "L" if go_left else "R", "nan" if orig_nan else "missing"))
            return self.left_child[node] if go_left else self.right_child[node]
        go_left = fval <= self.threshold[node]
        trace.add((node, "L" if go_left else "R", "nan" if orig_nan else "cmp"))
        return self.left_child[node] if go_left else self.right_child[node]

    def categorical_decision(self, fval, node, trace):
        if math.isnan(fval):
            trace.add((node, "R", "nan"))
            return self.right_child[node]
        int_fval = cpp_int(fval)
        if int_fval < 0:
            trace.add((node, "R", "negative"))
            return self.right_child[node]
        cat_idx = cpp_int(self.threshold[node])
        lo, hi = self.cat_boundaries[cat_idx], self.cat_boundaries[cat_idx + 1]
        i1 = int_fval // 32
        if i1 >= hi - lo:
            trace.add((node, "R", "unseen"))
            return self.right_child[node]
        if (self.cat_threshold[lo + i1] >> (int_fval % 32)) & 1:
            trace.add((node, "L", "bit"))
            return self.left_child[node]
        trace.add((node, "R", "nobit"))
        return self.right_child[node]

    def get_leaf(self, row, trace):
        node = 0
        while node >= 0:
            node = self.decision(row[self.split_feature[node]], node, trace)
        return ~node

    def predict(self, row, trace):
        leaf = self.get_leaf(row, trace) if self.num_leaves > 1 else 0
        if not self.is_linear:
            trace.add(("leaf", leaf))
            return self.leaf_value[leaf]
        out = self.leaf_const[leaf]
        for f, c in zip(self.leaf_features[leaf], self.leaf_coeff[leaf]):
            v = row[f]
            if math.isnan(v):
                trace.add(("leaf", leaf, "linear-nan"))
                return self.leaf_value[leaf]
            out += c * v
        trace.add(("leaf", leaf, "linear" if self.leaf_features[leaf] else "const"))
        return out


class Reference:
    """A LightGBM text model as GBDT::LoadModelFromString reads it."""

    def __init__(self, text):
        lines_end = len(text)
        key_vals = {}
        p = 0
        # Header: until a line starting with "Tree=".
        while p < lines_end:
            e = p
            while e < lines_end and text[e] not in "\r\n":
                e += 1
            line = text[p:e]
            if line:
                if line.startswith("Tree="):
                    break
                strs = lgb_split(line, "=")
                if len(strs) == 1:
                    key_vals[strs[0]] = ""
                elif len(strs) == 2:
                    key_vals[strs[0]] = strs[1]
                elif strs[0] == "feature_names":
                    key_vals[strs[0]] = line[len("feature_names="):]
                else:
                    raise ValueError("Wrong line at model file: " + line)
            p = e
            while p < lines_end and text[p] in "\r\n":
                p += 1
        self.num_class = int(key_vals["num_class"])
        self.num_tree_per_iteration = int(key_vals.get("num_tree_per_iteration", self.num_class))
        self.max_feature_idx = int(key_vals["max_feature_idx"])
        self.average_output = "average_output" in key_vals
        self.feature_names = lgb_split(key_vals["feature_names"], " ")
        assert len(self.feature_names) == self.max_feature_idx + 1
        self.objective = self.parse_objective(key_vals.get("objective"))
        self.trees = []
        if "tree_sizes" in key_vals:
            sizes = [int(v) for v in lgb_split(key_vals["tree_sizes"], " ")]
            off = p
            for size in sizes:
                self.trees.append(self.read_tree(text, off))
                off += size
        else:
            while p < lines_end:
                e = p
                while e < lines_end and text[e] not in "\r\n":
                    e += 1
                line = text[p:e]
                if line:
                    if not line.startswith("Tree="):
                        break
                    self.trees.append(self.read_tree(text, p))
                    # skip the tree's lines up to its blank line
                    p = text.index("\n\n", p) + 1
                while p < lines_end and text[p] in "\r\n":
                    p += 1
        self.num_iteration_for_pred = len(self.trees) // self.num_tree_per_iteration

    @staticmethod
    def read_tree(text, p):
        e = text.index("\n", p)
        assert text[p:e].startswith("Tree="), text[p:e]
        p = e + 1
        kv = {}
        for _ in range(22):
            if text[p] in "\r\n":
                break
            eq = text.index("=", p)
            e = text.index("\n", p)
            kv[text[p:eq]] = text[eq + 1:e]
            p = e + 1
        return RefTree(kv)

    def parse_objective(self, s):
        if s is None:
            return ("none",)
        strs = lgb_split(s, " ")
        name = strs[0]
        params = {}
        for w in strs[1:]:
            t = lgb_split(w, ":")
            if len(t) == 2:
                params[t[0]] = t[1]
        if name in ("regression", "regression_l1", "quantile", "fair", "mape"):
            return ("sqrt",) if "sqrt" in strs[1:] else ("identity",)
        if name in ("huber", "lambdarank", "rank_xendcg"):
            return ("identity",)
        if name in ("poisson", "gamma", "tweedie"):
            return ("exp",)
        if name == "binary":
            return ("sigmoid", lgb_atof(params["sigmoid"]))
        if name in ("cross_entropy", "xentropy"):
            return ("xentropy",)
        if name in ("cross_entropy_lambda", "xentlambda"):
            return ("xentlambda",)
        if name == "multiclass":
            return ("softmax", int(params["num_class"]))
        if name == "multiclassova":
            return ("ova", int(params["num_class"]), lgb_atof(params["sigmoid"]))
        raise ValueError("objective " + name)

    def predict(self, raw_row, trace=None, num_iteration=-1):
        # LGBM_BoosterPredictForMat: RowPairFunctionFromDenseMatric keeps only
        # |x| > kZeroThreshold or NaN; the predict buffer is zero elsewhere.
        row = [x if (math.fabs(x) > KZT or math.isnan(x)) else 0.0 for x in raw_row]
        out = [0.0] * self.num_tree_per_iteration
        # GBDT::InitPredict: num_iteration > 0 limits the iterations used.
        iters = self.num_iteration_for_pred
        if num_iteration > 0:
            iters = min(num_iteration, iters)
        for i in range(iters):
            for k in range(self.num_tree_per_iteration):
                t = i * self.num_tree_per_iteration + k
                tr = set()
                out[k] += self.trees[t].predict(row, tr)
                if trace is not None:
                    trace.update((t,) + x for x in tr)
        if self.average_output:
            out = [o / iters for o in out]
        obj = self.objective
        if obj[0] == "sqrt":
            out[0] = cpp_sign(out[0]) * out[0] * out[0]
        elif obj[0] == "exp":
            out[0] = math.exp(out[0])
        elif obj[0] == "sigmoid":
            out[0] = 1.0 / (1.0 + math.exp(-obj[1] * out[0]))
        elif obj[0] == "xentropy":
            out[0] = 1.0 / (1.0 + math.exp(-out[0]))
        elif obj[0] == "xentlambda":
            out[0] = math.log1p(math.exp(out[0]))
        elif obj[0] == "ova":
            out = [1.0 / (1.0 + math.exp(-obj[2] * o)) for o in out]
        elif obj[0] == "softmax":
            wmax = out[0]
            for o in out[1:]:
                wmax = wmax if o < wmax else o
            ex = [math.exp(o - wmax) for o in out]
            wsum = 0.0
            for e in ex:
                wsum += e
            out = [e / wsum for e in ex]
        return out


# --------------------------------------------------------------------------
# Model construction


def f17(x):
    """ArrayToString<true>: %.17g."""
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return "%.17g" % x


def g6(x):
    """Default ostream / ArrayToString<false> for doubles: %g."""
    return "%g" % x


class Spec:
    """What one fixture model looks like."""

    def __init__(self, name, *, version, objective, num_class=1, n_features=5, categorical=(),
                 iterations=4, depth=3, numeric_dts=(0, 2, 4, 6, 8, 10), linear=False,
                 average_output=False, one_leaf=0.0, feature_names=None, seed=1,
                 tree_sizes=True, leaf_scale=0.5, extra_thresholds=(), mlflow="2",
                 signature="named", model_class=True, one_leaf_style="full",
                 pandas_categorical="null", one_leaf_trees=(), description=""):
        self.__dict__.update(locals())
        del self.__dict__["self"]


def feature_pools(rng, spec):
    """Per feature: (thresholds a split may use, probe values inputs draw from)."""
    pools = []
    for f in range(spec.n_features):
        if f in spec.categorical:
            cats = list(range(0, 70))
            probes = [float(c) for c in range(0, 72)] + [
                NAN, -1.0, -0.5, -0.0, 0.5, 3.7, 33.9, 95.0, 1e10, -1e10,
                2147483647.0, 2147483648.0, 4294967296.5, 1e-36]
            pools.append(("cat", cats, probes))
            continue
        data = sorted({round(rng.uniform(-8, 12), rng.choice([1, 2, 3])) for _ in range(9)})
        thresholds = []
        for a, b in zip(data, data[1:]):
            mid = (a + b) / 2.0
            # LightGBM thresholds are bin midpoints, often an ulp off the round value
            thresholds.append(rng.choice([mid, math.nextafter(mid, math.inf)]))
        thresholds += [KZT, -KZT, 0.0]
        thresholds += list(spec.extra_thresholds)
        probes = set(data)
        for t in thresholds:
            probes.update([t, math.nextafter(t, math.inf), math.nextafter(t, -math.inf)])
        probes.update([0.0, 1e-36, -1e-36, 6e-36, KZT, -KZT, math.nextafter(KZT, 1.0),
                       1e-300, -1e6, 1e6])
        probes = sorted(probes) + [NAN, -0.0]
        pools.append(("num", thresholds, probes))
    return pools


def classify(dt, thr, bits, v):
    """(side, reason) for probe value v at a one-node tree with this split, by the
    reference rules (after the dense reader's flush of tiny values)."""
    x = v if (math.fabs(v) > KZT or math.isnan(v)) else 0.0
    t = RefTree.__new__(RefTree)
    t.decision_type = [dt]
    t.threshold = [0.0 if dt & 1 else thr]
    t.left_child, t.right_child = [-1], [-2]
    t.cat_boundaries = [0, len(bits)]
    t.cat_threshold = bits
    trace = set()
    t.decision(x, 0, trace)
    (_, side, reason), = trace
    return side, reason


class Builder:
    def __init__(self, spec):
        self.spec = spec
        self.rng = random.Random(spec.seed)
        self.pools = feature_pools(self.rng, spec)

    def tree(self, class_id, linear, force_leaf=False):
        """A random tree: nodes as LightGBM numbers them, plus the probe sets that
        reach each node and leaf (for building inputs)."""
        rng, spec = self.rng, self.spec
        nodes, leaves, cat_words = [], [], []
        cat_bounds = [0]
        reach_nodes, reach_leaves = [], []

        def leaf(reach):
            i = len(leaves)
            value = rng.gauss(0, spec.leaf_scale)
            if class_id is not None:
                value += 0.1 * class_id
            lf = {"value": value}
            if linear:
                cands = [f for f in range(spec.n_features)
                         if f not in spec.categorical and any(math.isnan(v) for v in reach[f])
                         and any(not math.isnan(v) for v in reach[f])]
                k = rng.choice([0, 1, 2, 3]) if cands else 0
                lf["features"] = rng.sample(cands, min(k, len(cands)))
                lf["coeff"] = [rng.gauss(0, 0.3) for _ in lf["features"]]
                lf["const"] = value + rng.gauss(0, 0.1)
            leaves.append(lf)
            reach_leaves.append(reach)
            return ~i

        def grow(depth, reach):
            if depth == 0 or (nodes and rng.random() < 0.2):
                return leaf(reach)
            for _ in range(40):
                f = rng.randrange(spec.n_features)
                kind, thresholds, _ = self.pools[f]
                if kind == "cat":
                    words = rng.choice([1, 2, 3])
                    bits = [rng.getrandbits(32) for _ in range(words)]
                    bits[-1] |= 1 << rng.randrange(32)  # last word non-empty, as LightGBM writes
                    dt = 1 | (rng.choice([0, 2]) << 2) | rng.choice([0, 2])
                    thr = float(len(cat_bounds) - 1)
                else:
                    bits = []
                    dt = rng.choice(spec.numeric_dts)
                    thr = rng.choice(thresholds)
                left = [v for v in reach[f] if classify(dt, thr, bits, v)[0] == "L"]
                right = [v for v in reach[f] if classify(dt, thr, bits, v)[0] == "R"]
                if not left or not right:
                    continue
                missing = (dt >> 2) & 3
                if kind == "num" and missing == 1 and not any(v == 0 for v in reach[f]):
                    continue
                if kind == "num" and missing == 2 and not any(math.isnan(v) for v in reach[f]):
                    continue
                break
            else:
                return leaf(reach)
            i = len(nodes)
            node = {"feature": f, "threshold": thr, "dt": dt, "bits": bits,
                    "gain": rng.uniform(0.01, 60)}
            nodes.append(node)
            reach_nodes.append(reach)
            if kind == "cat":
                cat_words.extend(bits)
                cat_bounds.append(len(cat_words))
            lr = dict(reach)
            lr[f] = left
            rr = dict(reach)
            rr[f] = right
            node["left"] = grow(depth - 1, lr)
            node["right"] = grow(depth - 1, rr)
            return i

        root_reach = {f: list(self.pools[f][2]) for f in range(spec.n_features)}
        if rng.random() < spec.one_leaf or force_leaf:
            leaf(root_reach)
        else:
            grow(spec.depth, root_reach)
        return {"nodes": nodes, "leaves": leaves, "cat_words": cat_words, "cat_bounds": cat_bounds,
                "linear": linear, "reach_nodes": reach_nodes, "reach_leaves": reach_leaves}


def tree_text(t, spec):
    """Tree::ToString for the spec's LightGBM version."""
    n = len(t["leaves"])
    nodes = t["nodes"]
    lines = []
    a = lines.append
    if n == 1 and spec.one_leaf_style == "short" and not t["linear"]:
        a("num_leaves=1")
        a("num_cat=0")
        a("leaf_value=" + f17(t["leaves"][0]["value"]))
        a("shrinkage=1")
        return "\n".join(lines) + "\n\n"
    ncat = len(t["cat_bounds"]) - 1
    counts = [17 + (i * 7) % 23 for i in range(n)]
    a("num_leaves=%d" % n)
    a("num_cat=%d" % ncat)
    a("split_feature=" + " ".join(str(x["feature"]) for x in nodes))
    a("split_gain=" + " ".join(g6(x["gain"]) for x in nodes))
    a("threshold=" + " ".join(f17(x["threshold"]) for x in nodes))
    a("decision_type=" + " ".join(str(x["dt"]) for x in nodes))
    a("left_child=" + " ".join(str(x["left"]) for x in nodes))
    a("right_child=" + " ".join(str(x["right"]) for x in nodes))
    a("leaf_value=" + " ".join(f17(l["value"]) for l in t["leaves"]))
    if spec.version != "v2":
        a("leaf_weight=" + " ".join(f17(c * 0.25) for c in counts))
    a("leaf_count=" + " ".join(str(c) for c in counts))
    a("internal_value=" + " ".join(g6(0.01 * i) for i in range(len(nodes))))
    if spec.version != "v2":
        a("internal_weight=" + " ".join(g6(3.5 * (len(nodes) - i)) for i in range(len(nodes))))
    a("internal_count=" + " ".join(str(100 - i) for i in range(len(nodes))))
    if ncat > 0:
        a("cat_boundaries=" + " ".join(str(x) for x in t["cat_bounds"]))
        a("cat_threshold=" + " ".join(str(x) for x in t["cat_words"]))
    if t["linear"] or spec.version == "v4":
        a("is_linear=%d" % (1 if t["linear"] else 0))
    if t["linear"]:
        a("leaf_const=" + " ".join(f17(l["const"]) for l in t["leaves"]))
        a("num_features=" + " ".join(str(len(l["features"])) for l in t["leaves"]))
        # Tree::ToString writes each leaf's list followed by a space, then one
        # more space per leaf (so empty leaves leave runs of spaces).
        fs = ""
        cs = ""
        for l in t["leaves"]:
            if l["features"]:
                fs += " ".join(str(f) for f in l["features"]) + " "
                cs += " ".join(f17(c) for c in l["coeff"]) + " "
            fs += " "
            cs += " "
        a("leaf_features=" + fs)
        a("leaf_coeff=" + cs)
    a("shrinkage=" + ("1" if spec.iterations <= 1 else g6(0.1)))
    return "\n".join(lines) + "\n\n"


PARAMS = """[boosting: {boosting}]
[objective: {objective}]
[metric: ]
[tree_learner: serial]
[device_type: cpu]
[linear_tree: {linear}]
[data: ]
[valid: ]
[num_iterations: {iterations}]
[learning_rate: 0.1]
[num_leaves: 31]
[num_threads: 0]
[deterministic: 0]
[max_depth: -1]
[min_data_in_leaf: 20]
[bagging_fraction: {bagging}]
[bagging_freq: {bagging_freq}]
[feature_fraction: 1]
[lambda_l1: 0]
[lambda_l2: 0]
[min_gain_to_split: 0]
[max_cat_threshold: 32]
[cat_l2: 10]
[cat_smooth: 10]
[max_bin: 255]
[use_missing: 1]
[zero_as_missing: 0]
[categorical_feature: {cat}]
[boost_from_average: 1]
[num_class: {num_class}]
[sigmoid: 1]
[verbosity: -1]"""


def model_text(spec, trees, pools):
    nf = spec.n_features
    names = spec.feature_names or ["Column_%d" % i for i in range(nf)]
    infos = []
    for f in range(nf):
        if f in spec.categorical:
            infos.append(":".join(str(c) for c in range(0, 70, 3)))
        else:
            data = [v for v in pools[f][2] if not math.isnan(v) and -100 < v < 100 and v != 0]
            infos.append("[%s:%s]" % (f17(min(data)), f17(max(data))))
    tree_strs = ["Tree=%d\n" % i + tree_text(t, spec) + "\n" for i, t in enumerate(trees)]
    h = ["tree", "version=" + spec.version, "num_class=%d" % spec.num_class,
         "num_tree_per_iteration=%d" % spec.num_class, "label_index=0",
         "max_feature_idx=%d" % (nf - 1)]
    if spec.objective is not None:
        h.append("objective=" + spec.objective)
    if spec.average_output:
        h.append("average_output")
    h.append("feature_names=" + " ".join(names))
    h.append("feature_infos=" + " ".join(infos))
    if spec.tree_sizes:
        h.append("tree_sizes=" + " ".join(str(len(s.encode())) for s in tree_strs))
    text = "\n".join(h) + "\n\n" + "".join(tree_strs) + "end of trees\n"
    imp = {}
    for t in trees:
        for nd in t["nodes"]:
            imp[names[nd["feature"]]] = imp.get(names[nd["feature"]], 0) + 1
    text += "\nfeature_importances:\n" if spec.version != "v2" else "\nfeature importances:\n"
    for name, cnt in sorted(imp.items(), key=lambda kv: (-kv[1], names.index(kv[0]))):
        text += "%s=%d\n" % (name, cnt)
    obj_name = (spec.objective or "custom").split(" ")[0]
    text += "\nparameters:\n" + PARAMS.format(
        boosting="rf" if spec.average_output else "gbdt", objective=obj_name,
        linear=1 if spec.linear else 0, iterations=spec.iterations,
        bagging="0.8" if spec.average_output else "1", bagging_freq=1 if spec.average_output else 0,
        cat=",".join(str(c) for c in spec.categorical), num_class=spec.num_class)
    text += "\nend of parameters\n"
    if spec.version != "v2":
        text += "\npandas_categorical:%s\n" % spec.pandas_categorical
    return text


# --------------------------------------------------------------------------
# Inputs


TINY = (0.0, -0.0, 1e-36, -1e-36, 6e-36, KZT, -KZT, 1e-300)


def build_rows(spec, builder, trees, rng):
    """Rows that reach every node with one value of every (side, reason) class the
    node can see, values exactly on its threshold and the tiny values around zero;
    every leaf (linear leaves with and without a NaN feature); then random rows."""
    nf = spec.n_features
    rows = []

    def row_from(reach, overrides=()):
        r = [rng.choice(reach[f]) for f in range(nf)]
        for f, v in overrides:
            r[f] = v
        return r

    for t in trees:
        for ni, nd in enumerate(t["nodes"]):
            reach = t["reach_nodes"][ni]
            f = nd["feature"]
            groups = {}
            for v in reach[f]:
                groups.setdefault(classify(nd["dt"], nd["threshold"], nd["bits"], v), []).append(v)
            picks = [rng.choice(vs) for _, vs in sorted(groups.items())]
            picks += [v for v in reach[f] if not math.isnan(v) and
                      (v == nd["threshold"] or v in TINY) and not (nd["dt"] & 1)]
            for v in picks:
                rows.append(row_from(reach, [(f, v)]))
        for li, lf in enumerate(t["leaves"]):
            reach = t["reach_leaves"][li]
            rows.append(row_from(reach, [(f, rng.choice([v for v in reach[f] if not math.isnan(v)]))
                                         for f in lf.get("features", [])]))
            for f in lf.get("features", []):
                rows.append(row_from(reach, [(f, NAN)]))
    full = {f: builder.pools[f][2] for f in range(nf)}
    for _ in range(30):
        rows.append(row_from(full))
    # rows with every feature missing, zero, or tiny
    rows.append([NAN] * nf)
    rows.append([0.0] * nf)
    rows.append([6e-36] * nf)
    rows.append([-0.0] * nf)
    rng.shuffle(rows)
    return rows


def coverage(ref, rows, trees):
    """Assert, from the evaluator's trace, that the rows exercise every (side,
    reason) class each node can see and every leaf (linear leaves with and
    without a NaN feature)."""
    seen = set()
    for r in rows:
        ref.predict(r, seen)
    missing = []
    for ti, t in enumerate(trees):
        for ni, nd in enumerate(t["nodes"]):
            f = nd["feature"]
            need = {classify(nd["dt"], nd["threshold"], nd["bits"], v) for v in t["reach_nodes"][ni][f]}
            have = {(x[2], x[3]) for x in seen if len(x) == 4 and x[0] == ti and x[1] == ni}
            for side, reason in sorted(need - have):
                missing.append("tree %d node %d: no row goes %s by %s" % (ti, ni, side, reason))
        for li, lf in enumerate(t["leaves"]):
            kinds = {x[3] if len(x) > 3 else "plain" for x in seen
                     if x[0] == ti and x[1] == "leaf" and x[2] == li}
            if not kinds:
                missing.append("tree %d leaf %d never reached" % (ti, li))
            if lf.get("features"):
                for want in ("linear", "linear-nan"):
                    if want not in kinds:
                        missing.append("tree %d leaf %d: no %s row" % (ti, li, want))
    if missing:
        raise SystemExit("coverage: " + "; ".join(missing[:20]))
    return seen


# --------------------------------------------------------------------------
# MLflow folder


def yaml_dump(obj, indent=0):
    """A YAML writer for MLmodel files, in yaml.safe_dump's style (sorted keys,
    block style, single-quoted strings when needed)."""
    import yaml
    return yaml.safe_dump(obj, default_flow_style=False)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(path, "wb") as f:
        f.write(data)


LGB_VERSIONS = {"v2": "2.3.1", "v3": "3.3.5", "v4": "4.5.0"}


def mlflow_folder(path, spec, data_name, data, model_class):
    lgb_version = LGB_VERSIONS[spec.version]
    nf = spec.n_features
    names = spec.feature_names or ["Column_%d" % i for i in range(nf)]
    out_shape = [-1] if spec.num_class == 1 else [-1, spec.num_class]
    sig = None
    if spec.signature == "named":
        sig = {"inputs": json.dumps([{"type": "double", "name": n, "required": True} for n in names]),
               "outputs": json.dumps([{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": out_shape}}]),
               "params": None}
    elif spec.signature == "unnamed":
        sig = {"inputs": json.dumps([{"type": "double"} for _ in names]),
               "outputs": json.dumps([{"type": "double"} for _ in range(spec.num_class)])}
    elif spec.signature == "tensor":
        sig = {"inputs": json.dumps([{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, nf]}}]),
               "outputs": json.dumps([{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": out_shape}}]),
               "params": None}
    files = {data_name: data}
    if spec.mlflow == "1":
        conda = ("channels:\n- defaults\n- conda-forge\ndependencies:\n- python=3.8.5\n- pip\n"
                 "- pip:\n  - mlflow\n  - lightgbm==%s\nname: mlflow-env\n" % lgb_version)
        files["conda.yaml"] = conda
        flavors = {"lightgbm": {"data": data_name, "lgb_version": lgb_version},
                   "python_function": {"data": data_name, "env": "conda.yaml",
                                       "loader_module": "mlflow.lightgbm", "python_version": "3.8.5"}}
        mlmodel = {"artifact_path": "model", "flavors": flavors,
                   "run_id": "%032x" % random.Random(spec.name).getrandbits(128),
                   "utc_time_created": "2021-02-11 09:48:19.539087"}
        if sig is not None:
            mlmodel["signature"] = sig
    else:
        mlflow_version = "2.16.2" if spec.mlflow == "2" else "3.1.0"
        pins = ["mlflow==" + mlflow_version, "lightgbm==" + lgb_version, "numpy==1.26.4",
                "pandas==2.2.2", "scikit-learn==1.2.1", "scipy==1.13.1"]
        if model_class != "lightgbm.basic.Booster":
            pins.insert(1, "cloudpickle==3.0.0")
        files["requirements.txt"] = "\n".join(pins)
        files["conda.yaml"] = ("channels:\n- conda-forge\ndependencies:\n- python=%s\n- pip<=24.0\n- pip:\n"
                               % PY_VERSION + "".join("  - %s\n" % p for p in pins) + "name: mlflow-env\n")
        files["python_env.yaml"] = ("python: %s\nbuild_dependencies:\n- pip==24.0\n- setuptools==68.1.2\n"
                                    "- wheel==0.42.0\ndependencies:\n- -r requirements.txt\n" % PY_VERSION)
        lgb = {"code": None, "data": data_name, "lgb_version": lgb_version}
        if spec.model_class:
            lgb["model_class"] = model_class
        flavors = {"lightgbm": lgb,
                   "python_function": {"data": data_name, "env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"},
                                       "loader_module": "mlflow.lightgbm", "python_version": PY_VERSION}}
        mlmodel = {"artifact_path": "model", "flavors": flavors, "mlflow_version": mlflow_version,
                   "model_size_bytes": sum(len(v.encode() if isinstance(v, str) else v) for v in files.values()),
                   "model_uuid": "%032x" % random.Random("uuid" + spec.name).getrandbits(128),
                   "run_id": "%032x" % random.Random(spec.name).getrandbits(128),
                   "utc_time_created": "2024-06-03 10:04:00.000001"}
        if spec.mlflow == "3":
            mlmodel["model_id"] = "m-%032x" % random.Random("id" + spec.name).getrandbits(128)
            mlmodel["prompts"] = None
            mlmodel["is_signature_from_type_hint"] = False
            mlmodel["type_hint_from_example"] = False
        if sig is not None:
            mlmodel["signature"] = sig
    for name, blob in files.items():
        write(os.path.join(path, name), blob)
    write(os.path.join(path, "MLmodel"), yaml_dump(mlmodel))


def fmt_cell(x):
    if math.isnan(x):
        return ""
    return repr(float(x))


def write_csv(path, header, rows):
    lines = [",".join(header)] + [",".join(fmt_cell(v) for v in r) for r in rows]
    write(path, "\n".join(lines) + "\n")


# --------------------------------------------------------------------------
# The fixtures

NUM_DTS_ALL = (0, 2, 4, 6, 8, 10)  # missing None/Zero/NaN x default_left off/on

SPECS = [
    Spec("binary_missing_v3", version="v3", objective="binary sigmoid:1", n_features=5,
         feature_names=["age", "income", "debt_ratio", "tenure", "score"], iterations=6, depth=4,
         extra_thresholds=(5e-36,), seed=11,
         description="binary, numerical splits with every missing type and default_left both ways, "
                     "a threshold inside (0, kZeroThreshold), named signature"),
    Spec("binary_sigmoid_v4", version="v4", objective="binary sigmoid:0.7", n_features=4,
         feature_names=["f_a", "f_b", "f_c", "f_d"], iterations=5, signature=None, seed=12,
         one_leaf=0.2, description="binary with sigmoid:0.7, no signature (features by feature_names), "
                                    "v4 layout (is_linear=0 lines), some one-leaf trees"),
    Spec("categorical_v4", version="v4", objective="regression", n_features=4, categorical=(1, 3),
         feature_names=["num0", "color", "num2", "city"], iterations=5, depth=4, seed=13,
         description="regression with categorical splits, 1-3 word bitsets, missing types on "
                     "categorical nodes; NaN, negative, fractional, unseen and huge categories"),
    Spec("linear_v4", version="v4", objective="regression", n_features=4,
         feature_names=["x1", "x2", "x3", "x4"], iterations=4, depth=3, linear=True, one_leaf=0.2,
         seed=14, one_leaf_trees=(2,),
         description="linear trees (leaf_const + coeff*x, NaN falls back to leaf_value), "
                              "leaves without features, one-leaf linear trees"),
    Spec("multiclass_v3", version="v3", objective="multiclass num_class:3", num_class=3,
         n_features=4, feature_names=["sepal_length", "sepal_width", "petal_length", "petal_width"],
         iterations=5, seed=15, one_leaf_trees=(4,),
         description="multiclass softmax, 3 trees per iteration, a one-leaf tree for class 1"),
    Spec("multiclassova_v3", version="v3", objective="multiclassova num_class:3 sigmoid:1.3",
         num_class=3, n_features=4, iterations=4, seed=16, signature="unnamed", mlflow="1",
         model_class=False, description="multiclassova with sigmoid:1.3, MLflow 1.x folder "
                                        "(no model_class), unnamed column signature: positional"),
    Spec("rf_average_v3", version="v3", objective="binary sigmoid:1", n_features=4,
         feature_names=["a", "b", "c", "d"], iterations=6, average_output=True, seed=17,
         description="boosting=rf: average_output, then the sigmoid"),
    Spec("poisson_v3", version="v3", objective="poisson", n_features=3,
         feature_names=["exposure", "age", "region_risk"], iterations=5, seed=18, leaf_scale=0.3,
         description="poisson: exp of the raw score"),
    Spec("gamma_v4", version="v4", objective="gamma", n_features=3,
         feature_names=["g1", "g2", "g3"], iterations=4, seed=19, leaf_scale=0.3, mlflow="3",
         description="gamma: exp, MLflow 3 folder"),
    Spec("tweedie_v4", version="v4", objective="tweedie", n_features=3, iterations=4, seed=20,
         leaf_scale=0.3, signature="tensor",
         description="tweedie: exp; tensor-spec signature [-1, 3] (positional)"),
    Spec("xentropy_v3", version="v3", objective="cross_entropy", n_features=3,
         feature_names=["p1", "p2", "p3"], iterations=4, seed=21,
         description="cross_entropy: sigmoid of the raw score"),
    Spec("xentlambda_v3", version="v3", objective="cross_entropy_lambda", n_features=3,
         feature_names=["q1", "q2", "q3"], iterations=4, seed=22,
         description="cross_entropy_lambda: log1p(exp(raw))"),
    Spec("lambdarank_v4", version="v4", objective="lambdarank", n_features=4,
         feature_names=["bm25", "pagerank", "clicks", "age_days"], iterations=5, seed=23,
         description="lambdarank: raw scores"),
    Spec("xendcg_v4", version="v4", objective="rank_xendcg", n_features=3, iterations=3, seed=24,
         signature=None, description="rank_xendcg, no signature and generated names Column_i: positional"),
    Spec("regression_sqrt_v2", version="v2", objective="regression sqrt", n_features=4,
         feature_names=["m1", "m2", "m3", "m4"], iterations=4, seed=25, tree_sizes=False,
         numeric_dts=(0, 2, 8, 10), mlflow="1", model_class=False, signature=None,
         description="v2 (LightGBM 2.x) without tree_sizes, regression sqrt: sign(x)*x^2"),
    Spec("huber_oneleaf_v3", version="v3", objective="huber", n_features=3,
         feature_names=["h1", "h2", "h3"], iterations=6, seed=26, one_leaf=0.5,
         one_leaf_style="short", description="huber (identity), one-leaf trees written with only "
                                              "num_leaves, num_cat, leaf_value and shrinkage"),
    Spec("custom_objective_v4", version="v4", objective=None, n_features=3,
         feature_names=["c1", "c2", "c3"], iterations=3, seed=27,
         description="no objective line (custom objective): raw scores"),
]


# --------------------------------------------------------------------------
# scikit-learn API models (model.pkl)


def fake_lightgbm():
    """Stand-ins for lightgbm.basic.Booster and lightgbm.sklearn's estimators,
    registered under LightGBM's module names so that pickle (and cloudpickle)
    refer to them by name, as they do to the real classes. They pickle the way
    LightGBM's do: the Booster's __getstate__ puts the model text under
    "_handle" (LightGBM 4; "handle" before), estimators pickle their __dict__
    plus scikit-learn's _sklearn_version."""
    import types
    basic = types.ModuleType("lightgbm.basic")
    sk = types.ModuleType("lightgbm.sklearn")
    pkg = types.ModuleType("lightgbm")

    class Booster:
        def __init__(self, state):
            self.state = state

        def __getstate__(self):
            return self.state

    class LGBMModel:
        def __init__(self, state):
            self.__dict__.update(state)

        def __getstate__(self):
            state = dict(self.__dict__)
            state["_sklearn_version"] = "1.2.1"
            return state

    class LGBMClassifier(LGBMModel):
        pass

    class LGBMRegressor(LGBMModel):
        pass

    class LGBMRanker(LGBMModel):
        pass

    Booster.__module__ = "lightgbm.basic"
    Booster.__qualname__ = Booster.__name__ = "Booster"
    basic.Booster = Booster
    for c in (LGBMModel, LGBMClassifier, LGBMRegressor, LGBMRanker):
        c.__module__ = "lightgbm.sklearn"
        c.__qualname__ = c.__name__
        setattr(sk, c.__name__, c)
    pkg.basic, pkg.sklearn = basic, sk
    sys.modules.update({"lightgbm": pkg, "lightgbm.basic": basic, "lightgbm.sklearn": sk})
    return basic, sk


def sklearn_pickle(cls_name, text, spec, *, labels, handle_key, best_iteration, protocol,
                   objective=None):
    """The bytes mlflow.lightgbm.save_model writes for a fitted LGBM* estimator:
    cloudpickle.dump of the estimator."""
    import collections
    import cloudpickle
    import numpy as np
    from sklearn.preprocessing import LabelEncoder
    basic, sk = fake_lightgbm()
    obj_name = (spec.objective or "custom").split(" ")[0]
    best_score = collections.defaultdict(collections.OrderedDict)
    if best_iteration > 0:
        best_score["valid_0"]["multi_logloss" if spec.num_class > 1 else "l2"] = 0.3141592653589793
    params = {"objective": obj_name, "num_leaves": 31, "learning_rate": 0.1, "verbose": -1,
              "num_iterations": spec.iterations}
    if spec.num_class > 1:
        params["num_class"] = spec.num_class
    bstate = {handle_key: text, "_network": False, "_Booster__need_reload_eval_info": True,
              "_train_data_name": "training", "_Booster__attr": {},
              "_Booster__set_objective_to_none": False, "best_iteration": best_iteration,
              "best_score": best_score, "pandas_categorical": None, "params": params,
              "_Booster__num_class": spec.num_class, "_Booster__init_predictor": None,
              "_Booster__inner_predict_buffer": [None], "_Booster__is_predicted_cur_iter": [False],
              "_Booster__num_inner_eval": 0, "_Booster__name_inner_eval": None,
              "_Booster__higher_better_inner_eval": None}
    booster = basic.Booster(bstate)
    state = {"boosting_type": "gbdt", "objective": None, "num_leaves": 31, "max_depth": -1,
             "learning_rate": 0.1, "n_estimators": spec.iterations, "subsample_for_bin": 200000,
             "min_split_gain": 0.0, "min_child_weight": 0.001, "min_child_samples": 20,
             "subsample": 1.0, "subsample_freq": 0, "colsample_bytree": 1.0, "reg_alpha": 0.0,
             "reg_lambda": 0.0, "random_state": 42, "n_jobs": None, "importance_type": "split",
             "_Booster": booster, "_evals_result": {"valid_0": collections.OrderedDict()} if best_iteration else {},
             "_best_score": best_score, "_best_iteration": best_iteration,
             "_other_params": {"verbose": -1}, "_objective": obj_name, "class_weight": None,
             "_class_weight": None, "_class_map": None, "_n_features": spec.n_features,
             "_n_features_in": spec.n_features, "_classes": None, "_n_classes": -1, "verbose": -1}
    if labels is not None:
        le = LabelEncoder().fit(labels)
        state["_le"] = le
        state["_class_map"] = dict(zip(le.classes_, le.transform(le.classes_)))
        state["_classes"] = le.classes_
        state["_n_classes"] = len(le.classes_)
    if objective is not None:
        state["objective"] = state["_objective"] = objective
    state["fitted_"] = True
    est = getattr(sk, cls_name)(state)
    return cloudpickle.dumps(est, protocol=protocol)


SK_CASES = [
    dict(spec=Spec("sk_classifier_binary_v4", version="v4", objective="binary sigmoid:1", n_features=4,
                   feature_names=["tenure", "charges", "calls", "age"], iterations=5, seed=31,
                   description="LGBMClassifier, binary, string labels no/yes, cloudpickle protocol 5, "
                               "Booster state under _handle (LightGBM 4)"),
         cls="LGBMClassifier", labels=["no", "yes", "no"], handle_key="_handle", best_iteration=0, protocol=5),
    dict(spec=Spec("sk_classifier_multiclass_v3", version="v3", objective="multiclass num_class:3",
                   num_class=3, n_features=4, iterations=5, seed=32, signature="unnamed",
                   description="LGBMClassifier, 3 classes with int labels 3/5/9, early stopping "
                               "(best_iteration=3 of 5), Booster state under handle (LightGBM 3), "
                               "pickle protocol 4, unnamed signature"),
         cls="LGBMClassifier", labels=[9, 3, 5], handle_key="handle", best_iteration=3, protocol=4),
    dict(spec=Spec("sk_regressor_v4", version="v4", objective="regression", n_features=3,
                   feature_names=["sqft", "rooms", "year"], iterations=4, seed=33, signature=None,
                   description="LGBMRegressor, no signature (feature_names from the booster)"),
         cls="LGBMRegressor", labels=None, handle_key="_handle", best_iteration=0, protocol=5),
]


def custom_objective(y_true, y_pred):
    """A callable objective: cloudpickle stores it by value (its code)."""
    return y_pred - y_true, [1.0] * len(y_pred)


def write_error_cases():
    """Model folders that must fail to load, with the reason."""
    errors = []
    spec = Spec("bad/sk_custom_objective", version="v4", objective="binary sigmoid:1", n_features=2,
                feature_names=["a", "b"], iterations=1, seed=41)
    trees, text, ref, rows = build(spec)
    # A function defined here: cloudpickle pickles it by value, naming its own
    # helpers (code objects, cells) in the pickle.
    custom_objective.__module__ = "__main__"
    data = sklearn_pickle("LGBMClassifier", text, spec, labels=[0, 1], handle_key="_handle",
                          best_iteration=0, protocol=5, objective=custom_objective)
    mlflow_folder(os.path.join(HERE, spec.name), spec, "model.pkl", data, "lightgbm.sklearn.LGBMClassifier")
    errors.append({"name": "sk_custom_objective", "model_dir": spec.name, "kind": "model_load",
                   "want": "custom objective",
                   "description": "LGBMClassifier with a callable objective, pickled by value: fails closed"})
    return errors


def build(spec):
    builder = Builder(spec)
    trees = []
    for it in range(spec.iterations):
        for k in range(spec.num_class):
            trees.append(builder.tree(k if spec.num_class > 1 else None, spec.linear,
                                      force_leaf=len(trees) in spec.one_leaf_trees))
    text = model_text(spec, trees, builder.pools)
    ref = Reference(text)
    assert len(ref.trees) == len(trees)
    rng = random.Random(spec.seed * 7919)
    rows = build_rows(spec, builder, trees, rng)
    coverage(ref, rows, trees)
    return trees, text, ref, rows


def write_case(spec, data_name, data, model_class, rows, out_cols, out_rows, **extra):
    d = os.path.join(HERE, spec.name)
    mlflow_folder(os.path.join(d, "model"), spec, data_name, data, model_class)
    names = spec.feature_names or ["Column_%d" % i for i in range(spec.n_features)]
    positional = spec.signature in ("unnamed", "tensor") or (
        spec.signature is None and spec.feature_names is None)
    if positional:
        header, in_rows = names, rows
    else:
        # named: an extra id column, features in reverse order
        order = list(reversed(range(spec.n_features)))
        header = ["row_id"] + [names[f] for f in order]
        in_rows = [[float(i + 1)] + [r[f] for f in order] for i, r in enumerate(rows)]
    write_csv(os.path.join(d, "input.csv"), header, in_rows)
    lines = [",".join(out_cols)] + [",".join(v if isinstance(v, str) else fmt_cell(v) for v in r)
                                    for r in out_rows]
    write(os.path.join(d, "expected.csv"), "\n".join(lines) + "\n")
    case = {
        "name": spec.name,
        "model_dir": spec.name + "/model",
        "input": spec.name + "/input.csv",
        "golden": spec.name + "/expected.csv",
        "columns": out_cols,
        "version": spec.version,
        "objective": spec.objective,
        "num_class": spec.num_class,
        "rows": len(rows),
        "model_class": model_class if (spec.model_class and spec.mlflow != "1") else None,
        "mlflow": spec.mlflow,
        "feature_source": ("position" if positional else
                           ("signature" if spec.signature else "feature_names")),
        "features": names,
        "description": spec.description,
        "tolerance": {"rel": 1e-9},
    }
    case.update(extra)
    return case


def readme(cases, errors):
    out = ["# LightGBM fixtures", "",
           "Written by `gen.py` (`/usr/bin/python3 testdata/lightgbm/gen.py`; deterministic, no",
           "LightGBM needed). Each case is an MLflow model folder `<case>/model`, an input",
           "`<case>/input.csv` and the expected output `<case>/expected.csv`, computed by gen.py's",
           "own evaluator written from LightGBM's C++ sources. `cases.json` is the machine-readable",
           "list; CSV numbers are Python `repr(float)`, empty cells are NaN. Tolerance: 1e-9",
           "relative; labels exact.", "",
           "| case | text | objective | model_class | features | what it covers |",
           "| --- | --- | --- | --- | --- | --- |"]
    for c in cases:
        out.append("| %s | %s | %s | %s | %s | %s |" % (
            c["name"], c["version"], c["objective"] or "(none)",
            (c["model_class"] or "(absent)").replace("lightgbm.", ""), c["feature_source"],
            c["description"]))
    out += ["", "Models that must fail to load (`errors` in cases.json):", ""]
    for e in errors:
        out.append("- `%s`: %s" % (e["model_dir"], e["description"]))
    return "\n".join(out) + "\n"


def main():
    cases = []
    for spec in SPECS:
        trees, text, ref, rows = build(spec)
        preds = [ref.predict(r) for r in rows]
        out_cols = ["prediction"] if spec.num_class == 1 else ["prediction_%d" % k for k in range(spec.num_class)]
        cases.append(write_case(spec, "model.lgb", text, "lightgbm.basic.Booster", rows, out_cols, preds,
                                trees=len(trees)))
    for sc in SK_CASES:
        spec = sc["spec"]
        trees, text, ref, rows = build(spec)
        text += "\npandas_categorical:null\n" if "pandas_categorical" not in text else ""
        data = sklearn_pickle(sc["cls"], text, spec, labels=sc["labels"], handle_key=sc["handle_key"],
                              best_iteration=sc["best_iteration"], protocol=sc["protocol"])
        # LGBMModel.predict -> Booster.predict(num_iteration=None) -> best_iteration
        preds = [ref.predict(r, num_iteration=sc["best_iteration"]) for r in rows]
        model_class = "lightgbm.sklearn." + sc["cls"]
        extra = {"trees": len(trees), "best_iteration": sc["best_iteration"]}
        if sc["labels"] is None:
            out_cols, out_rows = ["prediction"], preds
        else:
            classes = sorted(set(sc["labels"]))
            out_cols = ["prediction"] + ["proba_%s" % c for c in classes]
            out_rows = []
            for p in preds:
                proba = [1.0 - p[0], p[0]] if spec.num_class == 1 else p
                best = 0
                for j in range(1, len(proba)):  # numpy argmax: the first maximum
                    if proba[j] > proba[best]:
                        best = j
                out_rows.append([str(classes[best])] + proba)
            extra["labels"] = "string" if isinstance(classes[0], str) else "int64"
            extra["classes"] = classes
        cases.append(write_case(spec, "model.pkl", data, model_class, rows, out_cols, out_rows, **extra))
    errors = write_error_cases()
    manifest = {
        "conventions": {
            "paths": "relative to testdata/lightgbm/",
            "numbers": "CSV cells are Python repr(float); an empty cell is NaN (a null)",
            "labels": "cases with `labels` are classifiers scored with proba: `prediction` holds the "
                      "label (compare exactly), proba_<label> the probabilities",
            "tolerance": "|got - want| <= rel * |want|; NaN equals NaN",
            "reference": "gen.py's Reference evaluator (from LightGBM's C++ sources)",
        },
        "cases": cases,
        "errors": errors,
    }
    write(os.path.join(HERE, "cases.json"), json.dumps(manifest, indent=2) + "\n")
    write(os.path.join(HERE, "README.md"), readme(cases, errors))
    print("wrote %d cases" % len(cases))


if __name__ == "__main__":
    main()
