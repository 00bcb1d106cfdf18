package qradar

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/synapse-go/synapse/internal/pager"
)

// ArielService runs AQL searches (/api/ariel/searches). A search runs on
// the console: create it, wait for it, read its results, delete it; Run
// does all four.
type ArielService struct{ c *Client }

// SearchStatus is the state of an Ariel search.
type SearchStatus string

// Search statuses: WAIT, EXECUTE and SORTING while it runs, then COMPLETED,
// CANCELED or ERROR.
const (
	SearchWait      SearchStatus = "WAIT"
	SearchExecute   SearchStatus = "EXECUTE"
	SearchSorting   SearchStatus = "SORTING"
	SearchCompleted SearchStatus = "COMPLETED"
	SearchCanceled  SearchStatus = "CANCELED"
	SearchError     SearchStatus = "ERROR"
)

// Done reports whether the search has ended.
func (s SearchStatus) Done() bool {
	return s == SearchCompleted || s == SearchCanceled || s == SearchError
}

// Search is an Ariel search and its progress.
type Search struct {
	ID       SearchID     `json:"search_id"`
	CursorID string       `json:"cursor_id"`
	Status   SearchStatus `json:"status"`
	// Progress is a percentage.
	Progress             int   `json:"progress"`
	RecordCount          int64 `json:"record_count"`
	ProcessedRecordCount int64 `json:"processed_record_count"`
	// QueryExecutionTime is in milliseconds.
	QueryExecutionTime int64  `json:"query_execution_time"`
	QueryString        string `json:"query_string"`
	// DesiredRetentionTime is how long the console keeps the results, in
	// milliseconds.
	DesiredRetentionTime int64           `json:"desired_retention_time_msec"`
	SaveResults          bool            `json:"save_results"`
	ErrorMessages        []SearchMessage `json:"error_messages"`
	SubsearchIDs         []string        `json:"subsearch_ids"`
}

// SearchMessage is an error or warning of a search.
type SearchMessage struct {
	Code     string   `json:"code"`
	Message  string   `json:"message"`
	Severity string   `json:"severity"`
	Contexts []string `json:"contexts"`
}

// FailedSearchError is a search that ended in ERROR or CANCELED. It matches
// ErrSearchFailed or ErrSearchCanceled.
type FailedSearchError struct {
	ID       SearchID
	Status   SearchStatus
	Messages []SearchMessage
}

// Error implements error.
func (e *FailedSearchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "qradar: search %s ended in status %s", e.ID, e.Status)
	for i, m := range e.Messages {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(m.Message)
	}
	return b.String()
}

// Is matches ErrSearchFailed and ErrSearchCanceled.
func (e *FailedSearchError) Is(target error) bool {
	return target == ErrSearchFailed && e.Status == SearchError ||
		target == ErrSearchCanceled && e.Status == SearchCanceled
}

func searchPath(id SearchID) string { return "ariel/searches/" + url.PathEscape(string(id)) }

func checkSearchID(id SearchID) error {
	if id == "" {
		return invalidParams("empty search id")
	}
	return nil
}

// Create starts a search: POST /ariel/searches?query_expression=<aql>. The
// console answers at once (status WAIT). The request is retried on
// transient failures: the console returns the existing search when the
// same query was created moments before.
func (a *ArielService) Create(ctx context.Context, aql string) (*Search, error) {
	if strings.TrimSpace(aql) == "" {
		return nil, invalidParams("empty AQL query")
	}
	return call[Search](ctx, a.c, &request{method: http.MethodPost, path: "ariel/searches", query: url.Values{"query_expression": {aql}}, idempotent: true})
}

// Get returns a search's progress: GET /ariel/searches/{search_id}.
func (a *ArielService) Get(ctx context.Context, id SearchID) (*Search, error) {
	if err := checkSearchID(id); err != nil {
		return nil, err
	}
	return call[Search](ctx, a.c, &request{method: http.MethodGet, path: searchPath(id)})
}

// List returns the ids of the searches on the console: GET /ariel/searches.
func (a *ArielService) List(ctx context.Context) ([]SearchID, error) {
	return listAllItems[SearchID](ctx, a.c, "ariel/searches", url.Values{})
}

