package thehivetest

import (
	"strings"
)

// Alert statuses of TheHive 5 and their stages. Imported is set by the
// server when an alert joins a case and cannot be chosen.
var alertStages = map[string]string{
	"New": "New", "InProgress": "InProgress", "Imported": "Imported",
	"Duplicated": "Closed", "FalsePositive": "Closed", "TruePositive": "Closed",
	"Other": "Closed", "Ignored": "Closed", "Indeterminate": "Closed",
}

var alertStatuses = []string{"New", "InProgress", "Duplicated", "FalsePositive", "TruePositive", "Other", "Ignored", "Indeterminate"}

// alertRec is an alert.
type alertRec struct {
	base
	typ, source, sourceRef string
	externalLink           string
	title, description     string
	severity, tlp, pap     int64
	date                   int64
	lastSyncDate           int64
	tags                   []string
	flag                   bool
	follow                 bool
	customFields           cfValues
	status                 string
	summary                string
	assignee               string
	caseTemplate           string
	caseID                 string
	newDate                int64
	inProgressDate         int64
	closedDate             int64
	importedDate           int64
}

func (a *alertRec) stage() string { return alertStages[a.status] }

func (a *alertRec) key() string {
	return a.orgID + "\x00" + a.typ + "\x00" + a.source + "\x00" + a.sourceRef
}

func (a *alertRec) render(st *store) map[string]any {
	m := a.common("Alert")
	m["type"] = a.typ
	m["source"] = a.source
	m["sourceRef"] = a.sourceRef
	putStr(m, "externalLink", a.externalLink)
	m["title"] = a.title
	m["description"] = a.description
	m["severity"] = a.severity
	m["severityLabel"] = severityLabels[a.severity]
	m["date"] = a.date
	if len(a.tags) > 0 {
		m["tags"] = strList(a.tags)
	}
	m["tlp"] = a.tlp
	m["tlpLabel"] = tlpLabels[a.tlp]
	m["pap"] = a.pap
	m["papLabel"] = papLabels[a.pap]
	m["follow"] = a.follow
	m["customFields"] = a.customFields.render()
	putStr(m, "caseTemplate", a.caseTemplate)
	putStr(m, "caseId", a.caseID)
	putStr(m, "assignee", a.assignee)
	putStr(m, "summary", a.summary)
	var n int64
	for _, o := range st.observables.byID {
		if o.parentID == a.id {
			n++
		}
	}
	m["observableCount"] = n
	m["status"] = a.status
	m["stage"] = a.stage()
	m["newDate"] = a.newDate
	putDate(m, "inProgressDate", a.inProgressDate)
	putDate(m, "closedDate", a.closedDate)
	putDate(m, "importedDate", a.importedDate)
	m["timeToDetect"] = max(a.newDate-a.date, 0)
	if a.inProgressDate != 0 {
		m["timeToTriage"] = a.inProgressDate - a.newDate
	}
	if end := max(a.closedDate, a.importedDate); end != 0 {
		m["timeToQualify"] = end - a.newDate
	}
	return m
}

// setStatus changes the status and dates the stage changes.
func (a *alertRec) setStatus(status string, now int64) {
	a.status = status
	switch a.stage() {
	case "InProgress":
		if a.inProgressDate == 0 {
			a.inProgressDate = now
		}
	case "Closed":
		a.closedDate = now
	case "Imported":
		a.importedDate = now
	}
}

// alertByRef finds an alert of the caller's organisation by id or by its
// "type;source;sourceRef" name.
func (c *call) alertByRef(st *store, ref string) (*alertRec, error) {
	if isID(ref) {
		if a, ok := st.alerts.get(ref); ok && a.orgID == c.orgID {
			return a, nil
		}
		return nil, errNotFound("Alert")
	}
	parts := strings.SplitN(ref, ";", 3)
	if len(parts) == 3 {
		for _, a := range st.alerts.byID {
			if a.orgID == c.orgID && a.typ == parts[0] && a.source == parts[1] && a.sourceRef == parts[2] {
				return a, nil
			}
		}
	}
	return nil, errNotFound("Alert")
}

// alertWithKey finds the alert of an organisation with a (type, source,
// sourceRef) triple.
func (st *store) alertWithKey(orgID, typ, source, sourceRef string) *alertRec {
	k := orgID + "\x00" + typ + "\x00" + source + "\x00" + sourceRef
	for _, a := range st.alerts.byID {
		if a.key() == k {
			return a
		}
	}
	return nil
}

