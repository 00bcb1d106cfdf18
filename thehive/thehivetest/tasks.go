package thehivetest

var taskStatuses = []string{"Waiting", "InProgress", "Completed", "Cancel"}

// taskInput is an InputTask.
type taskInput struct {
	title, group, description, status, assignee string
	flag, mandatory, hasOrder                   bool
	order, startDate, endDate, dueDate          int64
}

func (in taskInput) groupOrDefault() string {
	if in.group == "" {
		return "default"
	}
	return in.group
}

func (in taskInput) statusOrDefault() string {
	if in.status == "" {
		return "Waiting"
	}
	return in.status
}

func parseTaskInput(f fields) taskInput {
	var in taskInput
	in.title = f.reqStr("title")
	in.group, _ = f.str("group")
	in.description, _ = f.str("description")
	in.status, _ = f.enumStr("status", taskStatuses...)
	in.assignee, _ = f.str("assignee")
	in.flag, _ = f.boolean("flag")
	in.mandatory, _ = f.boolean("mandatory")
	in.order, in.hasOrder = f.integer("order")
	in.startDate, _ = f.date("startDate")
	in.endDate, _ = f.date("endDate")
	in.dueDate, _ = f.date("dueDate")
	return in
}

// taskRec is a task of a case.
type taskRec struct {
	base
	caseID         string
	title          string
	group          string
	description    string
	status         string
	flag           bool
	startDate      int64
	endDate        int64
	order          int64
	dueDate        int64
	assignee       string
	mandatory      bool
	actionRequired map[string]bool // organisation name -> required
}

func (t *taskRec) render(*store) map[string]any {
	m := t.common("Task")
	m["title"] = t.title
	m["group"] = t.group
	putStr(m, "description", t.description)
	m["status"] = t.status
	m["flag"] = t.flag
	putDate(m, "startDate", t.startDate)
	putDate(m, "endDate", t.endDate)
	m["order"] = t.order
	putDate(m, "dueDate", t.dueDate)
	putStr(m, "assignee", t.assignee)
	m["mandatory"] = t.mandatory
	return m
}

// setStatus changes the status; starting a task dates it, finishing it
// dates its end.
func (t *taskRec) setStatus(status string, now int64) {
	t.status = status
	switch status {
	case "InProgress":
		if t.startDate == 0 {
			t.startDate = now
		}
	case "Completed", "Cancel":
		if t.endDate == 0 {
			t.endDate = now
		}
	}
}

// newTask adds a task to a case (assignees are checked by the caller).
func (c *call) newTask(st *store, cs *caseRec, in taskInput) *taskRec {
	t := &taskRec{
		base:   st.newBase(cs.orgID, c.login, c.now),
		caseID: cs.id, title: in.title, group: in.groupOrDefault(),
		description: in.description, flag: in.flag, order: in.order,
		startDate: in.startDate, endDate: in.endDate, dueDate: in.dueDate,
		mandatory: in.mandatory,
	}
	if in.assignee != "" {
		if u := st.orgUser(in.assignee, cs.orgID); u != nil {
			t.assignee = u.login
		}
	}
	t.setStatus(in.statusOrDefault(), c.now)
	st.tasks.put(t)
	st.refresh(t)
	c.audit(st, "create", t, cs.id, taskDetails(t), nil)
	return t
}

func taskDetails(t *taskRec) map[string]any {
	d := map[string]any{"title": t.title, "group": t.group, "status": t.status, "flag": t.flag, "order": t.order, "mandatory": t.mandatory}
	putStr(d, "description", t.description)
	putStr(d, "assignee", t.assignee)
	return d
}

// taskByID finds a task of a case of the caller's organisation.
func (c *call) taskByID(st *store, id string) (*taskRec, error) {
	return findInOrg(c, &st.tasks, id, "Task")
}

// deleteTask removes a task and its logs.
func (st *store) deleteTask(t *taskRec) {
	for _, l := range st.logs.filter(func(l *logRec) bool { return l.taskID == t.id }) {
		st.deleteLog(l)
	}
	st.tasks.remove(t.id)
}

func (s *Server) taskRoutes() []*route {
	return []*route{
		{method: "POST", pattern: "/api/v1/case/{id}/task", name: "create task", perm: "manageTask", handle: s.createTask},
		{method: "GET", pattern: "/api/v1/task/{id}", name: "get task", handle: s.getTask},
		{method: "PATCH", pattern: "/api/v1/task/{id}", name: "update task", perm: "manageTask", handle: s.updateTasks(false)},
		{method: "DELETE", pattern: "/api/v1/task/{id}", name: "delete task", perm: "manageTask", handle: s.deleteTaskHandler},
		{method: "PATCH", pattern: "/api/v1/task/_bulk", name: "bulk update", perm: "manageTask", handle: s.updateTasks(true)},
		{method: "GET", pattern: "/api/v1/task/{id}/actionRequired", name: "is action required", handle: s.taskActions},
		{method: "PUT", pattern: "/api/v1/task/{id}/actionRequired/{org}", name: "action required", perm: "manageTask", handle: s.setTaskAction(true)},
		{method: "PUT", pattern: "/api/v1/task/{id}/actionDone/{org}", name: "action done", perm: "manageTask", handle: s.setTaskAction(false)},
		{method: "GET", pattern: "/api/v1/task/{id}/shares", name: "list task shares", handle: s.taskShares},
		{method: "POST", pattern: "/api/v1/task/{id}/shares", name: "share task", perm: "manageShare", handle: s.shareChild("task")},
		{method: "DELETE", pattern: "/api/v1/task/{id}/shares", name: "unshare task", perm: "manageShare", handle: s.shareChild("task")},
	}
}

