package thehivetest

import (
	"strconv"
	"strings"
)

// Case statuses of TheHive 5 and the stage each one belongs to.
var caseStages = map[string]string{
	"New": "New", "InProgress": "InProgress",
	"Indeterminate": "Closed", "FalsePositive": "Closed", "TruePositive": "Closed",
	"Other": "Closed", "Duplicated": "Closed",
}

var caseStatuses = []string{"New", "InProgress", "Indeterminate", "FalsePositive", "TruePositive", "Other", "Duplicated"}

var impactStatuses = []string{"NotApplicable", "WithImpact", "NoImpact"}

// caseRec is a case.
type caseRec struct {
	base
	number         int64
	title          string
	description    string
	severity       int64
	startDate      int64
	endDate        int64
	tags           []string
	flag           bool
	tlp            int64
	pap            int64
	status         string
	summary        string
	impactStatus   string
	assignee       string
	access         map[string]any
	customFields   cfValues
	caseTemplate   string
	newDate        int64
	inProgressDate int64
	closedDate     int64
	alertDate      int64
	alertNewDate   int64
	alertImported  int64
	caseLinks      []link
	externalLinks  []link
}

// link is a link from a case to another case or to a URL.
type link struct {
	typ, target string
}

func (cs *caseRec) stage() string { return caseStages[cs.status] }

func (cs *caseRec) render(*store) map[string]any {
	m := cs.common("Case")
	m["number"] = cs.number
	m["title"] = cs.title
	m["description"] = cs.description
	m["severity"] = cs.severity
	m["severityLabel"] = severityLabels[cs.severity]
	m["startDate"] = cs.startDate
	putDate(m, "endDate", cs.endDate)
	if len(cs.tags) > 0 {
		m["tags"] = strList(cs.tags)
	}
	m["flag"] = cs.flag
	m["tlp"] = cs.tlp
	m["tlpLabel"] = tlpLabels[cs.tlp]
	m["pap"] = cs.pap
	m["papLabel"] = papLabels[cs.pap]
	m["status"] = cs.status
	m["stage"] = cs.stage()
	putStr(m, "summary", cs.summary)
	putStr(m, "impactStatus", cs.impactStatus)
	putStr(m, "assignee", cs.assignee)
	m["access"] = cs.access
	m["customFields"] = cs.customFields.render()
	m["userPermissions"] = []any{}
	m["newDate"] = cs.newDate
	putDate(m, "inProgressDate", cs.inProgressDate)
	putDate(m, "closedDate", cs.closedDate)
	putDate(m, "alertDate", cs.alertDate)
	putDate(m, "alertNewDate", cs.alertNewDate)
	putDate(m, "alertImportedDate", cs.alertImported)
	ttd := cs.newDate - cs.startDate
	if cs.alertDate != 0 {
		ttd = cs.newDate - cs.alertDate
	}
	m["timeToDetect"] = max(ttd, 0)
	if cs.inProgressDate != 0 {
		m["timeToTriage"] = cs.inProgressDate - cs.newDate
	}
	if cs.closedDate != 0 {
		m["timeToResolve"] = cs.closedDate - cs.newDate
		m["handlingDuration"] = cs.closedDate - cs.startDate
	}
	return m
}

// caseByRef finds a case of the caller's organisation by id or number.
func (c *call) caseByRef(st *store, ref string) (*caseRec, error) {
	if isID(ref) {
		if cs, ok := st.cases.get(ref); ok && cs.orgID == c.orgID {
			return cs, nil
		}
		return nil, errNotFound("Case")
	}
	n, err := strconv.ParseInt(strings.TrimPrefix(ref, "#"), 10, 64)
	if err != nil {
		return nil, errNotFound("Case")
	}
	for _, cs := range st.cases.byID {
		if cs.number == n && cs.orgID == c.orgID {
			return cs, nil
		}
	}
	return nil, errNotFound("Case")
}

// setStatus changes the status and keeps the stage dates up to date.
func (cs *caseRec) setStatus(status string, now int64) {
	cs.status = status
	switch cs.stage() {
	case "InProgress":
		if cs.inProgressDate == 0 {
			cs.inProgressDate = now
		}
	case "Closed":
		cs.closedDate = now
		if cs.endDate == 0 {
			cs.endDate = now
		}
	}
}

