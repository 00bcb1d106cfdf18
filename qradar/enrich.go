package qradar

import (
	"context"
	"errors"
	"fmt"
)

// EnrichedOffense is an offense with the names and addresses its ids stand
// for.
type EnrichedOffense struct {
	Offense Offense
	// TypeName is the offense type's name ("Source IP", "Username"...), or
	// "" when the console does not know the type.
	TypeName string
	// SourceIPs and LocalDestinationIPs are the offense's addresses, in the
	// order of its id lists; ids that could not be resolved are left out.
	SourceIPs           []string
	LocalDestinationIPs []string
	// Rules are the offense's contributing rules, with their names where
	// the console has them.
	Rules []NamedRule
	// DomainName is the name of the offense's domain, or "".
	DomainName string
}

// NamedRule is a rule of an offense with its name.
type NamedRule struct {
	ID RuleID
	// Type is CRE_RULE, BUILDING_BLOCK_RULE or ADE_RULE.
	Type string
	// Name is "" for rules /analytics/rules does not list (building
	// blocks, anomaly rules).
	Name string
}

// EnrichOptions leave lookups out.
type EnrichOptions struct {
	SkipAddresses bool
	SkipRules     bool
	SkipDomains   bool
}

// Enrich resolves, for many offenses at once, their offense types, source
// and local destination addresses, rule names and domain names. Each kind
// of id is collected over all the offenses and resolved in batches (a
// request per WithBatchSize ids) or from the cache, so the number of
// requests does not grow with the number of offenses but with the number
// of distinct ids. A failed lookup does not stop the others: Enrich always
// returns one EnrichedOffense per offense, filled as far as it could, with
// the failures joined in the error.
func (s *OffensesService) Enrich(ctx context.Context, offenses []Offense, opts *EnrichOptions) ([]EnrichedOffense, error) {
	var o EnrichOptions
	if opts != nil {
		o = *opts
	}
	var (
		typeIDs          []OffenseTypeID
		srcIDs, localIDs []AddressID
		ruleIDs          []RuleID
		domainIDs        []DomainID
	)
	for i := range offenses {
		off := &offenses[i]
		typeIDs = append(typeIDs, off.OffenseType)
		srcIDs = append(srcIDs, off.SourceAddressIDs...)
		localIDs = append(localIDs, off.LocalDestinationAddressIDs...)
		for _, r := range off.Rules {
			ruleIDs = append(ruleIDs, r.ID)
		}
		domainIDs = append(domainIDs, off.DomainID)
	}

	var errs []error
	note := func(what string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("resolving %s: %w", what, err))
		}
	}
	c := s.c
	types, err := c.OffenseTypes.Lookup(ctx, typeIDs)
	note("offense types", err)
	var srcIPs, localIPs map[AddressID]string
	if !o.SkipAddresses {
		srcIPs, err = c.SourceAddresses.IPs(ctx, srcIDs)
		note("source addresses", err)
		localIPs, err = c.LocalDestinationAddresses.IPs(ctx, localIDs)
		note("local destination addresses", err)
	}
	var ruleNames map[RuleID]string
	if !o.SkipRules && len(ruleIDs) > 0 {
		ruleNames, err = c.Rules.Names(ctx, ruleIDs)
		note("rule names", err)
	}
	var domainNames map[DomainID]string
	if !o.SkipDomains && len(domainIDs) > 0 {
		domainNames, err = c.Domains.Names(ctx, domainIDs)
		note("domain names", err)
	}

	out := make([]EnrichedOffense, len(offenses))
	for i := range offenses {
		off := offenses[i]
		e := EnrichedOffense{Offense: off, DomainName: domainNames[off.DomainID]}
		if t, ok := types[off.OffenseType]; ok {
			e.TypeName = t.Name
		}
		for _, id := range off.SourceAddressIDs {
			if ip, ok := srcIPs[id]; ok {
				e.SourceIPs = append(e.SourceIPs, ip)
			}
		}
		for _, id := range off.LocalDestinationAddressIDs {
			if ip, ok := localIPs[id]; ok {
				e.LocalDestinationIPs = append(e.LocalDestinationIPs, ip)
			}
		}
		for _, r := range off.Rules {
			e.Rules = append(e.Rules, NamedRule{ID: r.ID, Type: r.Type, Name: ruleNames[r.ID]})
		}
		out[i] = e
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("qradar: enriching offenses: %w", errors.Join(errs...))
	}
	return out, nil
}
