package api

import "context"

// The suppression group: PutAccountSuppressionAttributes, Put/Get/List/
// DeleteSuppressedDestination (v2).

func (s *Server) registerSuppression() {}

// suppressedReasons is the account's suppression setting in the region
// (SES's default for new accounts: BOUNCE and COMPLAINT).
func (s *Server) suppressedReasons(ctx context.Context) ([]string, error) {
	return []string{"BOUNCE", "COMPLAINT"}, nil
}
