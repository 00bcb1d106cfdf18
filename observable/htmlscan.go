package observable

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// htmlLink is a URL-valued attribute of an HTML element.
type htmlLink struct {
	value string
	// text is the text of the <a> element holding an href, for comparing
	// what the reader sees with where the link goes.
	text string
	a    bool
}

// htmlDoc is what the scanner keeps of an HTML document.
type htmlDoc struct {
	links []htmlLink
	// text is the readable text, with line breaks between blocks and
	// without comments, scripts and styles.
	text string
	// code is the text of scripts, scanned for URLs only.
	code string
}

// urlAttrs lists the attributes holding a URL, by element.
var urlAttrs = map[atom.Atom][]string{
	atom.A:          {"href"},
	atom.Area:       {"href"},
	atom.Link:       {"href"},
	atom.Base:       {"href"},
	atom.Img:        {"src", "lowsrc", "dynsrc", "longdesc"},
	atom.Image:      {"src", "href"},
	atom.Script:     {"src"},
	atom.Iframe:     {"src"},
	atom.Frame:      {"src", "longdesc"},
	atom.Embed:      {"src"},
	atom.Input:      {"src", "formaction"},
	atom.Button:     {"formaction"},
	atom.Source:     {"src"},
	atom.Video:      {"src", "poster"},
	atom.Audio:      {"src"},
	atom.Track:      {"src"},
	atom.Form:       {"action"},
	atom.Object:     {"data", "codebase"},
	atom.Applet:     {"codebase", "archive"},
	atom.Body:       {"background"},
	atom.Table:      {"background"},
	atom.Td:         {"background"},
	atom.Th:         {"background"},
	atom.Blockquote: {"cite"},
	atom.Q:          {"cite"},
}

// inlineElems do not break the text around them: "ex<b>ample</b>.com"
// reads "example.com".
var inlineElems = map[atom.Atom]bool{
	atom.A: true, atom.Abbr: true, atom.B: true, atom.Bdi: true, atom.Bdo: true, atom.Big: true,
	atom.Cite: true, atom.Code: true, atom.Data: true, atom.Del: true, atom.Dfn: true, atom.Em: true,
	atom.Font: true, atom.I: true, atom.Ins: true, atom.Kbd: true, atom.Label: true, atom.Mark: true,
	atom.Q: true, atom.S: true, atom.Samp: true, atom.Small: true, atom.Span: true, atom.Strike: true,
	atom.Strong: true, atom.Sub: true, atom.Sup: true, atom.Time: true, atom.Tt: true, atom.U: true,
	atom.Var: true, atom.Wbr: true, atom.Nobr: true,
}

// scanHTML walks an HTML document with a tokenizer (no tree is built):
// it collects the URLs of links, images, forms, frames, backgrounds, CSS
// url() values and meta refresh targets, and the readable text. Entities
// are decoded; comments are skipped.
func scanHTML(s string) htmlDoc {
	var (
		doc    htmlDoc
		text   strings.Builder
		code   strings.Builder
		inA    = -1 // index in doc.links of the open <a href>
		aText  strings.Builder
		raw    atom.Atom // the open <script> or <style>
		ignore int       // depth inside <head>-only text such as <title>
	)
	z := html.NewTokenizer(strings.NewReader(s))
	addLink := func(v string, a bool) int {
		v = cleanAttrURL(v)
		if v == "" {
			return -1
		}
		doc.links = append(doc.links, htmlLink{value: v, a: a})
		return len(doc.links) - 1
	}
	closeA := func() {
		if inA >= 0 {
			doc.links[inA].text = strings.TrimSpace(aText.String())
			inA = -1
			aText.Reset()
		}
	}
	consumed := 0
	for {
		tt := z.Next()
		if tt != html.ErrorToken {
			consumed += len(z.Raw())
		}
		switch tt {
		case html.ErrorToken:
			closeA()
			if consumed < len(s) {
				// The document ends inside a tag, as truncated mail does:
				// its URLs are still worth reporting.
				code.WriteString(s[consumed:])
			}
			doc.text = collapseText(text.String())
			doc.code = code.String()
			return doc
		case html.TextToken:
			t := string(z.Text())
			switch raw {
			case atom.Style:
				for _, u := range cssURLs(t) {
					addLink(u, false)
				}
				continue
			case atom.Script:
				code.WriteString(t)
				code.WriteByte('\n')
				continue
			}
			if ignore > 0 {
				continue
			}
			text.WriteString(t)
			if inA >= 0 {
				aText.WriteString(t)
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			if tt == html.EndTagToken {
				switch a {
				case atom.A:
					closeA()
				case atom.Script, atom.Style:
					raw = 0
				case atom.Title:
					if ignore > 0 {
						ignore--
					}
				}
				if !inlineElems[a] {
					text.WriteByte('\n')
				}
				continue
			}
			if !inlineElems[a] {
				text.WriteByte('\n')
			}
			switch a {
			case atom.Script, atom.Style:
				if tt == html.StartTagToken {
					raw = a
				}
			case atom.Title:
				if tt == html.StartTagToken {
					ignore++
				}
			case atom.A:
				closeA()
			}
			var refresh bool
			var content string
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				key := string(k)
				switch {
				case key == "style":
					for _, u := range cssURLs(string(v)) {
						addLink(u, false)
					}
					continue
				case key == "srcset" && (a == atom.Img || a == atom.Source):
					for _, c := range strings.Split(string(v), ",") {
						if f := strings.Fields(c); len(f) > 0 {
							addLink(f[0], false)
						}
					}
					continue
				case a == atom.Meta && key == "http-equiv":
					refresh = strings.EqualFold(strings.TrimSpace(string(v)), "refresh")
					continue
				case a == atom.Meta && key == "content":
					content = string(v)
					continue
				}
				for _, attr := range urlAttrs[a] {
					if key == attr {
						i := addLink(string(v), a == atom.A && key == "href")
						if a == atom.A && key == "href" && i >= 0 && tt == html.StartTagToken {
							inA = i
						}
					}
				}
			}
			if refresh {
				if u := refreshURL(content); u != "" {
					addLink(u, false)
				}
			}
		}
	}
}

