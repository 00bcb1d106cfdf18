package qradartest

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// SearchOutcome is how a fake Ariel search ends.
type SearchOutcome string

// Search outcomes.
const (
	// OutcomeCompleted: the search completes with its rows (the default).
	OutcomeCompleted SearchOutcome = "COMPLETED"
	// OutcomeError: the search ends in status ERROR with Errors.
	OutcomeError SearchOutcome = "ERROR"
	// OutcomeCanceled: the search ends in status CANCELED, as when an
	// administrator cancels it.
	OutcomeCanceled SearchOutcome = "CANCELED"
	// OutcomeNever: the search stays in EXECUTE forever.
	OutcomeNever SearchOutcome = "NEVER"
)

// Search is a canned Ariel search: what the fake answers to one AQL query.
type Search struct {
	// AQL is the query it answers, compared with runs of white space
	// collapsed and without regard to case.
	AQL string
	// Rows are the result rows, keyed by column name as QRadar names them
	// (the alias, or for a function call its lower-case name, an
	// underscore and its argument: "utf8_payload", "qidname_qid").
	Rows []map[string]any
	// Polls is how many status reads still show the search running before
	// it ends; 0 means the first read after creation shows the end.
	Polls int
	// Outcome is how the search ends; "" means OutcomeCompleted.
	Outcome SearchOutcome
	// Errors are the error_messages of a search that ends in ERROR.
	Errors []SearchMessage
}

// SearchMessage is one entry of a search's error_messages.
type SearchMessage struct {
	Code     string
	Message  string
	Severity string // INFO, WARN or ERROR
	Contexts []string
}

// search is a search created through the API.
type search struct {
	id       string
	aql      string
	db       string
	rows     []map[string]any
	polls    int
	reads    int
	outcome  SearchOutcome
	messages []SearchMessage
	status   string
	execMS   int64
}

func normalizeAQL(aql string) string {
	return strings.ToLower(strings.Join(strings.Fields(strings.TrimSuffix(strings.TrimSpace(aql), ";")), " "))
}

var (
	aqlRE       = regexp.MustCompile(`(?is)^\s*select\s+.+?\s+from\s+(events|flows)\b`)
	inOffenseRE = regexp.MustCompile(`(?i)\binoffense\s*\(\s*'?(\d+)'?\s*\)`)
	limitRE     = regexp.MustCompile(`(?i)\blimit\s+(\d+)\b`)
)

// listDatabases answers the Ariel database names.
func (s *Server) listDatabases(c *call) {
	rng, ok := requestRange(c)
	if !ok {
		return
	}
	dbs := []string{"events", "flows"}
	lo, hi, cr := rng.apply(len(dbs))
	c.w.Header().Set("Content-Range", cr)
	writeJSON(c.w, http.StatusOK, dbs[lo:hi])
}

// listSearches answers the ids of the searches, as a JSON array of strings.
func (s *Server) listSearches(c *call) {
	rng, ok := requestRange(c)
	if !ok {
		return
	}
	s.mu.Lock()
	ids := make([]any, 0, len(s.searchSeq))
	for _, id := range s.searchSeq {
		if _, ok := s.searches[id]; ok {
			ids = append(ids, id)
		}
	}
	s.mu.Unlock()
	lo, hi, cr := rng.apply(len(ids))
	c.w.Header().Set("Content-Range", cr)
	writeJSON(c.w, http.StatusOK, ids[lo:hi])
}

