package qradartest

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

func (s *Server) listOffenses(c *call) {
	spec := listSpec{
		fields:     offenseFields,
		filterable: offenseFilterable,
		sortable:   offenseSortable,
		sortErr:    apiError{status: 422, code: 1030, description: "The sort field or order is not valid."},
	}
	s.serveList(c, spec, func(filter node) []map[string]any {
		return byIDs(s.offenses, filter, (*Offense).render)
	})
}

// offenseLocked finds the offense named by the path; it answers the
// request itself and returns nil when there is none.
func (s *Server) offenseLocked(c *call, id int64) *Offense {
	o := s.offenses[id]
	if o == nil {
		writeError(c.w, missingOffense.err(id))
	}
	return o
}

func (s *Server) getOffense(c *call) {
	s.serveByID(c, "offense_id", offenseFields, missingOffense, func(id int64) map[string]any {
		if o := s.offenses[id]; o != nil {
			return o.render()
		}
		return nil
	})
}

// updateOffense is POST /siem/offenses/{offense_id}: every argument is a
// query parameter; the body is ignored.
func (s *Server) updateOffense(c *call) {
	id, ok := pathID(c, "offense_id")
	if !ok {
		return
	}
	q := c.r.URL.Query()
	protected, setProtected, ok := boolParam(c, "protected")
	if !ok {
		return
	}
	followUp, setFollowUp, ok := boolParam(c, "follow_up")
	if !ok {
		return
	}
	status, setStatus := q.Get("status"), q.Has("status")
	if setStatus && status != "OPEN" && status != "HIDDEN" && status != "CLOSED" {
		writeError(c.w, errParamType("status"))
		return
	}
	var reasonID int64
	if q.Has("closing_reason_id") {
		var err error
		if reasonID, err = strconv.ParseInt(q.Get("closing_reason_id"), 10, 64); err != nil {
			writeError(c.w, errParamType("closing_reason_id"))
			return
		}
	}
	assignee, setAssignee := q.Get("assigned_to"), q.Has("assigned_to")
	if _, ok := s.fieldSelection(c, offenseFields); !ok {
		return
	}

	s.mu.Lock()
	o := s.offenseLocked(c, id)
	if o == nil {
		s.mu.Unlock()
		return
	}
	if e, bad := s.checkUpdateLocked(o, setStatus, status, q.Has("closing_reason_id"), reasonID, setAssignee, assignee); bad {
		s.mu.Unlock()
		writeError(c.w, e)
		return
	}
	now := s.now()
	changed := false
	if setStatus && status != o.Status {
		o.Status = status
		if status == "CLOSED" {
			o.ClosingReasonID = reasonID
			o.ClosingUser = c.who.name
			o.CloseTime = now
		}
		changed = true
	}
	if setProtected {
		changed = changed || o.Protected != protected
		o.Protected = protected
	}
	if setFollowUp {
		changed = changed || o.FollowUp != followUp
		o.FollowUp = followUp
	}
	if setAssignee {
		changed = changed || o.AssignedTo != assignee
		o.AssignedTo = assignee
	}
	if changed {
		o.LastPersistedTime = now
	}
	obj := o.render()
	s.mu.Unlock()
	s.serveOne(c, http.StatusOK, offenseFields, obj)
}

func (s *Server) checkUpdateLocked(o *Offense, setStatus bool, status string, setReason bool, reasonID int64, setAssignee bool, assignee string) (apiError, bool) {
	stateConflict := apiError{status: 409, code: 1008,
		description: "Request cannot be completed due to the state of the offense."}
	if setStatus && o.Status == "CLOSED" {
		if status == "CLOSED" && s.recloseOK {
			return apiError{}, false
		}
		stateConflict.message = fmt.Sprintf("Offense %d is closed; its status cannot be changed.", o.ID)
		return stateConflict, true
	}
	if setStatus && status == "CLOSED" {
		if !setReason {
			return errInvalidParam("closing_reason_id must be provided when closing an offense."), true
		}
		r := s.reasons[reasonID]
		switch {
		case r == nil:
			return errInvalidParam(fmt.Sprintf("closing_reason_id %d does not exist.", reasonID)), true
		case r.Deleted:
			return errInvalidParam(fmt.Sprintf("closing_reason_id %d is deleted and cannot be used to close an offense.", reasonID)), true
		case r.Reserved:
			return errInvalidParam(fmt.Sprintf("closing_reason_id %d is reserved and cannot be used to close an offense.", reasonID)), true
		}
	}
	if setAssignee && assignee != "" {
		if _, ok := s.users[assignee]; !ok {
			return errInvalidParam(fmt.Sprintf("assigned_to %q is not a valid user.", assignee)), true
		}
	}
	return apiError{}, false
}

