package paste

import (
	"strconv"
	"time"
)

// Paste numbers follow the clock: at least numbersPerMilli per millisecond
// since numberEpoch. A database restored from a replica that missed its last
// few pastes therefore never hands their numbers (and so their IDs, which
// someone may still hold) to new pastes: by the time it serves again, the
// clock has moved past them. The space lasts about 108 years.
const numbersPerMilli = 64

var numberEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// NextNumber is the number for the next paste stored at now, after last.
func NextNumber(last uint64, now time.Time) uint64 {
	return max(last+1, NumberAt(now))
}

// NumberAt is the lowest number a paste stored at t is given.
func NumberAt(t time.Time) uint64 {
	if ms := t.Sub(numberEpoch).Milliseconds(); ms > 0 {
		return uint64(ms) * numbersPerMilli
	}
	return 0
}

// NumbersPerSecond is how fast NumberAt grows.
const NumbersPerSecond = numbersPerMilli * 1000

// Named is p as stored under id: the store numbers pastes, so it names them.
func (p Paste) Named(id ID) Paste {
	p.ID = id
	p.ETag = pasteETag(id, p.Created)
	return p
}

// pasteETag is the strong entity tag of a paste: its ID and creation time
// name its bytes, which never change (hashing the body would cost a pass over
// every upload for nothing).
func pasteETag(id ID, created time.Time) string {
	b := make([]byte, 0, 2+IDLength+1+12)
	b = append(b, '"')
	b = append(b, id...)
	b = append(b, '-')
	b = strconv.AppendInt(b, created.UnixMilli(), 36)
	return string(append(b, '"'))
}