func (s *Server) caseRoutes() []*route {
	return []*route{
		{method: "POST", pattern: "/api/v1/case", name: "create case", perm: "manageCase/create", handle: s.createCase},
		{method: "GET", pattern: "/api/v1/case/{id}", name: "get case", handle: s.getCase},
		{method: "PATCH", pattern: "/api/v1/case/{id}", name: "update case", perm: "manageCase/update", handle: s.updateCases(false)},
		{method: "DELETE", pattern: "/api/v1/case/{id}", name: "delete case", perm: "manageCase/delete", handle: s.deleteCase},
		{method: "PATCH", pattern: "/api/v1/case/_bulk", name: "bulk update case", perm: "manageCase/update", handle: s.updateCases(true)},
		{method: "POST", pattern: "/api/v1/case/_merge/{ids}", name: "merge cases", perm: "manageCase/merge", handle: s.mergeCases},
		{method: "POST", pattern: "/api/v1/case/_bulk/caseTemplate", name: "apply case template", perm: "manageCase/update", handle: s.applyCaseTemplate},
		{method: "DELETE", pattern: "/api/v1/case/{id}/alert/{alertId}", name: "unlink alert", perm: "manageCase/update", handle: s.unlinkAlert},
		{method: "POST", pattern: "/api/v1/case/{id}/link/case/add", name: "link case", perm: "manageCase/update", handle: s.caseLink(true, false)},
		{method: "POST", pattern: "/api/v1/case/{id}/link/case/remove", name: "unlink case", perm: "manageCase/update", handle: s.caseLink(false, false)},
		{method: "POST", pattern: "/api/v1/case/{id}/link/external/add", name: "link url", perm: "manageCase/update", handle: s.caseLink(true, true)},
		{method: "POST", pattern: "/api/v1/case/{id}/link/external/remove", name: "unlink url", perm: "manageCase/update", handle: s.caseLink(false, true)},
		{method: "GET", pattern: "/api/v1/case/link/types", name: "list link types", handle: s.caseLinkTypes},
		{method: "POST", pattern: "/api/v1/case/{id}/access", name: "manage case access", perm: "manageCase/update", handle: s.caseAccess},
		{method: "GET", pattern: "/api/v1/case/{id}/links", name: "linked cases", handle: s.linkedCases},
		{method: "POST", pattern: "/api/v1/case/{id}/observable/_merge", name: "merge similar observables", perm: "manageObservable", handle: s.mergeSimilarObservables},
		{method: "GET", pattern: "/api/v1/case/{id}/similar/{otherId}/observables", name: "similar observables", handle: s.similarObservables("case")},
		{method: "GET", pattern: "/api/v1/case/{id}/shares", name: "list case shares", handle: s.emptyList("case")},
		{method: "DELETE", pattern: "/api/v1/case/customField/{id}", name: "delete a custom field", perm: "manageCase/update", handle: s.deleteCaseCustomField},
	}
}

// caseInput is what a case creation asks for, before it is checked against
// the store.
type caseInput struct {
	title, description, status, summary, impactStatus, assignee, template string
	severity, tlp, pap                                                    int64
	hasSeverity, hasTLP, hasPAP, hasFlag, hasAssignee                     bool
	startDate, endDate                                                    int64
	tags                                                                  []string
	flag                                                                  bool
	customFields                                                          []cfInput
	tasks                                                                 []taskInput
	hasTasks                                                              bool
	access                                                                map[string]any
	taskRule, observableRule                                              string
}

