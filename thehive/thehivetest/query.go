package thehivetest

import (
	"net/http"
	"sort"
	"strconv"
	"time"
)

// qitem is one object flowing through a query: the record and the form it
// is output in.
type qitem struct {
	rec record
	doc map[string]any
}

// kind describes one entity type for the query API.
type kind struct {
	label      string
	props      map[string]bool
	list       func(c *call, st *store) []record
	get        func(c *call, st *store, ref string) record
	output     func(c *call, st *store, r record) map[string]any
	extra      func(c *call, st *store, r record, name string) (any, bool)
	traversals map[string]traversal
}

// traversal goes from a set of objects of one kind to related objects.
type traversal struct {
	to   string // label of the kind it leads to
	step func(c *call, st *store, from []record) []record
}

var commonProps = []string{"_id", "_type", "_createdBy", "_createdAt", "_updatedBy", "_updatedAt", "extraData"}

func props(names ...string) map[string]bool {
	m := permSet(commonProps)
	for _, n := range names {
		m[n] = true
	}
	return m
}

// as converts records of a table to the record interface.
func as[T record](list []T) []record {
	out := make([]record, len(list))
	for i, r := range list {
		out[i] = r
	}
	return out
}

func idSet(list []record) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, r := range list {
		m[r.meta().id] = true
	}
	return m
}

func inOrg[T record](c *call, t *table[T]) []record {
	return as(t.filter(func(r T) bool { return r.meta().orgID == c.orgID }))
}

// childrenOf returns the records of t whose parent (as parent gives it) is
// in from.
func childrenOf[T record](t *table[T], from []record, parent func(T) string) []record {
	ids := idSet(from)
	return as(t.filter(func(r T) bool { return ids[parent(r)] }))
}

func getIn[T record](c *call, t *table[T], ref string) record {
	if r, ok := t.get(ref); ok && r.meta().orgID == c.orgID {
		return r
	}
	return nil
}

func view(_ *call, _ *store, r record) map[string]any { return r.meta().view }

