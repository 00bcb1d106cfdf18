package thehivetest

import "time"

// Version is the TheHive version the fake reports in its status.
const Version = "5.5.13-1"

func (s *Server) statusRoutes() []*route {
	return []*route{
		{method: "GET", pattern: "/api/status", name: "status", public: true, handle: s.status},
		{method: "GET", pattern: "/api/v1/status", name: "status", public: true, handle: s.status},
		{method: "GET", pattern: "/api/v1/status/public", name: "public status", public: true, handle: s.status},
		{method: "GET", pattern: "/api/v1/license/current", name: "current license", handle: s.license},
	}
}

// status answers the server's versions, connectors and configuration.
func (s *Server) status(c *call) (reply, error) {
	return c.read(func(st *store) (reply, error) {
		cortex := map[string]any{"enabled": len(st.analyzers) > 0, "status": "OK"}
		if len(st.analyzers) > 0 {
			cortex["servers"] = []any{map[string]any{"name": cortexID, "version": "3.1.8-1", "status": "OK"}}
		}
		return ok(map[string]any{
			"versions": map[string]any{"Scalligraph": Version, "TheHive": Version, "Play": "2.8.x"},
			"connectors": map[string]any{
				"cortex": cortex,
			},
			"health": map[string]any{"elasticsearch": "UNKNOWN"},
			"config": map[string]any{
				"protectDownloadsWith": "malware",
				"authType":             []any{"session", "local", "key"},
				"capabilities":         []any{"changePassword", "setPassword", "authByKey"},
				"ssoAutoLogin":         false,
			},
		}), nil
	})
}

// license answers a community license that never expires.
func (s *Server) license(c *call) (reply, error) {
	far := time.UnixMilli(c.now).AddDate(10, 0, 0).UnixMilli()
	return ok(map[string]any{
		"fallback": map[string]any{"expiresAt": far, "plan": "Community"},
		"current":  map[string]any{"expiresAt": far, "plan": "Community"},
	}), nil
}
