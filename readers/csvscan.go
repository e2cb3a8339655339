package readers

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// The CSV scanner splits input bytes into records and fields, unescaping quoted
// fields. It does not convert values: it appends the bytes of every field to one
// flat buffer, so a batch of rows is two slices (data and ends) that the converters
// then walk column by column. This keeps the per-field cost to a few byte
// comparisons and a memmove, with no allocation.
//
// Layout: every field is followed in data by exactly one separator byte, and ends[k]
// is the offset of the separator after the k-th field of the batch. So field k is
// data[start(k):ends[k]], where start(0) = 0 and start(k) = ends[k-1]+1.
//
// Rules (RFC 4180, with the leniency of pandas.read_csv where it is unambiguous):
//   - records end with \n or \r\n; a blank line is skipped (pandas skip_blank_lines);
//   - a field that starts with '"' is quoted: it may hold delimiters, newlines and
//     doubled quotes (""), and must be followed by a delimiter or the end of the
//     record; anything else after the closing quote is an error;
//   - a '"' inside an unquoted field is an ordinary character (5'11" stays as is);
//   - an unterminated quoted field is an error naming the line where it starts.

const (
	scanBufSize    = 1 << 20 // initial read buffer
	maxRecordBytes = 1 << 28 // one record larger than this is an error (runaway quote)
	maxBatchBytes  = 1 << 30 // a batch stops early once its field bytes pass this
)

