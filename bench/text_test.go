package main

import "testing"

func TestTextReaderIsTheSameWhateverTheReadSize(t *testing.T) {
	whole := textBytes(1000, 7)
	r := newTextReader(1000, 7)
	var got []byte
	buf := make([]byte, 33)
	for {
		n, err := r.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			break
		}
	}
	if string(got) != string(whole) {
		t.Errorf("reading in 33-byte pieces gave different text")
	}
	if len(whole) != 1000 || whole[79] != '\n' {
		t.Errorf("len %d, byte 79 %q; want 1000 and a newline", len(whole), whole[79])
	}
}
