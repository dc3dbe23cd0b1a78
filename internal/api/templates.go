package api

// The templates group (to be filled in): its v2 routes and v1 actions register here.

func (s *Server) registerTemplates() {}
