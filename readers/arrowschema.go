package readers

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
)

// Parquet files written by Arrow carry their Arrow schema in the footer's
// "ARROW:schema" key: a base64 IPC message holding a flatbuffer. arrow-go decodes it
// without bounds checks on vector lengths, so a corrupted length makes it allocate
// tens of gigabytes and the process dies (an out-of-memory crash is not a panic that
// recover can catch; found by FuzzParquetReader). checkArrowSchema walks the
// flatbuffer first, checking that every table, vector and string it will touch
// lies inside the message, so a corrupt schema is a clean error.
//
// The walk follows the Arrow format's Schema.fbs: Message{version, header_type,
// header, bodyLength, custom_metadata}, Schema{endianness, fields, custom_metadata,
// features}, Field{name, nullable, type_type, type, dictionary, children,
// custom_metadata}, KeyValue{key, value}, DictionaryEncoding{id, indexType, ...}.

var errBadArrowSchema = errors.New("stored Arrow schema (ARROW:schema) is corrupt")

func checkArrowSchema(serialized string) error {
	var data []byte
	var err error
	if len(serialized)%4 == 0 {
		data, err = base64.StdEncoding.DecodeString(serialized)
	}
	if len(data) == 0 || err != nil {
		data, err = base64.RawStdEncoding.DecodeString(serialized)
	}
	if err != nil {
		return nil // arrow-go reports undecodable base64 itself, safely
	}
	if len(data) < 8 {
		return errBadArrowSchema
	}
	n := binary.LittleEndian.Uint32(data)
	body := data[4:]
	if n == 0xFFFFFFFF {
		n = binary.LittleEndian.Uint32(data[4:])
		body = data[8:]
	}
	if n < 4 || uint64(n) > uint64(len(body)) {
		return nil // arrow-go rejects a short or truncated message itself
	}
	// The message body (none, for a schema) is read into a buffer of the length the
	// message claims: it must be there.
	v := fbVerifier{buf: body[:n], budget: 1 << 16, bodyLeft: uint64(len(body)) - uint64(n)}
	if !v.message() {
		return errBadArrowSchema
	}
	return nil
}

type fbVerifier struct {
	buf      []byte
	budget   int    // tables left to visit: bounds the work on adversarial input
	bodyLeft uint64 // bytes after the flatbuffer, for Message.bodyLength
}

func (v *fbVerifier) u32(pos uint64) (uint32, bool) {
	if pos+4 > uint64(len(v.buf)) {
		return 0, false
	}
	return binary.LittleEndian.Uint32(v.buf[pos:]), true
}

// table checks the table at pos and its vtable, returning a function that gives
// the absolute position of a field slot (0 when absent).
func (v *fbVerifier) table(pos uint64) (func(slot int) uint64, bool) {
	if v.budget--; v.budget < 0 {
		return nil, false
	}
	soff, ok := v.u32(pos)
	if !ok {
		return nil, false
	}
	vt := int64(pos) - int64(int32(soff))
	if vt < 0 || uint64(vt)+4 > uint64(len(v.buf)) {
		return nil, false
	}
	vtLen := uint64(binary.LittleEndian.Uint16(v.buf[vt:]))
	tLen := uint64(binary.LittleEndian.Uint16(v.buf[vt+2:]))
	if vtLen < 4 || vtLen%2 != 0 || uint64(vt)+vtLen > uint64(len(v.buf)) || pos+tLen > uint64(len(v.buf)) {
		return nil, false
	}
	field := func(slot int) uint64 {
		o := 4 + 2*uint64(slot)
		if o+2 > vtLen {
			return 0
		}
		off := uint64(binary.LittleEndian.Uint16(v.buf[uint64(vt)+o:]))
		if off == 0 {
			return 0
		}
		return pos + off
	}
	return field, true
}

// ref follows the uoffset stored at pos (a field holding a table, vector or string).
func (v *fbVerifier) ref(pos uint64) (uint64, bool) {
	off, ok := v.u32(pos)
	if !ok {
		return 0, false
	}
	return pos + uint64(off), true
}

// vector checks the vector referenced at pos, with elements of size elem, and
// returns the position of its first element and its length.
func (v *fbVerifier) vector(pos uint64, elem uint64) (uint64, uint64, bool) {
	at, ok := v.ref(pos)
	if !ok {
		return 0, 0, false
	}
	n, ok := v.u32(at)
	if !ok || at+4+uint64(n)*elem > uint64(len(v.buf)) {
		return 0, 0, false
	}
	return at + 4, uint64(n), true
}

