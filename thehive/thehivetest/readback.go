package thehivetest

import "encoding/json"

// Cases returns every case (see "Reading back" in the package
// documentation).
func (s *Server) Cases() []map[string]any {
	return readAll(s, func(st *store) []record { return as(st.cases.all()) })
}

// Alerts returns every alert.
func (s *Server) Alerts() []map[string]any {
	return readAll(s, func(st *store) []record { return as(st.alerts.all()) })
}

// Observables returns every observable, of cases and of alerts.
func (s *Server) Observables() []map[string]any {
	return readAll(s, func(st *store) []record { return as(st.observables.all()) })
}

// Tasks returns every task.
func (s *Server) Tasks() []map[string]any {
	return readAll(s, func(st *store) []record { return as(st.tasks.all()) })
}

// Logs returns every task log.
func (s *Server) Logs() []map[string]any {
	return readAll(s, func(st *store) []record { return as(st.logs.all()) })
}

// Comments returns every comment, of cases and of alerts.
func (s *Server) Comments() []map[string]any {
	return readAll(s, func(st *store) []record { return as(st.comments.all()) })
}

// Users returns every user.
func (s *Server) Users() []map[string]any {
	return readAll(s, func(st *store) []record { return as(st.users.all()) })
}

// Attachments returns every stored file: of observables, task logs, cases,
// alerts and organisations.
func (s *Server) Attachments() []map[string]any {
	return readAll(s, func(st *store) []record { return as(st.attachments.all()) })
}

// Jobs returns every Cortex analyzer job.
func (s *Server) Jobs() []map[string]any {
	return readAll(s, func(st *store) []record { return as(st.jobs.all()) })
}

// AttachmentContent returns the bytes of an attachment (by _id or SHA-256)
// and whether the fake kept them.
func (s *Server) AttachmentContent(id string) ([]byte, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, a := range s.st.attachments.all() {
		if (a.id == id || a.hashes[0] == id) && a.kept {
			return append([]byte(nil), a.data...), true
		}
	}
	return nil, false
}

func readAll(s *Server, list func(st *store) []record) []map[string]any {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return readBack(s.st, list(s.st))
}

func readBack[T record](st *store, list []T) []map[string]any {
	out := make([]map[string]any, 0, len(list))
	for _, r := range list {
		doc := copyDoc(r.meta().view)
		extra := map[string]any{}
		for k, v := range st.parents(r) {
			extra[k] = v
		}
		doc["extraData"] = extra
		out = append(out, jsonCopy(doc))
	}
	return out
}

// parents names the ids of what holds r.
func (st *store) parents(r record) map[string]string {
	out := map[string]string{}
	parent := func(id string) {
		switch {
		case id == "":
		case has(&st.cases, id):
			out["caseId"] = id
		case has(&st.alerts, id):
			out["alertId"] = id
		case has(&st.observables, id):
			out["observableId"] = id
		case has(&st.logs, id):
			out["logId"] = id
			if l, ok := st.logs.get(id); ok {
				out["taskId"] = l.taskID
			}
		case has(&st.orgs, id):
			out["organisationId"] = id
		}
	}
	switch v := r.(type) {
	case *observableRec:
		parent(v.parentID)
	case *commentRec:
		parent(v.parentID)
	case *procedureRec:
		parent(v.parentID)
	case *taskRec:
		parent(v.caseID)
	case *logRec:
		out["taskId"] = v.taskID
		if t, ok := st.tasks.get(v.taskID); ok {
			out["caseId"] = t.caseID
		}
	case *attachmentRec:
		parent(v.ownerID)
		if o, ok := st.observables.get(v.ownerID); ok {
			parent(o.parentID)
		}
	case *jobRec:
		out["observableId"] = v.observableID
	}
	return out
}

func has[T record](t *table[T], id string) bool { _, ok := t.get(id); return ok }

// jsonCopy deep-copies a rendered object the way a client decodes it.
func jsonCopy(m map[string]any) map[string]any {
	b, err := json.Marshal(m)
	if err != nil {
		return nil
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil
	}
	return out
}

func jsonCopies(list []map[string]any) []map[string]any {
	out := make([]map[string]any, 0, len(list))
	for _, m := range list {
		out = append(out, jsonCopy(m))
	}
	return out
}
