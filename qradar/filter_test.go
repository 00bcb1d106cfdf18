package qradar_test

import (
	"testing"
	"time"

	"github.com/synapse-go/synapse/qradar"
)

func TestFilterBuilders(t *testing.T) {
	t.Parallel()
	at := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	type myInt int
	tests := []struct {
		got  qradar.Filter
		want string
	}{
		{qradar.Eq("status", qradar.StatusOpen), `status = "OPEN"`},
		{qradar.Gt("last_updated_time", at), "last_updated_time > 1709294400000"},
		{qradar.Ge("id", qradar.OffenseID(7)), "id >= 7"},
		{qradar.Lt("magnitude", 5), "magnitude < 5"},
		{qradar.Le("score", 2.5), "score <= 2.5"},
		{qradar.Ne("assigned_to", "a\"b\\c"), `assigned_to != "a\"b\\c"`},
		{qradar.Eq("protected", true), "protected = true"},
		{qradar.Eq("x", uint8(3)), "x = 3"},
		{qradar.Eq("x", myInt(4)), "x = 4"},
		{qradar.Eq("x", nil), "x = null"},
		{qradar.Eq("x", struct{ A int }{1}), `x = "{1}"`},
		{qradar.In("id", 1, 2, 3), "id in (1,2,3)"},
		{qradar.In("id", []qradar.AddressID{4, 5}), "id in (4,5)"},
		{qradar.In("source_ip", "10.0.0.1", "10.0.0.2"), `source_ip in ("10.0.0.1","10.0.0.2")`},
		{qradar.IsNull("assigned_to"), "assigned_to is null"},
		{qradar.Not(qradar.Eq("id", 1)), "not (id = 1)"},
		{qradar.And(qradar.Eq("id", 1), "", qradar.Or(qradar.Eq("a", 1), qradar.Eq("b", 2))), `id = 1 and (a = 1 or b = 2)`},
		{qradar.And(qradar.Or(qradar.Eq("a", 1), qradar.Eq("b", 2))), `a = 1 or b = 2`},
		{qradar.And("(a = 1 or b = 2)", "c = 3"), `(a = 1 or b = 2) and c = 3`},
		{qradar.Or(), ""},
	}
	for _, tt := range tests {
		if tt.got.String() != tt.want {
			t.Errorf("got  %s\nwant %s", tt.got, tt.want)
		}
	}
}