// queryKinds builds the entity kinds of the query API.
func queryKinds() map[string]*kind {
	// Traversals of several kinds: the children of cases and alerts, the
	// attachments of whatever owns them, the users a case or a task can be
	// assigned to, and shares, which the fake does not keep.
	observables := traversal{"Observable", func(_ *call, st *store, from []record) []record {
		return childrenOf(&st.observables, from, func(o *observableRec) string { return o.parentID })
	}}
	comments := traversal{"Comment", func(_ *call, st *store, from []record) []record {
		return childrenOf(&st.comments, from, func(cm *commentRec) string { return cm.parentID })
	}}
	procedures := traversal{"Procedure", func(_ *call, st *store, from []record) []record {
		return childrenOf(&st.procedures, from, func(p *procedureRec) string { return p.parentID })
	}}
	attachments := traversal{"Attachment", func(_ *call, st *store, from []record) []record {
		return childrenOf(&st.attachments, from, func(a *attachmentRec) string { return a.ownerID })
	}}
	assignableUsers := traversal{"User", func(c *call, st *store, _ []record) []record {
		return as(st.users.filter(func(u *userRec) bool { _, m := u.orgs[c.orgID]; return m && !u.locked }))
	}}
	noShares := traversal{"Share", func(*call, *store, []record) []record { return nil }}

	k := map[string]*kind{}
	k["Case"] = &kind{
		label: "Case",
		props: props("number", "title", "description", "severity", "severityLabel", "startDate", "endDate",
			"tags", "flag", "tlp", "tlpLabel", "pap", "papLabel", "status", "stage", "summary", "impactStatus",
			"assignee", "access", "customFields", "customFieldValues", "userPermissions", "newDate",
			"inProgressDate", "closedDate", "alertDate", "alertNewDate", "alertInProgressDate",
			"alertImportedDate", "timeToDetect", "timeToTriage", "timeToQualify", "timeToAcknowledge",
			"timeToResolve", "handlingDuration", "caseTemplate", "owningOrganisation"),
		list: func(c *call, st *store) []record { return inOrg(c, &st.cases) },
		get: func(c *call, st *store, ref string) record {
			if cs, err := c.caseByRef(st, ref); err == nil {
				return cs
			}
			return nil
		},
		extra: caseExtra,
		traversals: map[string]traversal{
			"observables": observables,
			"tasks": {"Task", func(_ *call, st *store, from []record) []record {
				return childrenOf(&st.tasks, from, func(t *taskRec) string { return t.caseID })
			}},
			"alerts": {"Alert", func(_ *call, st *store, from []record) []record {
				return childrenOf(&st.alerts, from, func(a *alertRec) string { return a.caseID })
			}},
			"comments": comments,
			"allComments": {"Comment", func(_ *call, st *store, from []record) []record {
				parents := idSet(from)
				for _, a := range st.alerts.byID {
					if parents[a.caseID] {
						parents[a.id] = true
					}
				}
				return as(st.comments.filter(func(cm *commentRec) bool { return parents[cm.parentID] }))
			}},
			"procedures":  procedures,
			"attachments": attachments,
			"pages": {"Page", func(_ *call, st *store, from []record) []record {
				return childrenOf(&st.pages, from, func(p *pageRec) string { return p.caseID })
			}},
			"shares":          noShares,
			"organisations":   {"Organisation", orgOf},
			"assignableUsers": assignableUsers,
		},
	}
	k["Alert"] = &kind{
		label: "Alert",
		props: props("type", "source", "sourceRef", "externalLink", "title", "description", "severity",
			"severityLabel", "date", "tags", "tlp", "tlpLabel", "pap", "papLabel", "follow", "customFields",
			"customFieldValues", "caseTemplate", "caseId", "assignee", "summary", "observableCount", "status",
			"stage", "newDate", "inProgressDate", "closedDate", "importedDate", "timeToDetect", "timeToTriage",
			"timeToQualify", "timeToAcknowledge", "lastSyncDate", "flag", "read"),
		list: func(c *call, st *store) []record { return inOrg(c, &st.alerts) },
		get: func(c *call, st *store, ref string) record {
			if a, err := c.alertByRef(st, ref); err == nil {
				return a
			}
			return nil
		},
		extra: alertExtra,
		traversals: map[string]traversal{
			"observables": observables,
			"comments":    comments,
			"procedures":  procedures,
			"attachments": attachments,
			"case": {"Case", func(_ *call, st *store, from []record) []record {
				var out []record
				for _, r := range from {
					if cs, ok := st.cases.get(r.(*alertRec).caseID); ok {
						out = append(out, cs)
					}
				}
				return out
			}},
		},
	}
	k["Observable"] = &kind{
		label: "Observable",
		props: props("dataType", "data", "startDate", "attachment", "tlp", "tlpLabel", "pap", "papLabel",
			"tags", "ioc", "sighted", "sightedAt", "reports", "message", "ignoreSimilarity", "external"),
		list: func(c *call, st *store) []record { return inOrg(c, &st.observables) },
		get:  func(c *call, st *store, ref string) record { return getIn(c, &st.observables, ref) },
		extra: func(c *call, st *store, r record, name string) (any, bool) {
			switch name {
			case "isOwner":
				return true, true
			case "shareCount":
				return int64(0), true
			case "permissions":
				return strList(permissionList(c)), true
			}
			return nil, false
		},
		traversals: map[string]traversal{
			"case":  {"Case", parentsOf(func(st *store, id string) record { return recordOr(st.cases.get(id)) })},
			"alert": {"Alert", parentsOf(func(st *store, id string) record { return recordOr(st.alerts.get(id)) })},
			"similar": {"Observable", func(c *call, st *store, from []record) []record {
				return as(st.observables.filter(func(o *observableRec) bool {
					if o.orgID != c.orgID {
						return false
					}
					for _, r := range from {
						f := r.(*observableRec)
						if f.id != o.id && f.similar(o) {
							return true
						}
					}
					return false
				}))
			}},
			"shares": noShares,
		},
	}
	k["Task"] = &kind{
		label: "Task",
		props: props("title", "group", "description", "status", "flag", "startDate", "endDate", "order",
			"dueDate", "assignee", "mandatory", "actionRequired"),
		list:  func(c *call, st *store) []record { return inOrg(c, &st.tasks) },
		get:   func(c *call, st *store, ref string) record { return getIn(c, &st.tasks, ref) },
		extra: taskExtra,
		traversals: map[string]traversal{
			"logs": {"Log", func(_ *call, st *store, from []record) []record {
				return childrenOf(&st.logs, from, func(l *logRec) string { return l.taskID })
			}},
			"case": {"Case", func(_ *call, st *store, from []record) []record {
				var out []record
				seen := map[string]bool{}
				for _, r := range from {
					id := r.(*taskRec).caseID
					if cs, ok := st.cases.get(id); ok && !seen[id] {
						seen[id] = true
						out = append(out, cs)
					}
				}
				return out
			}},
			"shares":          noShares,
			"assignableUsers": assignableUsers,
		},
	}
	k["Log"] = &kind{
		label: "Log",
		props: props("message", "date", "owner", "includeInTimeline", "attachments", "deleted"),
		list:  func(c *call, st *store) []record { return inOrg(c, &st.logs) },
		get:   func(c *call, st *store, ref string) record { return getIn(c, &st.logs, ref) },
		extra: logExtra,
		traversals: map[string]traversal{
			"attachments": {"Attachment", func(_ *call, _ *store, from []record) []record {
				var out []record
				for _, r := range from {
					out = append(out, as(r.(*logRec).attachments)...)
				}
				return out
			}},
		},
	}
	k["Comment"] = &kind{
		label: "Comment",
		props: permSet([]string{"_id", "_type", "createdBy", "createdAt", "updatedBy", "updatedAt", "message", "isEdited", "extraData"}),
		list:  func(c *call, st *store) []record { return inOrg(c, &st.comments) },
		get:   func(c *call, st *store, ref string) record { return getIn(c, &st.comments, ref) },
	}
	k["User"] = &kind{
		label: "User",
		props: props("login", "name", "email", "hasKey", "hasPassword", "hasMFA", "locked", "profile",
			"permissions", "organisation", "type", "defaultOrganisation", "organisations", "avatar"),
		list: func(c *call, st *store) []record {
			return as(st.users.filter(func(u *userRec) bool { _, m := u.orgs[c.orgID]; return m || c.orgName == AdminOrganisation }))
		},
		get: func(c *call, st *store, ref string) record {
			if u, err := c.visibleUser(st, ref); err == nil {
				return u
			}
			return nil
		},
		output: func(c *call, st *store, r record) map[string]any { return r.(*userRec).renderIn(st, c.orgID) },
	}
	k["Organisation"] = &kind{
		label: "Organisation",
		props: props("name", "description", "taskRule", "observableRule", "locked", "links", "avatar"),
		list: func(c *call, st *store) []record {
			return as(st.orgs.filter(func(o *orgRec) bool { return o.id == c.orgID || c.orgName == AdminOrganisation }))
		},
		get: func(c *call, st *store, ref string) record {
			if o := st.org(ref); o != nil && (o.id == c.orgID || c.orgName == AdminOrganisation) {
				return o
			}
			return nil
		},
		traversals: map[string]traversal{
			"attachments": attachments,
			"users": {"User", func(_ *call, st *store, from []record) []record {
				ids := idSet(from)
				return as(st.users.filter(func(u *userRec) bool {
					for id := range u.orgs {
						if ids[id] {
							return true
						}
					}
					return false
				}))
			}},
		},
	}
	k["CaseTemplate"] = &kind{
		label: "CaseTemplate",
		props: props("name", "displayName", "titlePrefix", "description", "severity", "severityLabel", "tags",
			"flag", "tlp", "tlpLabel", "pap", "papLabel", "summary", "customFields", "tasks"),
		list: func(c *call, st *store) []record { return inOrg(c, &st.templates) },
		get: func(c *call, st *store, ref string) record {
			if t := c.templateByRef(st, ref); t != nil {
				return t
			}
			return nil
		},
		traversals: map[string]traversal{
			"pageTemplates": {"PageTemplate", func(_ *call, st *store, from []record) []record {
				var out []record
				for _, r := range from {
					for _, id := range r.(*templateRec).pageTemplates {
						if p, ok := st.pageTemplates.get(id); ok {
							out = append(out, p)
						}
					}
				}
				return out
			}},
		},
	}
	pageProps := props("title", "content", "category", "order")
	k["PageTemplate"] = &kind{
		label: "PageTemplate", props: pageProps,
		list: func(c *call, st *store) []record { return inOrg(c, &st.pageTemplates) },
		get:  func(c *call, st *store, ref string) record { return getIn(c, &st.pageTemplates, ref) },
	}
	k["Page"] = &kind{
		label: "Page", props: pageProps,
		list: func(c *call, st *store) []record { return inOrg(c, &st.pages) },
		get:  func(c *call, st *store, ref string) record { return getIn(c, &st.pages, ref) },
	}
	k["Procedure"] = &kind{
		label: "Procedure",
		props: props("occurDate", "patternId", "patternName", "tactic", "tacticLabel", "description"),
		list:  func(c *call, st *store) []record { return inOrg(c, &st.procedures) },
		get:   func(c *call, st *store, ref string) record { return getIn(c, &st.procedures, ref) },
	}
	k["ObservableType"] = &kind{
		label: "ObservableType", props: props("name", "isAttachment"),
		list: func(_ *call, st *store) []record { return as(st.observableTypes.all()) },
		get: func(_ *call, st *store, ref string) record {
			if t := st.observableType(ref); t != nil {
				return t
			}
			return nil
		},
	}
	k["Profile"] = &kind{
		label: "Profile", props: props("name", "permissions", "editable", "forAdmin", "forOrg", "consumesLicense"),
		list: func(_ *call, st *store) []record { return as(st.profiles.all()) },
		get: func(_ *call, st *store, ref string) record {
			if p := st.profile(ref); p != nil {
				return p
			}
			return nil
		},
	}
	k["CustomField"] = &kind{
		label: "CustomField", props: props("name", "displayName", "group", "description", "type", "options", "mandatory"),
		list: func(_ *call, st *store) []record { return as(st.customFields.all()) },
		get: func(_ *call, st *store, ref string) record {
			if f := st.customField(ref); f != nil {
				return f
			}
			return nil
		},
	}
	k["Attachment"] = &kind{
		label: "Attachment", props: props("name", "hashes", "size", "contentType", "id"),
		list: func(c *call, st *store) []record { return inOrg(c, &st.attachments) },
		get:  func(c *call, st *store, ref string) record { return getIn(c, &st.attachments, ref) },
	}
	k["Job"] = &kind{
		label: "Job",
		props: props("analyzerId", "analyzerName", "analyzerDefinition", "status", "startDate", "endDate",
			"report", "cortexId", "cortexJobId", "id", "operations"),
		list: func(c *call, st *store) []record { return inOrg(c, &st.jobs) },
		get:  func(c *call, st *store, ref string) record { return getIn(c, &st.jobs, ref) },
	}
	k["Share"] = &kind{label: "Share", props: props("caseId", "organisationName", "profileName", "owner")}
	return k
}