func (s *Server) listNotes(c *call) {
	id, ok := pathID(c, "offense_id")
	if !ok {
		return
	}
	s.mu.Lock()
	o := s.offenseLocked(c, id)
	s.mu.Unlock()
	if o == nil {
		return
	}
	s.serveList(c, listSpec{fields: noteFields}, func(node) []map[string]any {
		notes := s.notes[id]
		out := make([]map[string]any, len(notes))
		for i, n := range notes {
			out[i] = n.render()
		}
		return out
	})
}

func (s *Server) getNote(c *call) {
	id, ok := pathID(c, "offense_id")
	if !ok {
		return
	}
	noteID, ok := pathID(c, "note_id")
	if !ok {
		return
	}
	s.mu.Lock()
	o := s.offenseLocked(c, id)
	var obj map[string]any
	if o != nil {
		for _, n := range s.notes[id] {
			if n.ID == noteID {
				obj = n.render()
			}
		}
		if obj == nil {
			writeError(c.w, errNotFound(1003, "No note was found for the provided note_id.",
				fmt.Sprintf("Note %d does not exist", noteID)))
		}
	}
	s.mu.Unlock()
	if obj != nil {
		s.serveOne(c, http.StatusOK, noteFields, obj)
	}
}

// addNote is POST /siem/offenses/{offense_id}/notes?note_text=...
func (s *Server) addNote(c *call) {
	id, ok := pathID(c, "offense_id")
	if !ok {
		return
	}
	text := c.r.URL.Query().Get("note_text")
	if text == "" {
		writeError(c.w, errMissingParam("note_text"))
		return
	}
	if _, ok := s.fieldSelection(c, noteFields); !ok {
		return
	}
	s.mu.Lock()
	if s.offenseLocked(c, id) == nil {
		s.mu.Unlock()
		return
	}
	n := s.addNoteLocked(id, text, c.who.noteUsername(), s.now())
	obj := n.render()
	s.mu.Unlock()
	s.serveOne(c, http.StatusCreated, noteFields, obj)
}

func (s *Server) addNoteLocked(offense int64, text, user string, at time.Time) *Note {
	s.nextNote++
	n := &Note{ID: s.nextNote, OffenseID: offense, Text: text, Username: user, CreateTime: at}
	s.notes[offense] = append(s.notes[offense], n)
	return n
}

func (s *Server) listClosingReasons(c *call) {
	includeReserved, _, ok := boolParam(c, "include_reserved")
	if !ok {
		return
	}
	includeDeleted, _, ok := boolParam(c, "include_deleted")
	if !ok {
		return
	}
	s.serveList(c, listSpec{fields: closingReasonFields}, func(filter node) []map[string]any {
		var out []map[string]any
		for _, k := range sortedKeys(s.reasons) {
			r := s.reasons[k]
			if r.Reserved && !includeReserved || r.Deleted && !includeDeleted {
				continue
			}
			out = append(out, r.render())
		}
		return out
	})
}

func (s *Server) getClosingReason(c *call) {
	s.serveByID(c, "closing_reason_id", closingReasonFields, missingClosingReason, func(id int64) map[string]any {
		if r := s.reasons[id]; r != nil {
			return r.render()
		}
		return nil
	})
}

// createClosingReason is POST /siem/offense_closing_reasons?reason=...
func (s *Server) createClosingReason(c *call) {
	q := c.r.URL.Query()
	if !q.Has("reason") {
		writeError(c.w, errMissingParam("reason"))
		return
	}
	text := q.Get("reason")
	if n := len([]rune(text)); n < 5 || n > 60 {
		writeError(c.w, errInvalidParam("The closing reason must be between 5 and 60 characters long."))
		return
	}
	if _, ok := s.fieldSelection(c, closingReasonFields); !ok {
		return
	}
	s.mu.Lock()
	for _, r := range s.reasons {
		if strings.EqualFold(r.Text, text) {
			s.mu.Unlock()
			writeError(c.w, apiError{status: 409, code: 1004, description: "The closing reason already exists.",
				message: fmt.Sprintf("Closing reason %q already exists", text)})
			return
		}
	}
	s.lastReason++
	r := &ClosingReason{ID: s.lastReason, Text: text}
	s.reasons[r.ID] = r
	obj := r.render()
	s.mu.Unlock()
	s.serveOne(c, http.StatusCreated, closingReasonFields, obj)
}

