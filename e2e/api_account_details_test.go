package e2e

import (
	"encoding/json"
	"testing"

	"sesame/internal/testenv"
)

// TestAPIAccountDetailsProductionRequest: an account asks for production
// access with the aws CLI (put-account-details), the operator grants it
// with `sesame admin account review --grant`, and get-account shows the
// account in production with the request GRANTED.
func TestAPIAccountDetailsProductionRequest(t *testing.T) {
	testenv.Tool(t, "/usr/bin/aws")
	s := testenv.Start(t, testenv.Options{})
	region := s.Regions[0]
	awsCLI := func(args ...string) []byte {
		t.Helper()
		return []byte(s.MustAWSCLI(t, append([]string{"sesv2", "--region", region}, args...)...))
	}
	type account struct {
		ProductionAccessEnabled bool
		Details                 struct {
			MailType, WebsiteURL string
			ReviewDetails        struct{ Status, CaseId string }
		}
	}

	awsCLI("put-account-details", "--mail-type", "TRANSACTIONAL", "--website-url", "https://example.com",
		"--use-case-description", "order receipts", "--additional-contact-email-addresses", "ops@example.com",
		"--production-access-enabled")
	var got account
	if err := json.Unmarshal(awsCLI("get-account"), &got); err != nil {
		t.Fatal(err)
	}
	if got.ProductionAccessEnabled || got.Details.MailType != "TRANSACTIONAL" || got.Details.ReviewDetails.Status != "PENDING" ||
		got.Details.ReviewDetails.CaseId == "" {
		t.Fatalf("after the request: %+v; want sandbox, PENDING with a case id", got)
	}

	var pending []struct {
		AccountID string `json:"account_id"`
		CaseID    string `json:"case_id"`
	}
	s.Admin(&pending, "account", "review")
	if len(pending) != 1 || pending[0].AccountID != s.Account || pending[0].CaseID != got.Details.ReviewDetails.CaseId {
		t.Fatalf("account review = %+v; want the one request", pending)
	}
	s.Admin(nil, "account", "review", "--account", s.Account, "--region", region, "--grant")

	var after account
	if err := json.Unmarshal(awsCLI("get-account"), &after); err != nil {
		t.Fatal(err)
	}
	if !after.ProductionAccessEnabled || after.Details.ReviewDetails.Status != "GRANTED" ||
		after.Details.ReviewDetails.CaseId != got.Details.ReviewDetails.CaseId {
		t.Errorf("after the grant: %+v; want production, GRANTED, same case", after)
	}
	s.Admin(&pending, "account", "review")
	if len(pending) != 0 {
		t.Errorf("pending after the grant = %+v; want none", pending)
	}
}