// Starting queries: their name, the kind they produce and whether they
// take an idOrName.
var initialQueries = map[string]struct {
	kind string
	get  bool
}{
	"listCase": {"Case", false}, "getCase": {"Case", true},
	"listAlert": {"Alert", false}, "getAlert": {"Alert", true},
	"listObservable": {"Observable", false}, "getObservable": {"Observable", true},
	"listTask": {"Task", false}, "getTask": {"Task", true}, "waitingTasks": {"Task", false}, "myTasks": {"Task", false},
	"listLog": {"Log", false}, "getLog": {"Log", true},
	"listComment": {"Comment", false}, "getComment": {"Comment", true},
	"listUser": {"User", false}, "getUser": {"User", true},
	"listOrganisation": {"Organisation", false}, "getOrganisation": {"Organisation", true},
	"listCaseTemplate": {"CaseTemplate", false}, "getCaseTemplate": {"CaseTemplate", true},
	"listPageTemplate": {"PageTemplate", false}, "getPageTemplate": {"PageTemplate", true},
	"listPage": {"Page", false}, "listOrganisationPage": {"Page", false}, "getPage": {"Page", true},
	"listProcedure": {"Procedure", false}, "getProcedure": {"Procedure", true},
	"listObservableType": {"ObservableType", false}, "getObservableType": {"ObservableType", true},
	"listProfile": {"Profile", false}, "getProfile": {"Profile", true},
	"listCustomField": {"CustomField", false},
	"listJob":         {"Job", false}, "getJob": {"Job", true},
	"listShare": {"Share", false},
}