func (s *Server) listOffenseTypes(c *call) {
	spec := listSpec{
		fields:   offenseTypeFields,
		sortable: keySet("id"),
		sortErr:  apiError{status: 422, code: 1012, description: "The selected field cannot be used for sorting or it does not exist."},
	}
	s.serveList(c, spec, func(filter node) []map[string]any {
		var out []map[string]any
		for _, o := range byIDs(s.types, filter, (*OffenseType).render) {
			if !s.unlistedTypes[o["id"].(int64)] {
				out = append(out, o)
			}
		}
		return out
	})
}

func (s *Server) getOffenseType(c *call) {
	s.serveByID(c, "offense_type_id", offenseTypeFields, missingOffenseType, func(id int64) map[string]any {
		if t := s.types[id]; t != nil {
			return t.render()
		}
		return nil
	})
}

func (s *Server) listSourceAddresses(c *call) {
	s.serveList(c, listSpec{fields: sourceAddressFields}, func(filter node) []map[string]any {
		s.reindexLocked()
		return byIDs(s.sources, filter, func(a *SourceAddress) map[string]any {
			return a.render(mergeIDs(a.OffenseIDs, s.srcOffenses[a.ID]))
		})
	})
}

func (s *Server) getSourceAddress(c *call) {
	s.serveByID(c, "source_address_id", sourceAddressFields, missingSourceAddress, func(id int64) map[string]any {
		if a := s.sources[id]; a != nil {
			s.reindexLocked()
			return a.render(mergeIDs(a.OffenseIDs, s.srcOffenses[a.ID]))
		}
		return nil
	})
}

func (s *Server) listLocalDestinations(c *call) {
	s.serveList(c, listSpec{fields: localDestinationFields}, func(filter node) []map[string]any {
		s.reindexLocked()
		return byIDs(s.locals, filter, func(a *LocalDestinationAddress) map[string]any {
			return a.render(mergeIDs(a.OffenseIDs, s.dstOffenses[a.ID]))
		})
	})
}

func (s *Server) getLocalDestination(c *call) {
	s.serveByID(c, "local_destination_address_id", localDestinationFields, missingLocalDestination, func(id int64) map[string]any {
		if a := s.locals[id]; a != nil {
			s.reindexLocked()
			return a.render(mergeIDs(a.OffenseIDs, s.dstOffenses[a.ID]))
		}
		return nil
	})
}

func (s *Server) listRules(c *call) {
	s.serveList(c, listSpec{fields: ruleFields}, func(filter node) []map[string]any {
		return byIDs(s.rules, filter, (*Rule).render)
	})
}

func (s *Server) getRule(c *call) {
	s.serveByID(c, "id", ruleFields, missingRule, func(id int64) map[string]any {
		if r := s.rules[id]; r != nil {
			return r.render()
		}
		return nil
	})
}

func (s *Server) listDomains(c *call) {
	s.serveList(c, listSpec{fields: domainFields}, func(filter node) []map[string]any {
		return byIDs(s.domains, filter, (*Domain).render)
	})
}

func (s *Server) getDomain(c *call) {
	s.serveByID(c, "domain_id", domainFields, missingDomain, func(id int64) map[string]any {
		if d := s.domains[id]; d != nil {
			return d.render()
		}
		return nil
	})
}

func (s *Server) about(c *call) {
	writeJSON(c.w, http.StatusOK, map[string]any{
		"build_version":    "2024.12.0.20241213151214",
		"external_version": "7.5.0",
		"release_name":     "7.5.0 UpdatePackage 11",
		"fips_enabled":     false,
	})
}

func (s *Server) helpVersions(c *call) {
	s.mu.Lock()
	versions := slices.Clone(s.versions)
	s.mu.Unlock()
	spec := listSpec{fields: keySet("id", "version", "deprecated", "removed", "root_resource_ids")}
	s.serveList(c, spec, func(node) []map[string]any {
		out := make([]map[string]any, len(versions))
		for i, v := range versions {
			out[i] = map[string]any{"id": int64(i + 1), "version": v, "deprecated": false, "removed": false, "root_resource_ids": []any{}}
		}
		return out
	})
}

// reindexLocked rebuilds the address -> offenses index after offenses
// changed.
func (s *Server) reindexLocked() {
	if !s.indexDirty && s.srcOffenses != nil {
		return
	}
	s.srcOffenses = map[int64][]int64{}
	s.dstOffenses = map[int64][]int64{}
	for _, id := range sortedKeys(s.offenses) {
		o := s.offenses[id]
		for _, a := range o.SourceAddressIDs {
			s.srcOffenses[a] = append(s.srcOffenses[a], id)
		}
		for _, a := range o.LocalDestinationAddressIDs {
			s.dstOffenses[a] = append(s.dstOffenses[a], id)
		}
	}
	s.indexDirty = false
}

// mergeIDs returns the sorted union of a and b.
func mergeIDs(a, b []int64) []int64 {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}
