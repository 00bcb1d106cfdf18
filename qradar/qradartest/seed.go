package qradartest

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// AddOffense stores an offense and returns its id; a zero ID gets the next
// free one. Zero fields get the defaults described on [Offense].
func (s *Server) AddOffense(o Offense) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o.ID < 0 {
		return 0, fmt.Errorf("qradartest: offense id %d is negative", o.ID)
	}
	if o.ID == 0 {
		s.lastOffense++
		o.ID = s.lastOffense
	}
	if _, dup := s.offenses[o.ID]; dup {
		return 0, fmt.Errorf("qradartest: offense %d: %w", o.ID, errDuplicate)
	}
	switch strings.ToUpper(o.Status) {
	case "", "OPEN", "HIDDEN", "CLOSED":
	default:
		return 0, fmt.Errorf("qradartest: offense %d: status %q is not OPEN, HIDDEN or CLOSED", o.ID, o.Status)
	}
	c := o.clone()
	c.withDefaults(s.now())
	s.offenses[c.ID] = c
	s.lastOffense = max(s.lastOffense, c.ID)
	s.indexDirty = true
	return c.ID, nil
}

// ModifyOffense changes a stored offense in place, as new events or an
// analyst in the console would (for example moving LastUpdatedTime).
func (s *Server) ModifyOffense(id int64, change func(*Offense)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.offenses[id]
	if o == nil {
		return fmt.Errorf("qradartest: offense %d does not exist", id)
	}
	c := o.clone()
	change(c)
	c.ID = id
	s.offenses[id] = c
	s.indexDirty = true
	return nil
}

// AddSourceAddress stores a source address and returns its id; a zero ID
// gets the next free one.
func (s *Server) AddSourceAddress(a SourceAddress) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a.ID == 0 {
		s.lastSource++
		a.ID = s.lastSource
	}
	if _, dup := s.sources[a.ID]; dup {
		return 0, fmt.Errorf("qradartest: source address %d: %w", a.ID, errDuplicate)
	}
	a.OffenseIDs = slices.Clone(a.OffenseIDs)
	a.LocalDestinationAddressIDs = slices.Clone(a.LocalDestinationAddressIDs)
	s.sources[a.ID] = &a
	s.lastSource = max(s.lastSource, a.ID)
	return a.ID, nil
}

// AddLocalDestinationAddress stores a local destination address and
// returns its id; a zero ID gets the next free one.
func (s *Server) AddLocalDestinationAddress(a LocalDestinationAddress) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a.ID == 0 {
		s.lastLocal++
		a.ID = s.lastLocal
	}
	if _, dup := s.locals[a.ID]; dup {
		return 0, fmt.Errorf("qradartest: local destination address %d: %w", a.ID, errDuplicate)
	}
	a.OffenseIDs = slices.Clone(a.OffenseIDs)
	a.SourceAddressIDs = slices.Clone(a.SourceAddressIDs)
	s.locals[a.ID] = &a
	s.lastLocal = max(s.lastLocal, a.ID)
	return a.ID, nil
}

// AddOffenseType stores an offense type, replacing any with the same id
// (ids 0 to 18 hold QRadar's stock types).
func (s *Server) AddOffenseType(t OffenseType) error {
	if t.ID < 0 {
		return fmt.Errorf("qradartest: offense type id %d is negative", t.ID)
	}
	if t.Name == "" {
		return errors.New("qradartest: an offense type needs a name")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.types[t.ID] = &t
	return nil
}

// AddRule stores an analytics rule and returns its id; a zero ID gets the
// next free one (from 100001).
func (s *Server) AddRule(r Rule) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.ID == 0 {
		s.lastRule = max(s.lastRule, 100000) + 1
		r.ID = s.lastRule
	}
	if _, dup := s.rules[r.ID]; dup {
		return 0, fmt.Errorf("qradartest: rule %d: %w", r.ID, errDuplicate)
	}
	if r.Type == "" {
		r.Type = "EVENT"
	}
	if r.Origin == "" {
		r.Origin = "USER"
	}
	if r.Owner == "" {
		r.Owner = Username
	}
	s.rules[r.ID] = &r
	s.lastRule = max(s.lastRule, r.ID)
	return r.ID, nil
}

