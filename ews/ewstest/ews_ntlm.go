package ewstest

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"math/bits"
	"strings"
	"time"
	"unicode/utf16"
)

// The server side of NTLMv2 (MS-NLMP), enough to check the AUTHENTICATE
// message a client such as github.com/Azure/go-ntlmssp sends. Exchange
// binds the handshake to the TCP connection: the NEGOTIATE and AUTHENTICATE
// legs must arrive on the same connection, which then stays authenticated.

// NTLM negotiate flags (MS-NLMP 2.2.2.5).
const (
	ntlmNegotiateUnicode        = 1 << 0
	ntlmRequestTarget           = 1 << 2
	ntlmNegotiateNTLM           = 1 << 9
	ntlmNegotiateAlwaysSign     = 1 << 15
	ntlmTargetTypeDomain        = 1 << 16
	ntlmNegotiateExtendedSecure = 1 << 19
	ntlmNegotiateTargetInfo     = 1 << 23
	ntlmNegotiateVersion        = 1 << 25
	ntlmNegotiate128            = 1 << 29
	ntlmNegotiate56             = 1 << 31
)

var ntlmSignature = []byte("NTLMSSP\x00")

// ntlmMessageType returns the type (1, 2 or 3) of an NTLM message, or 0.
func ntlmMessageType(b []byte) uint32 {
	if len(b) < 12 || !bytes.Equal(b[:8], ntlmSignature) {
		return 0
	}
	return binary.LittleEndian.Uint32(b[8:12])
}

// utf16le encodes s as UTF-16LE, as NTLM carries strings.
func utf16le(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return b
}

func fromUTF16le(b []byte) (string, error) {
	if len(b)%2 != 0 {
		return "", errors.New("odd UTF-16 length")
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u)), nil
}

// ntlmChallenge builds a CHALLENGE message (type 2) for the given server
// challenge, with a target info block naming the fake's domain and host.
func ntlmChallenge(challenge [8]byte, now time.Time) []byte {
	const domain, host, dnsDomain, dnsHost = "EXAMPLE", "EXCH01", "example.com", "exch01.example.com"
	var info bytes.Buffer
	av := func(id uint16, v []byte) {
		_ = binary.Write(&info, binary.LittleEndian, id)
		_ = binary.Write(&info, binary.LittleEndian, uint16(len(v)))
		info.Write(v)
	}
	av(2, utf16le(domain))
	av(1, utf16le(host))
	av(4, utf16le(dnsDomain))
	av(3, utf16le(dnsHost))
	ts := make([]byte, 8)
	// Windows FILETIME: 100 ns intervals since 1601-01-01.
	binary.LittleEndian.PutUint64(ts, uint64(now.UnixNano()/100)+116444736000000000)
	av(7, ts)
	av(0, nil)

	target := utf16le(domain)
	const headerLen = 56
	b := make([]byte, headerLen, headerLen+len(target)+info.Len())
	copy(b, ntlmSignature)
	binary.LittleEndian.PutUint32(b[8:], 2)
	// TargetName fields.
	binary.LittleEndian.PutUint16(b[12:], uint16(len(target)))
	binary.LittleEndian.PutUint16(b[14:], uint16(len(target)))
	binary.LittleEndian.PutUint32(b[16:], headerLen)
	flags := uint32(ntlmNegotiateUnicode | ntlmRequestTarget | ntlmNegotiateNTLM | ntlmNegotiateAlwaysSign |
		ntlmTargetTypeDomain | ntlmNegotiateExtendedSecure | ntlmNegotiateTargetInfo | ntlmNegotiateVersion |
		ntlmNegotiate128 | ntlmNegotiate56)
	binary.LittleEndian.PutUint32(b[20:], flags)
	copy(b[24:32], challenge[:])
	// b[32:40] is reserved.
	binary.LittleEndian.PutUint16(b[40:], uint16(info.Len()))
	binary.LittleEndian.PutUint16(b[42:], uint16(info.Len()))
	binary.LittleEndian.PutUint32(b[44:], uint32(headerLen+len(target)))
	// Version: Windows 10.0 build 17763, NTLM revision 15.
	copy(b[48:56], []byte{10, 0, 0x63, 0x45, 0, 0, 0, 15})
	b = append(b, target...)
	b = append(b, info.Bytes()...)
	return b
}

// ntlmAuthenticate is what the fake reads from an AUTHENTICATE message.
type ntlmAuthenticate struct {
	user, domain string
	ntResponse   []byte
}

