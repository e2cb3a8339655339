"""A small writer of the skops file format (protocol 2), for test fixtures.

Debian has no skops package, so mlbatch's skops fixtures are written by this
module, which follows the format as skops' own source defines it
(https://github.com/skops-dev/skops):

- skops/io/_persist.py: _save / dump -- a zip archive (ZIP_STORED by default)
  holding "schema.json", the state of the root object plus "protocol" and
  "_skops_version", written with json.dumps(state, indent=2);
- skops/io/_utils.py: get_state -- every state gets "__id__" = id(obj);
- skops/io/_general.py: dict_get_state (DictNode, with "key_types"),
  list_get_state (ListNode), tuple_get_state (TupleNode), slice_get_state
  (SliceNode), function_get_state (FunctionNode), type_get_state (TypeNode),
  object_get_state (JsonNode for what json.dumps accepts, else ObjectNode whose
  "content" is the state of __getstate__());
- skops/io/_numpy.py: ndarray_get_state (NdArrayNode: "type": "numpy" with the
  array in "<id>.npy" written by np.save(allow_pickle=False), or "type": "json"
  with the items of an object array's tolist() and its "shape"), also used for
  numpy scalars; dtype_get_state (DTypeNode); random_state_get_state
  (RandomStateNode);
- skops/io/_sklearn.py: reduce_get_state for sklearn.tree._tree.Tree (TreeNode)
  and the Cython loss objects (LossNode): "__reduce__": {"args": ...} plus
  "content".

Only what scikit-learn estimators need is implemented; anything else raises.
"""

import io
import json
import types
import zipfile

import numpy as np

PROTOCOL = 2
SKOPS_VERSION = "0.10.0"


def _module(obj):
    # skops' get_module: obj.__module__ (whichmodule) of the type or function.
    return getattr(obj, "__module__", None) or "__main__"


class _Ctx:
    """skops numbers objects by id(); to keep the fixtures byte-for-byte
    reproducible this writer numbers them in the order first met instead (the
    format only needs one number per object)."""

    def __init__(self, zf, compression):
        self.zf = zf
        self.compression = compression
        self.keep = {}
        self.ids = {}

    def memo(self, obj):
        if id(obj) not in self.ids:
            self.keep[id(obj)] = obj
            self.ids[id(obj)] = 1000 + len(self.ids)
        return self.ids[id(obj)]

    def write(self, name, data):
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = self.compression
        self.zf.writestr(info, data)


def _state(obj, ctx):
    ident = ctx.memo(obj)
    res = _dispatch(obj, ctx)
    res["__id__"] = ident
    return res


def _ndarray(obj, ctx):
    res = {"__class__": type(obj).__name__, "__module__": _module(type(obj)), "__loader__": "NdArrayNode"}
    if isinstance(obj, np.ndarray) and obj.dtype == object:
        lst = _state(obj.tolist(), ctx)
        res["content"] = lst["content"]
        res["type"] = "json"
        res["shape"] = _state(obj.shape, ctx)
        return res
    buf = io.BytesIO()
    np.save(buf, obj, allow_pickle=False)
    name = "%d.npy" % ctx.memo(obj)
    if name not in ctx.zf.namelist():
        ctx.write(name, buf.getvalue())
    res.update(type="numpy", file=name)
    return res


def _dispatch(obj, ctx):
    import sklearn.tree._tree as _tree

    if isinstance(obj, dict):
        res = {"__class__": type(obj).__name__, "__module__": _module(type(obj)), "__loader__": "DictNode"}
        res["key_types"] = _state([type(k) for k in obj.keys()], ctx)
        content = {}
        for k, v in obj.items():
            if np.isscalar(k) and hasattr(k, "item"):
                k = k.item()
            content[k] = _state(v, ctx)
        res["content"] = content
        return res
    if isinstance(obj, (list, tuple)) and type(obj) in (list, tuple):
        loader = "ListNode" if type(obj) is list else "TupleNode"
        res = {"__class__": type(obj).__name__, "__module__": "builtins", "__loader__": loader}
        res["content"] = [_state(v, ctx) for v in obj]
        return res
    if isinstance(obj, slice):
        return {"__class__": "slice", "__module__": "builtins", "__loader__": "SliceNode",
                "content": {"start": obj.start, "stop": obj.stop, "step": obj.step}}
    if isinstance(obj, (np.ndarray, np.generic)):
        return _ndarray(obj, ctx)
    if isinstance(obj, np.dtype):
        return {"__class__": "dtype", "__module__": "numpy", "__loader__": "DTypeNode",
                "content": _state(np.ndarray(0, dtype=obj), ctx)}
    if isinstance(obj, np.random.RandomState):
        return {"__class__": type(obj).__name__, "__module__": _module(type(obj)),
                "__loader__": "RandomStateNode", "content": _state(obj.get_state(legacy=False), ctx)}
    if isinstance(obj, (types.FunctionType, np.ufunc)):
        return {"__class__": obj.__name__, "__module__": _module(obj), "__loader__": "FunctionNode"}
    if isinstance(obj, type):
        return {"__class__": obj.__name__, "__module__": _module(obj), "__loader__": "TypeNode"}
    if isinstance(obj, _tree.Tree):
        reduced = obj.__reduce__()
        return {"__class__": "Tree", "__module__": _module(type(obj)), "__loader__": "TreeNode",
                "__reduce__": {"args": _state(reduced[1], ctx)}, "content": _state(reduced[2], ctx)}
    if type(obj).__module__ == "sklearn._loss._loss":
        reduced = obj.__reduce__()
        res = {"__class__": type(obj).__name__, "__module__": _module(type(obj)), "__loader__": "LossNode"}
        if reduced[0] is type(obj):
            res["__reduce__"] = {"args": _state(reduced[1], ctx)}
            res["content"] = _state(reduced[2] if len(reduced) == 3 else {}, ctx)
        else:
            res["__reduce__"] = {"args": _state(reduced[1][2], ctx)}
            res["content"] = _state({}, ctx)
        return res
    # object_get_state: JSON when json.dumps accepts it, else the __dict__ state.
    try:
        return {"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode",
                "content": json.dumps(obj), "is_json": True}
    except Exception:
        pass
    if not type(obj).__module__.startswith(("sklearn.", "numpy.")):
        raise TypeError("skops_writer: unsupported type %r" % type(obj))
    res = {"__class__": type(obj).__name__, "__module__": _module(type(obj)), "__loader__": "ObjectNode"}
    attrs = obj.__getstate__() if hasattr(obj, "__getstate__") else obj.__dict__
    if attrs is not None:
        res["content"] = _state(attrs, ctx)
    return res


def dumps(obj, compression=zipfile.ZIP_STORED):
    """The bytes of a .skops file holding obj."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        ctx = _Ctx(zf, compression)
        state = _state(obj, ctx)
        state["protocol"] = PROTOCOL
        state["_skops_version"] = SKOPS_VERSION
        ctx.write("schema.json", json.dumps(state, indent=2))
    return buf.getvalue()
