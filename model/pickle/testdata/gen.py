#!/usr/bin/python3
"""Generate the pickle fixtures of model/pickle and what the Go decoder must make of them.

Run with Debian's Python (numpy, scikit-learn, cloudpickle, pandas):

    /usr/bin/python3 model/pickle/testdata/gen.py

For every fixture NAME it writes NAME.pkl and NAME.json. The JSON is computed here,
by Python, from the object that was pickled:

    {"allow": [module prefixes the test allows],
     "value": <description>}                 # what Unmarshal must return
    {"allow": [...], "unsupported": [module, name]}   # must fail closed

A description is {"t": type, ...}; see describe(). Mutable objects (list, dict, set,
ndarray, object) carry "id" the first time they are met and are {"t": "ref", "id": n}
afterwards, so shared references and cycles are checked too. Large arrays are given by
a sha256 digest of their values (float64 or int64, little-endian, C order) instead of
the values. It also writes the small pickles as go-fuzz seeds under
fuzz/FuzzUnmarshal/.
"""

import copyreg
import collections
import hashlib
import json
import os
import pickle
import pickletools
import subprocess
import sys

import cloudpickle
import numpy as np
import pandas as pd
import sklearn
from sklearn.datasets import load_iris, make_classification, make_regression
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

HERE = os.path.dirname(os.path.abspath(__file__))
FUZZ = os.path.join(HERE, "fuzz", "FuzzUnmarshal")
DIGEST_OVER = 64  # arrays with more elements are described by digest
SEED_MAX = 24 << 10  # pickles up to this size become fuzz seeds


class Describer:
    def __init__(self):
        self.ids = {}
        self.keep = []  # keep described objects alive so that id() is not reused

    def ident(self, obj):
        """Return ({"t": "ref"...}, None) for an object met before, else (None, new id)."""
        k = id(obj)
        if k in self.ids:
            return {"t": "ref", "id": self.ids[k]}, None
        self.ids[k] = len(self.ids) + 1
        self.keep.append(obj)
        return None, self.ids[k]

    def __call__(self, v):
        if v is None:
            return {"t": "none"}
        if isinstance(v, (bool, np.bool_)):
            return {"t": "bool", "v": bool(v)}
        if isinstance(v, np.generic):
            if isinstance(v, np.str_):
                return {"t": "str", "v": str(v)}
            if isinstance(v, np.bytes_):
                return {"t": "bytes", "hex": bytes(v).hex()}
            return self(v.item())
        if isinstance(v, int):
            return {"t": "int", "v": str(v)}
        if isinstance(v, float):
            return {"t": "float", "v": repr(v)}
        if isinstance(v, complex):
            return {"t": "complex", "re": repr(v.real), "im": repr(v.imag)}
        if isinstance(v, str):
            return {"t": "str", "v": v}
        if isinstance(v, (bytes, bytearray)):
            return {"t": "bytes", "hex": bytes(v).hex()}
        if type(v) is tuple:
            return {"t": "tuple", "items": [self(x) for x in v]}
        if isinstance(v, slice):
            return {"t": "slice", "items": [self(v.start), self(v.stop), self(v.step)]}
        if isinstance(v, type):
            return {"t": "global", "module": v.__module__, "name": v.__qualname__}
        if isinstance(v, np.dtype):
            return {"t": "dtype", "str": v.str, "names": list(v.names) if v.names else None}
        ref, n = self.ident(v)
        if ref:
            return ref
        # Exact types: subclasses of list and dict are objects to the decoder.
        if type(v) is list:
            return {"t": "list", "id": n, "items": [self(x) for x in v]}
        if type(v) in (dict, collections.OrderedDict):
            return {"t": "dict", "id": n, "items": [[self(k), self(x)] for k, x in v.items()]}
        if type(v) in (set, frozenset):
            t = "frozenset" if isinstance(v, frozenset) else "set"
            return {"t": t, "id": n, "items": [self(x) for x in v]}
        if isinstance(v, np.ndarray):
            return self.array(v, n)
        return self.obj(v, n)

    def array(self, a, n):
        d = {"t": "ndarray", "id": n, "dtype": a.dtype.str, "shape": list(a.shape),
             "fortran": bool(a.ndim > 1 and a.flags.f_contiguous and not a.flags.c_contiguous)}
        if a.dtype.names:
            d["fields"] = {}
            for name in a.dtype.names:
                fdt, off = a.dtype.fields[name][:2]
                f = {"dtype": fdt.str, "offset": off}
                if fdt.subdtype:
                    base, shape = fdt.subdtype
                    f["subarray"] = {"base": base.str, "shape": list(shape)}
                else:
                    f.update(values(a[name]))
                d["fields"][name] = f
        elif a.dtype.kind == "O":
            d["items"] = [self(x) for x in a.ravel(order="C")]
        else:
            d.update(values(a))
        return d

    def obj(self, v, n):
        rv = v.__reduce_ex__(4)
        fn, args = rv[0], rv[1]
        if fn is copyreg.__newobj__:
            cls, args = args[0], args[1:]
        else:
            cls = fn
        state = rv[2] if len(rv) > 2 else None
        if isinstance(state, dict):
            # Go merges a dict state into Object.Dict: no identity to compare.
            sd = {"t": "dict", "items": [[self(k), self(x)] for k, x in state.items()]}
        else:
            sd = self(state)
        d = {"t": "object", "id": n, "module": cls.__module__, "name": cls.__qualname__,
             "args": self(tuple(args)), "state": sd}
        if len(rv) > 3 and rv[3] is not None:
            d["listitems"] = [self(x) for x in rv[3]]
        if len(rv) > 4 and rv[4] is not None:
            d["dictitems"] = [[self(k), self(x)] for k, x in rv[4]]
        return d