// parseNTLMAuthenticate reads an AUTHENTICATE message (type 3).
func parseNTLMAuthenticate(b []byte) (*ntlmAuthenticate, error) {
	if ntlmMessageType(b) != 3 || len(b) < 64 {
		return nil, errors.New("not an NTLM AUTHENTICATE message")
	}
	field := func(off int) ([]byte, error) {
		n := int(binary.LittleEndian.Uint16(b[off:]))
		start := int(binary.LittleEndian.Uint32(b[off+4:]))
		if start < 0 || start+n > len(b) {
			return nil, errors.New("NTLM field out of bounds")
		}
		return b[start : start+n], nil
	}
	nt, err := field(20)
	if err != nil {
		return nil, err
	}
	dom, err := field(28)
	if err != nil {
		return nil, err
	}
	usr, err := field(36)
	if err != nil {
		return nil, err
	}
	a := &ntlmAuthenticate{ntResponse: nt}
	if a.domain, err = fromUTF16le(dom); err != nil {
		return nil, err
	}
	if a.user, err = fromUTF16le(usr); err != nil {
		return nil, err
	}
	return a, nil
}

// verify checks an NTLMv2 response against the password: the NTProofStr
// must be HMAC-MD5(NTOWFv2, server challenge || blob).
func (a *ntlmAuthenticate) verify(challenge [8]byte, password string) bool {
	if len(a.ntResponse) < 16+28 {
		return false // an NTLMv1 response, refused as Exchange refuses it by policy
	}
	h := md4Sum(utf16le(password))
	v2 := hmacMD5(h[:], utf16le(strings.ToUpper(a.user)+a.domain))
	proof := hmacMD5(v2, challenge[:], a.ntResponse[16:])
	return hmac.Equal(proof, a.ntResponse[:16])
}

func hmacMD5(key []byte, data ...[]byte) []byte {
	m := hmac.New(md5.New, key)
	for _, d := range data {
		m.Write(d)
	}
	return m.Sum(nil)
}

func newChallenge() [8]byte {
	var c [8]byte
	_, _ = rand.Read(c[:])
	return c
}

// md4Sum returns the MD4 digest of b (RFC 1320), which NTLM uses to hash
// passwords. The standard library has no MD4.
func md4Sum(b []byte) [16]byte {
	a0, b0, c0, d0 := uint32(0x67452301), uint32(0xefcdab89), uint32(0x98badcfe), uint32(0x10325476)
	msg := append([]byte(nil), b...)
	msg = append(msg, 0x80)
	for len(msg)%64 != 56 {
		msg = append(msg, 0)
	}
	msg = binary.LittleEndian.AppendUint64(msg, uint64(len(b))*8)

	var x [16]uint32
	for off := 0; off < len(msg); off += 64 {
		for i := range x {
			x[i] = binary.LittleEndian.Uint32(msg[off+4*i:])
		}
		aa, bb, cc, dd := a0, b0, c0, d0
		f := func(x, y, z uint32) uint32 { return x&y | ^x&z }
		g := func(x, y, z uint32) uint32 { return x&y | x&z | y&z }
		h := func(x, y, z uint32) uint32 { return x ^ y ^ z }
		// Round 1.
		for _, i := range [4]int{0, 4, 8, 12} {
			aa = bits.RotateLeft32(aa+f(bb, cc, dd)+x[i], 3)
			dd = bits.RotateLeft32(dd+f(aa, bb, cc)+x[i+1], 7)
			cc = bits.RotateLeft32(cc+f(dd, aa, bb)+x[i+2], 11)
			bb = bits.RotateLeft32(bb+f(cc, dd, aa)+x[i+3], 19)
		}
		// Round 2.
		for _, i := range [4]int{0, 1, 2, 3} {
			aa = bits.RotateLeft32(aa+g(bb, cc, dd)+x[i]+0x5a827999, 3)
			dd = bits.RotateLeft32(dd+g(aa, bb, cc)+x[i+4]+0x5a827999, 5)
			cc = bits.RotateLeft32(cc+g(dd, aa, bb)+x[i+8]+0x5a827999, 9)
			bb = bits.RotateLeft32(bb+g(cc, dd, aa)+x[i+12]+0x5a827999, 13)
		}
		// Round 3.
		for _, i := range [4]int{0, 2, 1, 3} {
			aa = bits.RotateLeft32(aa+h(bb, cc, dd)+x[i]+0x6ed9eba1, 3)
			dd = bits.RotateLeft32(dd+h(aa, bb, cc)+x[i+8]+0x6ed9eba1, 9)
			cc = bits.RotateLeft32(cc+h(dd, aa, bb)+x[i+4]+0x6ed9eba1, 11)
			bb = bits.RotateLeft32(bb+h(cc, dd, aa)+x[i+12]+0x6ed9eba1, 15)
		}
		a0 += aa
		b0 += bb
		c0 += cc
		d0 += dd
	}
	var out [16]byte
	binary.LittleEndian.PutUint32(out[0:], a0)
	binary.LittleEndian.PutUint32(out[4:], b0)
	binary.LittleEndian.PutUint32(out[8:], c0)
	binary.LittleEndian.PutUint32(out[12:], d0)
	return out
}
