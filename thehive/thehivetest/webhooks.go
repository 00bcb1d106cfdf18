package thehivetest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"
)

// maxAuditEvents bounds the events a Server remembers for Events.
const maxAuditEvents = 100000

// audit records a TheHive 5 audit event for a change of r, in the format
// TheHive's "Webhook" notifier sends: action (create, update, delete),
// objectType, objectId, rootId (the case or alert the object belongs to, or
// the organisation for a deletion), details (the fields the change set) and
// object (the entity after the change, embedding its parent). The first
// event of a request is its mainAction. Events are queued for the webhook,
// if any, in the order they happen.
func (c *call) audit(st *store, action string, r record, rootID string, details map[string]any, context map[string]any) {
	b := r.meta()
	ev := map[string]any{
		"_id":        st.newBase("", c.login, c.now).id,
		"_type":      "Audit",
		"_createdAt": c.now,
		"_createdBy": c.login,
		"action":     action,
		"mainAction": !c.audited,
		"objectId":   b.id,
		"objectType": objectType(r),
		"rootId":     rootID,
		"requestId":  c.reqID,
		"details":    details,
		"organisation": map[string]any{
			"organisationId": c.orgID,
			"organisation":   c.orgName,
		},
	}
	c.audited = true
	if action != "delete" {
		obj := st.eventObject(r)
		ev["object"] = obj
		if context == nil {
			context = obj
		}
		ev["context"] = context
	}
	st.audit = append(st.audit, ev)
	if len(st.audit) > maxAuditEvents {
		st.audit = append([]map[string]any(nil), st.audit[len(st.audit)-maxAuditEvents/2:]...)
	}
	c.s.hook.enqueue(ev)
}

func objectType(r record) string {
	switch r.(type) {
	case *caseRec:
		return "Case"
	case *alertRec:
		return "Alert"
	case *observableRec:
		return "Observable"
	case *taskRec:
		return "Task"
	case *logRec:
		return "Log"
	case *commentRec:
		return "Comment"
	case *procedureRec:
		return "Procedure"
	case *pageRec:
		return "Page"
	case *jobRec:
		return "Job"
	case *actionRec:
		return "Action"
	}
	return "Unknown"
}

// eventObject renders the entity of an event: a case carries its
// customFieldValues, a child entity its parent.
func (st *store) eventObject(r record) map[string]any {
	obj := copyDoc(r.meta().view)
	switch v := r.(type) {
	case *caseRec:
		obj["customFieldValues"] = v.customFields.valueMap()
	case *alertRec:
		obj["customFieldValues"] = v.customFields.valueMap()
	case *observableRec:
		if cs, ok := st.cases.get(v.parentID); ok {
			obj["case"] = cs.view
		} else if a, ok := st.alerts.get(v.parentID); ok {
			obj["alert"] = a.view
		}
	case *taskRec:
		if cs, ok := st.cases.get(v.caseID); ok {
			obj["case"] = cs.view
		}
	case *logRec:
		if t, ok := st.tasks.get(v.taskID); ok {
			task := copyDoc(t.view)
			if cs, ok := st.cases.get(t.caseID); ok {
				task["case"] = cs.view
			}
			obj["task"] = task
		}
	}
	return obj
}

// Events returns the TheHive 5 audit events generated so far, oldest first:
// what the webhook receives.
func (s *Server) Events() []map[string]any {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return jsonCopies(s.st.audit)
}

// FlushWebhooks waits until every webhook notification queued so far has
// been delivered (or has failed). Without WithWebhook it returns at once.
func (s *Server) FlushWebhooks() { s.hook.flush() }

// WebhookFailures returns how many webhook deliveries failed: a transport
// error or a status of 400 or more (TheHive only logs them).
func (s *Server) WebhookFailures() int { return s.hook.failures() }

// webhookQueue delivers notifications one at a time, in order, without
// retries, from a single goroutine started on first use.
type webhookQueue struct {
	url, auth string
	client    *http.Client

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []map[string]any
	busy    bool
	started bool
	closed  bool
	failed  int
	ctx     context.Context
	cancel  context.CancelFunc
}

func newWebhookQueue(url, auth string, client *http.Client) *webhookQueue {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	q := &webhookQueue{url: url, auth: auth, client: client}
	q.cond = sync.NewCond(&q.mu)
	q.ctx, q.cancel = context.WithCancel(context.Background())
	return q
}

func (q *webhookQueue) enqueue(ev map[string]any) {
	if q.url == "" {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	q.queue = append(q.queue, ev)
	if !q.started {
		q.started = true
		go q.run()
	}
	q.cond.Broadcast()
}

func (q *webhookQueue) run() {
	for {
		q.mu.Lock()
		for len(q.queue) == 0 && !q.closed {
			q.cond.Wait()
		}
		if q.closed {
			q.mu.Unlock()
			return
		}
		ev := q.queue[0]
		q.queue = q.queue[1:]
		q.busy = true
		q.mu.Unlock()

		ok := q.send(ev)

		q.mu.Lock()
		q.busy = false
		if !ok {
			q.failed++
		}
		q.cond.Broadcast()
		q.mu.Unlock()
	}
}

func (q *webhookQueue) send(ev map[string]any) bool {
	body, err := json.Marshal(ev)
	if err != nil {
		return false
	}
	req, err := http.NewRequestWithContext(q.ctx, http.MethodPost, q.url, bytes.NewReader(body))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "TheHive")
	if q.auth != "" {
		req.Header.Set("Authorization", q.auth)
	}
	resp, err := q.client.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	return resp.StatusCode < 400
}

func (q *webhookQueue) flush() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for (len(q.queue) > 0 || q.busy) && !q.closed {
		q.cond.Wait()
	}
}

func (q *webhookQueue) failures() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.failed
}

func (q *webhookQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.queue = nil
	q.cond.Broadcast()
	q.mu.Unlock()
	q.cancel()
}
