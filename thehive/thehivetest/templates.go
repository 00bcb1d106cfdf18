package thehivetest

import (
	"fmt"
	"sort"
	"strconv"
)

// templateRec is a case template of an organisation.
type templateRec struct {
	base
	name          string
	displayName   string
	titlePrefix   string
	description   string
	severity      int64
	tlp, pap      int64
	hasTLP        bool
	hasPAP        bool
	flag          bool
	summary       string
	tags          []string
	tasks         []taskInput
	customFields  cfValues
	pageTemplates []string
}

func (t *templateRec) render(st *store) map[string]any {
	m := t.common("CaseTemplate")
	m["name"] = t.name
	m["displayName"] = t.displayName
	putStr(m, "titlePrefix", t.titlePrefix)
	putStr(m, "description", t.description)
	if t.severity != 0 {
		m["severity"] = t.severity
		m["severityLabel"] = severityLabels[t.severity]
	}
	if len(t.tags) > 0 {
		m["tags"] = strList(t.tags)
	}
	m["flag"] = t.flag
	if t.hasTLP {
		m["tlp"] = t.tlp
		m["tlpLabel"] = tlpLabels[t.tlp]
	}
	if t.hasPAP {
		m["pap"] = t.pap
		m["papLabel"] = papLabels[t.pap]
	}
	putStr(m, "summary", t.summary)
	m["customFields"] = t.customFields.render()
	tasks := []any{}
	for i, in := range t.tasks {
		tasks = append(tasks, in.renderTemplateTask(t, i))
	}
	m["tasks"] = tasks
	return m
}

// renderTemplateTask renders a template's task as an OutputTask.
func (in taskInput) renderTemplateTask(t *templateRec, i int) map[string]any {
	m := t.common("Task")
	m["_id"] = t.id + "-task-" + strconv.Itoa(i)
	m["title"] = in.title
	m["group"] = in.groupOrDefault()
	putStr(m, "description", in.description)
	m["status"] = in.statusOrDefault()
	m["flag"] = in.flag
	m["order"] = in.order
	m["mandatory"] = in.mandatory
	putStr(m, "assignee", in.assignee)
	return m
}

func (t *templateRec) taskInputs() []taskInput {
	out := make([]taskInput, len(t.tasks))
	copy(out, t.tasks)
	return out
}

// clone gives template values fresh value ids for a new case.
func (l cfValues) clone(st *store) cfValues {
	out := make(cfValues, len(l))
	for i, v := range l {
		st.cfValues++
		v.id = "~" + strconv.FormatInt(9000000+st.cfValues, 10)
		out[i] = v
	}
	return out
}

// templateByRef finds a template of the caller's organisation by id or name.
func (c *call) templateByRef(st *store, ref string) *templateRec {
	for _, t := range st.templates.byID {
		if t.orgID == c.orgID && (t.id == ref || t.name == ref) {
			return t
		}
	}
	return nil
}

func (st *store) addTemplate(t CaseTemplate, now int64) error {
	if t.Name == "" {
		return fmt.Errorf("thehivetest: case template without name")
	}
	org := st.org(Organisation)
	for _, other := range st.templates.byID {
		if other.orgID == org.id && other.name == t.Name {
			return fmt.Errorf("thehivetest: case template %s already exists", t.Name)
		}
	}
	if t.Severity != 0 && (t.Severity < 1 || t.Severity > 4) {
		return fmt.Errorf("thehivetest: case template %s: severity %d out of 1..4", t.Name, t.Severity)
	}
	names := make([]string, 0, len(t.CustomFields))
	for k := range t.CustomFields {
		names = append(names, k)
	}
	sort.Strings(names)
	var in []cfInput
	for _, k := range names {
		in = append(in, cfInput{name: k, value: normalizeGo(t.CustomFields[k])})
	}
	values, err := st.resolveCustomFields(in)
	if err != nil {
		return fmt.Errorf("thehivetest: case template %s: %w", t.Name, err)
	}
	rec := &templateRec{
		base: st.newBase(org.id, AdminLogin, now),
		name: t.Name, displayName: t.DisplayName, titlePrefix: t.TitlePrefix,
		description: t.Description, severity: int64(t.Severity), flag: t.Flag,
		summary: t.Summary, tags: tagSet(t.Tags), customFields: values,
	}
	if rec.displayName == "" {
		rec.displayName = t.Name
	}
	for i, task := range t.Tasks {
		rec.tasks = append(rec.tasks, taskInput{
			title: task.Title, group: task.Group, description: task.Description,
			mandatory: task.Mandatory, order: int64(i),
		})
	}
	st.templates.put(rec)
	st.refresh(rec)
	return nil
}