func (s *Server) alertRoutes() []*route {
	return []*route{
		{method: "POST", pattern: "/api/v1/alert", name: "create alert", perm: "manageAlert/create", handle: s.createAlert},
		{method: "GET", pattern: "/api/v1/alert/{id}", name: "get alert", handle: s.getAlert},
		{method: "PATCH", pattern: "/api/v1/alert/{id}", name: "update alert", perm: "manageAlert/update", handle: s.updateAlerts(false)},
		{method: "DELETE", pattern: "/api/v1/alert/{id}", name: "delete alert", perm: "manageAlert/delete", handle: s.deleteAlert},
		{method: "PATCH", pattern: "/api/v1/alert/_bulk", name: "bulk update alert", perm: "manageAlert/update", handle: s.updateAlerts(true)},
		{method: "POST", pattern: "/api/v1/alert/delete/_bulk", name: "bulk delete alert", perm: "manageAlert/delete", handle: s.bulkDeleteAlerts},
		{method: "POST", pattern: "/api/v1/alert/{id}/case", name: "create case from alert", perm: "manageAlert/import", handle: s.promoteAlert},
		{method: "POST", pattern: "/api/v1/alert/{id}/merge/{caseId}", name: "merge alert with case", perm: "manageAlert/import", handle: s.mergeAlert(true)},
		{method: "POST", pattern: "/api/v1/alert/{id}/import/{caseId}", name: "import alert in case", perm: "manageAlert/import", handle: s.mergeAlert(false)},
		{method: "POST", pattern: "/api/v1/alert/merge/_bulk", name: "bulk merge alert with case", perm: "manageAlert/import", handle: s.bulkMergeAlerts},
		{method: "POST", pattern: "/api/v1/alert/{id}/follow", name: "follow alert", perm: "manageAlert/update", handle: s.followAlert(true)},
		{method: "POST", pattern: "/api/v1/alert/{id}/unfollow", name: "unfollow alert", perm: "manageAlert/update", handle: s.followAlert(false)},
		{method: "GET", pattern: "/api/v1/alert/{id}/similar/{otherId}/observables", name: "similar observables", handle: s.similarObservables("alert")},
	}
}

// alertInput is a parsed InputAlert.
type alertInput struct {
	typ, source, sourceRef, externalLink, title, description string
	status, summary, assignee, caseTemplate                  string
	severity, tlp, pap, date                                 int64
	hasSeverity, hasTLP, hasPAP                              bool
	tags                                                     []string
	flag                                                     bool
	customFields                                             []cfInput
	observables                                              []observableInput
}

func parseAlertInput(f fields) alertInput {
	var in alertInput
	in.typ = f.reqStr("type")
	in.source = f.reqStr("source")
	in.sourceRef = f.reqStr("sourceRef")
	in.title = f.reqStr("title")
	in.description = f.reqStr("description")
	in.externalLink, _ = f.str("externalLink")
	in.severity, in.hasSeverity = f.enumInt("severity", 1, 4)
	in.tlp, in.hasTLP = f.enumInt("tlp", 0, 4)
	in.pap, in.hasPAP = f.enumInt("pap", 0, 3)
	in.date, _ = f.date("date")
	in.tags, _ = f.strs("tags")
	in.flag, _ = f.boolean("flag")
	in.status, _ = f.enumStr("status", alertStatuses...)
	in.summary, _ = f.str("summary")
	in.assignee, _ = f.str("assignee")
	in.caseTemplate, _ = f.str("caseTemplate")
	in.customFields, _, _ = parseCustomFields(f, "customFields")
	if items, ok := f.objects("observables"); ok {
		for _, it := range items {
			in.observables = append(in.observables, parseObservableInput(it))
		}
	}
	return in
}