// createSearch is POST /ariel/searches with query_expression (or
// saved_search_id) as a query parameter or in a form-encoded body.
func (s *Server) createSearch(c *call) {
	if err := c.r.ParseForm(); err != nil {
		writeError(c.w, errInvalidParam("The request body could not be read."))
		return
	}
	aql, hasAQL := c.r.Form.Get("query_expression"), c.r.Form.Has("query_expression")
	saved := c.r.Form.Has("saved_search_id")
	if hasAQL == saved {
		writeError(c.w, errInvalidParam("Exactly one parameter is required."))
		return
	}
	if saved {
		writeError(c.w, errNotFound(1002, "The saved search does not exist.",
			fmt.Sprintf("Saved search %s does not exist", c.r.Form.Get("saved_search_id"))))
		return
	}
	m := aqlRE.FindStringSubmatch(aql)
	if m == nil {
		writeError(c.w, apiError{status: 422, code: 2000, description: "The query_expression contains invalid AQL syntax.",
			message: "Invalid AQL query: expected SELECT <columns> FROM events or flows"})
		return
	}
	db := strings.ToLower(m[1])

	s.mu.Lock()
	sr := &search{id: newUUID(), aql: aql, db: db, status: "WAIT", polls: s.defaultPolls, outcome: OutcomeCompleted}
	if canned, ok := s.canned[normalizeAQL(aql)]; ok {
		sr.rows = canned.Rows
		sr.polls = canned.Polls
		sr.messages = canned.Errors
		if canned.Outcome != "" {
			sr.outcome = canned.Outcome
		}
	} else if om := inOffenseRE.FindStringSubmatch(aql); om != nil {
		id, _ := strconv.ParseInt(om[1], 10, 64)
		sr.rows = s.events[id]
		if lm := limitRE.FindStringSubmatch(aql); lm != nil {
			if n, err := strconv.Atoi(lm[1]); err == nil && n < len(sr.rows) {
				sr.rows = sr.rows[:n]
			}
		}
	}
	s.searches[sr.id] = sr
	s.searchSeq = append(s.searchSeq, sr.id)
	obj := sr.render()
	s.mu.Unlock()
	writeJSON(c.w, http.StatusCreated, obj)
}

// searchLocked finds the search named by the path; it answers the request
// itself and returns nil when there is none.
func (s *Server) searchLocked(c *call) *search {
	sr := s.searches[c.params["search_id"]]
	if sr == nil {
		writeError(c.w, errNotFound(1002, "The search does not exist.",
			fmt.Sprintf("Search %s does not exist", c.params["search_id"])))
	}
	return sr
}

// advance moves a search one status read further.
func (sr *search) advance() {
	if sr.finished() {
		return
	}
	sr.reads++
	if sr.outcome != OutcomeNever && sr.reads > sr.polls {
		sr.status = string(sr.outcome)
		sr.execMS = int64(25 * sr.reads)
		return
	}
	sr.status = "EXECUTE"
	if sr.outcome != OutcomeNever && sr.reads == sr.polls && sr.polls > 1 {
		sr.status = "SORTING"
	}
}

func (sr *search) finished() bool {
	switch sr.status {
	case "COMPLETED", "ERROR", "CANCELED":
		return true
	}
	return false
}

func (sr *search) progress() int64 {
	switch {
	case sr.status == "COMPLETED":
		return 100
	case sr.outcome == OutcomeNever:
		return 0
	}
	return int64(min(99, 100*sr.reads/(sr.polls+1)))
}

func (sr *search) render() map[string]any {
	records := int64(0)
	if sr.status == "COMPLETED" {
		records = int64(len(sr.rows))
	}
	msgs := make([]any, 0, len(sr.messages))
	if sr.status == "ERROR" {
		for _, m := range sr.messages {
			ctx := make([]any, len(m.Contexts))
			for i, x := range m.Contexts {
				ctx[i] = x
			}
			msgs = append(msgs, map[string]any{"code": m.Code, "message": m.Message, "severity": m.Severity, "contexts": ctx})
		}
	}
	obj := map[string]any{
		"search_id":                   sr.id,
		"cursor_id":                   sr.id,
		"status":                      sr.status,
		"completed":                   sr.status == "COMPLETED",
		"progress":                    sr.progress(),
		"progress_details":            []any{},
		"record_count":                records,
		"processed_record_count":      records,
		"query_execution_time":        sr.execMS,
		"query_string":                sr.aql,
		"desired_retention_time_msec": int64(86400000),
		"save_results":                false,
		"data_file_count":             int64(0),
		"data_total_size":             int64(0),
		"index_file_count":            int64(0),
		"index_total_size":            int64(0),
		"compressed_data_file_count":  int64(0),
		"compressed_data_total_size":  int64(0),
		"size_on_disk":                int64(0),
		"snapshot":                    nil,
		"subsearch_ids":               []any{},
	}
	if len(msgs) > 0 {
		obj["error_messages"] = msgs
	}
	return obj
}

