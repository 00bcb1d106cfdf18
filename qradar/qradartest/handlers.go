package qradartest

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

func (s *Server) buildRoutes() []route {
	rs := []struct {
		method, pattern string
		h               func(*call)
	}{
		{"GET", "/api/siem/offenses", s.listOffenses},
		{"GET", "/api/siem/offenses/{offense_id}", s.getOffense},
		{"POST", "/api/siem/offenses/{offense_id}", s.updateOffense},
		{"GET", "/api/siem/offenses/{offense_id}/notes", s.listNotes},
		{"POST", "/api/siem/offenses/{offense_id}/notes", s.addNote},
		{"GET", "/api/siem/offenses/{offense_id}/notes/{note_id}", s.getNote},
		{"GET", "/api/siem/offense_closing_reasons", s.listClosingReasons},
		{"POST", "/api/siem/offense_closing_reasons", s.createClosingReason},
		{"GET", "/api/siem/offense_closing_reasons/{closing_reason_id}", s.getClosingReason},
		{"GET", "/api/siem/offense_types", s.listOffenseTypes},
		{"GET", "/api/siem/offense_types/{offense_type_id}", s.getOffenseType},
		{"GET", "/api/siem/source_addresses", s.listSourceAddresses},
		{"GET", "/api/siem/source_addresses/{source_address_id}", s.getSourceAddress},
		{"GET", "/api/siem/local_destination_addresses", s.listLocalDestinations},
		{"GET", "/api/siem/local_destination_addresses/{local_destination_address_id}", s.getLocalDestination},
		{"GET", "/api/analytics/rules", s.listRules},
		{"GET", "/api/analytics/rules/{id}", s.getRule},
		{"GET", "/api/config/domain_management/domains", s.listDomains},
		{"GET", "/api/config/domain_management/domains/{domain_id}", s.getDomain},
		{"GET", "/api/ariel/databases", s.listDatabases},
		{"GET", "/api/ariel/searches", s.listSearches},
		{"POST", "/api/ariel/searches", s.createSearch},
		{"GET", "/api/ariel/searches/{search_id}", s.getSearch},
		{"POST", "/api/ariel/searches/{search_id}", s.updateSearch},
		{"DELETE", "/api/ariel/searches/{search_id}", s.deleteSearch},
		{"GET", "/api/ariel/searches/{search_id}/results", s.searchResults},
		{"GET", "/api/system/about", s.about},
		{"GET", "/api/help/versions", s.helpVersions},
	}
	out := make([]route, len(rs))
	for i, r := range rs {
		out[i] = route{method: r.method, pattern: r.pattern, segs: strings.Split(strings.Trim(r.pattern, "/"), "/"), handle: r.h}
	}
	return out
}

// listSpec describes a list endpoint.
type listSpec struct {
	fields     map[string]bool
	filterable map[string]bool // nil: every field
	sortable   map[string]bool // nil: the endpoint has no sort parameter
	sortErr    apiError
}

// serveList answers a list request: Range, filter, sort and fields, then
// the page with its Content-Range. source returns the rendered objects
// that may match (all of them, or the few a filter on ids names); it is
// called with s.mu held.
func (s *Server) serveList(c *call, spec listSpec, source func(filter node) []map[string]any) {
	q := c.r.URL.Query()
	rng, ok := requestRange(c)
	if !ok {
		return
	}
	var filter node
	if f := q.Get("filter"); f != "" {
		filterable := spec.filterable
		if filterable == nil {
			filterable = spec.fields
		}
		var err error
		if filter, err = parseFilter(f, filterable); err != nil {
			writeError(c.w, errFilter(err.Error()))
			return
		}
	}
	var keys []sortKey
	if srt := q.Get("sort"); srt != "" && spec.sortable != nil {
		var err error
		if keys, err = parseSort(srt, spec.sortable); err != nil {
			e := spec.sortErr
			e.message = err.Error()
			writeError(c.w, e)
			return
		}
	}
	sel, ok := s.fieldSelection(c, spec.fields)
	if !ok {
		return
	}

	s.mu.Lock()
	objs := source(filter)
	s.mu.Unlock()

	if filter != nil {
		kept := objs[:0]
		for _, o := range objs {
			if filter.eval(o) {
				kept = append(kept, o)
			}
		}
		objs = kept
	}
	if keys != nil {
		sortObjects(objs, keys)
	}
	lo, hi, cr := rng.apply(len(objs))
	page := make([]any, 0, hi-lo)
	for _, o := range objs[lo:hi] {
		page = append(page, sel.project(o))
	}
	c.w.Header().Set("Content-Range", cr)
	writeJSON(c.w, http.StatusOK, page)
}