// createAlert creates an alert from JSON, or from a multipart body whose
// "_json" part is the alert and whose file parts are the attachments its
// file observables name.
func (s *Server) createAlert(c *call) (reply, error) {
	f, uploads, err := c.fieldsAndUploads()
	if err != nil {
		return reply{}, err
	}
	in := parseAlertInput(f)
	if err := f.err(); err != nil {
		return reply{}, err
	}
	return c.write(func(st *store) (reply, error) {
		if st.alertWithKey(c.orgID, in.typ, in.source, in.sourceRef) != nil {
			return reply{}, errCreate("Alert %s:%s:%s already exist in organisation %s", in.typ, in.source, in.sourceRef, c.orgName)
		}
		values, err := st.resolveCustomFields(in.customFields)
		if err != nil {
			return reply{}, err
		}
		assignee := ""
		if in.assignee != "" {
			u := st.orgUser(in.assignee, c.orgID)
			if u == nil {
				return reply{}, errNotFound("User")
			}
			assignee = u.login
		}
		planned, err := c.planObservables(st, "", in.observables, uploads, true)
		if err != nil {
			return reply{}, err
		}
		a := &alertRec{
			base: st.newBase(c.orgID, c.login, c.now),
			typ:  in.typ, source: in.source, sourceRef: in.sourceRef,
			externalLink: in.externalLink, title: in.title, description: in.description,
			severity: 2, tlp: 2, pap: 2, date: c.now, tags: tagSet(in.tags), flag: in.flag,
			follow: true, customFields: values, summary: in.summary, assignee: assignee,
			caseTemplate: in.caseTemplate, newDate: c.now,
		}
		if in.hasSeverity {
			a.severity = in.severity
		}
		if in.hasTLP {
			a.tlp = in.tlp
		}
		if in.hasPAP {
			a.pap = in.pap
		}
		if in.date != 0 {
			a.date = in.date
		}
		status := in.status
		if status == "" {
			status = "New"
		}
		a.setStatus(status, c.now)
		st.alerts.put(a)
		st.refresh(a)
		c.audit(st, "create", a, a.id, alertDetails(a), nil)
		if len(planned) == 0 {
			return created(a.view), nil
		}
		for _, p := range planned {
			c.storeObservable(st, a.id, a.orgID, p)
		}
		// TheHive answers the alert as it was before the observables were
		// linked (no _updatedAt), though with their count; a later GET shows
		// the update.
		st.touch(a, c.login, c.now)
		doc := copyDoc(a.view)
		delete(doc, "_updatedAt")
		delete(doc, "_updatedBy")
		return created(doc), nil
	})
}

func alertDetails(a *alertRec) map[string]any {
	d := map[string]any{
		"type": a.typ, "source": a.source, "sourceRef": a.sourceRef, "title": a.title,
		"description": a.description, "severity": a.severity, "date": a.date,
		"tlp": a.tlp, "pap": a.pap, "tags": strList(a.tags), "status": a.status, "follow": a.follow,
	}
	putStr(d, "externalLink", a.externalLink)
	return d
}

