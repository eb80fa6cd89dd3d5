package paste

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"fmt"
)

// IDSpace is how many IDs there are: 62^8.
const IDSpace uint64 = 62 * 62 * 62 * 62 * 62 * 62 * 62 * 62

// Pastes are numbered in the order they are stored, and a paste's ID is its
// number under a secret permutation of [0, IDSpace). Stored in number order,
// new pastes are appended at the end of the table instead of scattered
// through an index of random IDs, which made each insert dirty a random page;
// the permutation keeps IDs as unguessable as random ones: without the key
// an ID says nothing about any other ID, its number or its time.
//
// The permutation is a 10-round Feistel network over 48 bits whose round
// function is AES-128 under the key, restricted to [0, IDSpace) by cycle
// walking (2^48 / IDSpace is about 1.29, so 1.29 passes on average).
type IDCodec struct {
	block cipher.Block
}

// IDKeySize is the size of the permutation's key.
const IDKeySize = 16

const (
	feistelRounds = 10
	halfBits      = 24
	halfMask      = 1<<halfBits - 1
)

// NewIDCodec builds the permutation for key (IDKeySize random bytes, kept
// with the pastes: the same key must name them forever).
func NewIDCodec(key []byte) (*IDCodec, error) {
	if len(key) != IDKeySize {
		return nil, fmt.Errorf("id key: got %d bytes, want %d", len(key), IDKeySize)
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return &IDCodec{block: b}, nil
}

// Encode names paste number n, which must be below IDSpace.
func (c *IDCodec) Encode(n uint64) ID {
	if n >= IDSpace {
		panic(fmt.Sprintf("paste number %d outside the id space", n))
	}
	var buf roundBuf
	x := c.forward(n, &buf)
	for x >= IDSpace {
		x = c.forward(x, &buf)
	}
	var out [IDLength]byte
	for i := IDLength - 1; i >= 0; i-- {
		out[i] = idAlphabet[x%62]
		x /= 62
	}
	return ID(out[:])
}

// Decode is Encode's inverse: the number that id names.
func (c *IDCodec) Decode(id ID) uint64 {
	var x uint64
	for i := 0; i < len(id); i++ {
		x = x*62 + uint64(digit(id[i]))
	}
	var buf roundBuf
	x = c.backward(x, &buf)
	for x >= IDSpace {
		x = c.backward(x, &buf)
	}
	return x
}

func digit(ch byte) byte {
	switch {
	case 'A' <= ch && ch <= 'Z':
		return ch - 'A'
	case 'a' <= ch && ch <= 'z':
		return ch - 'a' + 26
	default:
		return ch - '0' + 52
	}
}

func (c *IDCodec) forward(x uint64, buf *roundBuf) uint64 {
	l, r := uint32(x>>halfBits), uint32(x&halfMask)
	for i := range feistelRounds {
		l, r = r, l^c.round(i, r, buf)
	}
	return uint64(l)<<halfBits | uint64(r)
}

func (c *IDCodec) backward(x uint64, buf *roundBuf) uint64 {
	l, r := uint32(x>>halfBits), uint32(x&halfMask)
	for i := feistelRounds - 1; i >= 0; i-- {
		l, r = r^c.round(i, l, buf), l
	}
	return uint64(l)<<halfBits | uint64(r)
}

// roundBuf is the round function's input and output block, shared by the
// rounds of one call (the cipher's interface makes them escape: one
// allocation per call instead of one per round).
type roundBuf struct{ in, out [aes.BlockSize]byte }

// round is the Feistel round function: AES of the round number and the half,
// cut to 24 bits.
func (c *IDCodec) round(i int, half uint32, buf *roundBuf) uint32 {
	binary.BigEndian.PutUint32(buf.in[:4], uint32(i)<<halfBits|half)
	c.block.Encrypt(buf.out[:], buf.in[:])
	return binary.BigEndian.Uint32(buf.out[:4]) & halfMask
}