// AddClosingReason stores a closing reason and returns its id; a zero ID
// gets the next free one. Ids 1 to 3 hold the stock reasons ("Non-Issue",
// "False-Positive, Tuned", "Policy Violation").
func (s *Server) AddClosingReason(c ClosingReason) (int64, error) {
	if c.Text == "" {
		return 0, errors.New("qradartest: a closing reason needs a text")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.ID == 0 {
		s.lastReason = max(s.lastReason, int64(len(stockClosingReasons))) + 1
		c.ID = s.lastReason
	}
	if _, dup := s.reasons[c.ID]; dup {
		return 0, fmt.Errorf("qradartest: closing reason %d: %w", c.ID, errDuplicate)
	}
	s.reasons[c.ID] = &c
	s.lastReason = max(s.lastReason, c.ID)
	return c.ID, nil
}

// AddDomain stores a domain, replacing any with the same id (0 is the
// "Default Domain").
func (s *Server) AddDomain(d Domain) error {
	if d.ID < 0 {
		return fmt.Errorf("qradartest: domain id %d is negative", d.ID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.domains[d.ID] = &d
	return nil
}

// AddNote stores a note on an offense, as if written by user, and returns
// its id.
func (s *Server) AddNote(offenseID int64, text, user string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.offenses[offenseID] == nil {
		return 0, fmt.Errorf("qradartest: offense %d does not exist", offenseID)
	}
	return s.addNoteLocked(offenseID, text, user, s.now()).ID, nil
}

// AddSearch makes the fake answer the AQL query sr.AQL with sr. A query
// that matches no canned search but names INOFFENSE(id) gets the events
// given to AddOffenseEvents for that offense (cut to its LIMIT); any other
// query completes with no rows.
func (s *Server) AddSearch(sr Search) error {
	if !aqlRE.MatchString(sr.AQL) {
		return fmt.Errorf("qradartest: %q is not a SELECT ... FROM events or flows query", sr.AQL)
	}
	switch sr.Outcome {
	case "", OutcomeCompleted, OutcomeError, OutcomeCanceled, OutcomeNever:
	default:
		return fmt.Errorf("qradartest: unknown search outcome %q", sr.Outcome)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sr.Rows = cloneRows(sr.Rows)
	sr.Errors = slices.Clone(sr.Errors)
	s.canned[normalizeAQL(sr.AQL)] = sr
	return nil
}

// AddOffenseEvents adds events (result rows) that searches on
// INOFFENSE(offenseID) return.
func (s *Server) AddOffenseEvents(offenseID int64, rows ...map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events[offenseID] = append(s.events[offenseID], cloneRows(rows)...)
}

func cloneRows(rows []map[string]any) []map[string]any {
	out := make([]map[string]any, len(rows))
	for i, r := range rows {
		out[i] = maps.Clone(r)
	}
	return out
}

// Offense returns a stored offense rendered as the API returns it, or
// false.
func (s *Server) Offense(id int64) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.offenses[id]
	if o == nil {
		return nil, false
	}
	return o.render(), true
}

// Offenses returns every stored offense, rendered as the API returns it,
// in ascending id order.
func (s *Server) Offenses() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return byIDs(s.offenses, nil, (*Offense).render)
}

// Notes returns the notes of an offense, in the order they were added.
func (s *Server) Notes(offenseID int64) []Note {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Note, len(s.notes[offenseID]))
	for i, n := range s.notes[offenseID] {
		out[i] = *n
	}
	return out
}

// ClosingReasons returns every closing reason, reserved and deleted ones
// included, rendered as the API returns them.
func (s *Server) ClosingReasons() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return byIDs(s.reasons, nil, (*ClosingReason).render)
}

// Searches returns the Ariel searches created through the API and not
// deleted, rendered as the API returns them, in creation order.
func (s *Server) Searches() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, id := range s.searchSeq {
		if sr, ok := s.searches[id]; ok {
			out = append(out, sr.render())
		}
	}
	return out
}