func (s *Server) getAlert(c *call) (reply, error) {
	return c.read(func(st *store) (reply, error) {
		a, err := c.alertByRef(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		return ok(a.view), nil
	})
}

func parseAlertUpdate(f fields) ([]cfInput, bool, bool) {
	for _, k := range []string{"type", "source", "sourceRef", "externalLink", "title", "description", "summary", "assignee", "caseTemplate"} {
		f.str(k)
	}
	f.enumInt("severity", 1, 4)
	f.enumInt("tlp", 0, 4)
	f.enumInt("pap", 0, 3)
	f.date("date")
	f.date("lastSyncDate")
	f.strs("tags")
	f.strs("addTags")
	f.strs("removeTags")
	f.boolean("follow")
	f.boolean("flag")
	f.enumStr("status", alertStatuses...)
	return parseCustomFields(f, "customFields")
}

func (c *call) updateAlertWith(st *store, a *alertRec, f fields, cfs []cfInput, cfIsList, hasCFs bool) error {
	next := *a
	d := map[string]any{}
	for k, dst := range map[string]*string{
		"type": &next.typ, "source": &next.source, "sourceRef": &next.sourceRef, "title": &next.title,
		"description": &next.description, "externalLink": &next.externalLink, "summary": &next.summary,
		"caseTemplate": &next.caseTemplate,
	} {
		if f.has(k) {
			v, _ := f.str(k)
			*dst, d[k] = v, nullable(v)
		}
	}
	login, set, err := c.assigneeUpdate(st, f)
	if err != nil {
		return err
	}
	if set {
		next.assignee, d["assignee"] = login, nullable(login)
	}
	for k, dst := range map[string]*int64{"severity": &next.severity, "tlp": &next.tlp, "pap": &next.pap} {
		if v, ok := f.integer(k); ok {
			*dst, d[k] = v, v
		}
	}
	if v, ok := f.date("date"); ok {
		next.date, d["date"] = v, v
	}
	if v, ok := f.date("lastSyncDate"); ok {
		next.lastSyncDate, d["lastSyncDate"] = v, v
	}
	if v, ok := f.boolean("follow"); ok {
		next.follow, d["follow"] = v, v
	}
	if v, ok := f.boolean("flag"); ok {
		next.flag = v
	}
	next.tags = updateTags(f, next.tags, d)
	if hasCFs {
		values, err := st.resolveCustomFields(cfs)
		if err != nil {
			return err
		}
		if cfIsList {
			next.customFields = values
		} else {
			next.customFields = next.customFields.merge(values)
		}
		d["customFields"] = next.customFields.valueMap()
	}
	if next.typ != a.typ || next.source != a.source || next.sourceRef != a.sourceRef {
		if other := st.alertWithKey(a.orgID, next.typ, next.source, next.sourceRef); other != nil && other != a {
			return errCreate("Alert %s:%s:%s already exist in organisation %s", next.typ, next.source, next.sourceRef, c.orgName)
		}
	}
	if v, ok := f.str("status"); ok && v != a.status {
		if a.status == "Imported" {
			return errBadRequest("The status of an imported alert cannot be changed")
		}
		next.setStatus(v, c.now)
		d["status"] = v
		d["stage"] = next.stage()
	}
	*a = next
	st.touch(a, c.login, c.now)
	c.audit(st, "update", a, a.id, d, nil)
	return nil
}

// updateAlerts updates an alert (PATCH /api/v1/alert/{id}) or, in bulk, the
// alerts of the body's "ids" (PATCH /api/v1/alert/_bulk).
func (s *Server) updateAlerts(bulk bool) func(*call) (reply, error) {
	return func(c *call) (reply, error) {
		f, err := c.fields()
		if err != nil {
			return reply{}, err
		}
		ids := c.targets(f, bulk)
		cfs, cfIsList, hasCFs := parseAlertUpdate(f)
		if err := f.err(); err != nil {
			return reply{}, err
		}
		return applyAll(c, ids, c.alertByRef, func(st *store, a *alertRec) error {
			return c.updateAlertWith(st, a, f, cfs, cfIsList, hasCFs)
		})
	}
}

// deleteAlert removes an alert with its observables, comments, procedures
// and attachments.
func (st *store) deleteAlert(c *call, a *alertRec) {
	for _, o := range st.observables.filter(func(o *observableRec) bool { return o.parentID == a.id }) {
		st.observables.remove(o.id)
	}
	for _, cm := range st.comments.filter(func(cm *commentRec) bool { return cm.parentID == a.id }) {
		st.comments.remove(cm.id)
	}
	for _, p := range st.procedures.filter(func(p *procedureRec) bool { return p.parentID == a.id }) {
		st.procedures.remove(p.id)
	}
	for _, at := range st.attachments.filter(func(at *attachmentRec) bool { return at.ownerID == a.id }) {
		st.attachments.remove(at.id)
	}
	st.alerts.remove(a.id)
	c.audit(st, "delete", a, c.orgID, map[string]any{}, nil)
}

func (s *Server) deleteAlert(c *call) (reply, error) {
	return c.write(func(st *store) (reply, error) {
		a, err := c.alertByRef(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		st.deleteAlert(c, a)
		return noContent(), nil
	})
}

func (s *Server) bulkDeleteAlerts(c *call) (reply, error) {
	f, err := c.fields()
	if err != nil {
		return reply{}, err
	}
	ids := f.reqStrs("ids")
	if err := f.err(); err != nil {
		return reply{}, err
	}
	return applyAll(c, ids, c.alertByRef, func(st *store, a *alertRec) error {
		st.deleteAlert(c, a)
		return nil
	})
}

// promoteAlert creates a case from an alert (POST /api/v1/alert/{id}/case).
// The body may override the case's fields; an alert already in a case
// answers that case.
func (s *Server) promoteAlert(c *call) (reply, error) {
	f, err := c.fields()
	if err != nil {
		return reply{}, err
	}
	in := parseCaseInput(f, true)
	if err := f.err(); err != nil {
		return reply{}, err
	}
	return c.write(func(st *store) (reply, error) {
		a, err := c.alertByRef(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		if a.caseID != "" {
			if cs, ok := st.cases.get(a.caseID); ok {
				return created(cs.view), nil
			}
		}
		if !f.has("title") {
			in.title = a.title
		}
		if !f.has("description") {
			in.description = a.description
		}
		if !in.hasSeverity {
			in.severity, in.hasSeverity = a.severity, true
		}
		if !in.hasTLP {
			in.tlp, in.hasTLP = a.tlp, true
		}
		if !in.hasPAP {
			in.pap, in.hasPAP = a.pap, true
		}
		if !f.has("tags") {
			in.tags = a.tags
		}
		if in.template == "" && a.caseTemplate != "" && c.templateByRef(st, a.caseTemplate) != nil {
			in.template = a.caseTemplate
		}
		if !in.hasAssignee && !c.perms["manageCase/create"] {
			in.hasAssignee = true
		}
		if !f.has("customFields") {
			in.customFields = nil
		}
		cs, err := c.newCase(st, in, a)
		if err != nil {
			return reply{}, err
		}
		if !f.has("customFields") {
			cs.customFields = cs.customFields.merge(a.customFields.clone(st))
		}
		st.importObservables(c, a, cs)
		a.caseID = cs.id
		a.setStatus("Imported", c.now)
		st.touch(a, c.login, c.now)
		st.touch(cs, c.login, c.now)
		c.audit(st, "update", a, cs.id, map[string]any{"caseId": cs.id, "status": "Imported", "stage": "Imported"}, nil)
		return created(cs.view), nil
	})
}

// importObservables copies an alert's observables into a case; one the case
// already has gets the alert's tags.
func (st *store) importObservables(c *call, a *alertRec, cs *caseRec) {
	for _, o := range st.observables.filter(func(o *observableRec) bool { return o.parentID == a.id }) {
		if dup := st.duplicateObservable(cs.id, o.dataType, o.data, o.attachmentHash()); dup != nil {
			dup.tags = tagSet(dup.tags, o.tags)
			st.touch(dup, c.login, c.now)
			continue
		}
		cp := *o
		cp.base = st.newBase(cs.orgID, c.login, c.now)
		cp.parentID = cs.id
		cp.tags = append([]string(nil), o.tags...)
		if o.attachment != nil {
			cp.attachment = st.copyAttachment(o.attachment, cp.id, c.login, c.now)
		}
		st.observables.put(&cp)
		st.refresh(&cp)
		c.audit(st, "create", &cp, cs.id, observableDetails(&cp), nil)
	}
}

// mergeAlert merges (merge) or imports (import) an alert into an existing
// case. A merge also appends the alert's description to the case's.
func (s *Server) mergeAlert(merge bool) func(*call) (reply, error) {
	return func(c *call) (reply, error) {
		return c.write(func(st *store) (reply, error) {
			a, err := c.alertByRef(st, c.param("id"))
			if err != nil {
				return reply{}, err
			}
			cs, err := c.caseByRef(st, c.param("caseId"))
			if err != nil {
				return reply{}, err
			}
			if err := c.mergeAlertInto(st, a, cs, merge); err != nil {
				return reply{}, err
			}
			return ok(cs.view), nil
		})
	}
}

func (c *call) mergeAlertInto(st *store, a *alertRec, cs *caseRec, merge bool) error {
	if a.caseID != "" {
		return errBadRequest("Alert is already imported")
	}
	st.importObservables(c, a, cs)
	d := map[string]any{}
	if merge {
		cs.description += "\n  \n#### Merged with alert #" + a.sourceRef + " " + a.title + "\n\n" + strings.TrimSpace(a.description)
		d["description"] = cs.description
	}
	for _, v := range a.customFields.clone(st) {
		if !cs.customFields.has(v.name) {
			cs.customFields = append(cs.customFields, v)
		}
	}
	cs.tags = tagSet(cs.tags, a.tags)
	d["tags"] = strList(cs.tags)
	d["customFields"] = cs.customFields.valueMap()
	st.touch(cs, c.login, c.now)
	a.caseID = cs.id
	a.setStatus("Imported", c.now)
	st.touch(a, c.login, c.now)
	c.audit(st, "update", cs, cs.id, d, nil)
	c.audit(st, "update", a, cs.id, map[string]any{"caseId": cs.id, "status": "Imported", "stage": "Imported"}, nil)
	return nil
}

func (s *Server) bulkMergeAlerts(c *call) (reply, error) {
	f, err := c.fields()
	if err != nil {
		return reply{}, err
	}
	caseRef := f.reqStr("caseId")
	ids := f.reqStrs("alertIds")
	if err := f.err(); err != nil {
		return reply{}, err
	}
	return c.write(func(st *store) (reply, error) {
		cs, err := c.caseByRef(st, caseRef)
		if err != nil {
			return reply{}, err
		}
		var list []*alertRec
		for _, id := range ids {
			a, err := c.alertByRef(st, id)
			if err != nil {
				return reply{}, err
			}
			if a.caseID != "" {
				return reply{}, errBadRequest("Alert is already imported")
			}
			list = append(list, a)
		}
		for _, a := range list {
			if err := c.mergeAlertInto(st, a, cs, true); err != nil {
				return reply{}, err
			}
		}
		return ok(cs.view), nil
	})
}

func (s *Server) followAlert(follow bool) func(*call) (reply, error) {
	return func(c *call) (reply, error) {
		return c.write(func(st *store) (reply, error) {
			a, err := c.alertByRef(st, c.param("id"))
			if err != nil {
				return reply{}, err
			}
			a.follow = follow
			st.touch(a, c.login, c.now)
			c.audit(st, "update", a, a.id, map[string]any{"follow": follow}, nil)
			return noContent(), nil
		})
	}
}
