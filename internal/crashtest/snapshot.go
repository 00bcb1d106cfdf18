package crashtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/synapse-go/synapse/thehive/thehivetest"
)

// Snapshot is what a fake TheHive holds after a mail-to-case workflow ran:
// its cases, tasks, task logs and observables, typed.
type Snapshot struct {
	// Cases, Tasks, Logs and Observables are every stored object of their
	// kind, oldest first.
	Cases       []Case
	Tasks       []Task
	Logs        []Log
	Observables []Observable
	// Requests counts the API requests of each route ("POST
	// /api/v1/case").
	Requests map[string]int
}

// Case is a stored case.
type Case struct {
	// ID is the case's id ("~123") and Number its number.
	ID     string `json:"_id"`
	Number int    `json:"number"`
	// Title, Assignee and Tags are as TheHive stores them.
	Title    string   `json:"title"`
	Assignee string   `json:"assignee"`
	Tags     []string `json:"tags"`
}

// Task is a stored task and the case it belongs to.
type Task struct {
	// ID is the task's id.
	ID string `json:"_id"`
	// Title, Status, Assignee and StartDate (epoch milliseconds, 0 when
	// unset) are as TheHive stores them.
	Title     string `json:"title"`
	Status    string `json:"status"`
	Assignee  string `json:"assignee"`
	StartDate int64  `json:"startDate"`
	// Extra names the case the task belongs to.
	Extra struct {
		CaseID string `json:"caseId"`
	} `json:"extraData"`
}

// Log is a stored task log and the task and case it belongs to.
type Log struct {
	// ID is the log's id.
	ID string `json:"_id"`
	// Message is the log's text and Attachments its files.
	Message     string `json:"message"`
	Attachments []File `json:"attachments"`
	// Extra names the task and the case the log belongs to.
	Extra struct {
		TaskID string `json:"taskId"`
		CaseID string `json:"caseId"`
	} `json:"extraData"`
}

