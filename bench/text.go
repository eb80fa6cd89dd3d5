package main

import (
	"io"
	"math/rand/v2"
)

// textReader yields n bytes of printable lines, the same for the same seed: paste bodies of
// any size without holding them in memory, and no accidental advantage from repetition.
type textReader struct {
	n, off int64
	rng    *rand.PCG
	bits   uint64 // unused random bits, six per character
	nbits  int
}

const textAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ="

func newTextReader(n int64, seed uint64) *textReader {
	return &textReader{n: n, rng: rand.NewPCG(seed, 0x6c69746570617374)}
}

func (t *textReader) Read(p []byte) (int, error) {
	if t.off >= t.n {
		return 0, io.EOF
	}
	if rest := t.n - t.off; int64(len(p)) > rest {
		p = p[:rest]
	}
	for i := range p {
		if (t.off+int64(i))%80 == 79 {
			p[i] = '\n'
			continue
		}
		if t.nbits < 6 {
			t.bits, t.nbits = t.rng.Uint64(), 64
		}
		p[i] = textAlphabet[t.bits&63]
		t.bits >>= 6
		t.nbits -= 6
	}
	t.off += int64(len(p))
	return len(p), nil
}

func textBytes(n int64, seed uint64) []byte {
	b, _ := io.ReadAll(newTextReader(n, seed))
	return b
}
