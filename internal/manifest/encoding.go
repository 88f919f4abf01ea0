package manifest

import (
	"encoding/binary"
	"errors"
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// errBinary is a file with NUL bytes that is not UTF-16: an image, an
// archive, a compiled file that happens to be named .yaml.
var errBinary = errors.New("binary file (NUL bytes, and not UTF-16 with a byte order mark): nothing in it was analyzed")

// utf16Order returns the byte order of UTF-16 text that starts with a byte
// order mark, or nil. YAML allows UTF-16 streams with one
// (https://yaml.org/spec/1.2.2/#52-character-encodings) and kubectl decodes
// them; without a mark NUL bytes mean binary.
func utf16Order(head []byte) binary.ByteOrder {
	if len(head) < 2 {
		return nil
	}
	switch {
	case head[0] == 0xFF && head[1] == 0xFE:
		return binary.LittleEndian
	case head[0] == 0xFE && head[1] == 0xFF:
		return binary.BigEndian
	}
	return nil
}

// utf16Reader decodes UTF-16 (byte order mark first) into UTF-8 as it is
// read, so a large file is not held twice. An unpaired surrogate becomes
// U+FFFD, as Go's own decoders make it.
type utf16Reader struct {
	r       io.Reader
	order   binary.ByteOrder
	started bool
	in      [4096]byte
	odd     []byte // a trailing byte of a unit split across reads
	high    rune   // a high surrogate waiting for its pair
	out     []byte // decoded bytes not yet returned
	err     error
}

func (u *utf16Reader) Read(p []byte) (int, error) {
	for len(u.out) == 0 {
		if u.err != nil {
			return 0, u.err
		}
		u.fill()
	}
	n := copy(p, u.out)
	u.out = u.out[n:]
	return n, nil
}

func (u *utf16Reader) fill() {
	n, err := u.r.Read(u.in[len(u.odd):])
	buf := u.in[:len(u.odd)+n]
	copy(buf, u.odd)
	u.odd = u.odd[:0]
	out := u.out[:0]
	for len(buf) >= 2 {
		c := rune(u.order.Uint16(buf))
		buf = buf[2:]
		if !u.started {
			u.started = true
			if c == 0xFEFF {
				continue
			}
		}
		if u.high != 0 {
			if utf16.IsSurrogate(c) && c >= 0xDC00 {
				out = utf8.AppendRune(out, utf16.DecodeRune(u.high, c))
				u.high = 0
				continue
			}
			out = utf8.AppendRune(out, utf8.RuneError)
			u.high = 0
		}
		if c >= 0xD800 && c < 0xDC00 {
			u.high = c
			continue
		}
		if utf16.IsSurrogate(c) {
			c = utf8.RuneError
		}
		out = utf8.AppendRune(out, c)
	}
	u.odd = append(u.odd, buf...)
	if err != nil {
		if u.high != 0 || len(u.odd) > 0 {
			out = utf8.AppendRune(out, utf8.RuneError)
			u.high, u.odd = 0, nil
		}
		u.err = err
	}
	u.out = out
}