// Cancel stops a running search: POST /ariel/searches/{search_id}?status=CANCELED.
func (a *ArielService) Cancel(ctx context.Context, id SearchID) (*Search, error) {
	if err := checkSearchID(id); err != nil {
		return nil, err
	}
	return call[Search](ctx, a.c, &request{method: http.MethodPost, path: searchPath(id), query: url.Values{"status": {string(SearchCanceled)}}, idempotent: true})
}

// Delete deletes a search and its results: DELETE
// /ariel/searches/{search_id} (202, or 200 on some versions).
func (a *ArielService) Delete(ctx context.Context, id SearchID) error {
	if err := checkSearchID(id); err != nil {
		return err
	}
	_, err := a.c.do(ctx, &request{method: http.MethodDelete, path: searchPath(id)}, nil)
	return err
}

// WaitOptions say how to wait for a search.
type WaitOptions struct {
	// Timeout bounds the whole wait (default 5 minutes).
	Timeout time.Duration
	// MinInterval is the first pause between two status reads (default
	// 500ms); each pause doubles up to MaxInterval (default 5s).
	MinInterval time.Duration
	MaxInterval time.Duration
}

// Default wait settings.
const (
	DefaultWaitTimeout     = 5 * time.Minute
	DefaultWaitMinInterval = 500 * time.Millisecond
	DefaultWaitMaxInterval = 5 * time.Second
)

func (o *WaitOptions) withDefaults() WaitOptions {
	var w WaitOptions
	if o != nil {
		w = *o
	}
	if w.Timeout <= 0 {
		w.Timeout = DefaultWaitTimeout
	}
	if w.MinInterval <= 0 {
		w.MinInterval = DefaultWaitMinInterval
	}
	if w.MaxInterval <= 0 {
		w.MaxInterval = DefaultWaitMaxInterval
	}
	w.MaxInterval = max(w.MaxInterval, w.MinInterval)
	return w
}

// Wait reads a search's status until it ends, pausing longer and longer
// between reads. It returns the completed search; a search that ends in
// ERROR or CANCELED gives a *FailedSearchError (with the search); one still
// running after the timeout gives an error matching ErrSearchTimeout. When
// ctx ends, Wait returns at once with ctx's error. Wait does not cancel the
// search: Run does.
func (a *ArielService) Wait(ctx context.Context, id SearchID, opts *WaitOptions) (*Search, error) {
	if err := checkSearchID(id); err != nil {
		return nil, err
	}
	o := opts.withDefaults()
	wctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	timedOut := func(last SearchStatus) error {
		return fmt.Errorf("qradar: search %s still %s after %v: %w", id, last, o.Timeout, ErrSearchTimeout)
	}
	interval := o.MinInterval
	last := SearchWait
	for {
		s, err := a.Get(wctx, id)
		if err != nil {
			if ctx.Err() == nil && wctx.Err() != nil {
				return nil, timedOut(last)
			}
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, err
		}
		last = s.Status
		switch s.Status {
		case SearchCompleted:
			return s, nil
		case SearchError, SearchCanceled:
			return s, &FailedSearchError{ID: id, Status: s.Status, Messages: s.ErrorMessages}
		}
		t := time.NewTimer(interval)
		select {
		case <-wctx.Done():
			t.Stop()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, timedOut(last)
		case <-t.C:
		}
		interval = min(2*interval, o.MaxInterval)
	}
}

// Row is one result row, keyed by column name: the AS alias, or for a
// function call its lower-case name, an underscore and its argument as
// written (UTF8(payload) is "utf8_payload"). Numbers are json.Number.
type Row map[string]any

// String returns a column as text: "" for null or absent, numbers as
// written, lists joined with ", ".
func (r Row) String(col string) string { return cellString(r[col]) }

func cellString(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = cellString(e)
		}
		return strings.Join(parts, ", ")
	default:
		return fmt.Sprint(v)
	}
}

// Int64 returns an integer column; false when it is null, absent or not an
// integer.
func (r Row) Int64(col string) (int64, bool) {
	switch v := r[col].(type) {
	case json.Number:
		n, err := v.Int64()
		return n, err == nil
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		return n, err == nil
	}
	return 0, false
}

// Time returns a column of epoch milliseconds (starttime, devicetime) as a
// UTC time, or the zero time.
func (r Row) Time(col string) time.Time {
	ms, ok := r.Int64(col)
	if !ok {
		return time.Time{}
	}
	return fromMillis(ms)
}

