package thehivetest

import "strings"

// cortexID is the name of the fake's Cortex server.
const cortexID = "cortex0"

// jobRec is a Cortex analyzer job run on an observable.
type jobRec struct {
	base
	observableID string
	analyzerID   string
	analyzerName string
	definition   string
	status       string
	startDate    int64
	endDate      int64
	report       map[string]any
	cortexID     string
	cortexJobID  string
}

func (j *jobRec) render(*store) map[string]any {
	m := j.common("case_artifact_job")
	delete(m, "extraData")
	m["id"] = j.id
	m["analyzerId"] = j.analyzerID
	m["analyzerName"] = j.analyzerName
	m["analyzerDefinition"] = j.definition
	m["status"] = j.status
	m["startDate"] = j.startDate
	putDate(m, "endDate", j.endDate)
	if j.report != nil {
		m["report"] = j.report
	}
	m["cortexId"] = j.cortexID
	m["cortexJobId"] = j.cortexJobID
	m["operations"] = "[]"
	return m
}

// actionRec is a Cortex responder action.
type actionRec struct {
	base
	responderID string
	objectType  string
	objectID    string
	cortexID    string
	status      string
}

func (a *actionRec) render(*store) map[string]any {
	m := a.common("action")
	delete(m, "extraData")
	m["responderId"] = a.responderID
	m["objectType"] = a.objectType
	m["objectId"] = a.objectID
	putStr(m, "cortexId", a.cortexID)
	m["status"] = a.status
	m["startDate"] = a.createdAt
	m["operations"] = "[]"
	m["report"] = map[string]any{}
	return m
}

func (st *store) analyzer(ref string) *Analyzer {
	for i := range st.analyzers {
		a := &st.analyzers[i]
		if a.ID == ref || a.Name == ref {
			return a
		}
	}
	return nil
}

func analyzerView(a Analyzer) map[string]any {
	types := strList(a.DataTypes)
	if types == nil {
		types = []any{}
	}
	return map[string]any{
		"id": a.ID, "name": a.Name, "version": a.Version, "description": a.Description,
		"dataTypeList": types, "cortexIds": []any{cortexID},
	}
}

func (s *Server) cortexRoutes() []*route {
	var out []*route
	for _, prefix := range []string{"/api/connector/cortex", "/api/v1/connector/cortex"} {
		out = append(out,
			&route{method: "GET", pattern: prefix + "/analyzer", name: "list analyzers", handle: s.listAnalyzers},
			&route{method: "GET", pattern: prefix + "/analyzer/type/{dataType}", name: "list analyzers by type", handle: s.listAnalyzers},
			&route{method: "GET", pattern: prefix + "/analyzer/{id}", name: "get analyzer", handle: s.getAnalyzer},
			&route{method: "POST", pattern: prefix + "/job", name: "create job", perm: "manageAnalyse", handle: s.createJobs(false)},
			&route{method: "POST", pattern: prefix + "/job/_bulk", name: "create jobs", perm: "manageAnalyse", handle: s.createJobs(true)},
			&route{method: "GET", pattern: prefix + "/job/{id}", name: "get job", handle: s.getJob},
			&route{method: "GET", pattern: prefix + "/responder/{type}/{id}", name: "list responders", handle: s.listResponders},
			&route{method: "POST", pattern: prefix + "/action", name: "run responder", perm: "manageAction", handle: s.runResponder},
			&route{method: "GET", pattern: prefix + "/action/{type}/{id}", name: "list actions", handle: s.listActions},
		)
	}
	return out
}

func (s *Server) listAnalyzers(c *call) (reply, error) {
	dataType := c.param("dataType")
	return c.read(func(st *store) (reply, error) {
		out := []any{}
		for _, a := range st.analyzers {
			if dataType != "" && !oneOf(dataType, a.DataTypes...) {
				continue
			}
			out = append(out, analyzerView(a))
		}
		return ok(out), nil
	})
}

func (s *Server) getAnalyzer(c *call) (reply, error) {
	return c.read(func(st *store) (reply, error) {
		a := st.analyzer(c.param("id"))
		if a == nil {
			return reply{}, errNotFoundName("Analyzer", c.param("id"))
		}
		return ok(analyzerView(*a)), nil
	})
}

type jobInput struct{ analyzerID, cortexID, artifactID string }

func parseJob(f fields) jobInput {
	return jobInput{analyzerID: f.reqStr("analyzerId"), cortexID: optStr(f, "cortexId"), artifactID: f.reqStr("artifactId")}
}

func optStr(f fields, name string) string { v, _ := f.str(name); return v }

