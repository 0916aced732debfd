package hookline

import (
	"crypto/rand"
	"encoding/binary"
	"math/big"
	"strings"
	"sync"
	"time"
)

// ID prefixes, as Svix uses them, so ids say what they name.
const (
	PrefixApplication = "app_"
	PrefixEndpoint    = "ep_"
	PrefixMessage     = "msg_"
	PrefixAttempt     = "atmpt_"
	PrefixToken       = "tok_"
	PrefixDelivery    = "dlv_"
	PrefixTask        = "qtask_"
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// idLen is the length of the encoded part: 16 bytes need 22 base62 digits.
const idLen = 22

var idGen struct {
	sync.Mutex
	lastMS uint64
	last   [16]byte
}

// NewID returns prefix followed by a 22-character id that sorts by creation time: 48 bits of
// Unix milliseconds then 80 random bits. Within one millisecond ids from one process increase
// monotonically, so cursor pagination by id returns rows in the order they were created.
func NewID(prefix string) string {
	return prefix + encodeID(nextIDBytes(time.Now()))
}

func nextIDBytes(now time.Time) [16]byte {
	ms := uint64(now.UnixMilli())
	idGen.Lock()
	defer idGen.Unlock()
	var b [16]byte
	if ms <= idGen.lastMS {
		// Same (or earlier, if the wall clock stepped back) millisecond: increment the last id.
		b = idGen.last
		for i := 15; i >= 6; i-- {
			b[i]++
			if b[i] != 0 {
				break
			}
		}
	} else {
		var ts [8]byte
		binary.BigEndian.PutUint64(ts[:], ms)
		copy(b[:6], ts[2:])
		if _, err := rand.Read(b[6:]); err != nil {
			panic("hookline: crypto/rand failed: " + err.Error())
		}
		// Keep the top random bit clear so increments within a millisecond cannot overflow.
		b[6] &= 0x7f
		idGen.lastMS = ms
	}
	idGen.last = b
	return b
}

func encodeID(b [16]byte) string {
	n := new(big.Int).SetBytes(b[:])
	out := make([]byte, idLen)
	base := big.NewInt(62)
	mod := new(big.Int)
	for i := idLen - 1; i >= 0; i-- {
		n.DivMod(n, base, mod)
		out[i] = base62[mod.Int64()]
	}
	return string(out)
}

// HasIDPrefix reports whether s looks like an id with the given prefix (and so is not a uid).
func HasIDPrefix(s, prefix string) bool {
	if !strings.HasPrefix(s, prefix) || len(s) != len(prefix)+idLen {
		return false
	}
	for _, c := range s[len(prefix):] {
		if !strings.ContainsRune(base62, c) {
			return false
		}
	}
	return true
}

// IDTime returns the creation time NewID wrote into id (to the millisecond), and false when
// id is not one of NewID's with the prefix: the inverse of FirstIDAt.
func IDTime(prefix, id string) (time.Time, bool) {
	if !HasIDPrefix(id, prefix) {
		return time.Time{}, false
	}
	n := new(big.Int)
	for _, c := range []byte(id[len(prefix):]) {
		n.Mul(n, big.NewInt(62))
		n.Add(n, big.NewInt(int64(strings.IndexByte(base62, c))))
	}
	if n.BitLen() > 128 {
		return time.Time{}, false
	}
	return time.UnixMilli(n.Rsh(n, 80).Int64()).UTC(), true
}