def values(a):
    """Describe the values of a non-object, non-structured array."""
    flat = a.ravel(order="C")
    kind = a.dtype.kind
    if flat.size > DIGEST_OVER and kind in "biuf":
        conv = "<f8" if kind == "f" else "<i8"
        data = np.ascontiguousarray(flat.astype(conv)).tobytes()
        return {"digest": hashlib.sha256(data).hexdigest(), "as": conv}
    if kind == "f":
        return {"values": [repr(float(x)) for x in flat]}
    if kind in "iu":
        return {"values": [str(int(x)) for x in flat]}
    if kind == "b":
        return {"values": [bool(x) for x in flat]}
    if kind == "U":
        return {"strings": [str(x) for x in flat]}
    if kind == "S":
        return {"hex": [bytes(x).hex() for x in flat]}
    if kind == "c":
        return {"complex": [[repr(float(x.real)), repr(float(x.imag))] for x in flat]}
    raise ValueError("cannot describe dtype %s" % a.dtype)


# ---------------------------------------------------------------- fixtures


def containers():
    shared = [1, 2, 3]
    me = ["self"]
    me.append(me)  # a list that contains itself
    d = {"shared_a": shared, "shared_b": shared, "me": me}
    d["nested"] = {"tuple": (1, (2, (3, shared))), "empty": ([], {}, (), set(), frozenset())}
    d["ints"] = [0, 1, -1, 255, 256, 65535, 65536, 2**31 - 1, -2**31, 2**31, 2**63 - 1, -2**63,
                 2**63, 2**64, -2**64 - 1, 2**100, -2**100, 10**40]
    d["floats"] = [0.0, -0.0, 0.1, 1e-310, 1.7976931348623157e308, float("nan"),
                   float("inf"), float("-inf"), -2.5]
    d["strs"] = ["", "ascii", "caf\u00e9", "\u4e2d\u6587", "\U0001f600", "line\nbreak\\back"]
    d["bytes"] = [b"", b"\x00\x01\xfe\xff", bytearray(b"mutable"), bytearray()]
    d["bools"] = [True, False, None]
    d["sets"] = [{1, 2, 3}, frozenset({"a"})]
    d[1] = "int key"
    d[(1, "t")] = "tuple key"
    d[None] = "none key"
    d["ordered"] = collections.OrderedDict([("z", 1), ("a", 2)])
    d["complex"] = complex(1.5, -2.0)
    d["slice"] = slice(1, 10, 2)
    return d


