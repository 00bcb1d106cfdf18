package thehivetest

// The fake's MISP connector has no MISP server, like thehive4py's
// integration environment: its status is empty and every exchange fails as
// TheHive's does then.
func (s *Server) mispRoutes() []*route {
	return []*route{
		{method: "GET", pattern: "/api/v1/connector/misp/status", name: "MISP status", handle: s.mispStatus},
		{method: "GET", pattern: "/api/v1/connector/misp/_syncAlerts", name: "MISP sync", perm: "managePlatform", handle: s.mispSync},
		{method: "POST", pattern: "/api/v1/connector/misp/export/{id}/{server}", name: "export case to MISP", perm: "manageShare", handle: s.mispExport},
		{method: "POST", pattern: "/api/v1/connector/misp/case/import", name: "import MISP event", perm: "manageCase/create", handle: s.mispImport},
	}
}

func (s *Server) mispStatus(*call) (reply, error) {
	return ok(map[string]any{"enabled": true, "status": map[string]any{}, "syncInProgress": false}), nil
}

func (s *Server) mispSync(*call) (reply, error) { return textReply(""), nil }

func (s *Server) mispExport(c *call) (reply, error) {
	return c.read(func(st *store) (reply, error) {
		if _, err := c.caseByRef(st, c.param("id")); err != nil {
			return reply{}, err
		}
		return reply{}, errNotFound("MISP server " + c.param("server"))
	})
}

func (s *Server) mispImport(c *call) (reply, error) {
	if _, _, err := c.readBody(); err != nil {
		return reply{}, err
	}
	return reply{}, errBadRequest("Could not convert json to MISP event")
}