func (s *Server) templateRoutes() []*route {
	return []*route{
		{method: "POST", pattern: "/api/v1/caseTemplate", name: "create case template", perm: "manageCaseTemplate", handle: s.createTemplate},
		{method: "GET", pattern: "/api/v1/caseTemplate/{id}", name: "get case template", handle: s.getTemplate},
		{method: "PATCH", pattern: "/api/v1/caseTemplate/{id}", name: "update case template", perm: "manageCaseTemplate", handle: s.updateTemplate},
		{method: "DELETE", pattern: "/api/v1/caseTemplate/{id}", name: "delete case template", perm: "manageCaseTemplate", handle: s.deleteTemplate},
		{method: "PUT", pattern: "/api/v1/caseTemplate/{id}/pageTemplate/link", name: "link page templates", perm: "manageCaseTemplate", handle: s.linkPageTemplates},
	}
}

// parseTemplate reads an InputCaseTemplate into rec; with create set, the
// name is required.
func parseTemplate(f fields, rec *templateRec, create bool) []cfInput {
	if create {
		rec.name = f.reqStr("name")
	} else if v, ok := f.str("name"); ok {
		rec.name = v
	}
	if v, ok := f.str("displayName"); ok {
		rec.displayName = v
	}
	if v, ok := f.str("titlePrefix"); ok {
		rec.titlePrefix = v
	}
	if v, ok := f.str("description"); ok {
		rec.description = v
	}
	if v, ok := f.enumInt("severity", 1, 4); ok {
		rec.severity = v
	}
	if v, ok := f.enumInt("tlp", 0, 4); ok {
		rec.tlp, rec.hasTLP = v, true
	}
	if v, ok := f.enumInt("pap", 0, 3); ok {
		rec.pap, rec.hasPAP = v, true
	}
	if v, ok := f.boolean("flag"); ok {
		rec.flag = v
	}
	if v, ok := f.str("summary"); ok {
		rec.summary = v
	}
	if v, ok := f.strs("tags"); ok {
		rec.tags = tagSet(v)
	}
	if items, ok := f.objects("tasks"); ok {
		rec.tasks = nil
		for i, it := range items {
			in := parseTaskInput(it)
			if !in.hasOrder {
				in.order = int64(i)
			}
			rec.tasks = append(rec.tasks, in)
		}
	}
	if v, ok := f.strs("pageTemplateIds"); ok {
		rec.pageTemplates = v
	}
	cfs, _, _ := parseCustomFields(f, "customFields")
	return cfs
}

func (s *Server) createTemplate(c *call) (reply, error) {
	f, err := c.fields()
	if err != nil {
		return reply{}, err
	}
	rec := &templateRec{}
	cfs := parseTemplate(f, rec, true)
	if err := f.err(); err != nil {
		return reply{}, err
	}
	return c.write(func(st *store) (reply, error) {
		if c.templateByRef(st, rec.name) != nil {
			return reply{}, errCreate("The case template \"%s\" already exists", rec.name)
		}
		values, err := st.resolveCustomFields(cfs)
		if err != nil {
			return reply{}, err
		}
		rec.base = st.newBase(c.orgID, c.login, c.now)
		rec.customFields = values
		if rec.displayName == "" {
			rec.displayName = rec.name
		}
		st.templates.put(rec)
		st.refresh(rec)
		return created(rec.view), nil
	})
}

func (s *Server) getTemplate(c *call) (reply, error) {
	return c.read(func(st *store) (reply, error) {
		t := c.templateByRef(st, c.param("id"))
		if t == nil {
			return reply{}, errNotFound("CaseTemplate")
		}
		return ok(t.view), nil
	})
}

