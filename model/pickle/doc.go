// Package pickle decodes Python pickles safely, for loading scikit-learn
// models without Python.
//
// # Contract
//
// Unmarshal runs a small pickle machine over a byte slice that holds the
// whole file. It never executes or imports anything named in the pickle: every
// global (GLOBAL, STACK_GLOBAL, INST) is looked up in a fixed table of
// built-ins implemented in Go, then in Options.Allow; anything else fails
// closed with *UnsupportedError at the opcode that names it (so a pickle that
// mentions os.system, builtins.eval or subprocess.Popen is rejected before
// anything could call it). An allowed class is never run either: calling it
// builds an inert *Object holding its arguments and state.
//
// Built in: builtins set, frozenset, list, tuple, dict, bytes, bytearray,
// slice, complex, object (a bare object() sentinel becomes an inert *Object;
// int, float, str and bool only as type references);
// collections.OrderedDict; _codecs.encode; cloudpickle's
// _builtin_type("MethodType"), an allowed class, so that a bound method
// pickled by cloudpickle becomes an inert *Object; copyreg._reconstructor,
// __newobj__ and __newobj_ex__; numpy.dtype, numpy.ndarray, the numpy scalar
// types as references, multiarray._reconstruct, multiarray.scalar and
// numeric._frombuffer under numpy.core, numpy._core (numpy 2) and
// _multiarray_umath. Python 2 spellings __builtin__ and copy_reg are accepted.
//
// # Values
//
// None is nil, bool is bool, int is int64 (*big.Int when it does not fit),
// float is float64, str is string, bytes and bytearray are []byte, tuple is
// Tuple, list *List, dict and OrderedDict *Dict (ordered), set and frozenset
// *Set, slice *Slice, complex complex128, a class reference *Global, an
// allowed instance *Object, numpy arrays *NDArray, dtypes *DType, and numpy
// scalars the Go value of their type (bool, int64, uint64 above MaxInt64,
// float64, complex128, string, []byte; the object itself for object dtype).
// Mutable containers are pointers so that shared references and cycles in
// the pickle keep their identity; a list may contain itself, so callers that
// walk values must track what they have visited. Nothing in this package
// walks values recursively.
//
// Arrays are checked when they are built: the data length always equals the
// element count times the item size. Element accessors (NDArray.Float64s,
// Int64s, Strings, Values, Field) convert by the dtype's kind, size and byte
// order and return errors for dtypes they cannot convert (datetimes,
// float128, structured dtypes with object fields are rejected when loading).
//
// # Limits
//
// Every length is checked against the bytes that remain before anything is
// read or allocated. Options.MaxDepth bounds the stack (values plus open
// MARKs), Options.MaxMemo the memo, and a work budget proportional to the
// input size bounds the copying that short opcodes can cause (for example a
// BUILD of the same memoized dict many times). Decimal integer literals are
// limited to 4300 digits, like Python, and module and global names to 1024
// bytes. Unmarshal never panics on any input (it is fuzzed, and as a last
// line of defence a bug would surface as an "internal error", not a crash);
// errors are *Error values naming the byte offset and opcode:
//
//	pickle: offset 1234: BINGET: memo key 7 not found
//	pickle: offset 96: unexpected end of data
//
// Out-of-band buffers (NEXT_BUFFER), persistent IDs and the extension
// registry are not supported and give clear errors.
//
// # Ownership and concurrency
//
// Returned []byte values and NDArray.Data may alias the input slice, which
// the caller must not modify afterwards. The decoded values are not
// synchronised: treat them as read-only once shared between goroutines.
// Unmarshal itself has no global state and is safe for concurrent use.
package pickle
