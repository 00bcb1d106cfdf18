package thehivetest

// procedureRec is a MITRE ATT&CK procedure (TTP) of a case or an alert.
type procedureRec struct {
	base
	parentID    string
	occurDate   int64
	patternID   string
	tactic      string
	description string
}

func (p *procedureRec) render(*store) map[string]any {
	m := p.common("")
	m["occurDate"] = p.occurDate
	putStr(m, "patternId", p.patternID)
	putStr(m, "patternName", p.patternID)
	putStr(m, "tactic", p.tactic)
	putStr(m, "tacticLabel", tacticLabel(p.tactic))
	putStr(m, "description", p.description)
	return m
}

// tacticLabel turns "command-and-control" into "Command and Control".
func tacticLabel(t string) string {
	if t == "" {
		return ""
	}
	words := []byte(t)
	out := make([]byte, 0, len(words))
	start := true
	for _, b := range words {
		if b == '-' {
			out = append(out, ' ')
			start = true
			continue
		}
		if start && b >= 'a' && b <= 'z' {
			b -= 'a' - 'A'
		}
		out = append(out, b)
		start = false
	}
	return string(out)
}

func (c *call) procedureByID(st *store, id string) (*procedureRec, error) {
	return findInOrg(c, &st.procedures, id, "Procedure")
}

func (s *Server) procedureRoutes() []*route {
	return []*route{
		{method: "POST", pattern: "/api/v1/case/{id}/procedure", name: "create procedure", perm: "manageProcedure", handle: s.createProcedures("case", false)},
		{method: "POST", pattern: "/api/v1/case/{id}/procedures", name: "create procedures", perm: "manageProcedure", handle: s.createProcedures("case", true)},
		{method: "POST", pattern: "/api/v1/alert/{id}/procedure", name: "create procedure", perm: "manageProcedure", handle: s.createProcedures("alert", false)},
		{method: "POST", pattern: "/api/v1/alert/{id}/procedures", name: "create procedures", perm: "manageProcedure", handle: s.createProcedures("alert", true)},
		{method: "PATCH", pattern: "/api/v1/procedure/{id}", name: "update procedure", perm: "manageProcedure", handle: s.updateProcedure},
		{method: "DELETE", pattern: "/api/v1/procedure/{id}", name: "delete procedure", perm: "manageProcedure", handle: s.deleteProcedures(false)},
		{method: "POST", pattern: "/api/v1/procedure/delete/_bulk", name: "delete procedures", perm: "manageProcedure", handle: s.deleteProcedures(true)},
	}
}

type procedureInput struct {
	occurDate                   int64
	patternID, tactic, descript string
}

func parseProcedure(f fields) procedureInput {
	var in procedureInput
	if !f.present("occurDate") {
		f.missing("occurDate")
	}
	in.occurDate, _ = f.date("occurDate")
	in.patternID = f.reqStr("patternId")
	in.tactic, _ = f.str("tactic")
	in.descript, _ = f.str("description")
	return in
}

// createProcedures adds one procedure, or a list {"procedures": [...]}.
func (s *Server) createProcedures(kind string, bulk bool) func(*call) (reply, error) {
	return func(c *call) (reply, error) {
		f, err := c.fields()
		if err != nil {
			return reply{}, err
		}
		var inputs []procedureInput
		if bulk {
			items, ok := f.objects("procedures")
			if !ok {
				f.missing("procedures")
			}
			for _, it := range items {
				inputs = append(inputs, parseProcedure(it))
			}
		} else {
			inputs = append(inputs, parseProcedure(f))
		}
		if err := f.err(); err != nil {
			return reply{}, err
		}
		return c.write(func(st *store) (reply, error) {
			owner, err := c.ownerOf(st, kind)
			if err != nil {
				return reply{}, err
			}
			var out []any
			for _, in := range inputs {
				p := &procedureRec{
					base:     st.newBase(c.orgID, c.login, c.now),
					parentID: owner, occurDate: in.occurDate, patternID: in.patternID,
					tactic: in.tactic, description: in.descript,
				}
				st.procedures.put(p)
				st.refresh(p)
				c.audit(st, "create", p, owner, map[string]any{"patternId": p.patternID, "occurDate": p.occurDate}, nil)
				out = append(out, p.view)
			}
			if !bulk {
				return created(out[0]), nil
			}
			return created(out), nil
		})
	}
}

func (s *Server) updateProcedure(c *call) (reply, error) {
	f, err := c.fields()
	if err != nil {
		return reply{}, err
	}
	occur, hasOccur := f.date("occurDate")
	pattern, hasPattern := f.str("patternId")
	tactic, hasTactic := f.str("tactic")
	description, hasDescription := f.str("description")
	if err := f.err(); err != nil {
		return reply{}, err
	}
	return c.write(func(st *store) (reply, error) {
		p, err := c.procedureByID(st, c.param("id"))
		if err != nil {
			return reply{}, err
		}
		if hasOccur {
			p.occurDate = occur
		}
		if hasPattern {
			p.patternID = pattern
		}
		if hasTactic {
			p.tactic = tactic
		}
		if hasDescription {
			p.description = description
		}
		st.touch(p, c.login, c.now)
		return noContent(), nil
	})
}

func (s *Server) deleteProcedures(bulk bool) func(*call) (reply, error) {
	return func(c *call) (reply, error) {
		var ids []string
		if bulk {
			f, err := c.fields()
			if err != nil {
				return reply{}, err
			}
			ids = f.reqStrs("ids")
			if err := f.err(); err != nil {
				return reply{}, err
			}
		} else {
			ids = []string{c.param("id")}
		}
		return applyAll(c, ids, c.procedureByID, func(st *store, p *procedureRec) error {
			st.procedures.remove(p.id)
			return nil
		})
	}
}