// createJobs runs analyzers on observables. A canned analyzer completes at
// once (status Success) and writes its taxonomies in the observable's
// reports; an unknown one fails; without Cortex the job stays Waiting, as
// in a TheHive whose Cortex is unreachable.
func (s *Server) createJobs(bulk bool) func(*call) (reply, error) {
	return func(c *call) (reply, error) {
		f, err := c.fields()
		if err != nil {
			return reply{}, err
		}
		var inputs []jobInput
		if bulk {
			items, ok := f.objects("jobs")
			if !ok {
				f.missing("jobs")
			}
			for _, it := range items {
				inputs = append(inputs, parseJob(it))
			}
		} else {
			inputs = append(inputs, parseJob(f))
		}
		if err := f.err(); err != nil {
			return reply{}, err
		}
		return c.write(func(st *store) (reply, error) {
			var observables []*observableRec
			for _, in := range inputs {
				o, err := c.observableByID(st, in.artifactID)
				if err != nil {
					return reply{}, err
				}
				observables = append(observables, o)
			}
			var out []any
			for i, in := range inputs {
				j := c.runJob(st, observables[i], in)
				out = append(out, j.view)
			}
			if bulk {
				return created(out), nil
			}
			return created(out[0]), nil
		})
	}
}

func (c *call) runJob(st *store, o *observableRec, in jobInput) *jobRec {
	j := &jobRec{
		base:         st.newBase(c.orgID, c.login, c.now),
		observableID: o.id, analyzerID: in.analyzerID, analyzerName: in.analyzerID,
		definition: in.analyzerID, status: "Waiting", startDate: c.now, cortexID: in.cortexID,
	}
	if j.cortexID == "" {
		j.cortexID = cortexID
	}
	j.cortexJobID = "cj" + strings.TrimPrefix(j.id, "~")
	if len(st.analyzers) > 0 {
		a := st.analyzer(in.analyzerID)
		j.endDate = c.now
		if a == nil {
			j.status = "Failure"
			j.report = map[string]any{"success": false, "errorMessage": "Analyzer " + in.analyzerID + " not found"}
		} else {
			j.analyzerID, j.analyzerName, j.definition = a.ID, a.Name, a.ID
			j.status = "Success"
			taxonomies := make([]any, 0, len(a.Taxonomies))
			for _, t := range a.Taxonomies {
				taxonomies = append(taxonomies, map[string]any{
					"level": t.Level, "namespace": t.Namespace, "predicate": t.Predicate, "value": t.Value,
				})
			}
			full := a.Report
			if full == nil {
				full = map[string]any{"dataType": o.dataType, "data": o.data, "analyzer": a.Name}
				if o.attachment != nil {
					full["sha256"] = o.attachment.hashes[0]
				}
			}
			j.report = map[string]any{
				"success":   true,
				"full":      full,
				"summary":   map[string]any{"taxonomies": taxonomies},
				"artifacts": []any{},
			}
			key := a.Name + "_" + strings.ReplaceAll(a.Version, ".", "_")
			if o.reports == nil {
				o.reports = map[string]any{}
			}
			reports := map[string]any{}
			for k, v := range o.reports {
				reports[k] = v
			}
			reports[key] = map[string]any{"taxonomies": taxonomies}
			o.reports = reports
			st.touch(o, c.login, c.now)
		}
	}
	st.jobs.put(j)
	st.refresh(j)
	c.audit(st, "create", j, o.parentID, map[string]any{"analyzerId": j.analyzerID, "status": j.status}, nil)
	if j.status == "Success" {
		c.audit(st, "update", o, o.parentID, map[string]any{"reports": o.view["reports"]}, nil)
	}
	return j
}

func (s *Server) getJob(c *call) (reply, error) {
	return c.read(func(st *store) (reply, error) {
		j, found := st.jobs.get(c.param("id"))
		if !found || j.orgID != c.orgID {
			return reply{}, errNotFoundName("Job", c.param("id"))
		}
		return ok(j.view), nil
	})
}

// listResponders answers the responders for an entity: the fake has none.
func (s *Server) listResponders(c *call) (reply, error) {
	return ok([]any{}), nil
}

// runResponder records a responder action; with no responders it fails at
// once, as an unknown responder would.
func (s *Server) runResponder(c *call) (reply, error) {
	f, err := c.fields()
	if err != nil {
		return reply{}, err
	}
	responder := f.reqStr("responderId")
	objectType := f.reqStr("objectType")
	objectID := f.reqStr("objectId")
	cortex := optStr(f, "cortexId")
	if err := f.err(); err != nil {
		return reply{}, err
	}
	return c.write(func(st *store) (reply, error) {
		a := &actionRec{
			base:        st.newBase(c.orgID, c.login, c.now),
			responderID: responder, objectType: objectType, objectID: objectID,
			cortexID: cortex, status: "Failure",
		}
		if len(st.analyzers) == 0 {
			a.status = "Waiting"
		}
		st.actions.put(a)
		st.refresh(a)
		return ok(a.view), nil
	})
}

func (s *Server) listActions(c *call) (reply, error) {
	return c.read(func(st *store) (reply, error) {
		out := []any{}
		for _, a := range st.actions.all() {
			if a.orgID == c.orgID && a.objectID == c.param("id") {
				out = append(out, a.view)
			}
		}
		return ok(out), nil
	})
}
