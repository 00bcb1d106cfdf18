package qradar_test

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/synapse-go/synapse/qradar"
	"github.com/synapse-go/synapse/qradar/qradartest"
)

// TestReferenceRequests pins the requests of the closing reason, offense
// type, address, rule, domain and system operations.
func TestReferenceRequests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		op   func(ctx context.Context, c *qradar.Client) error
		want []sent
	}{
		{"closing reasons", func(ctx context.Context, c *qradar.Client) error {
			_, err := c.ClosingReasons.List(ctx, &qradar.ClosingReasonListOptions{IncludeReserved: true, IncludeDeleted: true, Filter: qradar.Eq("text", "Non-Issue")})
			return err
		}, []sent{{Method: "GET", Path: "/api/siem/offense_closing_reasons",
			Query: url.Values{"include_reserved": {"true"}, "include_deleted": {"true"}, "filter": {`text = "Non-Issue"`}}, Header: hdr()}}},
		{"closing reason", func(ctx context.Context, c *qradar.Client) error {
			_, err := c.ClosingReasons.Get(ctx, 2)
			return err
		}, []sent{{Method: "GET", Path: "/api/siem/offense_closing_reasons/2", Header: hdr()}}},
		{"create closing reason", func(ctx context.Context, c *qradar.Client) error {
			_, err := c.ClosingReasons.Create(ctx, "Resolved in TheHive")
			return err
		}, []sent{{Method: "POST", Path: "/api/siem/offense_closing_reasons", Query: url.Values{"reason": {"Resolved in TheHive"}}, Header: hdr()}}},
		{"offense types", func(ctx context.Context, c *qradar.Client) error {
			_, err := c.OffenseTypes.List(ctx, qradar.Eq("custom", true))
			return err
		}, []sent{{Method: "GET", Path: "/api/siem/offense_types", Query: url.Values{"filter": {"custom = true"}, "sort": {"+id"}}, Header: hdr()}}},
		{"offense type lookup", func(ctx context.Context, c *qradar.Client) error {
			_, err := c.OffenseTypes.Lookup(ctx, []qradar.OffenseTypeID{7, 0, 7})
			return err
		}, []sent{{Method: "GET", Path: "/api/siem/offense_types", Query: url.Values{"filter": {"id in (0,7)"}}, Header: hdr()}}},
		{"offense type", func(ctx context.Context, c *qradar.Client) error {
			_, err := c.OffenseTypes.Get(ctx, 3)
			return err
		}, []sent{{Method: "GET", Path: "/api/siem/offense_types/3", Header: hdr()}}},
		{"source addresses by id", func(ctx context.Context, c *qradar.Client) error {
			_, err := c.SourceAddresses.ByIDs(ctx, []qradar.AddressID{2, 1, 2})
			return err
		}, []sent{{Method: "GET", Path: "/api/siem/source_addresses", Query: url.Values{"filter": {"id in (1,2)"}}, Header: hdr()}}},
		{"source IPs", func(ctx context.Context, c *qradar.Client) error {
			_, err := c.SourceAddresses.IPs(ctx, []qradar.AddressID{1})
			return err
		}, []sent{{Method: "GET", Path: "/api/siem/source_addresses", Query: url.Values{"filter": {"id in (1)"}, "fields": {"id,source_ip"}}, Header: hdr()}}},
		{"source address", func(ctx context.Context, c *qradar.Client) error {
			_, err := c.SourceAddresses.Get(ctx, 1)
			return err
		}, []sent{{Method: "GET", Path: "/api/siem/source_addresses/1", Header: hdr()}}},
		{"source address list", func(ctx context.Context, c *qradar.Client) error {
			_, err := c.SourceAddresses.List(ctx, &qradar.AddressListOptions{Filter: qradar.Eq("source_ip", "10.0.0.1"), Fields: []string{"id"}, Limit: 10})
			return err
		}, []sent{{Method: "GET", Path: "/api/siem/source_addresses", Query: url.Values{"filter": {`source_ip = "10.0.0.1"`}, "fields": {"id"}}, Header: hdr("Range", "items=0-9")}}},
		{"local destination IPs", func(ctx context.Context, c *qradar.Client) error {
			_, err := c.LocalDestinationAddresses.IPs(ctx, []qradar.AddressID{1})
			return err
		}, []sent{{Method: "GET", Path: "/api/siem/local_destination_addresses", Query: url.Values{"filter": {"id in (1)"}, "fields": {"id,local_destination_ip"}}, Header: hdr()}}},
		{"local destination address", func(ctx context.Context, c *qradar.Client) error {
			_, err := c.LocalDestinationAddresses.Get(ctx, 1)
			return err
		}, []sent{{Method: "GET", Path: "/api/siem/local_destination_addresses/1", Header: hdr()}}},
		{"local destination list", func(ctx context.Context, c *qradar.Client) error {
			_, err := c.LocalDestinationAddresses.List(ctx, &qradar.AddressListOptions{Offset: 5})
			return err
		}, []sent{{Method: "GET", Path: "/api/siem/local_destination_addresses", Header: hdr("Range", "items=5-54")}}},
		{"rule names", func(ctx context.Context, c *qradar.Client) error {
			_, err := c.Rules.Names(ctx, []qradar.RuleID{100002, 100001})
			return err
		}, []sent{{Method: "GET", Path: "/api/analytics/rules", Query: url.Values{"filter": {"id in (100001,100002)"}, "fields": {"id,name"}}, Header: hdr()}}},
		{"rule", func(ctx context.Context, c *qradar.Client) error {
			_, err := c.Rules.Get(ctx, 100001)
			return err
		}, []sent{{Method: "GET", Path: "/api/analytics/rules/100001", Header: hdr()}}},
		{"rule list", func(ctx context.Context, c *qradar.Client) error {
			_, err := c.Rules.List(ctx, &qradar.RuleListOptions{Filter: qradar.Eq("type", "EVENT"), Fields: []string{"id", "name"}, Limit: 100})
			return err
		}, []sent{{Method: "GET", Path: "/api/analytics/rules", Query: url.Values{"filter": {`type = "EVENT"`}, "fields": {"id,name"}}, Header: hdr("Range", "items=0-99")}}},
		{"domain names", func(ctx context.Context, c *qradar.Client) error {
			_, err := c.Domains.Names(ctx, []qradar.DomainID{0})
			return err
		}, []sent{{Method: "GET", Path: "/api/config/domain_management/domains", Query: url.Values{"filter": {"id in (0)"}, "fields": {"id,name"}}, Header: hdr()}}},
		{"domain", func(ctx context.Context, c *qradar.Client) error {
			_, err := c.Domains.Get(ctx, 0)
			return err
		}, []sent{{Method: "GET", Path: "/api/config/domain_management/domains/0", Header: hdr()}}},
		{"domains", func(ctx context.Context, c *qradar.Client) error {
			_, err := c.Domains.List(ctx, qradar.Eq("deleted", false))
			return err
		}, []sent{{Method: "GET", Path: "/api/config/domain_management/domains", Query: url.Values{"filter": {"deleted = false"}}, Header: hdr()}}},
		{"about", func(ctx context.Context, c *qradar.Client) error {
			_, err := c.System.About(ctx)
			return err
		}, []sent{{Method: "GET", Path: "/api/system/about", Header: hdr()}}},
		{"versions", func(ctx context.Context, c *qradar.Client) error {
			_, err := c.System.Versions(ctx)
			return err
		}, []sent{{Method: "GET", Path: "/api/help/versions", Header: hdr()}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			must(t)(e.srv.AddSourceAddress(qradartest.SourceAddress{SourceIP: "10.0.0.1"}))
			must(t)(e.srv.AddLocalDestinationAddress(qradartest.LocalDestinationAddress{LocalDestinationIP: "192.168.0.1"}))
			must(t)(e.srv.AddRule(qradartest.Rule{Name: "First"}))
			must(t)(e.srv.AddRule(qradartest.Rule{Name: "Second"}))
			if err := tt.op(t.Context(), e.c); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, e.rec.take(), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClosingReasons(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	must(t)(e.srv.AddClosingReason(qradartest.ClosingReason{Text: "Duplicate", Deleted: true}))
	must(t)(e.srv.AddClosingReason(qradartest.ClosingReason{Text: "Duplicate alert"}))
	reasons, err := e.c.ClosingReasons.List(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []qradar.ClosingReason{{ID: 1, Text: "Non-Issue"}, {ID: 2, Text: "False-Positive, Tuned"}, {ID: 3, Text: "Policy Violation"}, {ID: 5, Text: "Duplicate alert"}}
	if diff := cmp.Diff(want, reasons); diff != "" {
		t.Errorf("reasons (-want +got):\n%s", diff)
	}
	tests := []struct {
		name   string
		wantID qradar.ClosingReasonID
	}{
		{"non-issue", 1},
		{"  FALSE-POSITIVE, TUNED ", 2},
		{"duplicate alert", 5},
		{"duplicate", 0}, // deleted
		{"nothing like it", 0},
	}
	for _, tt := range tests {
		r, err := e.c.ClosingReasons.FindByName(t.Context(), tt.name)
		switch {
		case tt.wantID == 0 && !errors.Is(err, qradar.ErrNotFound):
			t.Errorf("FindByName(%q) = %+v, %v; want ErrNotFound", tt.name, r, err)
		case tt.wantID != 0 && (err != nil || r.ID != tt.wantID):
			t.Errorf("FindByName(%q) = %+v, %v; want id %d", tt.name, r, err, tt.wantID)
		}
	}
	if _, err := e.c.ClosingReasons.FindByName(t.Context(), " "); !errors.Is(err, qradar.ErrInvalidParams) {
		t.Errorf("empty name: %v", err)
	}
	created, err := e.c.ClosingReasons.Create(t.Context(), "Resolved in TheHive")
	if err != nil || created.Text != "Resolved in TheHive" || created.ID != 6 {
		t.Errorf("Create: %+v, %v", created, err)
	}
	if _, err := e.c.ClosingReasons.Create(t.Context(), "resolved in thehive"); !errors.Is(err, qradar.ErrConflict) {
		t.Errorf("duplicate reason: %v", err)
	}
	if _, err := e.c.ClosingReasons.Create(t.Context(), "tiny"); !errors.Is(err, qradar.ErrInvalidParams) {
		t.Errorf("short reason: %v", err)
	}
	got, err := e.c.ClosingReasons.Get(t.Context(), 4)
	if err != nil || !got.Deleted {
		t.Errorf("Get(4) = %+v, %v", got, err)
	}
}

func TestOffenseTypeCache(t *testing.T) {
	t.Parallel()
	e := newEnv(t, []qradartest.Option{qradartest.WithUnlistedOffenseTypes(3)})
	ids := []qradar.OffenseTypeID{0, 3, 7, 404}
	types, err := e.c.OffenseTypes.Lookup(t.Context(), ids)
	if err != nil {
		t.Fatal(err)
	}
	names := map[qradar.OffenseTypeID]string{}
	for id, ty := range types {
		names[id] = ty.Name
	}
	if diff := cmp.Diff(map[qradar.OffenseTypeID]string{0: "Source IP", 3: "Username", 7: "Hostname"}, names); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	// One batch, then each type the batch left out on its own (the
	// Community Edition gap and the unknown id).
	want := []sent{
		{Method: "GET", Path: "/api/siem/offense_types", Query: url.Values{"filter": {"id in (0,3,7,404)"}}, Header: hdr()},
		{Method: "GET", Path: "/api/siem/offense_types/3", Header: hdr()},
		{Method: "GET", Path: "/api/siem/offense_types/404", Header: hdr()},
	}
	if diff := cmp.Diff(want, e.rec.take(), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	// Everything, found or not, now comes from the cache.
	if _, err := e.c.OffenseTypes.Lookup(t.Context(), ids); err != nil {
		t.Fatal(err)
	}
	if ty, err := e.c.OffenseTypes.Get(t.Context(), 7); err != nil || ty.Name != "Hostname" {
		t.Errorf("Get(7) = %+v, %v", ty, err)
	}
	if _, err := e.c.OffenseTypes.Get(t.Context(), 404); !errors.Is(err, qradar.ErrNotFound) {
		t.Errorf("Get(404): %v", err)
	}
	if reqs := e.rec.take(); len(reqs) != 0 {
		t.Errorf("cached lookups sent %d requests", len(reqs))
	}
	e.c.OffenseTypes.ClearCache()
	if _, err := e.c.OffenseTypes.Get(t.Context(), 7); err != nil {
		t.Fatal(err)
	}
	if reqs := e.rec.take(); len(reqs) != 1 {
		t.Errorf("%d requests after ClearCache, want 1", len(reqs))
	}
}

func TestCacheDisabled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, qradar.WithCacheTTL(-1))
	for range 2 {
		if _, err := e.c.OffenseTypes.Get(t.Context(), 0); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.srv.Requests("GET /api/siem/offense_types/{offense_type_id}"); n != 2 {
		t.Errorf("%d requests with the cache disabled, want 2", n)
	}
}

func TestAddressBatches(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, qradar.WithBatchSize(100))
	var ids []qradar.AddressID
	for i := 1; i <= 250; i++ {
		must(t)(e.srv.AddSourceAddress(qradartest.SourceAddress{SourceIP: "10.0." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256)}))
		must(t)(e.srv.AddLocalDestinationAddress(qradartest.LocalDestinationAddress{LocalDestinationIP: "192.168.0." + strconv.Itoa(i%256)}))
		ids = append(ids, qradar.AddressID(i))
	}
	ids = append(ids, 9999) // unknown: simply absent
	as, err := e.c.SourceAddresses.ByIDs(t.Context(), ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 250 || as[0].IP != "10.0.0.1" || as[249].ID != 250 {
		t.Errorf("got %d addresses, first %+v", len(as), as[0])
	}
	var batchSizes []int
	for _, r := range e.rec.take() {
		batchSizes = append(batchSizes, strings.Count(r.Query.Get("filter"), ",")+1)
	}
	if diff := cmp.Diff([]int{100, 100, 51}, batchSizes); diff != "" {
		t.Errorf("batch sizes (-want +got):\n%s", diff)
	}
	ips, err := e.c.LocalDestinationAddresses.IPs(t.Context(), ids[:3])
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[qradar.AddressID]string{1: "192.168.0.1", 2: "192.168.0.2", 3: "192.168.0.3"}, ips); diff != "" {
		t.Errorf("local IPs (-want +got):\n%s", diff)
	}
	locals, err := e.c.LocalDestinationAddresses.ByIDs(t.Context(), []qradar.AddressID{4})
	if err != nil || len(locals) != 1 || locals[0].IP != "192.168.0.4" {
		t.Errorf("local ByIDs: %+v, %v", locals, err)
	}
	n := 0
	for a, err := range e.c.SourceAddresses.ListAll(t.Context(), &qradar.AddressListOptions{Limit: 100, Filter: qradar.Le("id", 120)}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		_ = a
	}
	if n != 120 {
		t.Errorf("ListAll gave %d addresses, want 120", n)
	}
	n = 0
	for _, err := range e.c.LocalDestinationAddresses.ListAll(t.Context(), &qradar.AddressListOptions{Limit: 100, Offset: 200}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 50 {
		t.Errorf("local ListAll gave %d addresses, want 50", n)
	}
	if _, err := e.c.SourceAddresses.Get(t.Context(), 9999); !errors.Is(err, qradar.ErrNotFound) {
		t.Errorf("unknown address: %v", err)
	}
	if ips, err := e.c.SourceAddresses.IPs(t.Context(), nil); err != nil || len(ips) != 0 {
		t.Errorf("IPs(nil) = %v, %v", ips, err)
	}
}

func TestRulesAndDomains(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	must(t)(e.srv.AddRule(qradartest.Rule{ID: 100405, Name: "Session Closed", Type: "EVENT", Enabled: true, CreationDate: t0}))
	must(t)(e.srv.AddRule(qradartest.Rule{ID: 100406, Name: "Login Failure", Type: "EVENT"}))
	if err := e.srv.AddDomain(qradartest.Domain{ID: 4, Name: "Customer A"}); err != nil {
		t.Fatal(err)
	}
	names, err := e.c.Rules.Names(t.Context(), []qradar.RuleID{100405, 555})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[qradar.RuleID]string{100405: "Session Closed"}, names); diff != "" {
		t.Errorf("rule names (-want +got):\n%s", diff)
	}
	e.rec.take()
	if names, err = e.c.Rules.Names(t.Context(), []qradar.RuleID{555, 100405}); err != nil || len(names) != 1 {
		t.Errorf("cached names: %v, %v", names, err)
	}
	if reqs := e.rec.take(); len(reqs) != 0 {
		t.Errorf("cached rule names sent %d requests", len(reqs))
	}
	e.c.Rules.ClearCache()
	r, err := e.c.Rules.Get(t.Context(), 100405)
	if err != nil || r.Name != "Session Closed" || !r.CreationDate.Equal(t0) || r.Origin != "USER" {
		t.Errorf("Get: %+v, %v", r, err)
	}
	var all []string
	for r, err := range e.c.Rules.ListAll(t.Context(), &qradar.RuleListOptions{Limit: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, r.Name)
	}
	if diff := cmp.Diff([]string{"Session Closed", "Login Failure"}, all); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}
	page, err := e.c.Rules.List(t.Context(), nil)
	if err != nil || len(page.Items) != 2 || page.Total != 2 {
		t.Errorf("List: %+v, %v", page, err)
	}

	dnames, err := e.c.Domains.Names(t.Context(), []qradar.DomainID{0, 4, 9})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[qradar.DomainID]string{0: "Default Domain", 4: "Customer A"}, dnames); diff != "" {
		t.Errorf("domain names (-want +got):\n%s", diff)
	}
	d, err := e.c.Domains.Get(t.Context(), 4)
	if err != nil || d.Name != "Customer A" {
		t.Errorf("Domains.Get: %+v, %v", d, err)
	}
	ds, err := e.c.Domains.List(t.Context(), "")
	if err != nil || len(ds) != 2 {
		t.Errorf("Domains.List: %+v, %v", ds, err)
	}
	about, err := e.c.System.About(t.Context())
	if err != nil || about.ExternalVersion == "" {
		t.Errorf("About: %+v, %v", about, err)
	}
	versions, err := e.c.System.Versions(t.Context())
	if err != nil || len(versions) != len(qradartest.DefaultVersions()) || versions[0].Version != "12.0" {
		t.Errorf("Versions: %+v, %v", versions, err)
	}
}