func (s *Server) createTask(c *call) (reply, error) {
	f, err := c.fields()
	if err != nil {
		return reply{}, err
	}
	in := parseTaskInput(f)
	if err := f.err(); err != nil {
		return reply{}, err
	}
	return c.write(func(st *store) (reply, error) {
		cs, err := c.caseByRef(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		if in.assignee != "" && st.orgUser(in.assignee, c.orgID) == nil {
			return reply{}, errNotFound("User")
		}
		t := c.newTask(st, cs, in)
		return created(t.view), nil
	})
}

func (s *Server) getTask(c *call) (reply, error) {
	return c.read(func(st *store) (reply, error) {
		t, err := c.taskByID(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		return ok(t.view), nil
	})
}

func parseTaskUpdate(f fields) {
	f.str("title")
	f.str("group")
	f.str("description")
	f.enumStr("status", taskStatuses...)
	f.boolean("flag")
	f.boolean("mandatory")
	f.integer("order")
	f.date("startDate")
	f.date("endDate")
	f.date("dueDate")
	f.str("assignee")
}

func (c *call) updateTaskWith(st *store, t *taskRec, f fields) error {
	d := map[string]any{}
	login, set, err := c.assigneeUpdate(st, f)
	if err != nil {
		return err
	}
	if set {
		t.assignee, d["assignee"] = login, nullable(login)
	}
	if v, ok := f.str("title"); ok {
		t.title, d["title"] = v, v
	}
	if v, ok := f.str("group"); ok {
		t.group, d["group"] = v, v
	}
	if v, ok := f.str("description"); ok {
		t.description, d["description"] = v, v
	}
	if v, ok := f.boolean("flag"); ok {
		t.flag, d["flag"] = v, v
	}
	if v, ok := f.boolean("mandatory"); ok {
		t.mandatory, d["mandatory"] = v, v
	}
	if v, ok := f.integer("order"); ok {
		t.order, d["order"] = v, v
	}
	if v, ok := f.date("startDate"); ok {
		t.startDate, d["startDate"] = v, v
	}
	if v, ok := f.date("endDate"); ok {
		t.endDate, d["endDate"] = v, v
	}
	if f.has("dueDate") {
		v, _ := f.date("dueDate")
		t.dueDate, d["dueDate"] = v, nullableInt(v)
	}
	if v, ok := f.str("status"); ok && v != t.status {
		t.setStatus(v, c.now)
		d["status"] = v
	}
	st.touch(t, c.login, c.now)
	c.audit(st, "update", t, t.caseID, d, nil)
	return nil
}

// updateTasks updates a task (PATCH /api/v1/task/{id}) or, in bulk, the
// tasks of the body's "ids" (PATCH /api/v1/task/_bulk).
func (s *Server) updateTasks(bulk bool) func(*call) (reply, error) {
	return func(c *call) (reply, error) {
		f, err := c.fields()
		if err != nil {
			return reply{}, err
		}
		ids := c.targets(f, bulk)
		parseTaskUpdate(f)
		if err := f.err(); err != nil {
			return reply{}, err
		}
		return applyAll(c, ids, c.taskByID, func(st *store, t *taskRec) error {
			return c.updateTaskWith(st, t, f)
		})
	}
}

func (s *Server) deleteTaskHandler(c *call) (reply, error) {
	return c.write(func(st *store) (reply, error) {
		t, err := c.taskByID(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		st.deleteTask(t)
		c.audit(st, "delete", t, c.orgID, map[string]any{}, nil)
		return noContent(), nil
	})
}

func (s *Server) taskActions(c *call) (reply, error) {
	return c.read(func(st *store) (reply, error) {
		t, err := c.taskByID(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		out := map[string]any{}
		for org, v := range t.actionRequired {
			out[org] = v
		}
		return ok(out), nil
	})
}

func (s *Server) setTaskAction(required bool) func(*call) (reply, error) {
	return func(c *call) (reply, error) {
		return c.write(func(st *store) (reply, error) {
			org := st.org(c.param("org"))
			if org == nil {
				return reply{}, errNotFound("Organisation")
			}
			t, err := c.taskByID(st, c.param("id"))
			if err != nil {
				return reply{}, err
			}
			if t.actionRequired == nil {
				t.actionRequired = map[string]bool{}
			}
			t.actionRequired[c.param("org")] = required
			st.refresh(t)
			return noContent(), nil
		})
	}
}

// taskShares lists the shares of a task with other organisations: the fake
// has no sharing, so the list is empty.
func (s *Server) taskShares(c *call) (reply, error) {
	return c.read(func(st *store) (reply, error) {
		if _, err := c.taskByID(st, c.param("id")); err != nil {
			return reply{}, err
		}
		return ok([]any{}), nil
	})
}

// shareChild accepts sharing a task or an observable with organisations;
// sharing with one's own organisation changes nothing.
func (s *Server) shareChild(kind string) func(*call) (reply, error) {
	return func(c *call) (reply, error) {
		f, err := c.fields()
		if err != nil {
			return reply{}, err
		}
		orgs, _ := f.strs("organisations")
		if err := f.err(); err != nil {
			return reply{}, err
		}
		return c.read(func(st *store) (reply, error) {
			switch kind {
			case "task":
				if _, err := c.taskByID(st, c.param("id")); err != nil {
					return reply{}, err
				}
			default:
				if _, err := c.observableByID(st, c.param("id")); err != nil {
					return reply{}, err
				}
			}
			for _, o := range orgs {
				if st.org(o) == nil {
					return reply{}, errNotFound("Organisation")
				}
			}
			return noContent(), nil
		})
	}
}
