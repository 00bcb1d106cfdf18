package thehivetest

// pageRec is a page of a case, or a page template when caseID is empty.
type pageRec struct {
	base
	caseID   string
	title    string
	content  string
	category string
	order    int64
}

func (p *pageRec) render(*store) map[string]any {
	m := p.common("Page")
	m["title"] = p.title
	m["content"] = p.content
	m["category"] = p.category
	m["order"] = p.order
	return m
}

// pageTemplateRec is a page template of an organisation.
type pageTemplateRec struct{ pageRec }

func (p *pageTemplateRec) render(st *store) map[string]any {
	m := p.pageRec.render(st)
	m["_type"] = "PageTemplate"
	return m
}

func (s *Server) pageRoutes() []*route {
	return []*route{
		{method: "POST", pattern: "/api/v1/case/{id}/page", name: "create page", perm: "managePage", handle: s.createPage},
		{method: "PATCH", pattern: "/api/v1/case/{id}/page/{pageId}", name: "update page", perm: "managePage", handle: s.updatePage(false)},
		{method: "DELETE", pattern: "/api/v1/case/{id}/page/{pageId}", name: "delete page", perm: "managePage", handle: s.deletePage(false)},
		{method: "POST", pattern: "/api/v1/pageTemplate", name: "create page template", perm: "managePageTemplate", handle: s.createPage},
		{method: "PATCH", pattern: "/api/v1/pageTemplate/{pageId}", name: "update page template", perm: "managePageTemplate", handle: s.updatePage(true)},
		{method: "DELETE", pattern: "/api/v1/pageTemplate/{pageId}", name: "delete page template", perm: "managePageTemplate", handle: s.deletePage(true)},
	}
}

// createPage creates a case page, or a page template when the route has no
// case.
func (s *Server) createPage(c *call) (reply, error) {
	f, err := c.fields()
	if err != nil {
		return reply{}, err
	}
	p := pageRec{title: f.reqStr("title"), content: f.reqStr("content"), category: f.reqStr("category")}
	p.order, _ = f.integer("order")
	if err := f.err(); err != nil {
		return reply{}, err
	}
	return c.write(func(st *store) (reply, error) {
		p.base = st.newBase(c.orgID, c.login, c.now)
		if c.params["id"] == "" {
			t := &pageTemplateRec{pageRec: p}
			st.pageTemplates.put(t)
			st.refresh(t)
			return created(t.view), nil
		}
		cs, err := c.caseByRef(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		p.caseID = cs.id
		rec := &p
		st.pages.put(rec)
		st.refresh(rec)
		c.audit(st, "create", rec, cs.id, map[string]any{"title": p.title, "category": p.category}, nil)
		return created(rec.view), nil
	})
}

// page finds a case page or a page template of the caller's organisation.
func (c *call) page(st *store, template bool) (*pageRec, record, error) {
	id := c.param("pageId")
	if template {
		t, err := findInOrg(c, &st.pageTemplates, id, "PageTemplate")
		if err != nil {
			return nil, nil, err
		}
		return &t.pageRec, t, nil
	}
	cs, err := c.caseByRef(st, c.param("id"))
	if err != nil {
		return nil, nil, err
	}
	p, ok := st.pages.get(id)
	if !ok || p.caseID != cs.id {
		return nil, nil, errNotFound("Page")
	}
	return p, p, nil
}

func (s *Server) updatePage(template bool) func(*call) (reply, error) {
	return func(c *call) (reply, error) {
		f, err := c.fields()
		if err != nil {
			return reply{}, err
		}
		title, hasTitle := f.str("title")
		content, hasContent := f.str("content")
		category, hasCategory := f.str("category")
		order, hasOrder := f.integer("order")
		if err := f.err(); err != nil {
			return reply{}, err
		}
		return c.write(func(st *store) (reply, error) {
			p, rec, err := c.page(st, template)
			if err != nil {
				return reply{}, err
			}
			if hasTitle {
				p.title = title
			}
			if hasContent {
				p.content = content
			}
			if hasCategory {
				p.category = category
			}
			if hasOrder {
				p.order = order
			}
			st.touch(rec, c.login, c.now)
			return noContent(), nil
		})
	}
}

func (s *Server) deletePage(template bool) func(*call) (reply, error) {
	return func(c *call) (reply, error) {
		return c.write(func(st *store) (reply, error) {
			p, _, err := c.page(st, template)
			if err != nil {
				return reply{}, err
			}
			if template {
				st.pageTemplates.remove(p.id)
				for _, t := range st.templates.byID {
					var keep []string
					for _, id := range t.pageTemplates {
						if id != p.id {
							keep = append(keep, id)
						}
					}
					t.pageTemplates = keep
				}
			} else {
				st.pages.remove(p.id)
			}
			return noContent(), nil
		})
	}
}
