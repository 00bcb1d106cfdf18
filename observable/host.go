package observable

import (
	"net/netip"
	"strings"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// validHostname checks that h is a DNS host name under a known top-level
// domain (one in the ICANN section of the public suffix list) with at least
// one label below its public suffix. It returns the name lower-cased, in
// its ASCII (punycode) form, so that "bücher.example" and
// "xn--bcher-kva.example" compare equal.
func validHostname(h string) (string, bool) {
	h = strings.TrimSuffix(strings.ToLower(h), ".")
	if len(h) < 3 || strings.IndexByte(h, '.') < 0 {
		return "", false
	}
	if !isASCII(h) {
		a, err := idnaProfile.ToASCII(h)
		if err != nil {
			return "", false
		}
		h = a
	}
	if len(h) > 253 {
		return "", false
	}
	labels := 0
	for _, label := range strings.Split(h, ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "", false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || c == '-') {
				return "", false
			}
		}
		labels++
	}
	if labels < 2 {
		return "", false
	}
	tld := h[strings.LastIndexByte(h, '.')+1:]
	if allDigits(tld) {
		return "", false
	}
	if _, icann := publicsuffix.PublicSuffix(tld); !icann {
		return "", false
	}
	if _, err := publicsuffix.EffectiveTLDPlusOne(h); err != nil {
		return "", false
	}
	return h, true
}

// idnaProfile converts internationalised host names for lookup, as
// browsers do.
var idnaProfile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.Transitional(false))

// registrableDomain returns the eTLD+1 of a valid host name ("mail.example.co.uk" gives
// "example.co.uk").
func registrableDomain(h string) string {
	d, err := publicsuffix.EffectiveTLDPlusOne(h)
	if err != nil {
		return h
	}
	return d
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// nonPublic lists the special-purpose ranges (RFC 6890 and successors)
// that netip's predicates do not cover.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("100::/64"),
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("3fff::/20"),
}

// isPublicIP reports whether ip is a globally routable unicast address:
// not private, loopback, link-local, multicast, unspecified, reserved or
// set aside for documentation.
func isPublicIP(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() ||
		ip.IsMulticast() || ip.IsUnspecified() || ip.IsInterfaceLocalMulticast() || ip.IsLinkLocalMulticast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}
