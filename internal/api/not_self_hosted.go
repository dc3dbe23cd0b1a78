package api

import (
	"context"
	"encoding/json"
	"net/http"

	"sesame/internal/seserr"
)

// SES v2 operations that have no meaning for a self-hosted service, answered
// as they are rather than as unknown operations: multi-region endpoints
// (one sesame serves its configured regions), tenants
// (sesame separates customers by account) and reputation entities (SES's
// tenant reputation). Lists are empty, lookups are SES's NotFoundException,
// and creating one is a BadRequest that says why. Nothing here touches the
// store: there is nothing to keep.

func (s *Server) registerNotSelfHosted() {
	s.handleV2("POST /v2/email/multi-region-endpoints", s.createMultiRegionEndpointV2)
	s.handleV2("GET /v2/email/multi-region-endpoints", s.listMultiRegionEndpointsV2)
	s.handleV2("GET /v2/email/multi-region-endpoints/{EndpointName}", s.getMultiRegionEndpointV2)
	s.handleV2("DELETE /v2/email/multi-region-endpoints/{EndpointName}", s.getMultiRegionEndpointV2)

	s.handleV2("POST /v2/email/tenants", s.createTenantV2)
	s.handleV2("POST /v2/email/tenants/list", s.listTenantsV2)
	s.handleV2("POST /v2/email/tenants/get", s.tenantNotFoundV2)
	s.handleV2("POST /v2/email/tenants/delete", s.tenantNotFoundV2)
	s.handleV2("POST /v2/email/tenants/resources", s.tenantNotFoundV2)
	s.handleV2("POST /v2/email/tenants/resources/delete", s.tenantNotFoundV2)
	s.handleV2("POST /v2/email/tenants/resources/list", s.tenantNotFoundV2)
	s.handleV2("POST /v2/email/tenant/suppression", s.tenantNotFoundV2)
	s.handleV2("POST /v2/email/resources/tenants/list", s.listResourceTenantsV2)

	const entity = "/v2/email/reputation/entities/{ReputationEntityType}/{ReputationEntityReference}"
	s.handleV2("POST /v2/email/reputation/entities", s.listReputationEntitiesV2)
	s.handleV2("GET "+entity, s.getReputationEntityV2)
	s.handleV2("PUT "+entity+"/customer-managed-status", s.updateReputationEntityV2("SendingStatus"))
	s.handleV2("PUT "+entity+"/policy", s.updateReputationEntityV2("ReputationEntityPolicy"))
}

// checkEmptyPage validates the paging of a list that is always empty: no
// NextToken was ever handed out, so any is invalid. (A JSON PageSize is
// checked to be an integer by decoding it.)
// refuseV2 answers a v2 operation sesame cannot carry out: SES's
// MissingParameter for the first required member the body lacks (or has
// as null), else the refusal that says why.
func refuseV2(r *http.Request, refusal error, required ...string) (any, error) {
	var in map[string]json.RawMessage
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	for _, name := range required {
		if v, ok := in[name]; !ok || string(v) == "null" {
			return nil, seserr.MissingParameter(name)
		}
	}
	return nil, refusal
}

// emptyListV2 answers a v2 list (POST, paging in the body) of what sesame
// never has: member is an empty list, and any NextToken is refused.
func emptyListV2(r *http.Request, member string) (any, error) {
	var in struct{ NextToken string }
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	if err := checkEmptyPage(in.NextToken); err != nil {
		return nil, err
	}
	return map[string][]struct{}{member: {}}, nil
}

func checkEmptyPage(token string) error {
	if token != "" {
		return seserr.InvalidNextToken()
	}
	return nil
}

// checkEmptyPageQuery is checkEmptyPage for a GET list's query string.
// PageSize must still be an integer.
func checkEmptyPageQuery(r *http.Request) error {
	if _, _, err := queryInt(r, "PageSize"); err != nil {
		return err
	}
	return checkEmptyPage(r.URL.Query().Get("NextToken"))
}

// requireQueryTimes checks required timestamp query parameters.
func requireQueryTimes(r *http.Request, names ...string) error {
	for _, name := range names {
		if r.URL.Query().Get(name) == "" {
			return seserr.MissingParameter(name)
		}
		if _, err := queryTime(r, name); err != nil {
			return err
		}
	}
	return nil
}

