package observable

import (
	"path"
	"sort"
	"strconv"
	"strings"
)

// partHeader is what the parser needs from the header of a part.
type partHeader struct {
	mediaType   string
	params      map[string]string
	cte         string
	disposition string
	dispParams  map[string]string
	contentID   string
	filename    string
	forceFile   bool
}

type partKind int

const (
	kindFile partKind = iota
	kindBody
	kindMessage
)

// singletonContent lists the MIME fields that may appear once per part.
var singletonContent = []string{"Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "Content-ID"}

// partHeader reads the MIME fields of a part. defType is the media type
// when there is no Content-Type (text/plain, or message/rfc822 inside a
// multipart/digest).
func (p *parser) partHeader(fields []rawField, where, defType string) *partHeader {
	ph := &partHeader{mediaType: defType}
	var seen [4]int
	for _, f := range fields {
		for i, name := range singletonContent {
			if !strings.EqualFold(f.name, name) {
				continue
			}
			seen[i]++
			if seen[i] == 2 {
				p.bad(where, DefectDuplicateHeader, name+": the first one is used")
			}
			if seen[i] > 1 {
				continue
			}
			v := p.headerRaw(f.raw, where)
			switch i {
			case 0:
				mt, params, problem := parseMediaType(v)
				if problem != "" {
					p.bad(where, DefectContentType, problem)
				}
				if !strings.Contains(mt, "/") {
					if strings.TrimSpace(v) != "" {
						p.bad(where, DefectContentType, "invalid media type "+strconv.Quote(truncate(mt, 40))+": read as "+defType)
					}
					mt = defType
				}
				ph.mediaType, ph.params = mt, params
			case 1:
				ph.cte = strings.TrimSpace(v)
			case 2:
				disp, params, problem := parseMediaType(v)
				if problem != "" {
					p.bad(where, DefectContentType, problem)
				}
				ph.disposition, ph.dispParams = disp, params
			case 3:
				ph.contentID = strings.Trim(strings.TrimSpace(v), "<>")
			}
		}
	}
	if ph.params == nil {
		ph.params = map[string]string{}
	}
	ph.filename = ph.dispParams["filename"]
	if ph.filename == "" {
		ph.filename = ph.params["name"]
	}
	if ph.filename != "" {
		ph.filename = p.paramText(ph.filename, where)
	}
	return ph
}

// kind says how the parser treats the part: as message text, as an
// attached message or as a file.
func (ph *partHeader) kind() partKind {
	switch {
	case ph.forceFile:
		return kindFile
	case ph.mediaType == "message/rfc822" || ph.mediaType == "message/global":
		return kindMessage
	case (ph.mediaType == "text/plain" || ph.mediaType == "text/html") &&
		ph.disposition != "attachment" && ph.filename == "":
		return kindBody
	}
	return kindFile
}

// asText returns the header of a multipart that cannot be split, read as
// one text part.
func (ph *partHeader) asText() *partHeader {
	c := *ph
	c.mediaType = "text/plain"
	return &c
}

// asOpaque returns the header of a part kept whole as a file.
func (ph *partHeader) asOpaque() *partHeader {
	c := *ph
	c.forceFile = true
	return &c
}

func (ph *partHeader) isHTML() bool {
	if ph.mediaType == "text/html" || ph.mediaType == "application/xhtml+xml" {
		return true
	}
	switch strings.ToLower(path.Ext(ph.filename)) {
	case ".htm", ".html", ".xhtml", ".shtml", ".hta":
		return true
	}
	return false
}

// isOutlookMsg reports an Outlook .msg file, whose text is kept as strings.
func (ph *partHeader) isOutlookMsg() bool {
	return ph.mediaType == "application/vnd.ms-outlook" || strings.EqualFold(path.Ext(ph.filename), ".msg")
}

// textLike reports whether a file's content is text worth keeping for
// indicator extraction: text of any kind, HTML, SVG, scripts and the like.
func (ph *partHeader) textLike() bool {
	if strings.HasPrefix(ph.mediaType, "text/") {
		return true
	}
	switch ph.mediaType {
	case "application/xhtml+xml", "image/svg+xml", "application/xml", "application/json",
		"application/javascript", "application/x-javascript", "application/ecmascript",
		"message/delivery-status", "message/global-delivery-status", "message/disposition-notification",
		"message/global-headers", "message/rfc822-headers", "message/external-body", "application/ics", "application/rtf":
		return true
	}
	switch strings.ToLower(path.Ext(ph.filename)) {
	case ".htm", ".html", ".xhtml", ".shtml", ".hta", ".svg", ".txt", ".csv", ".xml", ".json",
		".js", ".vbs", ".ps1", ".bat", ".cmd", ".url", ".ics", ".vcf", ".log", ".rtf", ".md":
		return true
	}
	return false
}

// attachment makes the Attachment for a file part.
func (ph *partHeader) attachment(path string) *Attachment {
	a := &Attachment{
		Path:        path,
		Filename:    ph.filename,
		ContentType: ph.mediaType,
		Disposition: ph.disposition,
		ContentID:   ph.contentID,
		Inline:      ph.disposition == "inline" || (ph.contentID != "" && ph.disposition != "attachment"),
	}
	a.SafeName, a.Suspicious = SanitizeFilename(ph.filename)
	if a.SafeName == "" {
		a.SafeName = defaultFileName(path, ph.mediaType)
	}
	return a
}

// parseMediaType parses a Content-Type or Content-Disposition value
// leniently: "type/subtype; name=value; ..." with quoted or unquoted
// values, RFC 2231 extended and continued parameters, missing semicolons
// and unterminated quotes. The type and the parameter names are
// lower-cased. problem describes the first deviation from the RFCs, if
// any.
func parseMediaType(v string) (mt string, params map[string]string, problem string) {
	v = strings.TrimSpace(v)
	i := 0
	for i < len(v) && v[i] != ';' && v[i] != ' ' && v[i] != '\t' {
		i++
	}
	mt = strings.ToLower(v[:i])
	rest := v[i:]
	if strings.HasPrefix(strings.TrimLeft(rest, " \t"), ";") {
		rest = strings.TrimLeft(rest, " \t")[1:]
	} else if strings.TrimSpace(rest) != "" {
		problem = "missing \";\" after " + strconv.Quote(truncate(mt, 40))
	}

	type section struct {
		n       int
		encoded bool
		value   string
	}
	var (
		plain    = map[string]string{}
		extended = map[string][]section{}
	)
	for {
		rest = strings.TrimLeft(rest, " \t;")
		if rest == "" {
			break
		}
		// The name.
		j := 0
		for j < len(rest) && rest[j] != '=' && rest[j] != ';' && rest[j] != ' ' && rest[j] != '\t' {
			j++
		}
		name := strings.ToLower(rest[:j])
		rest = strings.TrimLeft(rest[j:], " \t")
		if !strings.HasPrefix(rest, "=") {
			// A word without a value.
			if problem == "" && name != "" {
				problem = "parameter " + strconv.Quote(truncate(name, 40)) + " without a value"
			}
			continue
		}
		rest = strings.TrimLeft(rest[1:], " \t")
		// The value: a quoted string or everything up to the next ";".
		var value string
		if strings.HasPrefix(rest, `"`) {
			var sb strings.Builder
			k := 1
			closed := false
			for ; k < len(rest); k++ {
				c := rest[k]
				if c == '\\' && k+1 < len(rest) {
					k++
					sb.WriteByte(rest[k])
					continue
				}
				if c == '"' {
					closed = true
					k++
					break
				}
				sb.WriteByte(c)
			}
			if !closed && problem == "" {
				problem = "unterminated quoted string"
			}
			value = sb.String()
			rest = rest[k:]
			// Junk between the closing quote and the next ";" is dropped.
			if s := strings.IndexByte(rest, ';'); s >= 0 {
				rest = rest[s:]
			} else {
				rest = ""
			}
		} else {
			var k int
			value, k = unquotedValue(rest)
			if k < len(rest) && rest[k] != ';' && problem == "" {
				problem = "missing \";\" between parameters"
			}
			rest = rest[k:]
		}
		if name == "" {
			continue
		}
		// RFC 2231: name*, name*0, name*0*, name*1, ...
		if star := strings.IndexByte(name, '*'); star >= 0 {
			base, suffix := name[:star], name[star+1:]
			encoded := strings.HasSuffix(suffix, "*") || suffix == ""
			suffix = strings.TrimSuffix(suffix, "*")
			n := 0
			if suffix != "" {
				var err error
				if n, err = strconv.Atoi(suffix); err != nil || n < 0 || n > 999 {
					continue
				}
			}
			extended[base] = append(extended[base], section{n: n, encoded: encoded, value: value})
			continue
		}
		if _, dup := plain[name]; !dup {
			plain[name] = value
		}
	}
	for base, secs := range extended {
		sort.SliceStable(secs, func(a, b int) bool { return secs[a].n < secs[b].n })
		var (
			charset string
			raw     []byte
		)
		for k, s := range secs {
			val := s.value
			if k == 0 && s.encoded {
				// charset'language'value
				if q1 := strings.IndexByte(val, '\''); q1 >= 0 {
					if q2 := strings.IndexByte(val[q1+1:], '\''); q2 >= 0 {
						charset = val[:q1]
						val = val[q1+1+q2+1:]
					}
				}
			}
			if s.encoded {
				raw = append(raw, percentDecode(val)...)
			} else {
				raw = append(raw, val...)
			}
		}
		text, _ := decodeCharset(raw, charset)
		// The extended form wins over a plain parameter of the same name.
		plain[base] = text
	}
	return mt, plain, problem
}

// unquotedValue returns the unquoted parameter value at the start of s and
// where it ends: at ";" or the end, or, as mailers that do not quote write
// "name=a b.pdf", at white space followed by another "name=". Each byte is
// looked at once or twice, whatever the input.
func unquotedValue(s string) (string, int) {
	end := 0 // end of the value so far, without trailing blanks
	i := 0
	for i < len(s) {
		c := s[i]
		if c == ';' {
			break
		}
		if c != ' ' && c != '\t' {
			i++
			end = i
			continue
		}
		// Blanks: a new parameter follows if the next word ends in "=".
		j := i
		for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
			j++
		}
		w := j
		for w < len(s) && s[w] != ';' && s[w] != ' ' && s[w] != '\t' && s[w] != '=' {
			w++
		}
		if w < len(s) && s[w] == '=' && w > j {
			return s[:end], i
		}
		i = j
	}
	return s[:end], i
}

// percentDecode decodes %XX escapes, keeping invalid ones as they are.
func percentDecode(s string) []byte {
	if !strings.Contains(s, "%") {
		return []byte(s)
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && unhex(s[i+1]) < 16 && unhex(s[i+2]) < 16 {
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		out = append(out, s[i])
	}
	return out
}
