package workflow

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/synapse-go/synapse/qradar"
	"github.com/synapse-go/synapse/thehive"
)

func qrTestConfig(t testing.TB, cfg QRadarConfig) *QRadarConfig {
	t.Helper()
	cfg, err := cfg.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	return &cfg
}

func TestOffenseObservablesByType(t *testing.T) {
	t.Parallel()
	type obs struct {
		DataType, Data string
		Tags           []string
	}
	tests := []struct {
		name     string
		cfg      QRadarConfig
		typeName string
		typeID   qradar.OffenseTypeID
		source   string
		want     []obs
	}{
		{name: "source IPv6", typeName: "Source IPv6", source: "2001:DB8::1",
			want: []obs{{"ip", "2001:db8::1", []string{"src"}}}},
		{name: "destination IP", typeName: "Destination IP", source: "192.0.2.1",
			want: []obs{{"ip", "192.0.2.1", []string{"dst"}}}},
		{name: "not an address", typeName: "Source IP", source: "not-an-ip"},
		{name: "username", typeName: "Username", source: "yarden",
			want: []obs{{"other", "yarden", []string{"type:username"}}}},
		{name: "username type of the organisation", cfg: QRadarConfig{UsernameDataType: "user-account"}, typeName: "Username", source: "yarden",
			want: []obs{{"user-account", "yarden", nil}}},
		{name: "placeholder username", typeName: "Username", source: "N/A"},
		{name: "hostname", typeName: "Hostname", source: "ws-042.corp.example",
			want: []obs{{"hostname", "ws-042.corp.example", nil}}},
		{name: "MAC address", typeName: "Source MAC Address", source: "00:11:22:33:44:55",
			want: []obs{{"other", "00:11:22:33:44:55", []string{"type:mac"}}}},
		{name: "unlisted stock type", typeID: 3, source: "yarden",
			want: []obs{{"other", "yarden", []string{"type:username"}}}},
		{name: "rule offense", typeName: "Rule", source: "Excessive Firewall Denies"},
		{name: "custom type holding an address", typeName: "Custom Property", typeID: 5001, source: "198.51.100.7",
			want: []obs{{"ip", "198.51.100.7", nil}}},
		{name: "extra tags", cfg: QRadarConfig{ObservableTags: []string{"qradar"}}, typeName: "Hostname", source: "db01",
			want: []obs{{"hostname", "db01", []string{"qradar"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := qrTestConfig(t, tt.cfg)
			s := &offenseAlert{offense: qradar.EnrichedOffense{
				Offense:  qradar.Offense{ID: 7, OffenseType: tt.typeID, OffenseSource: tt.source},
				TypeName: tt.typeName,
			}}
			var got []obs
			for _, g := range offenseObservables(cfg, s) {
				for _, d := range g.Data {
					got = append(got, obs{g.DataType, d, g.Tags})
				}
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("observables (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOffenseObservablesGroupsRequests(t *testing.T) {
	t.Parallel()
	var ips []string
	for i := range 300 {
		ips = append(ips, fmt.Sprintf("10.9.%d.%d", i/250, i%250+1))
	}
	s := &offenseAlert{offense: qradar.EnrichedOffense{Offense: qradar.Offense{ID: 8}, SourceIPs: ips}}
	groups := offenseObservables(qrTestConfig(t, QRadarConfig{}), s)
	if len(groups) != 1 || len(groups[0].Data) != 300 {
		t.Fatalf("%d groups, want the 300 source addresses in one", len(groups))
	}
	d := offenseDescription(qrTestConfig(t, QRadarConfig{}), s)
	if !strings.Contains(d, "10.9.0.50 and 250 more\n") {
		t.Errorf("the description lists every address:\n%s", d)
	}
}

func TestMarkdownEscaping(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, cell string }{
		{"plain", "plain"},
		{"a | b", `a \| b`},
		{"two\nlines\r\n\ttabbed", "two lines tabbed"},
		{"bad \xff byte", "bad \uFFFD byte"},
		{strings.Repeat("é", 400), strings.Repeat("é", 300) + "…"},
	}
	for _, tt := range tests {
		if got := mdCell(tt.in); got != tt.cell {
			t.Errorf("mdCell(%.20q) = %.40q, want %.40q", tt.in, got, tt.cell)
		}
	}
	var b strings.Builder
	eventsTable(&b, []qradar.Row{{"utf8_payload": "x ```` y", "custom col": "v|w"}})
	want := "| custom col |\n|---|\n| v\\|w |\n\nPayload of event 1:\n\n`````\nx ```` y\n`````\n"
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestOffenseTitle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		prefix, description, want string
	}{
		{"", "Multiple Login Failures\n containing Failure Audit\n", "Multiple Login Failures containing Failure Audit"},
		{"", "  \n", "QRadar offense 5"},
		{"[QRadar]", "Port scan", "[QRadar] Port scan"},
		{"", strings.Repeat("x", 600), strings.Repeat("x", 512) + "…"},
	}
	for _, tt := range tests {
		got := offenseTitle(qrTestConfig(t, QRadarConfig{TitlePrefix: tt.prefix}), &qradar.Offense{ID: 5, Description: tt.description})
		if got != tt.want {
			t.Errorf("title of %.20q = %.30q, want %.30q", tt.description, got, tt.want)
		}
	}
}

func TestOffenseTags(t *testing.T) {
	t.Parallel()
	cfg := qrTestConfig(t, QRadarConfig{Instance: "dc2", Tags: []string{"soc", "QRadar", " "}})
	got := offenseTags(cfg, &qradar.EnrichedOffense{Offense: qradar.Offense{Categories: []string{"Botnet", "Botnet", "Access Denied"}}, DomainName: "Tenant B"})
	want := []string{"QRadar", "Offense", "Synapse", "Botnet", "Access Denied", "domain:Tenant B", "qradar:dc2", "soc"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
}

func TestEventsQueryPlaceholders(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	o := &qradar.Offense{ID: 99, StartTime: start, LastUpdatedTime: start.Add(time.Hour)}
	cfg := qrTestConfig(t, QRadarConfig{EventLimit: 5,
		EventsQuery: "SELECT * FROM events WHERE INOFFENSE({offense_id}) LIMIT {limit} START {start} STOP {stop} -- {start_time} {last_updated_time}"})
	want := fmt.Sprintf("SELECT * FROM events WHERE INOFFENSE(99) LIMIT 5 START %d STOP %d -- %d %d",
		start.Add(-time.Minute).UnixMilli(), start.Add(5*time.Minute).UnixMilli(), start.UnixMilli(), start.Add(time.Hour).UnixMilli())
	if got := cfg.eventsAQL(o); got != want {
		t.Errorf("eventsAQL = %q\nwant %q", got, want)
	}
	if got, want := qrTestConfig(t, QRadarConfig{}).eventsAQL(o), qradar.OffenseEventsAQL(99, start, 3); got != want {
		t.Errorf("default events query %q, want %q", got, want)
	}
}

func TestOffenseSourceWatermarkPrefix(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	key := func(sec int, id qradar.OffenseID) offenseKey {
		return offenseKey{t: t0.Add(time.Duration(sec) * time.Second), id: id}
	}
	tests := []struct {
		name   string
		listed []offenseKey
		done   []offenseKey
		want   offenseKey
		ok     bool
	}{
		{name: "nothing listed"},
		{name: "all done", listed: []offenseKey{key(1, 5), key(1, 6), key(2, 1)}, done: []offenseKey{key(2, 1), key(1, 5), key(1, 6)}, want: key(2, 1), ok: true},
		{name: "first failed", listed: []offenseKey{key(1, 5), key(2, 1)}, done: []offenseKey{key(2, 1)}},
		{name: "middle failed", listed: []offenseKey{key(1, 5), key(1, 6), key(2, 1)}, done: []offenseKey{key(1, 5), key(2, 1)}, want: key(1, 5), ok: true},
	}
	for _, tt := range tests {
		s := &offenseSource{}
		s.start(offenseKey{})
		s.listed = tt.listed
		for _, k := range tt.done {
			s.done[k] = true
		}
		got, ok := s.finish()
		if ok != tt.ok || got != tt.want {
			t.Errorf("%s: finish() = %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
	if !key(1, 5).less(key(1, 6)) || !key(1, 6).less(key(2, 1)) || key(2, 1).less(key(1, 9)) || key(1, 5).less(key(1, 5)) {
		t.Error("offenseKey.less does not order by time, then id")
	}
}

func TestKeyedMutex(t *testing.T) {
	t.Parallel()
	var l keyedMutex
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := "a"
			if i%2 == 1 {
				key = "b"
			}
			unlock, err := l.lock(t.Context(), key)
			if err != nil {
				t.Error(err)
				return
			}
			defer unlock()
			if key == "a" {
				n := inside.Add(1)
				for {
					m := most.Load()
					if n <= m || most.CompareAndSwap(m, n) {
						break
					}
				}
				inside.Add(-1)
			}
		}()
	}
	wg.Wait()
	if most.Load() != 1 {
		t.Errorf("%d holders of one key at once", most.Load())
	}

	unlock, err := l.lock(t.Context(), "held")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := l.lock(ctx, "held"); err != context.Canceled {
		t.Errorf("lock of a held key with an ended context: %v", err)
	}
	unlock()
	unlock() // a second call is harmless
	l.mu.Lock()
	left := len(l.held)
	l.mu.Unlock()
	if left != 0 {
		t.Errorf("%d keys left held", left)
	}
}

func TestQRadarErrorTransience(t *testing.T) {
	t.Parallel()
	for status, want := range map[int]bool{500: true, 503: true, 429: true, 408: true, 404: false, 422: false, 401: false} {
		err := fmt.Errorf("wrapped: %w", &qradar.APIError{StatusCode: status})
		if got := IsTransient(err); got != want {
			t.Errorf("status %d: IsTransient = %v, want %v", status, got, want)
		}
	}
}

func BenchmarkOffenseAlert(b *testing.B) {
	cfg := qrTestConfig(b, QRadarConfig{Instance: "main", ConsoleURL: "https://qradar.example.com"})
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	s := &offenseAlert{offense: qradar.EnrichedOffense{
		Offense: qradar.Offense{ID: 211, Description: "Multiple Login Failures for the Same User\n containing Failure Audit\n",
			OffenseSource: "10.0.0.5", Severity: 7, Magnitude: 6, Categories: []string{"User Login Failure"},
			StartTime: start, LastUpdatedTime: start.Add(time.Minute)},
		TypeName: "Source IP",
		Rules:    []qradar.NamedRule{{ID: 100405, Type: "CRE_RULE", Name: "Multiple Login Failures"}},
	}}
	for i := range 20 {
		s.offense.SourceIPs = append(s.offense.SourceIPs, fmt.Sprintf("10.0.0.%d", i+1))
		s.offense.LocalDestinationIPs = append(s.offense.LocalDestinationIPs, fmt.Sprintf("192.168.0.%d", i+1))
	}
	for i := range 3 {
		s.events = append(s.events, qradar.Row{"starttime": start.UnixMilli(), "qidname_qid": "Failure Audit",
			"username": fmt.Sprintf("user%d", i), "utf8_payload": strings.Repeat("payload ", 100)})
	}
	b.ReportAllocs()
	for b.Loop() {
		a := buildOffenseAlert(cfg, s)
		if a.Severity != thehive.SeverityHigh {
			b.Fatal(a.Severity)
		}
	}
}

// Whatever an offense holds, its alert is valid UTF-8 and its tables keep
// one row per line.
func FuzzOffenseAlert(f *testing.F) {
	f.Add("Multiple Login Failures\n containing Failure Audit\n", "10.0.0.5", "Source IP", "Brute Force", "<13>payload | x ```", "alice")
	f.Add("", "yarden", "Username", "", "", "N/A")
	f.Add("a|b\r\nc", "\xff\xfe", "Hostname", "x|y", "````", "\x00")
	f.Add("\x89", "", "", "", "", "")
	cfg := qrTestConfig(f, QRadarConfig{Instance: "fuzz", ConsoleURL: "https://qradar.example.com"})
	f.Fuzz(func(t *testing.T, description, source, typeName, category, payload, user string) {
		s := &offenseAlert{
			offense: qradar.EnrichedOffense{
				Offense: qradar.Offense{ID: 1, Description: description, OffenseSource: source, Categories: []string{category},
					DestinationNetworks: []string{category}, StartTime: time.Unix(1700000000, 0)},
				TypeName: typeName, DomainName: category, SourceIPs: []string{source},
				Rules: []qradar.NamedRule{{ID: 1, Type: "CRE_RULE", Name: description}},
			},
			events: []qradar.Row{{"qidname_qid": description, "username": user, "utf8_payload": payload, category: source}},
		}
		a := buildOffenseAlert(cfg, s)
		for name, text := range map[string]string{"title": a.Title, "description": a.Description} {
			if !utf8.ValidString(text) {
				t.Fatalf("%s is not valid UTF-8: %q", name, text)
			}
		}
		if strings.ContainsAny(a.Title, "\r\n") || utf8.RuneCountInString(a.Title) > maxTitleRunes+1 {
			t.Fatalf("title %q", a.Title)
		}
		inTable, inFence := false, ""
		for _, line := range strings.Split(a.Description, "\n") {
			switch {
			case inFence != "":
				if line == inFence {
					inFence = ""
				}
			case strings.HasPrefix(line, "```"):
				inFence = line
			case strings.HasPrefix(line, "|"):
				inTable = true
				if !strings.HasSuffix(line, "|") {
					t.Fatalf("table row broken: %q", line)
				}
			case inTable && line != "":
				t.Fatalf("a table row spilled onto a new line: %q", line)
			default:
				inTable = false
			}
		}
		if inFence != "" {
			t.Fatalf("code block not closed in:\n%s", a.Description)
		}
		for _, g := range a.Observables {
			for _, d := range g.Data {
				if d == "" || !utf8.ValidString(d) {
					t.Fatalf("observable %q", d)
				}
			}
		}
	})
}
