package qradar

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strings"
)

// ClosingReasonsService manages offense closing reasons
// (/api/siem/offense_closing_reasons).
type ClosingReasonsService struct{ c *Client }

// ClosingReasonListOptions selects closing reasons.
type ClosingReasonListOptions struct {
	// IncludeReserved and IncludeDeleted add reasons that cannot be used to
	// close an offense.
	IncludeReserved bool
	IncludeDeleted  bool
	// Filter selects reasons, e.g. Eq("text", "Non-Issue").
	Filter Filter
}

// List returns every closing reason the options select: GET
// /siem/offense_closing_reasons.
func (s *ClosingReasonsService) List(ctx context.Context, opts *ClosingReasonListOptions) ([]ClosingReason, error) {
	q := url.Values{}
	if opts != nil {
		if opts.IncludeReserved {
			q.Set("include_reserved", "true")
		}
		if opts.IncludeDeleted {
			q.Set("include_deleted", "true")
		}
		if opts.Filter != "" {
			q.Set("filter", string(opts.Filter))
		}
	}
	return listAllItems[ClosingReason](ctx, s.c, "siem/offense_closing_reasons", q)
}

// Get returns a closing reason: GET
// /siem/offense_closing_reasons/{closing_reason_id}.
func (s *ClosingReasonsService) Get(ctx context.Context, id ClosingReasonID) (*ClosingReason, error) {
	return call[ClosingReason](ctx, s.c, &request{method: http.MethodGet, path: idPath("siem/offense_closing_reasons", int64(id))})
}

// Create adds a closing reason (5 to 60 characters): POST
// /siem/offense_closing_reasons?reason=... A reason that exists already
// fails with ErrConflict.
func (s *ClosingReasonsService) Create(ctx context.Context, text string) (*ClosingReason, error) {
	if n := len([]rune(text)); n < 5 || n > 60 {
		return nil, invalidParams("a closing reason has 5 to 60 characters, not %d", n)
	}
	return call[ClosingReason](ctx, s.c, &request{method: http.MethodPost, path: "siem/offense_closing_reasons", query: url.Values{"reason": {text}}})
}

// FindByName returns the usable (neither deleted nor reserved) closing
// reason whose text is name, ignoring case and surrounding space. None
// gives an error matching ErrNotFound.
func (s *ClosingReasonsService) FindByName(ctx context.Context, name string) (*ClosingReason, error) {
	want := strings.TrimSpace(name)
	if want == "" {
		return nil, invalidParams("empty closing reason name")
	}
	reasons, err := s.List(ctx, nil)
	if err != nil {
		return nil, err
	}
	for _, r := range reasons {
		if !r.Deleted && !r.Reserved && strings.EqualFold(strings.TrimSpace(r.Text), want) {
			return &r, nil
		}
	}
	return nil, fmt.Errorf("qradar: no closing reason named %q: %w", want, ErrNotFound)
}

// OffenseTypesService reads offense types (/api/siem/offense_types),
// keeping what it read for the client's cache time.
type OffenseTypesService struct {
	c     *Client
	cache *cache[OffenseTypeID, OffenseType]
}

// List returns the offense types that filter selects (all for ""),
// uncached: GET /siem/offense_types.
func (s *OffenseTypesService) List(ctx context.Context, filter Filter) ([]OffenseType, error) {
	q := url.Values{"sort": {"+id"}}
	if filter != "" {
		q.Set("filter", string(filter))
	}
	return listAllItems[OffenseType](ctx, s.c, "siem/offense_types", q)
}

// Get returns an offense type, from the cache when it can: GET
// /siem/offense_types/{offense_type_id}.
func (s *OffenseTypesService) Get(ctx context.Context, id OffenseTypeID) (*OffenseType, error) {
	if t, found, cached := s.cache.get(id); cached {
		if !found {
			return nil, fmt.Errorf("qradar: offense type %d: %w", id, ErrNotFound)
		}
		return &t, nil
	}
	t, err := call[OffenseType](ctx, s.c, &request{method: http.MethodGet, path: idPath("siem/offense_types", int64(id))})
	if errors.Is(err, ErrNotFound) {
		s.cache.put(id, OffenseType{}, false)
	}
	if err != nil {
		return nil, err
	}
	s.cache.put(id, *t, true)
	return t, nil
}

// Lookup returns the offense types of ids that exist, from the cache or
// with one request per batch (filter=id in (...)). A type the list leaves
// out (QRadar Community Edition does for some stock types) is read on its
// own; types the console does not know are absent from the map.
func (s *OffenseTypesService) Lookup(ctx context.Context, ids []OffenseTypeID) (map[OffenseTypeID]OffenseType, error) {
	out := make(map[OffenseTypeID]OffenseType, len(ids))
	missing := s.cache.split(uniqueIDs(ids), out)
	if len(missing) == 0 {
		return out, nil
	}
	types, err := fetchByIDs[OffenseType](ctx, s.c, "siem/offense_types", missing, nil)
	for _, t := range types {
		out[t.ID] = t
		s.cache.put(t.ID, t, true)
	}
	if err != nil {
		return out, err
	}
	for _, id := range missing {
		if _, ok := out[id]; ok {
			continue
		}
		t, err := s.Get(ctx, id)
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return out, err
		default:
			out[id] = *t
		}
	}
	return out, nil
}

