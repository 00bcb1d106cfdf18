package qradar

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestEpochMillis(t *testing.T) {
	t.Parallel()
	at := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{"1709294400000", at, false},
		{"null", time.Time{}, false},
		{"0", time.Time{}, false},
		{`"1709294400000"`, at, false},
		{`""`, time.Time{}, false},
		{`"2024-03-01T12:00:00Z"`, at, false},
		{"1709294400000.0", at, false},
		{`"yesterday"`, time.Time{}, true},
		{"true", time.Time{}, true},
		{`"unterminated`, time.Time{}, true},
	}
	for _, tt := range tests {
		var m epochMillis
		err := m.UnmarshalJSON([]byte(tt.in))
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: err = %v", tt.in, err)
			continue
		}
		if !time.Time(m).Equal(tt.want) {
			t.Errorf("%s: %v, want %v", tt.in, time.Time(m), tt.want)
		}
	}
	b, _ := epochMillis(at).MarshalJSON()
	if string(b) != "1709294400000" {
		t.Errorf("marshal: %s", b)
	}
	b, _ = epochMillis{}.MarshalJSON()
	if string(b) != "null" {
		t.Errorf("marshal of zero: %s", b)
	}
}

// TestTypesRoundTrip: every type with times marshals to the wire form and
// reads back; decoding tolerates unknown keys, missing keys and nulls.
func TestTypesRoundTrip(t *testing.T) {
	t.Parallel()
	at := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	check := func(name string, in, out any) {
		t.Helper()
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	n := Note{ID: 1, CreateTime: at, Username: "u", Text: "x"}
	var n2 Note
	check("note", n, &n2)
	s := SourceAddress{ID: 1, IP: "10.0.0.1", FirstEventFlowSeen: at, LastEventFlowSeen: at.Add(time.Hour)}
	var s2 SourceAddress
	check("source address", s, &s2)
	l := LocalDestinationAddress{ID: 2, IP: "10.0.0.2", FirstEventFlowSeen: at}
	var l2 LocalDestinationAddress
	check("local destination", l, &l2)
	r := Rule{ID: 3, Name: "r", CreationDate: at, ModificationDate: at, CapacityTimestamp: at}
	var r2 Rule
	check("rule", r, &r2)
	if diff := cmp.Diff([]any{n, s, l, r}, []any{n2, s2, l2, r2}); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}

	var o Offense
	raw := `{"id":16,"assigned_to":null,"close_time":null,"closing_reason_id":null,"start_time":1709294400000,
		"a_key_of_a_newer_version":{"x":1},"status":"OPEN","rules":[{"id":1,"type":"CRE_RULE"}]}`
	if err := json.Unmarshal([]byte(raw), &o); err != nil {
		t.Fatal(err)
	}
	want := Offense{ID: 16, StartTime: at, Status: StatusOpen, Rules: []OffenseRule{{ID: 1, Type: "CRE_RULE"}}}
	if diff := cmp.Diff(want, o); diff != "" {
		t.Errorf("tolerant decoding (-want +got):\n%s", diff)
	}
	for name, bad := range map[string]any{"offense": &Offense{}, "note": &Note{}, "source": &SourceAddress{}, "local": &LocalDestinationAddress{}, "rule": &Rule{}} {
		if err := json.Unmarshal([]byte(`{"id":"x"}`), bad); err == nil {
			t.Errorf("%s: a string id was accepted", name)
		}
	}
}

func TestParseContentRange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		n    int
		isOK bool
	}{
		{"items 0-49/120", 120, true},
		{"items */3", 3, true},
		{" ITEMS 0-0/1 ", 1, true},
		{"items 0-4", 0, false},
		{"bytes 0-4/5", 0, false},
		{"items 0-4/-1", 0, false},
		{"items 0-4/x", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		n, ok := parseContentRange(tt.in)
		if n != tt.n || ok != tt.isOK {
			t.Errorf("%q: %d %v", tt.in, n, ok)
		}
	}
}

func TestCacheExpires(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newCache[int, string](time.Minute)
	c.now = func() time.Time { return now }
	c.put(1, "one", true)
	c.put(2, "", false)
	if v, found, cached := c.get(1); v != "one" || !found || !cached {
		t.Errorf("get(1) = %q %v %v", v, found, cached)
	}
	if _, found, cached := c.get(2); found || !cached {
		t.Errorf("negative entry: found %v cached %v", found, cached)
	}
	now = now.Add(2 * time.Minute)
	if _, _, cached := c.get(1); cached {
		t.Error("entry outlived its TTL")
	}
	off := newCache[int, string](-1)
	off.put(1, "one", true)
	if _, _, cached := off.get(1); cached {
		t.Error("a disabled cache kept an entry")
	}
}
