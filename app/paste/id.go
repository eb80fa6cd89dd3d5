package paste

// IDLength is the number of characters in every paste ID (LogPaste's format).
const IDLength = 8

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// ID names a paste. Values of this type only ever hold valid IDs: build them
// with IDCodec.Encode or ParseID.
type ID string

// ParseID accepts exactly IDLength characters of [A-Za-z0-9].
func ParseID(s string) (ID, error) {
	if len(s) != IDLength {
		return "", ErrInvalidID
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return "", ErrInvalidID
		}
	}
	return ID(s), nil
}

func (id ID) String() string { return string(id) }