func recordOr[T record](r T, ok bool) record {
	if !ok {
		return nil
	}
	return r
}

// parentsOf maps observables to their case or alert.
func parentsOf(get func(st *store, id string) record) func(*call, *store, []record) []record {
	return func(_ *call, st *store, from []record) []record {
		var out []record
		seen := map[string]bool{}
		for _, r := range from {
			id := r.(*observableRec).parentID
			if p := get(st, id); p != nil && !seen[id] {
				seen[id] = true
				out = append(out, p)
			}
		}
		return out
	}
}

func orgOf(c *call, st *store, _ []record) []record {
	if o, ok := st.orgs.get(c.orgID); ok {
		return []record{o}
	}
	return nil
}

func permissionList(c *call) []string {
	out := make([]string, 0, len(c.perms))
	for p := range c.perms {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func (s *Server) queryRoutes() []*route {
	return []*route{
		{method: "POST", pattern: "/api/v1/query", name: "query", handle: s.query},
	}
}

// query runs a query of TheHive's query API: a starting query, then
// traversals, filters, sorts, a page or a count.
func (s *Server) query(c *call) (reply, error) {
	b, err := c.body()
	if err != nil {
		return reply{}, err
	}
	v, err := decodeJSON(b)
	if err != nil {
		return reply{}, errBadRequest("Invalid Json: %v", err)
	}
	var list []any
	var exclude []string
	switch t := v.(type) {
	case map[string]any:
		list, _ = t["query"].([]any)
		exclude = stringsOf(t["excludeFields"])
	case []any:
		list = t
	}
	ops := make([]map[string]any, 0, len(list))
	for _, e := range list {
		op, ok := e.(map[string]any)
		if !ok {
			return reply{}, badQueryName(e)
		}
		ops = append(ops, op)
	}
	if len(ops) == 0 {
		return reply{}, errAttributes([]attrError{{kind: "MissingAttributeError", name: "query"}})
	}
	return c.read(func(st *store) (reply, error) {
		return s.runQuery(c, st, ops, exclude)
	})
}

func (s *Server) runQuery(c *call, st *store, ops []map[string]any, exclude []string) (reply, error) {
	first := ops[0]
	name, _ := first["_name"].(string)
	start, known := initialQueries[name]
	if !known {
		return reply{}, badQueryName(first["_name"])
	}
	k := s.kinds[start.kind]
	var recs []record
	switch {
	case start.get:
		ref, _ := first["idOrName"].(string)
		if ref == "" {
			if n, ok := toFloat(first["idOrName"]); ok {
				ref = strconv.FormatInt(int64(n), 10)
			}
		}
		if k.get != nil {
			if r := k.get(c, st, ref); r != nil {
				recs = []record{r}
			}
		}
	case k.list != nil:
		recs = k.list(c, st)
		switch name {
		case "waitingTasks":
			recs = keep(recs, func(r record) bool { return r.(*taskRec).status == "Waiting" })
		case "myTasks":
			recs = keep(recs, func(r record) bool { return r.(*taskRec).assignee == c.login })
		}
	}
	items := make([]qitem, len(recs))
	for i, r := range recs {
		items[i] = qitem{rec: r, doc: k.outputOf(c, st, r)}
	}
	var header http.Header
	now := time.UnixMilli(c.now)
	for _, op := range ops[1:] {
		name, _ := op["_name"].(string)
		checker := propChecker{label: k.label, props: k.props}
		switch name {
		case "filter":
			p, err := compileFilter(op, checker, now)
			if err != nil {
				return reply{}, err
			}
			var kept []qitem
			for _, it := range items {
				if p(it.doc) {
					kept = append(kept, it)
				}
			}
			items = kept
		case "sort":
			spec, ok := op["_fields"]
			if !ok {
				spec = op["fields"]
			}
			if err := sortItems(items, spec, checker); err != nil {
				return reply{}, err
			}
		case "page":
			total := len(items)
			from, _ := toFloat(op["from"])
			to, hasTo := toFloat(op["to"])
			lo := min(max(int(from), 0), total)
			hi := total
			if hasTo {
				hi = min(max(int(to), lo), total)
			}
			items = items[lo:hi]
			names := stringsOf(op["extraData"])
			for i := range items {
				items[i].doc = k.withExtra(c, st, items[i], names)
			}
			for _, n := range names {
				if n == "total" {
					header = http.Header{"X-Total": {strconv.Itoa(total)}}
				}
			}
		case "count", "limitedCount":
			return reply{status: http.StatusOK, body: int64(len(items)), header: header}, nil
		default:
			t, ok := k.traversals[name]
			if !ok {
				return reply{}, badQueryName(op["_name"])
			}
			next := s.kinds[t.to]
			recs := t.step(c, st, records(items))
			items = make([]qitem, len(recs))
			for i, r := range recs {
				items[i] = qitem{rec: r, doc: next.outputOf(c, st, r)}
			}
			k = next
		}
	}
	out := make([]any, len(items))
	for i, it := range items {
		doc := it.doc
		if len(exclude) > 0 {
			doc = copyDoc(doc)
			for _, f := range exclude {
				delete(doc, f)
			}
		}
		out[i] = doc
	}
	return reply{status: http.StatusOK, body: out, header: header}, nil
}

func badQueryName(v any) error {
	return errAttributes([]attrError{{
		kind: "InvalidFormatAttributeError", name: "_name", format: "query",
		field: fieldValueString(v),
	}})
}

func keep(list []record, fn func(record) bool) []record {
	var out []record
	for _, r := range list {
		if fn(r) {
			out = append(out, r)
		}
	}
	return out
}

func records(items []qitem) []record {
	out := make([]record, len(items))
	for i, it := range items {
		out[i] = it.rec
	}
	return out
}

func stringsOf(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func (k *kind) outputOf(c *call, st *store, r record) map[string]any {
	if k.output != nil {
		return k.output(c, st, r)
	}
	return view(c, st, r)
}

// withExtra returns the object with the extraData a page step asked for.
func (k *kind) withExtra(c *call, st *store, it qitem, names []string) map[string]any {
	extra := map[string]any{}
	for _, n := range names {
		if n == "total" || k.extra == nil {
			continue
		}
		if v, ok := k.extra(c, st, it.rec, n); ok {
			extra[n] = v
		}
	}
	doc := copyDoc(it.doc)
	doc["extraData"] = extra
	return doc
}

func caseExtra(c *call, st *store, r record, name string) (any, bool) {
	cs := r.(*caseRec)
	switch name {
	case "links":
		caseLinks, external := []any{}, []any{}
		for _, l := range cs.caseLinks {
			entry := map[string]any{"caseId": l.target, "linkType": l.typ}
			if other, ok := st.cases.get(l.target); ok {
				entry["number"] = other.number
				entry["title"] = other.title
			}
			caseLinks = append(caseLinks, entry)
		}
		for _, l := range cs.externalLinks {
			external = append(external, map[string]any{"url": l.target, "linkType": l.typ})
		}
		return map[string]any{"caseLinks": caseLinks, "externalLinks": external}, true
	case "observableStats":
		obs := st.observables.filter(func(o *observableRec) bool { return o.parentID == cs.id })
		var iocs int64
		for _, o := range obs {
			if o.ioc {
				iocs++
			}
		}
		return map[string]any{"total": int64(len(obs)), "ioc": iocs}, true
	case "taskStats":
		stats := map[string]any{}
		var total int64
		for _, t := range st.tasks.filter(func(t *taskRec) bool { return t.caseID == cs.id }) {
			n, _ := stats[t.status].(int64)
			stats[t.status] = n + 1
			total++
		}
		stats["total"] = total
		return stats, true
	case "alertCount":
		return int64(len(st.alerts.filter(func(a *alertRec) bool { return a.caseID == cs.id }))), true
	case "alerts":
		var out []any
		for _, a := range st.alerts.filter(func(a *alertRec) bool { return a.caseID == cs.id }) {
			out = append(out, map[string]any{"_id": a.id, "type": a.typ, "source": a.source, "sourceRef": a.sourceRef, "title": a.title})
		}
		return out, true
	case "procedureCount":
		return int64(len(st.procedures.filter(func(p *procedureRec) bool { return p.parentID == cs.id }))), true
	case "attachmentCount":
		return int64(len(st.attachments.filter(func(a *attachmentRec) bool { return a.ownerID == cs.id }))), true
	case "isOwner":
		return true, true
	case "shareCount":
		return int64(0), true
	case "permissions":
		return strList(permissionList(c)), true
	case "actionRequired":
		for _, t := range st.tasks.filter(func(t *taskRec) bool { return t.caseID == cs.id }) {
			if t.actionRequired[c.orgName] {
				return true, true
			}
		}
		return false, true
	case "contributors":
		return strList(tagSet([]string{cs.createdBy, cs.updatedBy})), true
	}
	return nil, false
}

func alertExtra(c *call, st *store, r record, name string) (any, bool) {
	a := r.(*alertRec)
	cs, hasCase := st.cases.get(a.caseID)
	switch name {
	case "importDate":
		if a.importedDate == 0 {
			return nil, true
		}
		return a.importedDate, true
	case "caseNumber":
		if !hasCase {
			return nil, true
		}
		return cs.number, true
	case "relatedCase":
		if !hasCase {
			return nil, true
		}
		return map[string]any{"number": cs.number, "accessKind": cs.access["_kind"], "isVisible": cs.orgID == c.orgID}, true
	case "procedureCount":
		return int64(len(st.procedures.filter(func(p *procedureRec) bool { return p.parentID == a.id }))), true
	case "status":
		return map[string]any{"value": a.status, "stage": a.stage()}, true
	}
	return nil, false
}

func taskExtra(c *call, st *store, r record, name string) (any, bool) {
	t := r.(*taskRec)
	switch name {
	case "case":
		if cs, ok := st.cases.get(t.caseID); ok {
			return cs.view, true
		}
		return nil, true
	case "caseId":
		return t.caseID, true
	case "isOwner":
		return true, true
	case "shareCount":
		return int64(0), true
	case "actionRequired":
		return t.actionRequired[c.orgName], true
	case "actionRequiredMap":
		m := map[string]any{}
		for k, v := range t.actionRequired {
			m[k] = v
		}
		return m, true
	case "caseTemplate", "caseTemplateId":
		if cs, ok := st.cases.get(t.caseID); ok && cs.caseTemplate != "" {
			if name == "caseTemplate" {
				return cs.caseTemplate, true
			}
			if tpl := c.templateByRef(st, cs.caseTemplate); tpl != nil {
				return tpl.id, true
			}
		}
		return nil, true
	}
	return nil, false
}

func logExtra(_ *call, st *store, r record, name string) (any, bool) {
	l := r.(*logRec)
	t, hasTask := st.tasks.get(l.taskID)
	switch name {
	case "task":
		if hasTask {
			return t.view, true
		}
		return nil, true
	case "taskId":
		return l.taskID, true
	case "case":
		if hasTask {
			if cs, ok := st.cases.get(t.caseID); ok {
				return cs.view, true
			}
		}
		return nil, true
	case "actionCount":
		return int64(0), true
	}
	return nil, false
}