// tables checks a vector of tables referenced at pos, each with check.
func (v *fbVerifier) tables(pos uint64, check func(uint64) bool) bool {
	if pos == 0 {
		return true
	}
	start, n, ok := v.vector(pos, 4)
	if !ok {
		return false
	}
	for i := range n {
		at, ok := v.ref(start + 4*i)
		if !ok || !check(at) {
			return false
		}
	}
	return true
}

func (v *fbVerifier) str(pos uint64) bool {
	if pos == 0 {
		return true
	}
	_, _, ok := v.vector(pos, 1)
	return ok
}

func (v *fbVerifier) sub(pos uint64, check func(uint64) bool) bool {
	if pos == 0 {
		return true
	}
	at, ok := v.ref(pos)
	return ok && check(at)
}

func (v *fbVerifier) message() bool {
	root, ok := v.ref(0)
	if !ok {
		return false
	}
	f, ok := v.table(root)
	if !ok {
		return false
	}
	if p := f(3); p != 0 {
		if p+8 > uint64(len(v.buf)) || binary.LittleEndian.Uint64(v.buf[p:]) > v.bodyLeft {
			return false
		}
	}
	return v.sub(f(2), v.schema) && v.tables(f(4), v.keyValue)
}

func (v *fbVerifier) schema(pos uint64) bool {
	f, ok := v.table(pos)
	if !ok {
		return false
	}
	if p := f(3); p != 0 {
		if _, _, ok := v.vector(p, 8); !ok {
			return false
		}
	}
	return v.tables(f(1), v.field) && v.tables(f(2), v.keyValue)
}

func (v *fbVerifier) keyValue(pos uint64) bool {
	f, ok := v.table(pos)
	return ok && v.str(f(0)) && v.str(f(1))
}

func (v *fbVerifier) field(pos uint64) bool {
	f, ok := v.table(pos)
	if !ok || !v.str(f(0)) {
		return false
	}
	typeType := byte(0)
	if p := f(2); p != 0 {
		if p >= uint64(len(v.buf)) {
			return false
		}
		typeType = v.buf[p]
	}
	typ := func(at uint64) bool {
		t, ok := v.table(at)
		if !ok {
			return false
		}
		switch typeType {
		case 10: // Timestamp{unit, timezone}
			return v.str(t(1))
		case 14: // Union{mode, typeIds}
			if p := t(1); p != 0 {
				_, _, ok := v.vector(p, 4)
				return ok
			}
		}
		return true
	}
	dict := func(at uint64) bool {
		d, ok := v.table(at)
		return ok && v.sub(d(1), func(at uint64) bool { _, ok := v.table(at); return ok })
	}
	return v.sub(f(3), typ) && v.sub(f(4), dict) && v.tables(f(5), v.field) && v.tables(f(6), v.keyValue)
}

// ipcMessage checks an IPC stream message's metadata (Message.fbs): a schema, a
// record batch or a dictionary batch, and returns its body length.
func (v *fbVerifier) ipcMessage() (uint64, bool) {
	root, ok := v.ref(0)
	if !ok {
		return 0, false
	}
	f, ok := v.table(root)
	if !ok {
		return 0, false
	}
	var body uint64
	if p := f(3); p != 0 {
		if p+8 > uint64(len(v.buf)) {
			return 0, false
		}
		body = binary.LittleEndian.Uint64(v.buf[p:])
		if body > v.bodyLeft {
			return 0, false
		}
	}
	var headerType byte
	if p := f(1); p != 0 {
		if p >= uint64(len(v.buf)) {
			return 0, false
		}
		headerType = v.buf[p]
	}
	var check func(uint64) bool
	switch headerType {
	case 1:
		check = v.schema
	case 2:
		check = v.dictionaryBatch
	case 3:
		check = v.recordBatch
	default:
		return 0, false
	}
	if f(2) == 0 {
		return 0, false
	}
	return body, v.sub(f(2), check) && v.tables(f(4), v.keyValue)
}

// recordBatch: length, nodes [FieldNode: 16 bytes], buffers [Buffer: 16 bytes],
// compression (BodyCompression), variadicBufferCounts [long].
func (v *fbVerifier) recordBatch(pos uint64) bool {
	f, ok := v.table(pos)
	if !ok {
		return false
	}
	for _, s := range []struct {
		slot int
		elem uint64
	}{{1, 16}, {2, 16}, {4, 8}} {
		if p := f(s.slot); p != 0 {
			if _, _, ok := v.vector(p, s.elem); !ok {
				return false
			}
		}
	}
	return v.sub(f(3), func(at uint64) bool { _, ok := v.table(at); return ok })
}

// dictionaryBatch: id, data (RecordBatch), isDelta.
func (v *fbVerifier) dictionaryBatch(pos uint64) bool {
	f, ok := v.table(pos)
	return ok && v.sub(f(1), v.recordBatch)
}