// cleanAttrURL trims an attribute URL and removes the tabs and line breaks
// that browsers ignore inside URLs (and that hide "java\nscript:" or
// "ht\ttp://" from naive filters); inner spaces become %20.
func cleanAttrURL(v string) string {
	v = strings.TrimSpace(v)
	if strings.ContainsAny(v, "\t\r\n ") {
		// As browsers do: tabs and line breaks are dropped, spaces are
		// sent percent-encoded.
		v = strings.NewReplacer("\t", "", "\r", "", "\n", "", " ", "%20").Replace(v)
	}
	return v
}

// refreshURL returns the target of a meta refresh: "5; url=https://...".
func refreshURL(content string) string {
	i := strings.Index(strings.ToLower(content), "url")
	if i < 0 {
		return ""
	}
	rest := strings.TrimLeft(content[i+3:], " \t")
	if !strings.HasPrefix(rest, "=") {
		return ""
	}
	return strings.Trim(strings.TrimSpace(rest[1:]), `'"`)
}

// cssURLs returns the url(...) values and @import strings of a style sheet
// or style attribute.
func cssURLs(css string) []string {
	var out []string
	lower := strings.ToLower(css)
	for i := 0; ; {
		k := strings.Index(lower[i:], "url(")
		if k < 0 {
			break
		}
		j := i + k + 4
		for j < len(css) && (css[j] == ' ' || css[j] == '\t') {
			j++
		}
		var v string
		if j < len(css) && (css[j] == '"' || css[j] == '\'') {
			q := css[j]
			end := strings.IndexByte(css[j+1:], q)
			if end < 0 {
				break
			}
			v = css[j+1 : j+1+end]
			i = j + 1 + end + 1
		} else {
			end := strings.IndexByte(css[j:], ')')
			if end < 0 {
				break
			}
			v = strings.TrimSpace(css[j : j+end])
			i = j + end + 1
		}
		if v != "" {
			out = append(out, v)
		}
	}
	for i := 0; ; {
		k := strings.Index(lower[i:], "@import")
		if k < 0 {
			break
		}
		j := i + k + 7
		for j < len(css) && (css[j] == ' ' || css[j] == '\t') {
			j++
		}
		i = j
		if j < len(css) && (css[j] == '"' || css[j] == '\'') {
			if end := strings.IndexByte(css[j+1:], css[j]); end >= 0 {
				out = append(out, css[j+1:j+1+end])
				i = j + 1 + end + 1
			}
		}
	}
	return out
}

// collapseText trims each line, collapses runs of spaces and keeps at most
// one empty line between paragraphs.
func collapseText(s string) string {
	var sb strings.Builder
	blank := 0
	for _, line := range strings.Split(s, "\n") {
		line = strings.Join(strings.Fields(line), " ")
		if line == "" {
			blank++
			continue
		}
		if sb.Len() > 0 {
			if blank > 1 {
				sb.WriteString("\n\n")
			} else {
				sb.WriteByte('\n')
			}
		}
		blank = 0
		sb.WriteString(line)
	}
	return sb.String()
}

// HTMLText returns the readable text of an HTML document: text content
// with entities decoded and line breaks between blocks, without tags,
// comments, scripts or styles.
func HTMLText(s string) string { return scanHTML(s).text }
