package api

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"slices"
	"time"

	"sesame/internal/seserr"
	"sesame/internal/store"
)

// The dedicated IP group (v2 only; v1 has none): GetDedicatedIps,
// GetDedicatedIp, PutDedicatedIpInPool, PutDedicatedIpWarmupAttributes,
// PutAccountDedicatedIpWarmupAttributes and the pools (Create, Get, List,
// Delete, PutDedicatedIpPoolScalingAttributes).
//
// The dedicated IPs are the operator's [[delivery.source_addresses]], the
// same for every account (as SES's shared addresses are): each account sees
// all of them, and puts them in its own pools and sets their warm-up
// percentages for itself. Delivery binds to them (internal/delivery,
// sources.go): a configuration set's SendingPoolName sends from that pool's
// addresses, other mail from the account's addresses in no pool, and a
// warm-up percentage caps an address's daily volume.

// SES's dedicated IP limits.
const (
	maxDedicatedIPPools    = 50 // per account and region
	maxDedicatedIPPoolName = 64
	defaultDedicatedIPPage = 100
	maxDedicatedIPPage     = 1000
)

// DedicatedIPStore is what the dedicated IP operations ask of the store.
type DedicatedIPStore interface {
	CreateDedicatedIPPool(ctx context.Context, p store.DedicatedIPPool, max int) error
	DedicatedIPPool(ctx context.Context, accountID, region, name string) (store.DedicatedIPPool, error)
	DedicatedIPPoolNames(ctx context.Context, accountID, region, after string, limit int) ([]string, error)
	DeleteDedicatedIPPool(ctx context.Context, accountID, region, name string) error
	DedicatedIPSettings(ctx context.Context, accountID, region string) (map[string]store.DedicatedIPSetting, error)
	PutDedicatedIPInPool(ctx context.Context, accountID, region, ip, pool string) error
	SetDedicatedIPWarmup(ctx context.Context, accountID, region, ip string, percentage int, at time.Time) error
	DedicatedIPAutoWarmup(ctx context.Context, accountID, region string) (bool, error)
	SetDedicatedIPAutoWarmup(ctx context.Context, accountID, region string, on bool) error
}

func (s *Server) dedicatedIPStore() DedicatedIPStore { return s.cfg.Store }

func (s *Server) registerDedicatedIPs() {
	s.handleV2("GET /v2/email/dedicated-ips", s.getDedicatedIPsV2)
	s.handleV2("GET /v2/email/dedicated-ips/{IP}", s.getDedicatedIPV2)
	s.handleV2("PUT /v2/email/dedicated-ips/{IP}/pool", s.putDedicatedIPInPoolV2)
	s.handleV2("PUT /v2/email/dedicated-ips/{IP}/warmup", s.putDedicatedIPWarmupV2)
	s.handleV2("PUT /v2/email/account/dedicated-ips/warmup", s.putAccountDedicatedIPWarmupV2)
	s.handleV2("POST /v2/email/dedicated-ip-pools", s.createDedicatedIPPoolV2)
	s.handleV2("GET /v2/email/dedicated-ip-pools", s.listDedicatedIPPoolsV2)
	s.handleV2("GET /v2/email/dedicated-ip-pools/{PoolName}", s.getDedicatedIPPoolV2)
	s.handleV2("DELETE /v2/email/dedicated-ip-pools/{PoolName}", s.deleteDedicatedIPPoolV2)
	s.handleV2("PUT /v2/email/dedicated-ip-pools/{PoolName}/scaling", s.putDedicatedIPPoolScalingV2)
}

// dedicatedIPV2 is SES's DedicatedIp.
type dedicatedIPV2 struct {
	Ip               string
	WarmupStatus     string
	WarmupPercentage int
	PoolName         string `json:",omitempty"`
}

// dedicatedIPs are the configured addresses in address order, canonical.
func (s *Server) dedicatedIPs() []netip.Addr {
	var ips []netip.Addr
	for _, a := range s.cfg.DedicatedIPs {
		if ip, err := netip.ParseAddr(a); err == nil {
			ips = append(ips, ip.Unmap())
		}
	}
	slices.SortFunc(ips, netip.Addr.Compare)
	return slices.Compact(ips)
}

// dedicatedIP is the configured address text names (NotFound otherwise).
func (s *Server) dedicatedIP(text string) (netip.Addr, error) {
	ip, err := netip.ParseAddr(text)
	if err == nil && slices.Contains(s.dedicatedIPs(), ip.Unmap()) {
		return ip.Unmap(), nil
	}
	return netip.Addr{}, seserr.DedicatedIPDoesNotExist(text)
}

// dedicatedIPView is ip as the caller's settings make it at now, with
// automatic warm-up on or off (auto).
func dedicatedIPView(ip netip.Addr, settings map[string]store.DedicatedIPSetting, auto bool, now time.Time) dedicatedIPV2 {
	out := dedicatedIPV2{Ip: ip.String(), WarmupPercentage: 100}
	if set, ok := settings[ip.String()]; ok {
		out.PoolName, out.WarmupPercentage = set.PoolName, set.Percentage(auto, now)
	}
	out.WarmupStatus = "DONE"
	if out.WarmupPercentage < 100 {
		out.WarmupStatus = "IN_PROGRESS"
	}
	return out
}

