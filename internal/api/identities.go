package api

// The identities group (to be filled in): its v2 routes and v1 actions register here.

func (s *Server) registerIdentities() {}