// ClearCache forgets the cached offense types.
func (s *OffenseTypesService) ClearCache() { s.cache.clear() }

// AddressListOptions selects addresses.
type AddressListOptions struct {
	// Filter selects addresses, e.g. Eq("source_ip", "10.0.0.1").
	Filter Filter
	// Fields limits the fields returned.
	Fields []string
	// Offset is the position of the first address to return.
	Offset int
	// Limit is the page size (default DefaultPageSize).
	Limit int
}

func (o *AddressListOptions) params() listParams {
	if o == nil {
		return listParams{query: url.Values{}}
	}
	return listParams{query: listQuery(o.Filter, o.Fields, ""), offset: o.Offset, limit: o.Limit}
}

// SourceAddressesService reads offense source addresses
// (/api/siem/source_addresses).
type SourceAddressesService struct{ c *Client }

// Get returns a source address: GET
// /siem/source_addresses/{source_address_id}.
func (s *SourceAddressesService) Get(ctx context.Context, id AddressID) (*SourceAddress, error) {
	return call[SourceAddress](ctx, s.c, &request{method: http.MethodGet, path: idPath("siem/source_addresses", int64(id))})
}

// List returns one page of source addresses.
func (s *SourceAddressesService) List(ctx context.Context, opts *AddressListOptions) (*Page[SourceAddress], error) {
	return listPage[SourceAddress](ctx, s.c, "siem/source_addresses", opts.params())
}

// ListAll returns an iterator over every source address the options
// select.
func (s *SourceAddressesService) ListAll(ctx context.Context, opts *AddressListOptions) iter.Seq2[SourceAddress, error] {
	return listAll[SourceAddress](ctx, s.c, "siem/source_addresses", opts.params())
}

// ByIDs returns the source addresses of ids, one request per batch of ids
// (filter=id in (...)), not one per id. Unknown ids are absent; on an
// error the addresses of the batches already read are returned with it.
func (s *SourceAddressesService) ByIDs(ctx context.Context, ids []AddressID) ([]SourceAddress, error) {
	return fetchByIDs[SourceAddress](ctx, s.c, "siem/source_addresses", ids, nil)
}

// IPs returns the IP address of each of ids that exists, in batches as
// ByIDs does but asking only for id and source_ip.
func (s *SourceAddressesService) IPs(ctx context.Context, ids []AddressID) (map[AddressID]string, error) {
	as, err := fetchByIDs[SourceAddress](ctx, s.c, "siem/source_addresses", ids, []string{"id", "source_ip"})
	out := make(map[AddressID]string, len(as))
	for _, a := range as {
		out[a.ID] = a.IP
	}
	return out, err
}

// LocalDestinationAddressesService reads offense local destination
// addresses (/api/siem/local_destination_addresses).
type LocalDestinationAddressesService struct{ c *Client }

// Get returns a local destination address: GET
// /siem/local_destination_addresses/{local_destination_address_id}.
func (s *LocalDestinationAddressesService) Get(ctx context.Context, id AddressID) (*LocalDestinationAddress, error) {
	return call[LocalDestinationAddress](ctx, s.c, &request{method: http.MethodGet, path: idPath("siem/local_destination_addresses", int64(id))})
}

// List returns one page of local destination addresses.
func (s *LocalDestinationAddressesService) List(ctx context.Context, opts *AddressListOptions) (*Page[LocalDestinationAddress], error) {
	return listPage[LocalDestinationAddress](ctx, s.c, "siem/local_destination_addresses", opts.params())
}

// ListAll returns an iterator over every local destination address the
// options select.
func (s *LocalDestinationAddressesService) ListAll(ctx context.Context, opts *AddressListOptions) iter.Seq2[LocalDestinationAddress, error] {
	return listAll[LocalDestinationAddress](ctx, s.c, "siem/local_destination_addresses", opts.params())
}

// ByIDs returns the local destination addresses of ids, in batches as
// SourceAddressesService.ByIDs does.
func (s *LocalDestinationAddressesService) ByIDs(ctx context.Context, ids []AddressID) ([]LocalDestinationAddress, error) {
	return fetchByIDs[LocalDestinationAddress](ctx, s.c, "siem/local_destination_addresses", ids, nil)
}