// requestRange parses the Range header; it answers the request itself and
// returns false when the header is not valid.
func requestRange(c *call) (itemRange, bool) {
	rng, err := parseRange(c.r.Header.Get("Range"))
	if err != nil {
		writeError(c.w, errRange(err.Error()))
		return itemRange{}, false
	}
	return rng, true
}

// fieldSelection parses the fields parameter; it answers the request
// itself and returns false when the parameter is not valid.
func (s *Server) fieldSelection(c *call, known map[string]bool) (fieldSel, bool) {
	f := c.r.URL.Query().Get("fields")
	if f == "" {
		return nil, true
	}
	sel, err := parseFields(f)
	if err != nil {
		writeError(c.w, errInvalidParam(err.Error()))
		return nil, false
	}
	if bad := sel.unknownField(known); bad != "" {
		writeError(c.w, errUnknownField(bad))
		return nil, false
	}
	return sel, true
}

// serveOne answers a single-object request, honouring fields.
func (s *Server) serveOne(c *call, status int, known map[string]bool, obj map[string]any) {
	sel, ok := s.fieldSelection(c, known)
	if !ok {
		return
	}
	writeJSON(c.w, status, sel.project(obj))
}

// serveByID answers a GET of one object whose id is the path parameter
// param. find, called with s.mu held, returns the object rendered, or nil
// when there is none: the answer is then m's 404.
func (s *Server) serveByID(c *call, param string, fields map[string]bool, m missing, find func(id int64) map[string]any) {
	id, ok := pathID(c, param)
	if !ok {
		return
	}
	s.mu.Lock()
	obj := find(id)
	s.mu.Unlock()
	if obj == nil {
		writeError(c.w, m.err(id))
		return
	}
	s.serveOne(c, http.StatusOK, fields, obj)
}

// pathID parses the path parameter name as an integer; it answers the
// request itself and returns false when it is not one.
func pathID(c *call, name string) (int64, bool) {
	id, err := strconv.ParseInt(c.params[name], 10, 64)
	if err != nil {
		writeError(c.w, errParamType(name))
		return 0, false
	}
	return id, true
}

// boolParam parses an optional boolean query parameter.
func boolParam(c *call, name string) (value, present, ok bool) {
	v, present := c.r.URL.Query()[name]
	if !present {
		return false, false, true
	}
	switch strings.ToLower(v[0]) {
	case "true":
		return true, true, true
	case "false":
		return false, true, true
	}
	writeError(c.w, errParamType(name))
	return false, true, false
}

// byIDs returns the objects of table selected by a filter on ids, or all of
// them, rendered, in ascending id order.
func byIDs[V any](table map[int64]V, filter node, render func(V) map[string]any) []map[string]any {
	var keys []int64
	if wanted, ok := idCandidates(filter); ok {
		seen := map[int64]bool{}
		for _, id := range wanted {
			if _, exists := table[id]; exists && !seen[id] {
				seen[id] = true
				keys = append(keys, id)
			}
		}
		slices.Sort(keys)
	} else {
		keys = sortedKeys(table)
	}
	out := make([]map[string]any, 0, len(keys))
	for _, k := range keys {
		out = append(out, render(table[k]))
	}
	return out
}