// dedicatedIPSettings are the caller's settings and automatic warm-up switch.
func (s *Server) dedicatedIPSettings(ctx context.Context) (map[string]store.DedicatedIPSetting, bool, error) {
	p := principal(ctx)
	settings, err := s.dedicatedIPStore().DedicatedIPSettings(ctx, p.AccountID, p.Region)
	if err != nil {
		return nil, false, err
	}
	auto, err := s.dedicatedIPStore().DedicatedIPAutoWarmup(ctx, p.AccountID, p.Region)
	return settings, auto, err
}

// pool is the caller's pool of that name (NotFound otherwise).
func (s *Server) pool(ctx context.Context, name string) (store.DedicatedIPPool, error) {
	p := principal(ctx)
	pool, err := s.dedicatedIPStore().DedicatedIPPool(ctx, p.AccountID, p.Region, name)
	if errors.Is(err, store.ErrNotFound) {
		return pool, seserr.DedicatedIPPoolDoesNotExist(name)
	}
	return pool, err
}

// checkSendingPool: a configuration set's DeliveryOptions may only name a
// pool of the caller's (SES: NotFoundException).
func (s *Server) checkSendingPool(ctx context.Context, d *store.DeliveryOptions) error {
	if d == nil || d.SendingPoolName == "" {
		return nil
	}
	if _, err := s.pool(ctx, d.SendingPoolName); err != nil {
		if seserr.As(err) != nil {
			return seserr.SendingPoolDoesNotExist(d.SendingPoolName)
		}
		return err
	}
	return nil
}

// dedicatedIPAutoWarmup is GetAccount's DedicatedIpAutoWarmupEnabled.
func (s *Server) dedicatedIPAutoWarmup(ctx context.Context) (bool, error) {
	p := principal(ctx)
	return s.dedicatedIPStore().DedicatedIPAutoWarmup(ctx, p.AccountID, p.Region)
}

func validPoolName(name string) bool {
	if name == "" || len(name) > maxDedicatedIPPoolName {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// pageSize reads PageSize from the query (default when absent).
func pageSize(r *http.Request, def, max int) (int, error) {
	n, ok, err := queryInt(r, "PageSize")
	if err != nil {
		return 0, err
	}
	if !ok {
		return def, nil
	}
	if n < 1 || n > max {
		return 0, seserr.PageSizeOutOfRange(max)
	}
	return n, nil
}

// --- dedicated IPs -------------------------------------------------------

func (s *Server) getDedicatedIPsV2(ctx context.Context, r *http.Request) (any, error) {
	q := r.URL.Query()
	size, err := pageSize(r, defaultDedicatedIPPage, maxDedicatedIPPage)
	if err != nil {
		return nil, err
	}
	after, err := decodePageToken(q.Get("NextToken"))
	if err != nil {
		return nil, err
	}
	var from netip.Addr
	if after != "" {
		if from, err = netip.ParseAddr(after); err != nil {
			return nil, seserr.InvalidNextToken()
		}
	}
	poolName := q.Get("PoolName")
	if poolName != "" {
		if _, err := s.pool(ctx, poolName); err != nil {
			return nil, err
		}
	}
	settings, auto, err := s.dedicatedIPSettings(ctx)
	if err != nil {
		return nil, err
	}
	list := []dedicatedIPV2{}
	next := ""
	for _, ip := range s.dedicatedIPs() {
		if from.IsValid() && ip.Compare(from) <= 0 {
			continue
		}
		v := dedicatedIPView(ip, settings, auto, s.clk.Now())
		if poolName != "" && v.PoolName != poolName {
			continue
		}
		if len(list) == size {
			next = encodePageToken(list[size-1].Ip)
			break
		}
		list = append(list, v)
	}
	out := map[string]any{"DedicatedIps": list}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

func (s *Server) getDedicatedIPV2(ctx context.Context, r *http.Request) (any, error) {
	ip, err := s.dedicatedIP(r.PathValue("IP"))
	if err != nil {
		return nil, err
	}
	settings, auto, err := s.dedicatedIPSettings(ctx)
	if err != nil {
		return nil, err
	}
	return map[string]any{"DedicatedIp": dedicatedIPView(ip, settings, auto, s.clk.Now())}, nil
}

func (s *Server) putDedicatedIPInPoolV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct{ DestinationPoolName string }
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	if in.DestinationPoolName == "" {
		return nil, seserr.MissingParameter("DestinationPoolName")
	}
	ip, err := s.dedicatedIP(r.PathValue("IP"))
	if err != nil {
		return nil, err
	}
	p := principal(ctx)
	err = s.dedicatedIPStore().PutDedicatedIPInPool(ctx, p.AccountID, p.Region, ip.String(), in.DestinationPoolName)
	if errors.Is(err, store.ErrNotFound) {
		return nil, seserr.DedicatedIPPoolDoesNotExist(in.DestinationPoolName)
	}
	return nil, err
}

func (s *Server) putDedicatedIPWarmupV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct{ WarmupPercentage *int }
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	if in.WarmupPercentage == nil {
		return nil, seserr.MissingParameter("WarmupPercentage")
	}
	if w := *in.WarmupPercentage; w < 0 || w > 100 {
		return nil, seserr.WarmupPercentageOutOfRange(w)
	}
	ip, err := s.dedicatedIP(r.PathValue("IP"))
	if err != nil {
		return nil, err
	}
	p := principal(ctx)
	return nil, s.dedicatedIPStore().SetDedicatedIPWarmup(ctx, p.AccountID, p.Region, ip.String(), *in.WarmupPercentage, s.clk.Now())
}

// putAccountDedicatedIPWarmupV2 keeps the switch (GetAccount reads it
// back). On, an address in warm-up advances by itself over SES's 45-day
// plan, and mail past its daily cap overflows to the account's addresses in
// no pool (SES: to its shared addresses) instead of waiting for the next day.
func (s *Server) putAccountDedicatedIPWarmupV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct{ AutoWarmupEnabled bool }
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	p := principal(ctx)
	return nil, s.dedicatedIPStore().SetDedicatedIPAutoWarmup(ctx, p.AccountID, p.Region, in.AutoWarmupEnabled)
}