// IPs returns the IP address of each of ids that exists, in batches,
// asking only for id and local_destination_ip.
func (s *LocalDestinationAddressesService) IPs(ctx context.Context, ids []AddressID) (map[AddressID]string, error) {
	as, err := fetchByIDs[LocalDestinationAddress](ctx, s.c, "siem/local_destination_addresses", ids, []string{"id", "local_destination_ip"})
	out := make(map[AddressID]string, len(as))
	for _, a := range as {
		out[a.ID] = a.IP
	}
	return out, err
}

// RulesService reads analytics rules (/api/analytics/rules), keeping the
// names it read for the client's cache time.
type RulesService struct {
	c     *Client
	names *cache[RuleID, string]
}

// RuleListOptions selects rules.
type RuleListOptions struct {
	// Filter selects rules, e.g. Eq("type", "EVENT").
	Filter Filter
	// Fields limits the fields returned.
	Fields []string
	// Offset is the position of the first rule to return.
	Offset int
	// Limit is the page size (default DefaultPageSize).
	Limit int
}

func (o *RuleListOptions) params() listParams {
	if o == nil {
		return listParams{query: url.Values{}}
	}
	return listParams{query: listQuery(o.Filter, o.Fields, ""), offset: o.Offset, limit: o.Limit}
}

// Get returns a rule: GET /analytics/rules/{id}. Building blocks and
// anomaly rules named by offenses may not be there (ErrNotFound).
func (s *RulesService) Get(ctx context.Context, id RuleID) (*Rule, error) {
	r, err := call[Rule](ctx, s.c, &request{method: http.MethodGet, path: idPath("analytics/rules", int64(id))})
	if err != nil {
		return nil, err
	}
	s.names.put(r.ID, r.Name, true)
	return r, nil
}

// List returns one page of rules.
func (s *RulesService) List(ctx context.Context, opts *RuleListOptions) (*Page[Rule], error) {
	return listPage[Rule](ctx, s.c, "analytics/rules", opts.params())
}

// ListAll returns an iterator over every rule the options select.
func (s *RulesService) ListAll(ctx context.Context, opts *RuleListOptions) iter.Seq2[Rule, error] {
	return listAll[Rule](ctx, s.c, "analytics/rules", opts.params())
}

// Names returns the name of each of ids that is a rule, from the cache or
// in batches (filter=id in (...)&fields=id,name). Ids that are not rules
// (building blocks, anomaly rules) are absent.
func (s *RulesService) Names(ctx context.Context, ids []RuleID) (map[RuleID]string, error) {
	return lookupNames(ctx, s.c, s.names, "analytics/rules", ids)
}

// ClearCache forgets the cached rule names.
func (s *RulesService) ClearCache() { s.names.clear() }

// DomainsService reads the domains of a multi-tenant console
// (/api/config/domain_management/domains), keeping the names it read for
// the client's cache time.
type DomainsService struct {
	c     *Client
	names *cache[DomainID, string]
}

// Get returns a domain: GET /config/domain_management/domains/{domain_id}.
func (s *DomainsService) Get(ctx context.Context, id DomainID) (*Domain, error) {
	d, err := call[Domain](ctx, s.c, &request{method: http.MethodGet, path: idPath("config/domain_management/domains", int64(id))})
	if err != nil {
		return nil, err
	}
	s.names.put(d.ID, d.Name, true)
	return d, nil
}

// List returns every domain filter selects (all for "").
func (s *DomainsService) List(ctx context.Context, filter Filter) ([]Domain, error) {
	q := url.Values{}
	if filter != "" {
		q.Set("filter", string(filter))
	}
	return listAllItems[Domain](ctx, s.c, "config/domain_management/domains", q)
}

// Names returns the name of each of ids that is a domain, from the cache
// or in batches (filter=id in (...)&fields=id,name).
func (s *DomainsService) Names(ctx context.Context, ids []DomainID) (map[DomainID]string, error) {
	return lookupNames(ctx, s.c, s.names, "config/domain_management/domains", ids)
}

// SystemService reads what the console says about itself.
type SystemService struct{ c *Client }

// About is the console's version.
type About struct {
	BuildVersion    string `json:"build_version"`
	ExternalVersion string `json:"external_version"`
	ReleaseName     string `json:"release_name"`
	FIPSEnabled     bool   `json:"fips_enabled"`
}

// About returns the console's version: GET /system/about. It is a cheap
// check of the URL, the credentials and the Version header.
func (s *SystemService) About(ctx context.Context) (*About, error) {
	return call[About](ctx, s.c, &request{method: http.MethodGet, path: "system/about"})
}

// APIVersion is an API version the console serves.
type APIVersion struct {
	ID         int64  `json:"id"`
	Version    string `json:"version"`
	Deprecated bool   `json:"deprecated"`
	Removed    bool   `json:"removed"`
}

// Versions returns the API versions the console knows: GET /help/versions.
// One that is not removed can be given to WithVersion.
func (s *SystemService) Versions(ctx context.Context) ([]APIVersion, error) {
	return listAllItems[APIVersion](ctx, s.c, "help/versions", url.Values{})
}