// parseCaseInput reads an InputCase; when promoting an alert, title and
// description are optional.
func parseCaseInput(f fields, fromAlert bool) caseInput {
	var in caseInput
	if fromAlert {
		in.title, _ = f.str("title")
		in.description, _ = f.str("description")
	} else {
		in.title = f.reqStr("title")
		in.description = f.reqStr("description")
	}
	in.severity, in.hasSeverity = f.enumInt("severity", 1, 4)
	in.tlp, in.hasTLP = f.enumInt("tlp", 0, 4)
	in.pap, in.hasPAP = f.enumInt("pap", 0, 3)
	in.startDate, _ = f.date("startDate")
	in.endDate, _ = f.date("endDate")
	in.tags, _ = f.strs("tags")
	in.flag, in.hasFlag = f.boolean("flag")
	in.status, _ = f.enumStr("status", caseStatuses...)
	in.summary, _ = f.str("summary")
	in.impactStatus, _ = f.enumStr("impactStatus", impactStatuses...)
	in.assignee, in.hasAssignee = f.str("assignee")
	in.template, _ = f.str("caseTemplate")
	in.customFields, _, _ = parseCustomFields(f, "customFields")
	in.taskRule, _ = f.str("taskRule")
	in.observableRule, _ = f.str("observableRule")
	if items, ok := f.objects("tasks"); ok {
		in.hasTasks = true
		for _, it := range items {
			in.tasks = append(in.tasks, parseTaskInput(it))
		}
	}
	if v, ok := f.value("access"); ok {
		if m, isObj := v.(map[string]any); isObj {
			in.access = m
		} else if v != nil {
			f.invalid("access", "object", f.m["access"])
		}
	}
	return in
}

func (s *Server) createCase(c *call) (reply, error) {
	f, err := c.fields()
	if err != nil {
		return reply{}, err
	}
	in := parseCaseInput(f, false)
	if err := f.err(); err != nil {
		return reply{}, err
	}
	return c.write(func(st *store) (reply, error) {
		cs, err := c.newCase(st, in, nil)
		if err != nil {
			return reply{}, err
		}
		return created(cs.view), nil
	})
}

// newCase creates a case, applying its template, checking its assignee and
// custom fields and creating its tasks. from is the alert a promotion starts
// from.
func (c *call) newCase(st *store, in caseInput, from *alertRec) (*caseRec, error) {
	var tpl *templateRec
	if in.template != "" {
		if tpl = c.templateByRef(st, in.template); tpl == nil {
			return nil, errNotFound("CaseTemplate")
		}
	}
	assignee := c.login
	if in.hasAssignee {
		assignee = in.assignee
	}
	if assignee != "" {
		u := st.orgUser(assignee, c.orgID)
		if u == nil {
			return nil, errNotFound("User")
		}
		assignee = u.login
	}
	values, err := st.resolveCustomFields(in.customFields)
	if err != nil {
		return nil, err
	}
	tasks := in.tasks
	if tpl != nil {
		values = tpl.customFields.clone(st).merge(values)
		if !in.hasTasks {
			tasks = tpl.taskInputs()
		}
	}
	for _, t := range tasks {
		if t.assignee != "" && st.orgUser(t.assignee, c.orgID) == nil {
			return nil, errNotFound("User")
		}
	}
	cs := &caseRec{
		base:         st.newBase(c.orgID, c.login, c.now),
		title:        in.title,
		description:  in.description,
		severity:     2,
		startDate:    c.now,
		endDate:      in.endDate,
		tags:         tagSet(in.tags),
		flag:         in.flag,
		tlp:          2,
		pap:          2,
		summary:      in.summary,
		impactStatus: in.impactStatus,
		assignee:     assignee,
		access:       map[string]any{"_kind": "OrganisationAccessKind"},
		customFields: values,
		newDate:      c.now,
	}
	if in.access != nil {
		cs.access = in.access
	}
	if tpl != nil {
		cs.caseTemplate = tpl.name
		if tpl.titlePrefix != "" {
			cs.title = strings.TrimRight(tpl.titlePrefix, " \t\r\n") + " " + cs.title
		}
		if tpl.severity != 0 {
			cs.severity = tpl.severity
		}
		if tpl.hasTLP {
			cs.tlp = tpl.tlp
		}
		if tpl.hasPAP {
			cs.pap = tpl.pap
		}
		if !in.hasFlag {
			cs.flag = tpl.flag
		}
		if cs.summary == "" {
			cs.summary = tpl.summary
		}
		cs.tags = tagSet(cs.tags, tpl.tags)
	}
	if in.hasSeverity {
		cs.severity = in.severity
	}
	if in.hasTLP {
		cs.tlp = in.tlp
	}
	if in.hasPAP {
		cs.pap = in.pap
	}
	if in.startDate != 0 {
		cs.startDate = in.startDate
	}
	if from != nil {
		cs.alertDate, cs.alertNewDate, cs.alertImported = from.date, from.newDate, c.now
	}
	status := in.status
	if status == "" {
		status = "New"
	}
	cs.setStatus(status, c.now)
	st.caseNumbers[c.orgID]++
	cs.number = st.caseNumbers[c.orgID]
	st.cases.put(cs)
	st.refresh(cs)
	c.audit(st, "create", cs, cs.id, caseDetails(cs), nil)
	for _, t := range tasks {
		c.newTask(st, cs, t)
	}
	return cs, nil
}

