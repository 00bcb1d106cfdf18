package thehivetest

// logRec is a task log.
type logRec struct {
	base
	taskID            string
	message           string
	date              int64
	owner             string
	includeInTimeline int64
	attachments       []*attachmentRec
}

func (l *logRec) render(*store) map[string]any {
	m := l.common("Log")
	m["message"] = l.message
	m["date"] = l.date
	m["owner"] = l.owner
	putDate(m, "includeInTimeline", l.includeInTimeline)
	if len(l.attachments) > 0 {
		list := make([]any, len(l.attachments))
		for i, a := range l.attachments {
			list[i] = a.view
		}
		m["attachments"] = list
	}
	return m
}

func (c *call) logByID(st *store, id string) (*logRec, error) {
	return findInOrg(c, &st.logs, id, "Log")
}

func (st *store) deleteLog(l *logRec) {
	for _, a := range l.attachments {
		st.attachments.remove(a.id)
	}
	st.logs.remove(l.id)
}

func (s *Server) logRoutes() []*route {
	return []*route{
		{method: "POST", pattern: "/api/v1/task/{id}/log", name: "create log", perm: "manageTask", handle: s.createLog},
		{method: "PATCH", pattern: "/api/v1/log/{id}", name: "update log", perm: "manageTask", handle: s.updateLog},
		{method: "DELETE", pattern: "/api/v1/log/{id}", name: "delete log", perm: "manageTask", handle: s.deleteLogHandler},
		{method: "POST", pattern: "/api/v1/log/{id}/attachments", name: "add attachments to log", perm: "manageTask", handle: s.addLogAttachments},
		{method: "DELETE", pattern: "/api/v1/log/{id}/attachments/{attachmentId}", name: "delete log attachment", perm: "manageTask", handle: s.deleteLogAttachment},
		{method: "GET", pattern: "/api/v1/log/{id}/attachment/{attachmentId}/download", name: "download attachment", handle: s.downloadLogAttachment},
	}
}

// createLog adds a log to a task, from JSON or from a multipart body with a
// "_json" part and "attachments" file parts. A log on a waiting task starts
// it, as in TheHive.
func (s *Server) createLog(c *call) (reply, error) {
	f, uploads, err := c.fieldsAndUploads()
	if err != nil {
		return reply{}, err
	}
	message := f.reqStr("message")
	startDate, _ := f.date("startDate")
	includeInTimeline, _ := f.date("includeInTimeline")
	if err := f.err(); err != nil {
		return reply{}, err
	}
	var files []*upload
	for name, list := range uploads {
		if name == "attachments" || name == "attachment" {
			files = append(files, list...)
		}
	}
	return c.write(func(st *store) (reply, error) {
		t, err := c.taskByID(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		l := &logRec{
			base:   st.newBase(c.orgID, c.login, c.now),
			taskID: t.id, message: message, date: c.now, owner: c.login,
			includeInTimeline: includeInTimeline,
		}
		if startDate != 0 {
			l.date = startDate
		}
		for _, u := range files {
			l.attachments = append(l.attachments, st.newAttachment(u, l.id, c.orgID, c.login, c.now))
		}
		st.logs.put(l)
		st.refresh(l)
		c.audit(st, "create", l, t.caseID, logDetails(l), nil)
		if t.status == "Waiting" {
			t.setStatus("InProgress", c.now)
			st.touch(t, c.login, c.now)
			c.audit(st, "update", t, t.caseID, map[string]any{"status": "InProgress"}, nil)
		}
		return created(l.view), nil
	})
}

func logDetails(l *logRec) map[string]any {
	d := map[string]any{"message": l.message, "date": l.date, "owner": l.owner}
	if len(l.attachments) > 0 {
		d["attachments"] = l.view["attachments"]
	}
	return d
}

func (s *Server) updateLog(c *call) (reply, error) {
	f, err := c.fields()
	if err != nil {
		return reply{}, err
	}
	message, hasMessage := f.str("message")
	include, hasInclude := f.date("includeInTimeline")
	if err := f.err(); err != nil {
		return reply{}, err
	}
	return c.write(func(st *store) (reply, error) {
		l, err := c.logByID(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		d := map[string]any{}
		if hasMessage {
			l.message, d["message"] = message, message
		}
		if hasInclude {
			l.includeInTimeline, d["includeInTimeline"] = include, include
		}
		st.touch(l, c.login, c.now)
		c.audit(st, "update", l, st.logCase(l), d, nil)
		return noContent(), nil
	})
}

// logCase is the id of the case a log belongs to.
func (st *store) logCase(l *logRec) string {
	if t, ok := st.tasks.get(l.taskID); ok {
		return t.caseID
	}
	return ""
}

func (s *Server) deleteLogHandler(c *call) (reply, error) {
	return c.write(func(st *store) (reply, error) {
		l, err := c.logByID(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		st.deleteLog(l)
		c.audit(st, "delete", l, c.orgID, map[string]any{}, nil)
		return noContent(), nil
	})
}

func (s *Server) addLogAttachments(c *call) (reply, error) {
	files, err := c.attachmentUploads()
	if err != nil {
		return reply{}, err
	}
	return c.write(func(st *store) (reply, error) {
		l, err := c.logByID(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		for _, u := range files {
			l.attachments = append(l.attachments, st.newAttachment(u, l.id, c.orgID, c.login, c.now))
		}
		st.touch(l, c.login, c.now)
		c.audit(st, "update", l, st.logCase(l), map[string]any{"attachments": l.view["attachments"]}, nil)
		return noContent(), nil
	})
}

func (s *Server) deleteLogAttachment(c *call) (reply, error) {
	return c.write(func(st *store) (reply, error) {
		l, err := c.logByID(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		id := c.param("attachmentId")
		for i, a := range l.attachments {
			if a.id == id || a.hashes[0] == id {
				l.attachments = append(l.attachments[:i:i], l.attachments[i+1:]...)
				st.attachments.remove(a.id)
				st.touch(l, c.login, c.now)
				return noContent(), nil
			}
		}
		return reply{}, errNotFound("Attachment")
	})
}

func (s *Server) downloadLogAttachment(c *call) (reply, error) {
	return c.read(func(st *store) (reply, error) {
		l, err := c.logByID(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		id := c.param("attachmentId")
		for _, a := range l.attachments {
			if a.id == id || a.hashes[0] == id {
				return downloadReply(a, false)
			}
		}
		return reply{}, errNotFound("Attachment")
	})
}