// File is a stored attachment.
type File struct {
	// Name, ContentType and Size are as uploaded.
	Name        string `json:"name"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
	// Hashes are the hex SHA-256, SHA-1 and MD5 of the content.
	Hashes []string `json:"hashes"`
}

// SHA256 returns the file's SHA-256, or "".
func (f File) SHA256() string {
	if len(f.Hashes) == 0 {
		return ""
	}
	return f.Hashes[0]
}

// Observable is a stored observable and the case it belongs to.
type Observable struct {
	// ID is the observable's id.
	ID string `json:"_id"`
	// DataType and Data are its type and value; a file has no Data but an
	// Attachment.
	DataType   string `json:"dataType"`
	Data       string `json:"data"`
	Attachment *File  `json:"attachment"`
	// Tags are its tags.
	Tags []string `json:"tags"`
	// Extra names the case the observable belongs to.
	Extra struct {
		CaseID string `json:"caseId"`
	} `json:"extraData"`
}

// Value returns the observable's data, or for a file its SHA-256.
func (o Observable) Value() string {
	if o.Attachment != nil {
		return o.Attachment.SHA256()
	}
	return o.Data
}

// NewSnapshot types what a fake TheHive's State holds.
func NewSnapshot(st thehivetest.State) (*Snapshot, error) {
	s := &Snapshot{Requests: st.Requests}
	for _, part := range []struct {
		name string
		from []map[string]any
		to   any
	}{
		{"cases", st.Cases, &s.Cases},
		{"tasks", st.Tasks, &s.Tasks},
		{"logs", st.Logs, &s.Logs},
		{"observables", st.Observables, &s.Observables},
	} {
		b, err := json.Marshal(part.from)
		if err != nil {
			return nil, fmt.Errorf("crashtest: %s: %w", part.name, err)
		}
		if err := json.Unmarshal(b, part.to); err != nil {
			return nil, fmt.Errorf("crashtest: %s: %w", part.name, err)
		}
	}
	return s, nil
}

// FetchSnapshot reads the state of a fake TheHive running in another
// process, from its control route GET /_thehivetest/state.
func FetchSnapshot(ctx context.Context, hc *http.Client, baseURL string) (*Snapshot, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(baseURL, "/")+"/_thehivetest/state", nil)
	if err != nil {
		return nil, fmt.Errorf("crashtest: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("crashtest: reading the fake's state: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("crashtest: reading the fake's state: %s: %s", resp.Status, b)
	}
	var st thehivetest.State
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return nil, fmt.Errorf("crashtest: decoding the fake's state: %w", err)
	}
	return NewSnapshot(st)
}

// CaseByID returns the case with that id.
func (s *Snapshot) CaseByID(id string) (Case, bool) {
	i := slices.IndexFunc(s.Cases, func(c Case) bool { return c.ID == id })
	if i < 0 {
		return Case{}, false
	}
	return s.Cases[i], true
}

// LogsOfMessage returns the logs that carry the raw message whose SHA-256
// is sum as an attachment.
func (s *Snapshot) LogsOfMessage(sum string) []Log {
	var out []Log
	for _, l := range s.Logs {
		if slices.ContainsFunc(l.Attachments, func(f File) bool { return f.SHA256() == sum }) {
			out = append(out, l)
		}
	}
	return out
}

// ObservablesOf returns the observables of a case.
func (s *Snapshot) ObservablesOf(caseID string) []Observable {
	var out []Observable
	for _, o := range s.Observables {
		if o.Extra.CaseID == caseID {
			out = append(out, o)
		}
	}
	return out
}

// TotalRequests sums the requests of every route.
func (s *Snapshot) TotalRequests() int {
	n := 0
	for _, c := range s.Requests {
		n += c
	}
	return n
}

// Problems checks what a mail-to-case workflow promises whatever the mail:
// every task, log and observable belongs to a stored case; every case has
// exactly one task titled taskTitle; no raw message is attached to two
// logs; no case has two observables of the same type and value (or file
// content). It returns one line per broken promise.
func (s *Snapshot) Problems(taskTitle string) []string {
	var out []string
	caseIDs := map[string]bool{}
	for _, c := range s.Cases {
		caseIDs[c.ID] = true
	}
	tasks := map[string]int{}
	for _, t := range s.Tasks {
		if !caseIDs[t.Extra.CaseID] {
			out = append(out, fmt.Sprintf("task %s belongs to no stored case", t.ID))
		}
		if t.Title == taskTitle {
			tasks[t.Extra.CaseID]++
		}
	}
	for _, c := range s.Cases {
		if n := tasks[c.ID]; n != 1 {
			out = append(out, fmt.Sprintf("case #%d %q has %d tasks titled %q", c.Number, c.Title, n, taskTitle))
		}
	}
	logged := map[string]string{}
	for _, l := range s.Logs {
		if !caseIDs[l.Extra.CaseID] {
			out = append(out, fmt.Sprintf("log %s belongs to no stored case", l.ID))
		}
		for _, f := range l.Attachments {
			if first, dup := logged[f.SHA256()]; dup {
				out = append(out, fmt.Sprintf("message %s (%s) is logged twice: logs %s and %s", f.SHA256(), f.Name, first, l.ID))
			}
			logged[f.SHA256()] = l.ID
		}
	}
	seen := map[[3]string]string{}
	for _, o := range s.Observables {
		if !caseIDs[o.Extra.CaseID] {
			out = append(out, fmt.Sprintf("observable %s belongs to no stored case", o.ID))
		}
		k := [3]string{o.Extra.CaseID, o.DataType, o.Value()}
		if first, dup := seen[k]; dup {
			out = append(out, fmt.Sprintf("case %s has observable %s %q twice: %s and %s", o.Extra.CaseID, o.DataType, o.Value(), first, o.ID))
		}
		seen[k] = o.ID
	}
	return out
}
