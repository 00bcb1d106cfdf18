package thehivetest

// commentRec is a comment on a case or an alert. Unlike other entities,
// TheHive renders its audit fields without the leading underscore.
type commentRec struct {
	base
	parentID string
	message  string
	isEdited bool
}

func (cm *commentRec) render(*store) map[string]any {
	m := map[string]any{
		"_id":       cm.id,
		"_type":     "Comment",
		"createdBy": cm.createdBy,
		"createdAt": cm.createdAt,
		"message":   cm.message,
		"isEdited":  cm.isEdited,
		"extraData": map[string]any{},
	}
	if cm.updatedAt != 0 {
		m["updatedBy"] = cm.updatedBy
		m["updatedAt"] = cm.updatedAt
	}
	return m
}

func (c *call) commentByID(st *store, id string) (*commentRec, error) {
	return findInOrg(c, &st.comments, id, "Comment")
}

func (s *Server) commentRoutes() []*route {
	return []*route{
		{method: "POST", pattern: "/api/v1/case/{id}/comment", name: "create comment in case", perm: "manageComment", handle: s.createComment("case")},
		{method: "POST", pattern: "/api/v1/alert/{id}/comment", name: "create comment in alert", perm: "manageComment", handle: s.createComment("alert")},
		{method: "PATCH", pattern: "/api/v1/comment/{id}", name: "update comment", perm: "manageComment", handle: s.updateComment},
		{method: "DELETE", pattern: "/api/v1/comment/{id}", name: "delete comment", perm: "manageComment", handle: s.deleteComment},
	}
}

func (s *Server) createComment(kind string) func(*call) (reply, error) {
	return func(c *call) (reply, error) {
		f, err := c.fields()
		if err != nil {
			return reply{}, err
		}
		message := f.reqStr("message")
		if err := f.err(); err != nil {
			return reply{}, err
		}
		return c.write(func(st *store) (reply, error) {
			var parent string
			if kind == "case" {
				cs, err := c.caseByRef(st, c.param("id"))
				if err != nil {
					return reply{}, err
				}
				parent = cs.id
			} else {
				a, err := c.alertByRef(st, c.param("id"))
				if err != nil {
					return reply{}, err
				}
				parent = a.id
			}
			cm := &commentRec{base: st.newBase(c.orgID, c.login, c.now), parentID: parent, message: message}
			st.comments.put(cm)
			st.refresh(cm)
			c.audit(st, "create", cm, parent, map[string]any{"message": message}, nil)
			return created(cm.view), nil
		})
	}
}

func (s *Server) updateComment(c *call) (reply, error) {
	f, err := c.fields()
	if err != nil {
		return reply{}, err
	}
	message := f.reqStr("message")
	if err := f.err(); err != nil {
		return reply{}, err
	}
	return c.write(func(st *store) (reply, error) {
		cm, err := c.commentByID(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		cm.message, cm.isEdited = message, true
		st.touch(cm, c.login, c.now)
		c.audit(st, "update", cm, cm.parentID, map[string]any{"message": message}, nil)
		return noContent(), nil
	})
}

func (s *Server) deleteComment(c *call) (reply, error) {
	return c.write(func(st *store) (reply, error) {
		cm, err := c.commentByID(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		st.comments.remove(cm.id)
		c.audit(st, "delete", cm, c.orgID, map[string]any{}, nil)
		return noContent(), nil
	})
}
