package thehivetest

// registerRoutes mounts every route of the fake. Each entity's file lists
// its own routes.
func (s *Server) registerRoutes() {
	s.kinds = queryKinds()
	groups := [][]*route{
		s.statusRoutes(),
		s.userRoutes(),
		s.caseRoutes(),
		s.alertRoutes(),
		s.observableRoutes(),
		s.taskRoutes(),
		s.logRoutes(),
		s.commentRoutes(),
		s.attachmentRoutes(),
		s.customFieldRoutes(),
		s.templateRoutes(),
		s.procedureRoutes(),
		s.pageRoutes(),
		s.timelineRoutes(),
		s.cortexRoutes(),
		s.caseFileRoutes(),
		s.mispRoutes(),
		s.queryRoutes(),
		s.controlRoutes(),
	}
	for _, g := range groups {
		for _, r := range g {
			s.router.add(r)
		}
	}
}