// Results is one page of a search's results.
type Results struct {
	// Database is "events" or "flows".
	Database string
	// Rows are the page's rows.
	Rows []Row
	// Offset is the position of the first row.
	Offset int
	// Total is the number of rows of the search, or -1 when the console
	// did not say.
	Total int
}

// Results returns rows [offset, offset+limit) of a completed search: GET
// /ariel/searches/{search_id}/results with a Range header. A search still
// running gives ErrNotFound (QRadar code 1003).
func (a *ArielService) Results(ctx context.Context, id SearchID, offset, limit int) (*Results, error) {
	if err := checkSearchID(id); err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, invalidParams("negative offset %d", offset)
	}
	if limit <= 0 {
		limit = DefaultResultsPageSize
	}
	var raw map[string]json.RawMessage
	header, err := a.c.do(ctx, &request{method: http.MethodGet, path: searchPath(id) + "/results", header: rangeHeader(offset, limit)}, &raw)
	if err != nil {
		return nil, err
	}
	res := &Results{Offset: offset, Total: contentTotal(header)}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "events" || k == "flows" || res.Database == "" {
			res.Database = k
		}
	}
	if res.Database == "" {
		return res, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw[res.Database]))
	dec.UseNumber()
	if err := dec.Decode(&res.Rows); err != nil {
		return nil, fmt.Errorf("qradar: search %s: decoding results: %w", id, err)
	}
	return res, nil
}

// DefaultResultsPageSize is the number of rows read per request.
const DefaultResultsPageSize = 1000

// ResultsAll returns an iterator over every row of a completed search,
// read pageSize rows at a time (default DefaultResultsPageSize).
func (a *ArielService) ResultsAll(ctx context.Context, id SearchID, pageSize int) iter.Seq2[Row, error] {
	if pageSize <= 0 {
		pageSize = DefaultResultsPageSize
	}
	return pager.Offset(ctx, pageSize, func(ctx context.Context, offset, size int) ([]Row, int, error) {
		res, err := a.Results(ctx, id, offset, size)
		if err != nil {
			return nil, 0, err
		}
		return res.Rows, res.Total, nil
	})
}

// RunOptions say how Run waits and reads.
type RunOptions struct {
	// Wait says how to wait for the search.
	Wait WaitOptions
	// MaxRows caps the rows read; zero means all.
	MaxRows int
	// PageSize is the number of rows read per request.
	PageSize int
	// KeepSearch leaves the search on the console; by default Run deletes
	// it once read, or once it failed.
	KeepSearch bool
}

// cleanupTimeout bounds the deletion of a search after Run, which goes on
// when the caller's context has ended.
const cleanupTimeout = 10 * time.Second

// Run runs one AQL query and returns its rows: it creates the search,
// waits for it, reads the results and deletes the search (also when the
// wait fails or ctx ends, so that nothing is left running on the console).
func (a *ArielService) Run(ctx context.Context, aql string, opts *RunOptions) ([]Row, error) {
	var o RunOptions
	if opts != nil {
		o = *opts
	}
	if o.MaxRows < 0 {
		return nil, invalidParams("negative MaxRows")
	}
	s, err := a.Create(ctx, aql)
	if err != nil {
		return nil, err
	}
	if !o.KeepSearch {
		defer func() {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
			defer cancel()
			_ = a.Delete(dctx, s.ID)
		}()
	}
	if _, err := a.Wait(ctx, s.ID, &o.Wait); err != nil {
		return nil, err
	}
	size := o.PageSize
	if size <= 0 {
		size = DefaultResultsPageSize
	}
	if o.MaxRows > 0 {
		size = min(size, o.MaxRows)
	}
	var rows []Row
	for row, err := range a.ResultsAll(ctx, s.ID, size) {
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
		if o.MaxRows > 0 && len(rows) >= o.MaxRows {
			break
		}
	}
	return rows, nil
}

// Event is an event of an offense, as OffenseEvents reads it.
type Event struct {
	Time          time.Time
	Name          string // QIDNAME(qid)
	LogSource     string // LOGSOURCENAME(logsourceid)
	SourceIP      string
	DestinationIP string
	Username      string
	Payload       string // UTF8(payload)
}

