package observable

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzSeeds adds the test messages and the small emails of the shared
// corpus, when it is there, as seeds.
func fuzzSeeds(f *testing.F) [][]byte {
	var seeds [][]byte
	paths, _ := filepath.Glob(filepath.Join("testdata", "*.eml"))
	if dir, err := filepath.Abs(filepath.Join("..", "..", "shared", "corpus", "eml")); err == nil {
		more, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
		paths = append(paths, more...)
	}
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if len(raw) <= 32<<10 {
			seeds = append(seeds, raw)
		}
	}
	return append(seeds,
		[]byte(attachmentsMessage),
		[]byte(phishMessage),
		[]byte("Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n--a--\r\n"),
		[]byte("Content-Type: message/rfc822\r\n\r\nContent-Type: message/rfc822\r\n\r\nSubject: x\r\n\r\ny"),
		[]byte(string(oleMagic)+"junk"),
	)
}

var knownTypes = map[DataType]bool{
	TypeAutonomousSystem: true, TypeDomain: true, TypeFile: true, TypeFilename: true, TypeFQDN: true,
	TypeHash: true, TypeHostname: true, TypeIP: true, TypeMail: true, TypeMailSubject: true,
	TypeOther: true, TypeRegexp: true, TypeRegistry: true, TypeURIPath: true, TypeURL: true, TypeUserAgent: true,
}

// checkObservables checks what every observable must satisfy, whatever
// the input.
func checkObservables(t *testing.T, obs []Observable) {
	t.Helper()
	seen := map[string]bool{}
	for _, o := range obs {
		if !knownTypes[o.Type] || o.Value == "" || len(o.Value) > maxValueLen || !utf8.ValidString(o.Value) {
			t.Fatalf("bad observable %q", o)
		}
		if o.Type != TypeFile {
			if k := string(o.Type) + "\x00" + o.Value; seen[k] {
				t.Fatalf("duplicate observable %q", o)
			} else {
				seen[k] = true
			}
		}
		switch o.Type {
		case TypeIP:
			if _, err := netip.ParseAddr(o.Value); err != nil {
				t.Fatalf("ip %q: %v", o.Value, err)
			}
		case TypeDomain, TypeFQDN:
			if h, ok := validHostname(o.Value); !ok || h != o.Value {
				t.Fatalf("%s %q is not a canonical host name", o.Type, o.Value)
			}
		case TypeURL:
			if _, ok := urlHostValid(o.Value); !ok {
				t.Fatalf("url %q has no valid host", o.Value)
			}
		case TypeMail:
			if !strings.Contains(o.Value, "@") {
				t.Fatalf("mail %q", o.Value)
			}
		case TypeHash:
			if !isHashShape(o.Value) {
				t.Fatalf("hash %q", o.Value)
			}
		case TypeFile:
			if o.Attachment == nil || o.Attachment.SafeName != o.Value {
				t.Fatalf("file %q without its attachment", o.Value)
			}
		}
	}
}

// FuzzParseEmail parses arbitrary input: it must never panic nor fail,
// decode text to valid UTF-8, name and hash every attachment, give paths
// that OpenAttachment streams again byte for byte, and extract only
// well-formed observables.
func FuzzParseEmail(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		e, err := ParseEmail(bytes.NewReader(raw), WithMaxTextSize(1<<16), WithMaxDepth(8))
		if err != nil {
			t.Fatalf("ParseEmail: %v", err)
		}
		if e.Size != int64(len(raw)) {
			t.Fatalf("Size %d, input %d bytes", e.Size, len(raw))
		}
		for _, f := range e.Header {
			if !utf8.ValidString(f.Value) {
				t.Fatalf("header %s: invalid UTF-8 %q", f.Name, f.Value)
			}
		}
		checked := 0
		var walk func(*Email)
		walk = func(e *Email) {
			if !utf8.ValidString(e.Subject) {
				t.Fatalf("subject %q", e.Subject)
			}
			for _, b := range e.Bodies {
				if !utf8.ValidString(b.Content) {
					t.Fatalf("body %s: invalid UTF-8", b.Path)
				}
			}
			for _, a := range e.Attachments {
				if a.SafeName == "" || !utf8.ValidString(a.SafeName) || !utf8.ValidString(a.Filename) || !validPartPath(a.Path) || len(a.SHA256) != 64 {
					t.Fatalf("bad attachment %+v", a)
				}
				if checked < 4 {
					checked++
					rc, err := OpenAttachment(bytes.NewReader(raw), a.Path, WithMaxDepth(8))
					if err != nil {
						t.Fatalf("OpenAttachment(%s): %v", a.Path, err)
					}
					h := sha256.New()
					n, err := io.Copy(h, rc)
					rc.Close()
					if err != nil || n != a.Size || hex.EncodeToString(h.Sum(nil)) != a.SHA256 {
						t.Fatalf("OpenAttachment(%s): %d bytes, err %v; parsed %d bytes", a.Path, n, err, a.Size)
					}
				}
				if a.Message != nil {
					walk(a.Message)
				}
			}
		}
		walk(e)
		checkObservables(t, Extract(e, ExtractOptions{Recipients: true}))
	})
}

// FuzzExtract extracts from arbitrary text, as plain text and as HTML.
func FuzzExtract(f *testing.F) {
	for _, s := range []string{
		"see https://example.com/a_(b). and hxxp://evil[.]example[.]com",
		"ip 10.0.0.1, ::ffff:1.2.3.4 and 2001:db8::1; mail jöhn@exämple.de",
		"d41d8cd98f00b204e9800998ecf8427e www.example.org/x?y=1",
		`<a href="https://a.example.com">https://b.example.org</a><!-- http://c.example.net --><style>x{background:url(https://d.example.com/i.png)}</style>`,
		"john [at] example [dot] org (.)[.]{.} [:]// hxxps[://]",
	} {
		f.Add(s)
	}
	for _, s := range fuzzSeeds(f) {
		if len(s) <= 4<<10 {
			f.Add(string(s))
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkObservables(t, ExtractText(s, ExtractOptions{}))
		e := &Email{Bodies: []*Body{{Path: "1", ContentType: "text/html", Content: s}}}
		checkObservables(t, Extract(e, ExtractOptions{}))
	})
}
