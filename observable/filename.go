package observable

import (
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxNameBytes is the longest name SanitizeFilename returns, the common
// file system limit.
const maxNameBytes = 255

// Reasons SanitizeFilename gives for distrusting a name.
const (
	// SuspiciousBidi: the name holds a bidirectional override or isolate,
	// which can show "invoice\u202Efdp.exe" as "invoiceexe.pdf".
	SuspiciousBidi = "bidi-override"
	// SuspiciousPath: the name holds directories, possibly "..", which
	// would write outside the intended directory.
	SuspiciousPath = "path"
	// SuspiciousControl: the name holds control or invisible characters.
	SuspiciousControl = "control-characters"
	// SuspiciousDoubleExtension: an executable extension after another
	// one, as in "invoice.pdf.exe".
	SuspiciousDoubleExtension = "double-extension"
)

// SanitizeFilename turns an attachment name as sent into one that is safe
// to write to disk or upload: the last path component only, without
// control, format (bidirectional, zero-width) or line-separator characters,
// without characters that Windows forbids, without leading or trailing dots
// and spaces, not a reserved device name, and at most 255 bytes with its
// extension kept. It returns "" when nothing usable is left, and the
// reasons, if any, to distrust the name as sent (see the Suspicious
// constants).
func SanitizeFilename(name string) (string, []string) {
	var reasons []string
	add := func(r string) {
		for _, x := range reasons {
			if x == r {
				return
			}
		}
		reasons = append(reasons, r)
	}
	if strings.ContainsAny(name, "/\\") {
		add(SuspiciousPath)
		parts := strings.FieldsFunc(name, func(r rune) bool { return r == '/' || r == '\\' })
		name = ""
		for i := len(parts) - 1; i >= 0; i-- {
			if p := strings.TrimSpace(parts[i]); p != "" && p != "." && p != ".." {
				name = p
				break
			}
		}
	}
	var sb strings.Builder
	for _, r := range name {
		switch {
		case r == utf8.RuneError:
			sb.WriteRune('_')
		case isBidiControl(r):
			add(SuspiciousBidi)
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029':
			add(SuspiciousControl)
		case strings.ContainsRune(`<>:"|?*`, r):
			sb.WriteRune('_')
		default:
			sb.WriteRune(r)
		}
	}
	s := strings.Trim(sb.String(), " .")
	if s == "" {
		return "", reasons
	}
	if len(s) > 1 && s[1] == '_' && isASCIILetter(s[0]) && strings.HasPrefix(name, s[:1]+":") {
		// A drive letter: "C:name" became "C_name"; drop it.
		s = strings.TrimLeft(s[2:], " .")
	}
	if isReservedName(s) {
		s = "_" + s
	}
	if hasDoubleExtension(s) {
		add(SuspiciousDoubleExtension)
	}
	return truncateName(s), reasons
}

func isASCIILetter(c byte) bool { return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }

// isBidiControl reports the bidirectional embedding, override and isolate
// controls and the directional marks.
func isBidiControl(r rune) bool {
	return (r >= '\u202A' && r <= '\u202E') || (r >= '\u2066' && r <= '\u2069') ||
		r == '\u200E' || r == '\u200F' || r == '\u061C'
}

// isReservedName reports the device names Windows reserves, with or
// without an extension.
func isReservedName(s string) bool {
	base := strings.ToUpper(s)
	if i := strings.IndexByte(base, '.'); i >= 0 {
		base = base[:i]
	}
	base = strings.TrimRight(base, " ")
	switch base {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if len(base) == 4 && (strings.HasPrefix(base, "COM") || strings.HasPrefix(base, "LPT")) && base[3] >= '0' && base[3] <= '9' {
		return true
	}
	return false
}

var executableExt = map[string]bool{
	".exe": true, ".scr": true, ".com": true, ".bat": true, ".cmd": true, ".pif": true,
	".js": true, ".jse": true, ".vbs": true, ".vbe": true, ".wsf": true, ".hta": true,
	".msi": true, ".lnk": true, ".ps1": true, ".jar": true, ".cpl": true, ".reg": true,
}

func hasDoubleExtension(s string) bool {
	ext := strings.ToLower(path.Ext(s))
	if !executableExt[ext] {
		return false
	}
	inner := path.Ext(strings.TrimSuffix(s, path.Ext(s)))
	return len(inner) >= 2 && len(inner) <= 5
}

// truncateName cuts a name to maxNameBytes, keeping its extension and
// whole UTF-8 characters.
func truncateName(s string) string {
	if len(s) <= maxNameBytes {
		return s
	}
	ext := path.Ext(s)
	if len(ext) > 16 {
		ext = ""
	}
	base := s[:maxNameBytes-len(ext)]
	for len(base) > 0 && !utf8.ValidString(base) {
		base = base[:len(base)-1]
	}
	return base + ext
}

var extByType = map[string]string{
	"text/plain": ".txt", "text/html": ".html", "text/calendar": ".ics", "text/csv": ".csv",
	"text/xml": ".xml", "application/xml": ".xml", "text/rfc822-headers": ".txt",
	"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/bmp": ".bmp",
	"image/svg+xml": ".svg", "image/tiff": ".tif", "image/webp": ".webp",
	"application/pdf": ".pdf", "application/zip": ".zip", "application/json": ".json",
	"application/msword": ".doc", "application/vnd.ms-excel": ".xls",
	"application/pkcs7-signature": ".p7s", "application/x-pkcs7-signature": ".p7s",
	"application/pgp-signature": ".asc", "message/rfc822": ".eml", "message/global": ".eml",
	"message/delivery-status": ".txt", "audio/basic": ".au", "application/vnd.ms-outlook": ".msg",
}

// defaultFileName names a part that came without a name: "part-2.1.png".
func defaultFileName(path, mediaType string) string {
	ext, ok := extByType[mediaType]
	if !ok {
		ext = ".bin"
	}
	return "part-" + path + ext
}

// messageFileName names an attached message that came without a name,
// after its subject.
func messageFileName(subject, path string) string {
	s, _ := SanitizeFilename(strings.Join(strings.Fields(subject), " "))
	if len(s) > 100 {
		s = s[:100]
		for len(s) > 0 && !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s = strings.TrimRight(s, " .")
	}
	if s == "" {
		return "message-" + path + ".eml"
	}
	return s + ".eml"
}