// syntaxError is a malformed record; the reader turns it into a *mlerr.RowError.
type syntaxError struct {
	line  int64 // 1-based line where the record starts
	field int   // 0-based field index, -1 when not about one field
	msg   string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

type csvScanner struct {
	r     io.Reader
	buf   []byte
	pos   int // next unread byte in buf
	end   int // end of valid bytes in buf
	eof   bool
	comma byte

	line    int64 // lines consumed so far (the next record starts on line+1)
	recLine int64 // line where the last record returned by record started

	data []byte
	ends []uint32

	// With keepText, the text of every record (without its line ending) is also
	// appended to text (textLen bytes used, allocated from mem), and textEnds[k]
	// is where record k of the batch ends.
	reserved bool // reserve has sized the buffers
	keepText bool
	mem      memory.Allocator
	text     *memory.Buffer
	textLen  int
	textEnds []uint32
}

func newCSVScanner(r io.Reader, comma byte, bufSize int) *csvScanner {
	return &csvScanner{r: r, buf: make([]byte, bufSize), comma: comma}
}

// fill moves the unread bytes to the front of the buffer (growing it when they
// already fill it) and reads more. It returns with at least one new byte or eof set.
func (s *csvScanner) fill() error {
	if s.eof {
		return nil
	}
	if s.pos > 0 {
		n := copy(s.buf, s.buf[s.pos:s.end])
		s.pos, s.end = 0, n
	}
	if s.end == len(s.buf) {
		if len(s.buf) >= maxRecordBytes {
			return &syntaxError{line: s.line + 1, field: -1, msg: fmt.Sprintf("record longer than %d MiB (unterminated quoted field?)", maxRecordBytes>>20)}
		}
		nb := make([]byte, 2*len(s.buf))
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	for {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err == io.EOF {
			s.eof = true
			return nil
		}
		if err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
	}
}

// skipBOM drops a UTF-8 byte order mark at the very start of the input.
func (s *csvScanner) skipBOM() error {
	for s.end-s.pos < 3 && !s.eof {
		if err := s.fill(); err != nil {
			return err
		}
	}
	if bytes.HasPrefix(s.buf[s.pos:s.end], []byte("\xef\xbb\xbf")) {
		s.pos += 3
	}
	return nil
}

// empty reports whether the input has no bytes at all (after a BOM).
func (s *csvScanner) empty() (bool, error) {
	for s.pos == s.end && !s.eof {
		if err := s.fill(); err != nil {
			return false, err
		}
	}
	return s.pos == s.end, nil
}

// reset forgets the fields of the previous batch.
func (s *csvScanner) reset() {
	s.data = s.data[:0]
	s.ends = s.ends[:0]
	s.textLen = 0
	s.textEnds = s.textEnds[:0]
}

// addText records the text of the record just parsed.
func (s *csvScanner) addText(line []byte) {
	need := s.textLen + len(line)
	if s.text == nil {
		s.text = memory.NewResizableBuffer(s.mem)
	}
	if need > s.text.Cap() {
		s.text.Reserve(max(need, 2*s.text.Cap(), 64<<10))
	}
	copy(s.text.Buf()[s.textLen:], line)
	s.textLen = need
	s.textEnds = append(s.textEnds, uint32(need))
}

// release gives the text buffer back to its allocator.
func (s *csvScanner) release() {
	if s.text != nil {
		s.text.Release()
		s.text = nil
	}
}

// truncateText forgets the records after the first k of the batch.
func (s *csvScanner) truncateText(k int) {
	s.textEnds = s.textEnds[:k]
	s.textLen = 0
	if k > 0 {
		s.textLen = int(s.textEnds[k-1])
	}
}

// reserve sizes data, ends (and text) for a batch of rows records of nc fields,
// estimating the bytes of a record from the input buffered so far. Growing them
// by appending would touch several times as much fresh memory, and fresh pages
// are what the first batch costs most.
func (s *csvScanner) reserve(rows, nc int) {
	b := s.buf[s.pos:s.end]
	lines := bytes.Count(b, []byte{'\n'})
	if lines == 0 || s.reserved {
		return
	}
	s.reserved = true
	if s.eof {
		rows = min(rows, lines+1) // the whole input is buffered
	}
	per := len(b)/lines + 1
	size := min(rows*per+rows/8*per, maxBatchBytes)
	s.data = make([]byte, 0, size)
	s.ends = make([]uint32, 0, rows*nc)
	if s.keepText {
		if s.text != nil {
			s.text.Release()
		}
		s.text = memory.NewResizableBuffer(s.mem)
		s.text.Reserve(size)
		s.textEnds = make([]uint32, 0, rows)
	}
}

// record appends the fields of the next record to data/ends and returns how many
// there are, or io.EOF when the input is exhausted. On an error nothing is appended.
func (s *csvScanner) record() (int, error) {
	for {
		b := s.buf[s.pos:s.end]
		nl := bytes.IndexByte(b, '\n')
		if nl < 0 && !s.eof {
			if err := s.fill(); err != nil {
				return 0, err
			}
			continue
		}
		line, adv := b, len(b)
		if nl >= 0 {
			line, adv = b[:nl], nl+1
		} else if len(b) == 0 {
			return 0, io.EOF
		}
		if bytes.IndexByte(line, '"') >= 0 {
			return s.quotedRecord()
		}
		s.pos += adv
		s.line++
		s.recLine = s.line
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if len(line) == 0 {
			continue // blank line
		}
		// Fast path: no quotes, so the line is the record and every delimiter
		// separates two fields. Copy it once and note where the delimiters are.
		if s.keepText {
			s.addText(line)
		}
		base := len(s.data)
		s.data = append(s.data, line...)
		s.data = append(s.data, s.comma)
		n, off := 1, 0
		for {
			i := bytes.IndexByte(line[off:], s.comma)
			if i < 0 {
				break
			}
			off += i
			s.ends = append(s.ends, uint32(base+off))
			off++
			n++
		}
		s.ends = append(s.ends, uint32(base+len(line)))
		return n, nil
	}
}

// errRefill asks quotedRecord's caller to read more input and parse the record again.
var errRefill = errors.New("refill")

// quotedRecord parses a record that contains at least one quote, byte by byte. When
// the record runs past the buffered bytes, it rolls back, refills and starts over;
// the buffer doubles whenever one record fills it, so the work stays linear.
func (s *csvScanner) quotedRecord() (int, error) {
	for {
		n, err := s.parseQuoted()
		if err != errRefill {
			return n, err
		}
		if err := s.fill(); err != nil {
			return 0, err
		}
	}
}

func (s *csvScanner) parseQuoted() (int, error) {
	dataStart, endsStart := len(s.data), len(s.ends)
	rollback := func(err error) (int, error) {
		s.data = s.data[:dataStart]
		s.ends = s.ends[:endsStart]
		return 0, err
	}
	b := s.buf[s.pos:s.end]
	comma := s.comma
	startLine := s.line + 1
	lines := int64(0) // newlines consumed inside quoted fields
	i, n := 0, 0
	endField := func() {
		s.ends = append(s.ends, uint32(len(s.data)))
		s.data = append(s.data, comma)
		n++
	}
	for {
		if i < len(b) && b[i] == '"' {
			// Quoted field.
			i++
			for {
				j := bytes.IndexByte(b[i:], '"')
				if j < 0 {
					if !s.eof {
						return rollback(errRefill)
					}
					return rollback(&syntaxError{line: startLine, field: n, msg: "unterminated quoted field"})
				}
				seg := b[i : i+j]
				lines += int64(bytes.Count(seg, []byte{'\n'}))
				s.data = append(s.data, seg...)
				i += j + 1
				if i == len(b) && !s.eof {
					return rollback(errRefill) // is the next byte another quote?
				}
				if i < len(b) && b[i] == '"' {
					s.data = append(s.data, '"')
					i++
					continue
				}
				break
			}
			endField()
			if i == len(b) {
				break // end of input
			}
			switch c := b[i]; {
			case c == comma:
				i++
				continue // a delimiter at the very end leaves one more, empty field
			case c == '\n':
				i++
			case c == '\r' && i+1 < len(b) && b[i+1] == '\n':
				i += 2
			case c == '\r' && i+1 == len(b):
				if !s.eof {
					return rollback(errRefill)
				}
				i++
			default:
				return rollback(&syntaxError{line: startLine + lines, field: n - 1, msg: fmt.Sprintf("unexpected %q after the closing quote of a quoted field", c)})
			}
			break
		}
		// Unquoted field: runs to the next delimiter or newline; quotes are literal.
		j := i
		for j < len(b) && b[j] != comma && b[j] != '\n' {
			j++
		}
		if j == len(b) && !s.eof {
			return rollback(errRefill)
		}
		f := b[i:j]
		if j == len(b) || b[j] == '\n' {
			if k := len(f); k > 0 && f[k-1] == '\r' {
				f = f[:k-1]
			}
		}
		s.data = append(s.data, f...)
		endField()
		if j < len(b) && b[j] == comma {
			i = j + 1
			continue
		}
		i = j
		if i < len(b) {
			i++ // the newline
		}
		break
	}
	if s.keepText {
		t := b[:i:i]
		if k := len(t); k > 0 && t[k-1] == '\n' {
			t = t[:k-1]
		}
		if k := len(t); k > 0 && t[k-1] == '\r' {
			t = t[:k-1]
		}
		s.addText(t)
	}
	s.pos += i
	s.recLine = startLine
	s.line += 1 + lines
	return n, nil
}