// --- pools ---------------------------------------------------------------

// checkScalingMode accepts STANDARD; MANAGED is SES's and not sesame's.
func checkScalingMode(mode string) error {
	switch mode {
	case "STANDARD":
		return nil
	case "MANAGED":
		return seserr.ManagedPoolsNotSupported()
	}
	return seserr.InvalidScalingMode(mode)
}

func (s *Server) createDedicatedIPPoolV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct {
		PoolName    string
		ScalingMode string
		Tags        []store.Tag
	}
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	if in.PoolName == "" {
		return nil, seserr.MissingParameter("PoolName")
	}
	if !validPoolName(in.PoolName) {
		return nil, seserr.InvalidDedicatedIPPoolName(in.PoolName)
	}
	if in.ScalingMode == "" {
		in.ScalingMode = "STANDARD"
	}
	if err := checkScalingMode(in.ScalingMode); err != nil {
		return nil, err
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	p := principal(ctx)
	err := s.dedicatedIPStore().CreateDedicatedIPPool(ctx, store.DedicatedIPPool{AccountID: p.AccountID, Region: p.Region,
		Name: in.PoolName, ScalingMode: in.ScalingMode, Tags: in.Tags, Created: s.clk.Now()}, maxDedicatedIPPools)
	switch {
	case errors.Is(err, store.ErrExists):
		return nil, seserr.DedicatedIPPoolAlreadyExists(in.PoolName)
	case errors.Is(err, store.ErrLimit):
		return nil, seserr.DedicatedIPPoolLimitExceeded(maxDedicatedIPPools)
	}
	return nil, err
}

func (s *Server) getDedicatedIPPoolV2(ctx context.Context, r *http.Request) (any, error) {
	pool, err := s.pool(ctx, r.PathValue("PoolName"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"DedicatedIpPool": map[string]string{"PoolName": pool.Name, "ScalingMode": pool.ScalingMode}}, nil
}

func (s *Server) listDedicatedIPPoolsV2(ctx context.Context, r *http.Request) (any, error) {
	size, err := pageSize(r, defaultDedicatedIPPage, maxDedicatedIPPage)
	if err != nil {
		return nil, err
	}
	p := principal(ctx)
	names, next, err := pageByName(r.URL.Query().Get("NextToken"), size, func(after string, limit int) ([]string, error) {
		return s.dedicatedIPStore().DedicatedIPPoolNames(ctx, p.AccountID, p.Region, after, limit)
	}, func(n string) string { return n })
	if err != nil {
		return nil, err
	}
	out := map[string]any{"DedicatedIpPools": names}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

func (s *Server) deleteDedicatedIPPoolV2(ctx context.Context, r *http.Request) (any, error) {
	name := r.PathValue("PoolName")
	p := principal(ctx)
	err := s.dedicatedIPStore().DeleteDedicatedIPPool(ctx, p.AccountID, p.Region, name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, seserr.DedicatedIPPoolDoesNotExist(name)
	case errors.Is(err, store.ErrNotEmpty):
		return nil, seserr.DedicatedIPPoolNotEmpty(name)
	}
	return nil, err
}

// putDedicatedIPPoolScalingV2: a pool is STANDARD and stays so; asking for
// STANDARD again is SES's no-op.
func (s *Server) putDedicatedIPPoolScalingV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct{ ScalingMode string }
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	if in.ScalingMode == "" {
		return nil, seserr.MissingParameter("ScalingMode")
	}
	if _, err := s.pool(ctx, r.PathValue("PoolName")); err != nil {
		return nil, err
	}
	return nil, checkScalingMode(in.ScalingMode)
}