def arrays():
    rng = np.random.RandomState(0)
    f = rng.standard_normal((3, 4))
    s = np.zeros(3, dtype=[("a", "<i4"), ("b", ">f8"), ("c", "u1"), ("d", "<i8")])
    s["a"] = [1, -2, 3]
    s["b"] = [0.5, np.nan, -1e300]
    s["c"] = [0, 200, 255]
    s["d"] = [2**62, -5, 7]
    return {
        "f8": f,
        "f8_fortran": np.asfortranarray(f),
        "f8_fortran3d": np.asfortranarray(rng.standard_normal((2, 3, 4))),
        "f8_big": f.astype(">f8"),
        "f4": np.array([1.5, -0.1, np.inf, np.nan], dtype="<f4"),
        "f4_big_fortran": np.asfortranarray(f.astype(">f4")),
        "f2": np.array([1.0, -2.5, 65504, 6e-8], dtype="<f2"),
        "i1": np.array([-128, 0, 127], dtype="i1"),
        "i2": np.array([-32768, 7, 32767], dtype="<i2"),
        "i4": np.array([[1, -2], [3, 2**31 - 1]], dtype="<i4"),
        "i4_big": np.array([1, -2, 3, -(2**31)], dtype=">i4"),
        "i8": np.arange(-5, 5, dtype="<i8") * (2**40),
        "u1": np.array([0, 1, 255], dtype="u1"),
        "u2": np.array([0, 65535], dtype="<u2"),
        "u4": np.array([0, 2**32 - 1], dtype=">u4"),
        "u8": np.array([0, 2**63 - 1], dtype="<u8"),
        "bool": np.array([[True, False, True], [False, False, True]]),
        "object_str": np.array(["setosa", "versicolor", "virginica"], dtype=object),
        "object_mixed": np.array([1, "two", 3.0, None], dtype=object),
        "U": np.array(["a", "bc", "caf\u00e9", "\U0001f600"]),
        "U_big": np.array(["xyz", ""], dtype=">U3"),
        "S": np.array([b"ab", b"c", b""], dtype="S2"),
        "c16": np.array([1 + 2j, -0.5j], dtype="<c16"),
        "zero_d": np.array(3.25),
        "empty": np.zeros((0, 3)),
        "large": rng.standard_normal(1000),
        "large_int": np.arange(500, dtype="<i4"),
        "structured": s,
        "structured_aligned": np.zeros(2, dtype=np.dtype([("x", "<f8"), ("flag", "u1"), ("y", "<i4")], align=True)),
        "structured_subarray": np.array([(1, (0.5, 1.5)), (2, (2.5, 3.5))], dtype=[("id", "<i2"), ("v", ">f4", (2,))]),
        "object_fortran": np.asfortranarray(np.array([["a", "b", "c"], ["d", "e", "f"]], dtype=object)),
        "shared": [f, f],
    }


def scalars():
    return {
        "f8": np.float64(0.1), "f4": np.float32(0.1), "f2": np.float16(1.5),
        "i8": np.int64(-7), "i4": np.int32(2**31 - 1), "i1": np.int8(-1),
        "u8_big": np.uint64(2**64 - 1), "u1": np.uint8(200),
        "bool": np.bool_(True), "str": np.str_("setosa"), "c16": np.complex128(1 - 1j),
        "types": [np.float64, np.int64, np.dtype("<f4"), np.dtype(">i2")],
    }


def linreg():
    X, Y = make_regression(n_samples=40, n_features=4, n_targets=2, noise=0.5, random_state=0)
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    return LinearRegression().fit(df, Y)


