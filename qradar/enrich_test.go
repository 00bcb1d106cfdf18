package qradar_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/synapse-go/synapse/qradar"
	"github.com/synapse-go/synapse/qradar/qradartest"
)

// seedEnrichment adds n offenses with perOffense distinct source addresses
// and perOffense/4 distinct local destination addresses each, two rules of
// ten and a domain.
func seedEnrichment(tb testing.TB, srv *qradartest.Server, n, perOffense int) {
	tb.Helper()
	for r := range 10 {
		must(tb)(srv.AddRule(qradartest.Rule{ID: int64(100001 + r), Name: fmt.Sprintf("Rule %d", r+1)}))
	}
	if err := srv.AddDomain(qradartest.Domain{ID: 1, Name: "Customer A"}); err != nil {
		tb.Fatal(err)
	}
	src, dst := int64(0), int64(0)
	for i := range n {
		o := qradartest.Offense{OffenseType: int64(i % 4), DomainID: int64(i % 2),
			Rules: []qradartest.OffenseRule{{ID: int64(100001 + i%10)}, {ID: 200000, Type: "BUILDING_BLOCK_RULE"}}}
		for range perOffense {
			src++
			must(tb)(srv.AddSourceAddress(qradartest.SourceAddress{ID: src, SourceIP: fmt.Sprintf("10.%d.%d.%d", src>>16&255, src>>8&255, src&255)}))
			o.SourceAddressIDs = append(o.SourceAddressIDs, src)
		}
		for range perOffense / 4 {
			dst++
			must(tb)(srv.AddLocalDestinationAddress(qradartest.LocalDestinationAddress{ID: dst, LocalDestinationIP: fmt.Sprintf("192.168.%d.%d", dst>>8&255, dst&255)}))
			o.LocalDestinationAddressIDs = append(o.LocalDestinationAddressIDs, dst)
		}
		must(tb)(srv.AddOffense(o))
	}
}

// TestEnrichBatches: enriching 500 offenses with 20 source addresses each
// (10,000 distinct ids, plus 2,500 local destinations) makes at most one
// address request per 50 ids, and none per single id.
func TestEnrichBatches(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	seedEnrichment(t, e.srv, 500, 20)
	var offenses []qradar.Offense
	for o, err := range e.c.Offenses.ListAll(t.Context(), &qradar.OffenseListOptions{Sort: "+id", Limit: 100}) {
		if err != nil {
			t.Fatal(err)
		}
		offenses = append(offenses, o)
	}
	e.srv.ResetRequestCounts()
	enriched, err := e.c.Offenses.Enrich(t.Context(), offenses, nil)
	if err != nil {
		t.Fatal(err)
	}

	const srcIDs, dstIDs = 500 * 20, 500 * 5
	srcCalls := e.srv.Requests("GET /api/siem/source_addresses")
	dstCalls := e.srv.Requests("GET /api/siem/local_destination_addresses")
	if srcCalls > srcIDs/50 || dstCalls > dstIDs/50 {
		t.Errorf("%d source address calls for %d ids, %d local destination calls for %d ids: more than one per 50 ids",
			srcCalls, srcIDs, dstCalls, dstIDs)
	}
	for _, single := range []string{"GET /api/siem/source_addresses/{source_address_id}", "GET /api/siem/local_destination_addresses/{local_destination_address_id}"} {
		if n := e.srv.Requests(single); n != 0 {
			t.Errorf("%d requests to %s", n, single)
		}
	}
	t.Logf("%d source address calls for %d ids, %d local destination calls for %d ids; all counts: %v",
		srcCalls, srcIDs, dstCalls, dstIDs, e.srv.RequestCounts())
	if n := e.srv.Requests("GET /api/analytics/rules"); n != 1 {
		t.Errorf("%d rule requests, want 1", n)
	}

	if len(enriched) != 500 {
		t.Fatalf("%d enriched offenses", len(enriched))
	}
	got := enriched[1]
	want := qradar.EnrichedOffense{
		Offense:             offenses[1],
		TypeName:            "Destination IP",
		SourceIPs:           []string{"10.0.0.21", "10.0.0.22", "10.0.0.23", "10.0.0.24", "10.0.0.25", "10.0.0.26", "10.0.0.27", "10.0.0.28", "10.0.0.29", "10.0.0.30", "10.0.0.31", "10.0.0.32", "10.0.0.33", "10.0.0.34", "10.0.0.35", "10.0.0.36", "10.0.0.37", "10.0.0.38", "10.0.0.39", "10.0.0.40"},
		LocalDestinationIPs: []string{"192.168.0.6", "192.168.0.7", "192.168.0.8", "192.168.0.9", "192.168.0.10"},
		Rules:               []qradar.NamedRule{{ID: 100002, Type: "CRE_RULE", Name: "Rule 2"}, {ID: 200000, Type: "BUILDING_BLOCK_RULE"}},
		DomainName:          "Customer A",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("enriched offense 2 (-want +got):\n%s", diff)
	}

	// A second pass finds types, rule names and domains in the cache.
	e.srv.ResetRequestCounts()
	if _, err := e.c.Offenses.Enrich(t.Context(), offenses[:10], &qradar.EnrichOptions{SkipAddresses: true}); err != nil {
		t.Fatal(err)
	}
	if counts := e.srv.RequestCounts(); len(counts) != 0 {
		t.Errorf("cached enrichment sent requests: %v", counts)
	}
}

// TestEnrichPartialFailure: a lookup that fails leaves its part empty and
// is reported; the others are still done.
func TestEnrichPartialFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, qradar.WithRetry(qradar.RetryPolicy{MaxRetries: -1}))
	seedEnrichment(t, e.srv, 3, 4)
	var offenses []qradar.Offense
	for o, err := range e.c.Offenses.ListAll(t.Context(), nil) {
		if err != nil {
			t.Fatal(err)
		}
		offenses = append(offenses, o)
	}
	e.srv.SetFaults(qradartest.Faults{Rate: 1, Kinds: []qradartest.FaultKind{qradartest.FaultStatus500}, Routes: []string{"GET /api/analytics/rules"}})
	enriched, err := e.c.Offenses.Enrich(t.Context(), offenses, nil)
	if err == nil || !errors.Is(err, qradar.ErrServer) || !strings.Contains(err.Error(), "rule names") {
		t.Fatalf("err = %v, want the rule lookup's server error", err)
	}
	if len(enriched) != 3 || len(enriched[0].SourceIPs) != 4 || enriched[0].TypeName != "Source IP" || enriched[0].Rules[0].Name != "" {
		t.Errorf("enriched[0] = %+v", enriched[0])
	}
	if _, err := e.c.Offenses.Enrich(t.Context(), offenses, &qradar.EnrichOptions{SkipRules: true, SkipDomains: true}); err != nil {
		t.Errorf("without rules: %v", err)
	}
}

func BenchmarkEnrich500Offenses(b *testing.B) {
	srv := qradartest.New()
	seedEnrichment(b, srv, 500, 20)
	ts := newTestServer(b, srv.Handler())
	c, err := qradar.NewClient(ts, qradar.WithToken(qradartest.Token), qradar.WithCacheTTL(-1))
	if err != nil {
		b.Fatal(err)
	}
	var offenses []qradar.Offense
	for o, err := range c.Offenses.ListAll(b.Context(), &qradar.OffenseListOptions{Limit: 500}) {
		if err != nil {
			b.Fatal(err)
		}
		offenses = append(offenses, o)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Offenses.Enrich(b.Context(), offenses, nil); err != nil {
			b.Fatal(err)
		}
	}
}
