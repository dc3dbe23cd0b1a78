package api

import (
	"context"
	"encoding/json"
	"net/http"

	"sesame/internal/seserr"
)

// SES v2 operations whose feature lives in another AWS service that a
// self-hosted sesame cannot use: S/MIME signing with certificates from AWS
// Certificate Manager (the identity certificate operations and a
// configuration set's MessageSecurityOptions), archiving into a MailManager
// archive (ArchivingOptions), AWS's pricing plans and Virtual Deliverability
// Manager's metrics (BatchGetMetricData). What would turn such
// a feature on is refused with a BadRequest that says why; what leaves or
// turns it off is accepted, and reads answer the truth (no certificates).
// The resource named still has to exist: an unknown identity or
// configuration set is SES's NotFoundException, as it would be in SES.

func (s *Server) registerAWSOnly() {
	s.handleV2("POST /v2/email/identity/certificates", s.associateIdentityCertificateV2)
	s.handleV2("POST /v2/email/identity/certificates/delete", s.disassociateIdentityCertificateV2)
	s.handleV2("POST /v2/email/identity/certificates/list", s.listIdentityCertificatesV2)
	s.handleV2("PUT /v2/email/configuration-sets/{ConfigurationSetName}/archiving-options", s.putArchivingOptionsV2)
	s.handleV2("POST /v2/email/update-configuration-sets", s.updateConfigurationSetV2)
	s.handleV2("PUT /v2/email/account/pricing-attributes", s.putAccountPricingAttributesV2)
	s.handleV2("POST /v2/email/metrics/batch", s.batchGetMetricDataV2)
}

// --- S/MIME certificates -------------------------------------------------

type identityCertificateIn struct {
	EmailIdentity  string
	FromAddress    string
	CertificateArn string
}

// certificateIdentity reads the request and checks its identity exists.
func (s *Server) certificateIdentity(ctx context.Context, r *http.Request, in any, name *string) error {
	if err := decodeJSON(r, in); err != nil {
		return err
	}
	if *name == "" {
		return seserr.MissingParameter("EmailIdentity")
	}
	_, err := s.identity(ctx, *name)
	return err
}

func (s *Server) associateIdentityCertificateV2(ctx context.Context, r *http.Request) (any, error) {
	var in identityCertificateIn
	if err := s.certificateIdentity(ctx, r, &in, &in.EmailIdentity); err != nil {
		return nil, err
	}
	if in.CertificateArn == "" {
		return nil, seserr.MissingParameter("CertificateArn")
	}
	return nil, seserr.NoSmimeCertificates()
}

// disassociateIdentityCertificateV2 succeeds for an existing identity: SES
// documents it as idempotent, and no identity of sesame's has a
// certificate to remove.
func (s *Server) disassociateIdentityCertificateV2(ctx context.Context, r *http.Request) (any, error) {
	var in identityCertificateIn
	return nil, s.certificateIdentity(ctx, r, &in, &in.EmailIdentity)
}

func (s *Server) listIdentityCertificatesV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct {
		EmailIdentity string
		NextToken     string
		PageSize      *int
	}
	if err := s.certificateIdentity(ctx, r, &in, &in.EmailIdentity); err != nil {
		return nil, err
	}
	if err := checkEmptyPage(in.NextToken); err != nil {
		return nil, err
	}
	return struct{ Certificates []struct{} }{[]struct{}{}}, nil
}

// messageSecurityOptionsV2 is a configuration set's MessageSecurityOptions:
// SigningScheme is a union of DefaultScheme (SES's usual signing, which
// sesame does: DKIM) and SmimeScheme.
type messageSecurityOptionsV2 struct {
	SigningScheme *struct {
		DefaultScheme json.RawMessage
		SmimeScheme   json.RawMessage
	}
}

func (o *messageSecurityOptionsV2) check() error {
	if o == nil || o.SigningScheme == nil {
		return nil
	}
	if o.SigningScheme.SmimeScheme != nil && string(o.SigningScheme.SmimeScheme) != "null" {
		return seserr.NoSmimeSigning()
	}
	return nil
}

// updateConfigurationSetV2 is UpdateConfigurationSet, whose one setting is
// MessageSecurityOptions: the default scheme is what sesame does already.
func (s *Server) updateConfigurationSetV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct {
		ConfigurationSetName   string
		MessageSecurityOptions *messageSecurityOptionsV2
	}
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	if in.ConfigurationSetName == "" {
		return nil, seserr.MissingParameter("ConfigurationSetName")
	}
	if err := s.checkConfigurationSet(ctx, in.ConfigurationSetName); err != nil {
		return nil, err
	}
	return nil, in.MessageSecurityOptions.check()
}

// --- archiving -----------------------------------------------------------

// archivingOptionsV2 is a configuration set's ArchivingOptions; only no
// archive is possible.
type archivingOptionsV2 struct{ ArchiveArn string }

func (o *archivingOptionsV2) check() error {
	if o != nil && o.ArchiveArn != "" {
		return seserr.NoMailManagerArchive()
	}
	return nil
}

func (s *Server) putArchivingOptionsV2(ctx context.Context, r *http.Request) (any, error) {
	var in archivingOptionsV2
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	if err := s.checkConfigurationSet(ctx, r.PathValue("ConfigurationSetName")); err != nil {
		return nil, err
	}
	return nil, in.check()
}

// --- pricing -------------------------------------------------------------

func (s *Server) putAccountPricingAttributesV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct{ Plan string }
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	switch in.Plan {
	case "":
		return nil, seserr.MissingParameter("Plan")
	case "NONE":
		return nil, nil
	case "ESSENTIALS", "PRO", "ENTERPRISE":
		return nil, seserr.NoPricingPlans(in.Plan)
	}
	return nil, seserr.InvalidEnumValue("Plan", in.Plan, "NONE, ESSENTIALS, PRO, ENTERPRISE")
}

// --- VDM metrics ---------------------------------------------------------

// batchGetMetricDataV2 checks the request's shape (Queries, 1 to 10, as
// the model has it) and refuses it: see seserr.NoVdmMetrics.
func (s *Server) batchGetMetricDataV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct{ Queries []json.RawMessage }
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	switch n := len(in.Queries); {
	case in.Queries == nil:
		return nil, seserr.MissingParameter("Queries")
	case n < 1 || n > maxMetricQueries:
		return nil, seserr.MetricQueriesOutOfRange(n, maxMetricQueries)
	}
	return nil, seserr.NoVdmMetrics()
}

// maxMetricQueries is the model's bound on BatchGetMetricData's Queries.
const maxMetricQueries = 10