var preferWaitRE = regexp.MustCompile(`(?i)\bwait\s*=\s*(\d+)`)

// getSearch is GET /ariel/searches/{search_id}. Every read moves the
// search on; with "Prefer: wait=N" the fake lets it run to its end at
// once (206 if it never ends, after waiting N seconds).
func (s *Server) getSearch(c *call) {
	wait := -1
	if m := preferWaitRE.FindStringSubmatch(c.r.Header.Get("Prefer")); m != nil {
		wait, _ = strconv.Atoi(m[1])
	}
	s.mu.Lock()
	sr := s.searchLocked(c)
	if sr == nil {
		s.mu.Unlock()
		return
	}
	sr.advance()
	if wait >= 0 {
		for !sr.finished() && sr.outcome != OutcomeNever {
			sr.advance()
		}
	}
	obj, done := sr.render(), sr.finished()
	s.mu.Unlock()
	if wait < 0 {
		writeJSON(c.w, http.StatusOK, obj)
		return
	}
	if !done {
		t := time.NewTimer(time.Duration(wait) * time.Second)
		select {
		case <-t.C:
		case <-c.r.Context().Done():
			t.Stop()
			return
		}
		writeJSON(c.w, http.StatusPartialContent, obj)
		return
	}
	writeJSON(c.w, http.StatusOK, obj)
}

// updateSearch is POST /ariel/searches/{search_id}?status=CANCELED (or
// save_results=true).
func (s *Server) updateSearch(c *call) {
	q := c.r.URL.Query()
	status, saveResults := q.Get("status"), q.Get("save_results")
	if status == "" && saveResults == "" {
		writeError(c.w, errInvalidParam("Either status or save_results must be provided."))
		return
	}
	if status != "" && status != "CANCELED" {
		writeError(c.w, errInvalidParam(fmt.Sprintf("Status %q is not valid; only CANCELED is accepted.", status)))
		return
	}
	if status == "" && !strings.EqualFold(saveResults, "true") && !strings.EqualFold(saveResults, "false") {
		writeError(c.w, errParamType("save_results"))
		return
	}
	s.mu.Lock()
	sr := s.searchLocked(c)
	if sr == nil {
		s.mu.Unlock()
		return
	}
	if status == "CANCELED" && !sr.finished() {
		sr.status = "CANCELED"
	}
	obj := sr.render()
	s.mu.Unlock()
	writeJSON(c.w, http.StatusOK, obj)
}

// deleteSearch is DELETE /ariel/searches/{search_id}: 202 and the search.
func (s *Server) deleteSearch(c *call) {
	s.mu.Lock()
	sr := s.searchLocked(c)
	if sr == nil {
		s.mu.Unlock()
		return
	}
	delete(s.searches, sr.id)
	obj := sr.render()
	s.mu.Unlock()
	writeJSON(c.w, http.StatusAccepted, obj)
}

// searchResults is GET /ariel/searches/{search_id}/results:
// {"events": [...]} (or "flows"), paged by Range.
func (s *Server) searchResults(c *call) {
	rng, ok := requestRange(c)
	if !ok {
		return
	}
	s.mu.Lock()
	sr := s.searchLocked(c)
	if sr == nil {
		s.mu.Unlock()
		return
	}
	if sr.status != "COMPLETED" {
		s.mu.Unlock()
		writeError(c.w, errNotFound(1003, "Search results not found. The search is still in progress.",
			fmt.Sprintf("Search %s has status %s; its results are not available", sr.id, sr.status)))
		return
	}
	rows, db := sr.rows, sr.db
	s.mu.Unlock()
	lo, hi, cr := rng.apply(len(rows))
	page := make([]map[string]any, 0, hi-lo)
	page = append(page, rows[lo:hi]...)
	c.w.Header().Set("Content-Range", cr)
	writeJSON(c.w, http.StatusOK, map[string]any{db: page})
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