// --- Multi-region endpoints ----------------------------------------------

func (s *Server) createMultiRegionEndpointV2(ctx context.Context, r *http.Request) (any, error) {
	return refuseV2(r, seserr.NoMultiRegionEndpoints(), "EndpointName", "Details")
}

// maxMultiRegionEndpointPage is the model's bound on PageSize (PageSizeV2).
const maxMultiRegionEndpointPage = 1000

func (s *Server) listMultiRegionEndpointsV2(ctx context.Context, r *http.Request) (any, error) {
	n, ok, err := queryInt(r, "PageSize")
	if err != nil {
		return nil, err
	}
	if ok && (n < 1 || n > maxMultiRegionEndpointPage) {
		return nil, seserr.PageSizeOutOfRange(maxMultiRegionEndpointPage)
	}
	if err := checkEmptyPage(r.URL.Query().Get("NextToken")); err != nil {
		return nil, err
	}
	return struct{ MultiRegionEndpoints []struct{} }{[]struct{}{}}, nil
}

// getMultiRegionEndpointV2 answers Get and Delete: there is none to find.
func (s *Server) getMultiRegionEndpointV2(ctx context.Context, r *http.Request) (any, error) {
	return nil, seserr.MultiRegionEndpointNotFound(r.PathValue("EndpointName"))
}

// --- Tenants -----------------------------------------------------------------

// tenantName reads the TenantName every tenant operation requires.
func tenantName(r *http.Request) (string, error) {
	var in struct{ TenantName *string }
	if err := decodeJSON(r, &in); err != nil {
		return "", err
	}
	if in.TenantName == nil {
		return "", seserr.MissingParameter("TenantName")
	}
	return *in.TenantName, nil
}

func (s *Server) createTenantV2(ctx context.Context, r *http.Request) (any, error) {
	if _, err := tenantName(r); err != nil {
		return nil, err
	}
	return nil, seserr.NoTenants()
}

// tenantNotFoundV2 answers every operation on a named tenant (get, delete,
// its resources, its suppression attributes): there are no tenants.
func (s *Server) tenantNotFoundV2(ctx context.Context, r *http.Request) (any, error) {
	name, err := tenantName(r)
	if err != nil {
		return nil, err
	}
	return nil, seserr.TenantNotFound(name)
}

func (s *Server) listTenantsV2(ctx context.Context, r *http.Request) (any, error) {
	return emptyListV2(r, "Tenants")
}

func (s *Server) listResourceTenantsV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct {
		ResourceArn *string
		NextToken   string
		PageSize    *int
	}
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	if in.ResourceArn == nil {
		return nil, seserr.MissingParameter("ResourceArn")
	}
	if err := checkEmptyPage(in.NextToken); err != nil {
		return nil, err
	}
	return struct{ ResourceTenants []struct{} }{[]struct{}{}}, nil
}

// --- Reputation entities ---------------------------------------------------

// reputationEntityType checks the path's type: the model knows only RESOURCE.
func reputationEntityType(r *http.Request) error {
	if t := r.PathValue("ReputationEntityType"); t != "RESOURCE" {
		return seserr.InvalidEnumValue("ReputationEntityType", t, "RESOURCE")
	}
	return nil
}

func (s *Server) listReputationEntitiesV2(ctx context.Context, r *http.Request) (any, error) {
	return emptyListV2(r, "ReputationEntities")
}

func (s *Server) getReputationEntityV2(ctx context.Context, r *http.Request) (any, error) {
	if err := reputationEntityType(r); err != nil {
		return nil, err
	}
	return nil, seserr.ReputationEntityNotFound(r.PathValue("ReputationEntityType"), r.PathValue("ReputationEntityReference"))
}

// updateReputationEntityV2 answers both updates; required is the body
// member each requires.
func (s *Server) updateReputationEntityV2(required string) v2Handler {
	return func(ctx context.Context, r *http.Request) (any, error) {
		if err := reputationEntityType(r); err != nil {
			return nil, err
		}
		var in map[string]any
		if err := decodeJSON(r, &in); err != nil {
			return nil, err
		}
		if _, ok := in[required]; !ok {
			return nil, seserr.MissingParameter(required)
		}
		return nil, seserr.NoReputationEntities(r.PathValue("ReputationEntityReference"))
	}
}
