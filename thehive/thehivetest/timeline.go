package thehivetest

import "sort"

// customEventRec is an event an analyst added to a case's timeline.
type customEventRec struct {
	base
	caseID      string
	date        int64
	endDate     int64
	title       string
	description string
}

func (e *customEventRec) render(*store) map[string]any {
	m := e.common("CustomEvent")
	delete(m, "extraData")
	m["date"] = e.date
	putDate(m, "endDate", e.endDate)
	m["title"] = e.title
	putStr(m, "description", e.description)
	return m
}

func (s *Server) timelineRoutes() []*route {
	return []*route{
		{method: "GET", pattern: "/api/v1/case/{id}/timeline", name: "get timeline", handle: s.timeline},
		{method: "POST", pattern: "/api/v1/case/{id}/customEvent", name: "create custom event", perm: "manageCase/update", handle: s.createCustomEvent},
		{method: "PATCH", pattern: "/api/v1/customEvent/{eventId}", name: "update custom event", perm: "manageCase/update", handle: s.updateCustomEvent},
		{method: "DELETE", pattern: "/api/v1/customEvent/{eventId}", name: "delete custom event", perm: "manageCase/update", handle: s.deleteCustomEvent},
	}
}

// timeline lists a case's events: its creation, its tasks, observables and
// custom events, by date.
func (s *Server) timeline(c *call) (reply, error) {
	return c.read(func(st *store) (reply, error) {
		cs, err := c.caseByRef(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		type event struct {
			date int64
			doc  map[string]any
		}
		events := []event{{cs.createdAt, map[string]any{
			"date": cs.createdAt, "kind": "CaseCreated", "entity": "Case", "entityId": cs.id,
			"details": map[string]any{"title": cs.title},
		}}}
		if cs.closedDate != 0 {
			events = append(events, event{cs.closedDate, map[string]any{
				"date": cs.closedDate, "kind": "CaseClosed", "entity": "Case", "entityId": cs.id,
				"details": map[string]any{"status": cs.status},
			}})
		}
		for _, t := range st.tasks.filter(func(t *taskRec) bool { return t.caseID == cs.id }) {
			if t.startDate != 0 {
				events = append(events, event{t.startDate, map[string]any{
					"date": t.startDate, "kind": "TaskStarted", "entity": "Task", "entityId": t.id,
					"details": map[string]any{"title": t.title},
				}})
			}
		}
		for _, o := range st.observables.filter(func(o *observableRec) bool { return o.parentID == cs.id && o.sightedAt != 0 }) {
			events = append(events, event{o.sightedAt, map[string]any{
				"date": o.sightedAt, "kind": "ObservableSighted", "entity": "Observable", "entityId": o.id,
				"details": map[string]any{"dataType": o.dataType, "data": o.data},
			}})
		}
		for _, e := range st.events.filter(func(e *customEventRec) bool { return e.caseID == cs.id }) {
			doc := map[string]any{
				"date": e.date, "kind": "CustomEvent", "entity": "CustomEvent", "entityId": e.id,
				"details": map[string]any{"title": e.title, "description": e.description},
			}
			putDate(doc, "endDate", e.endDate)
			events = append(events, event{e.date, doc})
		}
		sort.SliceStable(events, func(i, j int) bool { return events[i].date < events[j].date })
		list := make([]any, len(events))
		for i, e := range events {
			list[i] = e.doc
		}
		return ok(map[string]any{"events": list}), nil
	})
}

func (s *Server) createCustomEvent(c *call) (reply, error) {
	f, err := c.fields()
	if err != nil {
		return reply{}, err
	}
	if !f.present("date") {
		f.missing("date")
	}
	date, _ := f.date("date")
	endDate, _ := f.date("endDate")
	title := f.reqStr("title")
	description, _ := f.str("description")
	if err := f.err(); err != nil {
		return reply{}, err
	}
	return c.write(func(st *store) (reply, error) {
		cs, err := c.caseByRef(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		e := &customEventRec{base: st.newBase(c.orgID, c.login, c.now), caseID: cs.id, date: date, endDate: endDate, title: title, description: description}
		st.events.put(e)
		st.refresh(e)
		return created(e.view), nil
	})
}

func (c *call) customEvent(st *store) (*customEventRec, error) {
	return findInOrg(c, &st.events, c.param("eventId"), "CustomEvent")
}

func (s *Server) updateCustomEvent(c *call) (reply, error) {
	f, err := c.fields()
	if err != nil {
		return reply{}, err
	}
	date, hasDate := f.date("date")
	endDate, hasEnd := f.date("endDate")
	title, hasTitle := f.str("title")
	description, hasDescription := f.str("description")
	if err := f.err(); err != nil {
		return reply{}, err
	}
	return c.write(func(st *store) (reply, error) {
		e, err := c.customEvent(st)
		if err != nil {
			return reply{}, err
		}
		if hasDate {
			e.date = date
		}
		if hasEnd {
			e.endDate = endDate
		}
		if hasTitle {
			e.title = title
		}
		if hasDescription {
			e.description = description
		}
		st.touch(e, c.login, c.now)
		return noContent(), nil
	})
}

func (s *Server) deleteCustomEvent(c *call) (reply, error) {
	return c.write(func(st *store) (reply, error) {
		e, err := c.customEvent(st)
		if err != nil {
			return reply{}, err
		}
		st.events.remove(e.id)
		return noContent(), nil
	})
}