def tree():
    X, y = load_iris(return_X_y=True)
    return DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)


def logreg_str_classes():
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"], dtype=object)[y]
    return Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=500))]).fit(X, names)


def forest():
    X, y = make_classification(n_samples=2000, n_features=10, n_informative=6, n_classes=3,
                               random_state=0)
    return RandomForestClassifier(n_estimators=30, max_depth=10, random_state=0).fit(X, y)


class AttrDict(dict):
    """A dict subclass with an attribute, like sklearn's Bunch."""


class Stack(list):
    pass


class Slots:
    __slots__ = ("a", "b")

    def __init__(self):
        self.a, self.b = 1, [2]


def subclasses():
    d = AttrDict(x=1, y=[2, 3])
    d.note = "attr"
    s = Stack([1, "two", (3,)])
    s.depth = 3
    return {"attrdict": d, "stack": s, "empty": AttrDict()}


def slots():
    # BUILD state (None, {slot: value}); protocols 0 and 1 cannot pickle slots.
    return [Slots(), Slots()]


class Evil:
    def __init__(self, fn, args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return (self.fn, self.args)


# ---------------------------------------------------------------- writing


def write(name, data, obj=None, allow=(), unsupported=None):
    with open(os.path.join(HERE, name + ".pkl"), "wb") as f:
        f.write(data)
    doc = {"allow": list(allow)}
    if unsupported:
        doc["unsupported"] = list(unsupported)
    else:
        doc["value"] = Describer()(obj)
    with open(os.path.join(HERE, name + ".json"), "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")
    if len(data) <= SEED_MAX:
        write_seed(name, data)


def write_predict(name, model, X):
    doc = {"X": [[repr(float(v)) for v in row] for row in X],
           "proba": [[repr(float(v)) for v in row] for row in model.predict_proba(X)]}
    with open(os.path.join(HERE, name + ".json"), "w") as f:
        json.dump(doc, f)
        f.write("\n")


def write_seed(name, data):
    out = []
    for b in data:
        c = chr(b)
        if 0x20 <= b < 0x7F and c not in '"\\':
            out.append(c)
        else:
            out.append("\\x%02x" % b)
    with open(os.path.join(FUZZ, name), "w") as f:
        f.write('go test fuzz v1\n[]byte("%s")\n' % "".join(out))


def numpy2(data):
    """Respell numpy.core.* as numpy 2's numpy._core.* by patching the bytes."""
    proto = data[1] if data[:1] == b"\x80" else 0
    if proto >= 4:
        # Drop the FRAME opcodes (framing is optional) so lengths can change.
        cut = [pos for op, arg, pos in pickletools.genops(data) if op.name == "FRAME"]
        for pos in reversed(cut):
            data = data[:pos] + data[pos + 9:]
        for mod in (b"numpy.core.multiarray", b"numpy.core.numeric"):
            new = mod.replace(b"numpy.core", b"numpy._core")
            data = data.replace(bytes([0x8C, len(mod)]) + mod, bytes([0x8C, len(new)]) + new)
    else:
        data = data.replace(b"cnumpy.core.", b"cnumpy._core.")
    assert b"numpy.core" not in data
    return data


def first_global(data):
    """The first (module, name) a pickle imports, with Python 2 names mapped."""
    stack, memo = [], {}
    for op, arg, pos in pickletools.genops(data):
        if op.name in ("GLOBAL", "INST"):
            module, name = arg.split(" ", 1)
            return ({"__builtin__": "builtins"}.get(module, module), name)
        if op.name == "STACK_GLOBAL":
            return (stack[-2], stack[-1])
        if op.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE"):
            stack.append(arg)
        elif op.name in ("MEMOIZE", "BINPUT", "LONG_BINPUT", "PUT"):
            memo[len(memo) if op.name == "MEMOIZE" else arg] = stack[-1] if stack else None
        elif op.name in ("BINGET", "LONG_BINGET", "GET"):
            stack.append(memo.get(arg))
        else:
            stack.append(None)
    return None


def load_numpy2(data):
    """Load a numpy 2 spelled pickle with numpy 1, to prove the patch is right."""
    import numpy.core.multiarray
    import numpy.core.numeric
    sys.modules.setdefault("numpy._core", np.core)
    sys.modules.setdefault("numpy._core.multiarray", np.core.multiarray)
    sys.modules.setdefault("numpy._core.numeric", np.core.numeric)
    return pickle.loads(data)


def main():
    os.makedirs(FUZZ, exist_ok=True)
    for f in os.listdir(HERE):
        if f.endswith((".pkl", ".json")):
            os.remove(os.path.join(HERE, f))
    for f in os.listdir(FUZZ):
        if f.startswith(("p_", "cp_")):
            os.remove(os.path.join(FUZZ, f))

    sk = ("sklearn.", "numpy.random.")
    plain = {"containers": (containers, ()), "arrays": (arrays, ()), "scalars": (scalars, ()),
             "subclasses": (subclasses, ("__main__.",)), "linreg": (linreg, sk), "tree": (tree, sk), "logreg_pipeline": (logreg_str_classes, sk)}
    for name, (make, allow) in plain.items():
        obj = make()
        for proto in range(0, 6):
            write("p_%s_p%d" % (name, proto), pickle.dumps(obj, protocol=proto), obj, allow)
    obj = slots()
    for proto in range(2, 6):
        write("p_slots_p%d" % proto, pickle.dumps(obj, protocol=proto), obj, ("__main__.",))
    for name in ("linreg", "tree", "logreg_pipeline"):
        obj = plain[name][0]()
        write("cp_%s" % name, cloudpickle.dumps(obj), obj, sk)

    f = forest()
    write("p_forest_p4", pickle.dumps(f, protocol=4), f, sk)
    write("cp_forest", cloudpickle.dumps(f), f, sk)

    # Golden predictions, for tests that walk the decoded trees.
    X, _ = load_iris(return_X_y=True)
    write_predict("predict_tree", tree(), X[::3])
    Xf, _ = make_classification(n_samples=2000, n_features=10, n_informative=6, n_classes=3,
                                random_state=0)
    write_predict("predict_forest", f, Xf[:100])

    # numpy 2 spellings.
    for name, make in (("arrays", arrays), ("scalars", scalars), ("tree", tree)):
        obj = make()
        allow = plain[name][1]
        for proto in (2, 4, 5):
            data = numpy2(pickle.dumps(obj, protocol=proto))
            load_numpy2(data)
            write("p_np2_%s_p%d" % (name, proto), data, obj, allow)

    # Fail closed: these would run code in Python.
    evil = {
        "os_system": (Evil(os.system, ("echo pwned",)), (os.system.__module__, "system")),
        "eval": (Evil(eval, ("__import__('os').system('echo pwned')",)), ("builtins", "eval")),
        "popen": (Evil(subprocess.Popen, (["echo", "pwned"],)), ("subprocess", "Popen")),
        "getattr": (Evil(getattr, (Evil(__import__, ("os",)), "system")), ("builtins", "getattr")),
    }
    for name, (obj, what) in evil.items():
        for proto in (0, 2, 5):
            data = pickle.dumps(obj, protocol=proto)
            # Protocols 0-2 may use Python 2 names (subprocess.Popen is commands.Popen).
            assert proto < 3 or first_global(data) == what, (name, proto, first_global(data))
            write("p_evil_%s_p%d" % (name, proto), data, allow=sk, unsupported=first_global(data))
    # cloudpickle pickles a lambda by value: code objects, made by cloudpickle helpers.
    lam = cloudpickle.dumps({"fn": lambda x: x + 1})
    write("cp_evil_lambda", lam, allow=sk, unsupported=first_global(lam))
    print("numpy", np.__version__, "sklearn", sklearn.__version__, "cloudpickle", cloudpickle.__version__)


if __name__ == "__main__":
    main()
