package qradartest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFilterEval(t *testing.T) {
	t.Parallel()
	obj := map[string]any{
		"id":       int64(7),
		"score":    2.5,
		"name":     "Alpha Beta",
		"enabled":  true,
		"owner":    nil,
		"duration": map[string]any{"days": int64(21)},
		"tags":     []any{"a", "b"},
		"ports":    []any{int64(22), int64(443)},
		"rules":    []any{map[string]any{"id": int64(1), "type": "CRE_RULE"}, map[string]any{"id": int64(2), "type": "ADE_RULE"}},
	}
	tests := []struct {
		filter string
		want   bool
	}{
		{"id = 7", true},
		{"id = 7.0", true},
		{`id = "7"`, true},
		{"id = seven", false},
		{"id > 6.5", true},
		{"id >= 1e1", false},
		{"score > 2", true},
		{"score = 2.5", true},
		{`score < "3"`, true},
		{"score = x", false},
		{"name = \"Alpha Beta\"", true},
		{`name = 'Alpha \'Beta\''`, false},
		{`name > "Alpha"`, true},
		{"enabled = true", true},
		{"enabled = TRUE", true},
		{`enabled = "false"`, false},
		{"enabled != false", true},
		{"enabled > false", true},
		{"enabled = 1", false},
		{"owner = x", false},
		{"owner != x", true},
		{"owner in (x)", false},
		{"owner not in (x)", true},
		{"owner between 1 and 2", false},
		{"owner not between 1 and 2", true},
		{"owner like \"%\"", false},
		{"owner not like \"%\"", true},
		{"owner is null", true},
		{"missing is null", true},
		{"duration(days) >= 20", true},
		{"duration(days) < 20", false},
		{"tags contains \"b\"", true},
		{"tags contains c", false},
		{"tags contains (. = a)", true},
		{"ports contains 443", true},
		{"ports contains (. > 1000)", false},
		{"rules contains type = ADE_RULE", true},
		{"rules contains (id = 2 and type = CRE_RULE)", false},
		{"rules contains id in (3, 4)", false},
		{"name contains x", false},
		{"not (id = 7 or id = 8)", false},
		{"NOT id = 8 AND name ILIKE 'alpha%'", true},
		{"id = 7 and (name like \"Alpha_Beta\" or enabled = false)", true},
		{"id between 7 and 7", true},
		{"-id = 3", false},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			n, err := parseFilter(tt.filter, nil)
			if err != nil {
				if tt.filter == "-id = 3" {
					return // a field cannot start with a sign
				}
				t.Fatalf("parse: %v", err)
			}
			if got := n.eval(obj); got != tt.want {
				t.Errorf("eval = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestIDCandidates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		filter string
		ids    []int64
		ok     bool
	}{
		{"id in (3,1,2)", []int64{3, 1, 2}, true},
		{"id = 4", []int64{4}, true},
		{"status = OPEN and id in (5)", []int64{5}, true},
		{"id in (5) or id = 6", nil, false},
		{"id not in (5)", nil, false},
		{"id in (\"x\")", nil, false},
		{"id > 4", nil, false},
	}
	for _, tt := range tests {
		n, err := parseFilter(tt.filter, nil)
		if err != nil {
			t.Fatalf("%s: %v", tt.filter, err)
		}
		ids, ok := idCandidates(n)
		if ok != tt.ok || !cmp.Equal(ids, tt.ids) {
			t.Errorf("%s: got %v %v, want %v %v", tt.filter, ids, ok, tt.ids, tt.ok)
		}
	}
}

func TestParseFields(t *testing.T) {
	t.Parallel()
	sel, err := parseFields(" id , rules(id, type), rules[id], log_sources(name)")
	if err != nil {
		t.Fatal(err)
	}
	want := fieldSel{"id": nil, "rules": fieldSel{"id": nil, "type": nil}, "log_sources": fieldSel{"name": nil}}
	if diff := cmp.Diff(want, sel); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, bad := range []string{"id,", ",id", "rules(id", "rules(id))", "a b"} {
		if _, err := parseFields(bad); err == nil {
			t.Errorf("parseFields(%q) accepted it", bad)
		}
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		"status=OPEN", "id in (1,2,3)", "a between 1 and 2", "x is not null", `n ilike "a%"`,
		"rules contains id = 3", "tags contains (. = a)", "not (a = 1 or b != 2)", "d(days) >= 1e3",
		`s = "a\"b"`, "((((", "a = -1.5e-3",
	} {
		f.Add(s)
	}
	obj := map[string]any{"id": int64(1), "a": "x", "tags": []any{"a", nil, int64(2)}, "d": map[string]any{"days": 2.0}, "n": nil}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseFilter(s, nil)
		if err != nil {
			if _, ok := err.(*filterError); !ok {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		n.eval(obj)
		idCandidates(n)
	})
}

func FuzzParseFields(f *testing.F) {
	for _, s := range []string{"id,status", "rules(id,type)", "a[b[c]]", "(", ")"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sel, err := parseFields(s)
		if err != nil {
			return
		}
		sel.project(map[string]any{"id": int64(1), "rules": []any{map[string]any{"id": int64(2)}}})
		sel.unknownField(offenseFields)
	})
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"items=0-49", "items=5-1", "items=*", "items=99999999999999999999-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseRange(s)
		if err != nil {
			return
		}
		for _, n := range []int{0, 1, 100} {
			lo, hi, _ := r.apply(n)
			if lo < 0 || hi > n || lo > hi {
				t.Fatalf("%q over %d items: [%d, %d)", s, n, lo, hi)
			}
		}
	})
}