func (s *Server) updateTemplate(c *call) (reply, error) {
	f, err := c.fields()
	if err != nil {
		return reply{}, err
	}
	return c.write(func(st *store) (reply, error) {
		t := c.templateByRef(st, c.param("id"))
		if t == nil {
			return reply{}, errNotFound("CaseTemplate")
		}
		updated := *t
		cfs := parseTemplate(f, &updated, false)
		if err := f.err(); err != nil {
			return reply{}, err
		}
		if updated.name != t.name {
			if other := c.templateByRef(st, updated.name); other != nil && other != t {
				return reply{}, errCreate("The case template \"%s\" already exists", updated.name)
			}
		}
		if f.present("customFields") {
			values, err := st.resolveCustomFields(cfs)
			if err != nil {
				return reply{}, err
			}
			updated.customFields = values
		}
		*t = updated
		st.touch(t, c.login, c.now)
		return noContent(), nil
	})
}

func (s *Server) deleteTemplate(c *call) (reply, error) {
	return c.write(func(st *store) (reply, error) {
		t := c.templateByRef(st, c.param("id"))
		if t == nil {
			return reply{}, errNotFound("CaseTemplate")
		}
		st.templates.remove(t.id)
		return noContent(), nil
	})
}

func (s *Server) linkPageTemplates(c *call) (reply, error) {
	f, err := c.fields()
	if err != nil {
		return reply{}, err
	}
	ids, _ := f.strs("pageTemplateIds")
	if err := f.err(); err != nil {
		return reply{}, err
	}
	return c.write(func(st *store) (reply, error) {
		t := c.templateByRef(st, c.param("id"))
		if t == nil {
			return reply{}, errNotFound("CaseTemplate")
		}
		for _, id := range ids {
			if p, ok := st.pageTemplates.get(id); !ok || p.orgID != c.orgID {
				return reply{}, errNotFound("PageTemplate")
			}
		}
		t.pageTemplates = ids
		st.touch(t, c.login, c.now)
		return noContent(), nil
	})
}

// applyCaseTemplate applies a template to existing cases; each update*
// flag says which of the template's fields to copy.
func (s *Server) applyCaseTemplate(c *call) (reply, error) {
	f, err := c.fields()
	if err != nil {
		return reply{}, err
	}
	ids := f.reqStrs("ids")
	ref := f.reqStr("caseTemplate")
	flag := func(name string) bool { v, _ := f.boolean(name); return v }
	opts := map[string]bool{}
	for _, k := range []string{"updateTitlePrefix", "updateDescription", "updateTags", "updateSeverity", "updateFlag", "updateTlp", "updatePap", "updateCustomFields"} {
		opts[k] = flag(k)
	}
	importTasks, hasImportTasks := f.strs("importTasks")
	if err := f.err(); err != nil {
		return reply{}, err
	}
	return c.write(func(st *store) (reply, error) {
		t := c.templateByRef(st, ref)
		if t == nil {
			return reply{}, errNotFound("CaseTemplate")
		}
		var cases []*caseRec
		for _, id := range ids {
			cs, err := c.caseByRef(st, id)
			if err != nil {
				return reply{}, err
			}
			cases = append(cases, cs)
		}
		for _, cs := range cases {
			d := map[string]any{}
			if opts["updateTitlePrefix"] && t.titlePrefix != "" {
				cs.title = t.titlePrefix + " " + cs.title
				d["title"] = cs.title
			}
			if opts["updateDescription"] && t.description != "" {
				cs.description = t.description
				d["description"] = cs.description
			}
			if opts["updateTags"] {
				cs.tags = tagSet(cs.tags, t.tags)
				d["tags"] = strList(cs.tags)
			}
			if opts["updateSeverity"] && t.severity != 0 {
				cs.severity = t.severity
				d["severity"] = cs.severity
			}
			if opts["updateFlag"] {
				cs.flag = t.flag
				d["flag"] = cs.flag
			}
			if opts["updateTlp"] && t.hasTLP {
				cs.tlp = t.tlp
				d["tlp"] = cs.tlp
			}
			if opts["updatePap"] && t.hasPAP {
				cs.pap = t.pap
				d["pap"] = cs.pap
			}
			if opts["updateCustomFields"] {
				cs.customFields = cs.customFields.merge(t.customFields.clone(st))
				d["customFields"] = cs.customFields.valueMap()
			}
			if hasImportTasks {
				wanted := map[string]bool{}
				for _, title := range importTasks {
					wanted[title] = true
				}
				for _, in := range t.tasks {
					if wanted[in.title] {
						c.newTask(st, cs, in)
					}
				}
			}
			st.touch(cs, c.login, c.now)
			c.audit(st, "update", cs, cs.id, d, nil)
		}
		return noContent(), nil
	})
}