// caseDetails is the "details" of a case creation event: the fields set.
func caseDetails(cs *caseRec) map[string]any {
	d := map[string]any{
		"title": cs.title, "description": cs.description, "severity": cs.severity,
		"tlp": cs.tlp, "pap": cs.pap, "flag": cs.flag, "status": cs.status,
		"startDate": cs.startDate, "tags": strList(cs.tags), "number": cs.number,
	}
	putStr(d, "assignee", cs.assignee)
	putStr(d, "summary", cs.summary)
	return d
}

func (s *Server) getCase(c *call) (reply, error) {
	return c.read(func(st *store) (reply, error) {
		cs, err := c.caseByRef(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		return ok(cs.view), nil
	})
}

// caseUpdate is a parsed InputUpdateCase.
type caseUpdate struct {
	f        fields
	cfs      []cfInput
	cfIsList bool
	hasCFs   bool
}

func parseCaseUpdate(f fields) caseUpdate {
	u := caseUpdate{f: f}
	f.str("title")
	f.str("description")
	f.enumInt("severity", 1, 4)
	f.enumInt("tlp", 0, 4)
	f.enumInt("pap", 0, 3)
	f.date("startDate")
	f.date("endDate")
	f.strs("tags")
	f.strs("addTags")
	f.strs("removeTags")
	f.boolean("flag")
	f.enumStr("status", caseStatuses...)
	f.str("summary")
	f.str("assignee")
	f.enumStr("impactStatus", impactStatuses...)
	u.cfs, u.cfIsList, u.hasCFs = parseCustomFields(f, "customFields")
	return u
}

// apply changes cs and returns the event details (the changed fields).
func (u caseUpdate) apply(c *call, st *store, cs *caseRec) (map[string]any, error) {
	f := u.f
	d := map[string]any{}
	login, set, err := c.assigneeUpdate(st, f)
	if err != nil {
		return nil, err
	}
	if set {
		cs.assignee, d["assignee"] = login, nullable(login)
	}
	if u.hasCFs {
		values, err := st.resolveCustomFields(u.cfs)
		if err != nil {
			return nil, err
		}
		if u.cfIsList {
			cs.customFields = values
		} else {
			cs.customFields = cs.customFields.merge(values)
		}
		d["customFields"] = cs.customFields.valueMap()
	}
	if v, ok := f.str("title"); ok {
		cs.title, d["title"] = v, v
	}
	if v, ok := f.str("description"); ok {
		cs.description, d["description"] = v, v
	}
	if v, ok := f.integer("severity"); ok {
		cs.severity, d["severity"] = v, v
	}
	if v, ok := f.integer("tlp"); ok {
		cs.tlp, d["tlp"] = v, v
	}
	if v, ok := f.integer("pap"); ok {
		cs.pap, d["pap"] = v, v
	}
	if v, ok := f.date("startDate"); ok {
		cs.startDate, d["startDate"] = v, v
	}
	if f.has("endDate") {
		v, _ := f.date("endDate")
		cs.endDate, d["endDate"] = v, nullableInt(v)
	}
	if v, ok := f.boolean("flag"); ok {
		cs.flag, d["flag"] = v, v
	}
	cs.tags = updateTags(f, cs.tags, d)
	if f.has("summary") {
		v, _ := f.str("summary")
		cs.summary, d["summary"] = v, nullable(v)
	}
	if f.has("impactStatus") {
		v, _ := f.str("impactStatus")
		cs.impactStatus, d["impactStatus"] = v, nullable(v)
	}
	for _, k := range []string{"taskRule", "observableRule"} {
		if v, ok := f.str(k); ok {
			d[k] = v
		}
	}
	if v, ok := f.str("status"); ok && v != cs.status {
		stage := cs.stage()
		cs.setStatus(v, c.now)
		d["status"] = v
		if cs.stage() != stage {
			d["stage"] = cs.stage()
			if cs.stage() == "Closed" {
				d["endDate"] = cs.endDate
			}
		}
	}
	return d, nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullableInt(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

// closeCaseTasks cancels the open tasks of a case being closed, as TheHive
// does.
func (st *store) closeCaseTasks(c *call, cs *caseRec) {
	for _, t := range st.tasks.filter(func(t *taskRec) bool { return t.caseID == cs.id }) {
		if t.status == "Waiting" || t.status == "InProgress" {
			t.status = "Cancel"
			if t.endDate == 0 {
				t.endDate = c.now
			}
			st.touch(t, c.login, c.now)
			c.audit(st, "update", t, cs.id, map[string]any{"status": "Cancel"}, nil)
		}
	}
}

// updateCases updates a case (PATCH /api/v1/case/{id}) or, in bulk, the
// cases of the body's "ids" (PATCH /api/v1/case/_bulk).
func (s *Server) updateCases(bulk bool) func(*call) (reply, error) {
	return func(c *call) (reply, error) {
		f, err := c.fields()
		if err != nil {
			return reply{}, err
		}
		ids := c.targets(f, bulk)
		u := parseCaseUpdate(f)
		if err := f.err(); err != nil {
			return reply{}, err
		}
		return applyAll(c, ids, c.caseByRef, func(st *store, cs *caseRec) error {
			return c.updateCaseWith(st, cs, u)
		})
	}
}

func (c *call) updateCaseWith(st *store, cs *caseRec, u caseUpdate) error {
	before := *cs
	d, err := u.apply(c, st, cs)
	if err != nil {
		*cs = before
		return err
	}
	st.touch(cs, c.login, c.now)
	c.audit(st, "update", cs, cs.id, d, nil)
	if cs.stage() == "Closed" && before.stage() != "Closed" {
		st.closeCaseTasks(c, cs)
	}
	return nil
}

func (s *Server) deleteCase(c *call) (reply, error) {
	return c.write(func(st *store) (reply, error) {
		cs, err := c.caseByRef(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		st.deleteCase(c, cs)
		return noContent(), nil
	})
}

// deleteCase removes a case with its tasks, logs, observables, comments and
// attachments; alerts imported in it lose their link.
func (st *store) deleteCase(c *call, cs *caseRec) {
	for _, t := range st.tasks.filter(func(t *taskRec) bool { return t.caseID == cs.id }) {
		st.deleteTask(t)
	}
	for _, o := range st.observables.filter(func(o *observableRec) bool { return o.parentID == cs.id }) {
		st.observables.remove(o.id)
	}
	for _, cm := range st.comments.filter(func(cm *commentRec) bool { return cm.parentID == cs.id }) {
		st.comments.remove(cm.id)
	}
	for _, a := range st.attachments.filter(func(a *attachmentRec) bool { return a.ownerID == cs.id }) {
		st.attachments.remove(a.id)
	}
	for _, p := range st.procedures.filter(func(p *procedureRec) bool { return p.parentID == cs.id }) {
		st.procedures.remove(p.id)
	}
	for _, p := range st.pages.filter(func(p *pageRec) bool { return p.caseID == cs.id }) {
		st.pages.remove(p.id)
	}
	for _, a := range st.alerts.filter(func(a *alertRec) bool { return a.caseID == cs.id }) {
		a.caseID = ""
		st.touch(a, c.login, c.now)
	}
	st.cases.remove(cs.id)
	c.audit(st, "delete", cs, c.orgID, map[string]any{}, nil)
}

// mergeCases merges cases into a new one titled "<t1> / <t2>": tasks,
// observables (deduplicated), comments, custom fields and alerts move to it
// and the sources are deleted.
func (s *Server) mergeCases(c *call) (reply, error) {
	refs := strings.Split(c.param("ids"), ",")
	return c.write(func(st *store) (reply, error) {
		var sources []*caseRec
		for _, ref := range refs {
			cs, err := c.caseByRef(st, strings.TrimSpace(ref))
			if err != nil {
				return reply{}, err
			}
			sources = append(sources, cs)
		}
		if len(sources) < 2 {
			return reply{}, errBadRequest("To be able to merge, at least two cases are needed")
		}
		first := sources[0]
		var titles, descriptions []string
		var tags []string
		merged := &caseRec{
			base:     st.newBase(c.orgID, c.login, c.now),
			severity: first.severity, tlp: first.tlp, pap: first.pap,
			startDate: first.startDate, flag: first.flag, status: "New",
			assignee: first.assignee, access: map[string]any{"_kind": "OrganisationAccessKind"},
			newDate: c.now,
		}
		for _, cs := range sources {
			titles = append(titles, cs.title)
			descriptions = append(descriptions, cs.description)
			tags = tagSet(tags, cs.tags)
			merged.severity = max(merged.severity, cs.severity)
			merged.tlp = max(merged.tlp, cs.tlp)
			merged.pap = max(merged.pap, cs.pap)
			merged.startDate = min(merged.startDate, cs.startDate)
			merged.flag = merged.flag || cs.flag
			for _, v := range cs.customFields {
				if !merged.customFields.has(v.name) {
					merged.customFields = append(merged.customFields, v)
				}
			}
		}
		merged.title = strings.Join(titles, " / ")
		merged.description = strings.Join(descriptions, "\n\n")
		merged.tags = tags
		st.caseNumbers[c.orgID]++
		merged.number = st.caseNumbers[c.orgID]
		merged.setStatus("New", c.now)
		st.cases.put(merged)
		st.refresh(merged)
		c.audit(st, "create", merged, merged.id, caseDetails(merged), nil)
		for _, cs := range sources {
			st.moveCaseContent(c, cs, merged)
			st.cases.remove(cs.id)
			c.audit(st, "delete", cs, c.orgID, map[string]any{}, nil)
		}
		st.refresh(merged)
		return created(merged.view), nil
	})
}

// moveCaseContent moves what belongs to from into to.
func (st *store) moveCaseContent(c *call, from, to *caseRec) {
	for _, t := range st.tasks.filter(func(t *taskRec) bool { return t.caseID == from.id }) {
		t.caseID = to.id
		st.refresh(t)
	}
	for _, o := range st.observables.filter(func(o *observableRec) bool { return o.parentID == from.id }) {
		if st.duplicateObservable(to.id, o.dataType, o.data, o.attachmentHash()) != nil {
			st.observables.remove(o.id)
			continue
		}
		o.parentID = to.id
		st.refresh(o)
	}
	for _, cm := range st.comments.filter(func(cm *commentRec) bool { return cm.parentID == from.id }) {
		cm.parentID = to.id
	}
	for _, p := range st.procedures.filter(func(p *procedureRec) bool { return p.parentID == from.id }) {
		p.parentID = to.id
	}
	for _, p := range st.pages.filter(func(p *pageRec) bool { return p.caseID == from.id }) {
		p.caseID = to.id
	}
	for _, a := range st.attachments.filter(func(a *attachmentRec) bool { return a.ownerID == from.id }) {
		a.ownerID = to.id
	}
	for _, a := range st.alerts.filter(func(a *alertRec) bool { return a.caseID == from.id }) {
		a.caseID = to.id
		st.touch(a, c.login, c.now)
	}
}

// unlinkAlert removes the link between an alert and a case.
func (s *Server) unlinkAlert(c *call) (reply, error) {
	return c.write(func(st *store) (reply, error) {
		cs, err := c.caseByRef(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		a, err := c.alertByRef(st, c.param("alertId"))
		if err != nil {
			return reply{}, err
		}
		if a.caseID != cs.id {
			return reply{}, errNotFound("Alert")
		}
		a.caseID = ""
		st.touch(a, c.login, c.now)
		c.audit(st, "update", a, a.id, map[string]any{"caseId": nil}, nil)
		return noContent(), nil
	})
}

// caseLink adds or removes a link to another case or an external URL.
func (s *Server) caseLink(add, external bool) func(*call) (reply, error) {
	return func(c *call) (reply, error) {
		f, err := c.fields()
		if err != nil {
			return reply{}, err
		}
		typ := f.reqStr("type")
		var target string
		if external {
			target = f.reqStr("url")
		} else {
			target = f.reqStr("caseId")
		}
		if err := f.err(); err != nil {
			return reply{}, err
		}
		return c.write(func(st *store) (reply, error) {
			cs, err := c.caseByRef(st, c.param("id"))
			if err != nil {
				return reply{}, err
			}
			list := &cs.caseLinks
			if external {
				list = &cs.externalLinks
			} else {
				other, err := c.caseByRef(st, target)
				if err != nil {
					return reply{}, err
				}
				target = other.id
			}
			var out []link
			for _, l := range *list {
				if l.target != target {
					out = append(out, l)
				}
			}
			if add {
				out = append(out, link{typ: typ, target: target})
			}
			*list = out
			st.refresh(cs)
			return noContent(), nil
		})
	}
}

// caseLinkTypes lists the link types in use, as TheHive does.
func (s *Server) caseLinkTypes(c *call) (reply, error) {
	return c.read(func(st *store) (reply, error) {
		var types []string
		for _, cs := range st.cases.all() {
			if cs.orgID != c.orgID {
				continue
			}
			for _, l := range append(append([]link{}, cs.caseLinks...), cs.externalLinks...) {
				types = append(types, l.typ)
			}
		}
		return ok(strList(tagSet(types))), nil
	})
}

func (s *Server) caseAccess(c *call) (reply, error) {
	f, err := c.fields()
	if err != nil {
		return reply{}, err
	}
	v, _ := f.value("access")
	access, isObj := v.(map[string]any)
	if !isObj {
		f.missing("access")
	}
	if err := f.err(); err != nil {
		return reply{}, err
	}
	return c.write(func(st *store) (reply, error) {
		cs, err := c.caseByRef(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		cs.access = access
		st.touch(cs, c.login, c.now)
		return noContent(), nil
	})
}

// linkedCases lists the other cases sharing an observable with this one.
func (s *Server) linkedCases(c *call) (reply, error) {
	return c.read(func(st *store) (reply, error) {
		cs, err := c.caseByRef(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		mine := st.observables.filter(func(o *observableRec) bool { return o.parentID == cs.id && !o.ignoreSimilarity })
		out := []any{}
		for _, other := range st.cases.all() {
			if other.id == cs.id || other.orgID != c.orgID {
				continue
			}
			var shared []any
			for _, o := range st.observables.filter(func(o *observableRec) bool { return o.parentID == other.id }) {
				for _, m := range mine {
					if m.similar(o) {
						shared = append(shared, o.view)
						break
					}
				}
			}
			if len(shared) == 0 {
				continue
			}
			doc := copyDoc(other.view)
			doc["linkedWith"] = shared
			doc["linksCount"] = int64(len(shared))
			out = append(out, doc)
		}
		return ok(out), nil
	})
}

func (s *Server) deleteCaseCustomField(c *call) (reply, error) {
	id := c.param("id")
	return c.write(func(st *store) (reply, error) {
		for _, cs := range st.cases.byID {
			if cs.orgID != c.orgID {
				continue
			}
			for i, v := range cs.customFields {
				if v.id == id {
					cs.customFields = append(cs.customFields[:i:i], cs.customFields[i+1:]...)
					st.touch(cs, c.login, c.now)
					return noContent(), nil
				}
			}
		}
		return reply{}, errNotFound("CustomFieldValue")
	})
}

// emptyList answers [] for listings of features the fake does not model
// (sharing with other organisations), after checking the entity exists.
func (s *Server) emptyList(kind string) func(*call) (reply, error) {
	return func(c *call) (reply, error) {
		return c.read(func(st *store) (reply, error) {
			if kind == "case" {
				if _, err := c.caseByRef(st, c.param("id")); err != nil {
					if _, ok := st.observables.get(c.param("id")); !ok {
						return reply{}, err
					}
				}
			}
			return ok([]any{}), nil
		})
	}
}

// copyDoc returns a shallow copy of a rendered object, for adding keys.
func copyDoc(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+2)
	for k, v := range m {
		out[k] = v
	}
	return out
}