// Time windows of the event queries around an offense's start, as the
// original Synapse used: the first events are looked for from a minute
// before the start to five minutes after.
const (
	eventsBefore = time.Minute
	eventsAfter  = 5 * time.Minute
)

// OffenseEventsAQL returns the AQL query that reads the first limit events
// of an offense that started at start, oldest first, from a minute before
// start to five minutes after (an AQL query without START reads only the
// last minute).
func OffenseEventsAQL(id OffenseID, start time.Time, limit int) string {
	return fmt.Sprintf("SELECT starttime, QIDNAME(qid), LOGSOURCENAME(logsourceid), sourceip, destinationip, username, UTF8(payload) "+
		"FROM events WHERE INOFFENSE(%d) ORDER BY starttime ASC LIMIT %d START %d STOP %d",
		id, limit, start.Add(-eventsBefore).UnixMilli(), start.Add(eventsAfter).UnixMilli())
}

// OffenseEvents returns the first limit events of an offense (see
// OffenseEventsAQL), with Run.
func (a *ArielService) OffenseEvents(ctx context.Context, o *Offense, limit int, opts *RunOptions) ([]Event, error) {
	if err := checkOffenseSearch("OffenseEvents", o, limit); err != nil {
		return nil, err
	}
	rows, err := a.Run(ctx, OffenseEventsAQL(o.ID, o.StartTime, limit), opts)
	if err != nil {
		return nil, err
	}
	events := make([]Event, len(rows))
	for i, r := range rows {
		events[i] = Event{
			Time:          r.Time("starttime"),
			Name:          r.String("qidname_qid"),
			LogSource:     r.String("logsourcename_logsourceid"),
			SourceIP:      r.String("sourceip"),
			DestinationIP: r.String("destinationip"),
			Username:      r.String("username"),
			Payload:       r.String("utf8_payload"),
		}
	}
	return events, nil
}

// checkOffenseSearch checks the arguments of method, a search among an
// offense's events.
func checkOffenseSearch(method string, o *Offense, limit int) error {
	if o == nil || o.ID <= 0 || o.StartTime.IsZero() {
		return invalidParams("%s needs an offense with its id and start time", method)
	}
	if limit <= 0 {
		return invalidParams("limit must be positive")
	}
	return nil
}

// RemoteDestination is a remote (outside the network hierarchy) address an
// offense's events went to.
type RemoteDestination struct {
	IP         string
	EventCount int64
}

// RemoteDestinationsAQL returns the AQL query that counts, per destination
// address, the events of an offense whose direction is local-to-remote or
// remote-to-remote, between start and stop, the busiest first. QRadar's
// REST API gives only the number of remote destinations of an offense;
// their addresses come from its events.
func RemoteDestinationsAQL(id OffenseID, start, stop time.Time, limit int) string {
	return fmt.Sprintf("SELECT destinationip, COUNT(*) AS event_count FROM events "+
		"WHERE INOFFENSE(%d) AND (eventdirection = 'L2R' OR eventdirection = 'R2R') "+
		"GROUP BY destinationip ORDER BY event_count DESC LIMIT %d START %d STOP %d",
		id, limit, start.UnixMilli(), stop.UnixMilli())
}

// RemoteDestinations returns up to limit remote destination addresses of
// an offense, from its start to a minute after its last update (see
// RemoteDestinationsAQL), with Run. An offense whose
// RemoteDestinationCount is zero is answered without a search.
func (a *ArielService) RemoteDestinations(ctx context.Context, o *Offense, limit int, opts *RunOptions) ([]RemoteDestination, error) {
	if err := checkOffenseSearch("RemoteDestinations", o, limit); err != nil {
		return nil, err
	}
	if o.RemoteDestinationCount == 0 {
		return nil, nil
	}
	stop := o.LastUpdatedTime
	if stop.Before(o.StartTime) {
		stop = o.StartTime
	}
	rows, err := a.Run(ctx, RemoteDestinationsAQL(o.ID, o.StartTime, stop.Add(time.Minute), limit), opts)
	if err != nil {
		return nil, err
	}
	out := make([]RemoteDestination, 0, len(rows))
	for _, r := range rows {
		n, _ := r.Int64("event_count")
		out = append(out, RemoteDestination{IP: r.String("destinationip"), EventCount: n})
	}
	return out, nil
}
