package api

import (
	"context"
	"errors"
	"slices"
	"strings"

	"sesame/internal/receipt"
	"sesame/internal/seserr"
	"sesame/internal/store"
)

// SES v1's receiving operations: IP filters, receipt rule sets and their
// rules, the active rule set (the inbound MX reads the filters and the
// active set); SendBounce is in send_bounce.go. Checks run in SES's order: required
// parameters, the model's constraints, names, existence, limits, then the
// resources the actions name (receipt.Targets).

func (s *Server) registerReceiptV1() {
	s.handleV1("CreateReceiptFilter", s.createReceiptFilterV1)
	s.handleV1("DeleteReceiptFilter", s.deleteReceiptFilterV1)
	s.handleV1("ListReceiptFilters", s.listReceiptFiltersV1)
	s.handleV1("CreateReceiptRuleSet", s.createReceiptRuleSetV1)
	s.handleV1("CloneReceiptRuleSet", s.cloneReceiptRuleSetV1)
	s.handleV1("DeleteReceiptRuleSet", s.deleteReceiptRuleSetV1)
	s.handleV1("DescribeReceiptRuleSet", s.describeReceiptRuleSetV1)
	s.handleV1("ListReceiptRuleSets", s.listReceiptRuleSetsV1)
	s.handleV1("ReorderReceiptRuleSet", s.reorderReceiptRuleSetV1)
	s.handleV1("SetActiveReceiptRuleSet", s.setActiveReceiptRuleSetV1)
	s.handleV1("DescribeActiveReceiptRuleSet", s.describeActiveReceiptRuleSetV1)
	s.handleV1("CreateReceiptRule", s.createReceiptRuleV1)
	s.handleV1("UpdateReceiptRule", s.updateReceiptRuleV1)
	s.handleV1("DeleteReceiptRule", s.deleteReceiptRuleV1)
	s.handleV1("DescribeReceiptRule", s.describeReceiptRuleV1)
	s.handleV1("SetReceiptRulePosition", s.setReceiptRulePositionV1)
	s.handleV1("SendBounce", s.sendBounceV1)
}

// ruleSetPage is how many rule sets ListReceiptRuleSets answers at a time
// (SES: "up to 100").
const ruleSetPage = 100

// requireV1 checks required parameters: a scalar ("RuleSetName"), a
// structure ("Rule": some "Rule.…" parameter) or a list ("RuleNames": some
// "RuleNames.member.N").
func requireV1(q queryArgs, names ...string) error {
	for _, name := range names {
		if q.Has(name) {
			continue
		}
		found := false
		for k := range q.v {
			if strings.HasPrefix(k, name+".") {
				found = true
				break
			}
		}
		if !found {
			return seserr.MissingParameter(name)
		}
	}
	return nil
}

// --- IP filters ----------------------------------------------------------------

func (s *Server) createReceiptFilterV1(ctx context.Context, q queryArgs) (any, error) {
	if err := requireV1(q, "Filter"); err != nil {
		return nil, err
	}
	f := receipt.Filter{Name: q.Get("Filter.Name"), IPFilter: receipt.IPFilter{
		Policy: q.Get("Filter.IpFilter.Policy"), Cidr: q.Get("Filter.IpFilter.Cidr")}}
	if err := receipt.ValidateFilter(f); err != nil {
		return nil, err
	}
	p := principal(ctx)
	err := s.cfg.Store.CreateReceiptFilter(ctx, p.AccountID, p.Region, f, s.clk.Now(), receipt.MaxFilters)
	switch {
	case errors.Is(err, store.ErrExists):
		return nil, seserr.FilterAlreadyExists(f.Name)
	case errors.Is(err, store.ErrLimit):
		return nil, seserr.TooManyFilters()
	}
	return nil, err
}

// deleteReceiptFilterV1: the model has no not-found error; deleting a
// filter that is not there succeeds (as SES answers).
func (s *Server) deleteReceiptFilterV1(ctx context.Context, q queryArgs) (any, error) {
	name, err := q.Required("FilterName")
	if err != nil {
		return nil, err
	}
	p := principal(ctx)
	if err := s.cfg.Store.DeleteReceiptFilter(ctx, p.AccountID, p.Region, name); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return nil, nil
}

func (s *Server) listReceiptFiltersV1(ctx context.Context, q queryArgs) (any, error) {
	p := principal(ctx)
	filters, err := s.cfg.Store.ReceiptFilters(ctx, p.AccountID, p.Region)
	if err != nil {
		return nil, err
	}
	type ipFilter struct{ Policy, Cidr string }
	type filter struct {
		Name     string
		IpFilter ipFilter
	}
	var out struct {
		Filters struct {
			Member []filter `xml:"member"`
		} `xml:"Filters"`
	}
	for _, f := range filters {
		out.Filters.Member = append(out.Filters.Member, filter{f.Name, ipFilter{f.IPFilter.Policy, f.IPFilter.Cidr}})
	}
	return out, nil
}

// --- Rule sets -------------------------------------------------------------------

// ruleSetName reads and checks a required rule set name parameter.
func ruleSetName(q queryArgs, param string) (string, error) {
	name, err := q.Required(param)
	if err != nil {
		return "", err
	}
	return name, receipt.ValidateRuleSetName(name)
}

// ruleSetErr maps the store's not-found of a rule set to SES's.
func ruleSetErr(err error, name string) error {
	if errors.Is(err, store.ErrNotFound) {
		return seserr.RuleSetDoesNotExist(name)
	}
	return err
}

func (s *Server) createReceiptRuleSetV1(ctx context.Context, q queryArgs) (any, error) {
	name, err := ruleSetName(q, "RuleSetName")
	if err != nil {
		return nil, err
	}
	p := principal(ctx)
	err = s.cfg.Store.CreateReceiptRuleSet(ctx, p.AccountID, p.Region, name, s.clk.Now(), receipt.MaxRuleSets)
	switch {
	case errors.Is(err, store.ErrExists):
		return nil, seserr.RuleSetAlreadyExists(name)
	case errors.Is(err, store.ErrLimit):
		return nil, seserr.TooManyRuleSets()
	}
	return nil, err
}

// cloneReceiptRuleSetV1: the clone has copies of the rules, its own
// creation time, and is not active. A taken name is refused before a
// missing original.
func (s *Server) cloneReceiptRuleSetV1(ctx context.Context, q queryArgs) (any, error) {
	if err := requireV1(q, "RuleSetName", "OriginalRuleSetName"); err != nil {
		return nil, err
	}
	name, original := q.Get("RuleSetName"), q.Get("OriginalRuleSetName")
	for _, n := range []string{name, original} {
		if err := receipt.ValidateRuleSetName(n); err != nil {
			return nil, err
		}
	}
	p := principal(ctx)
	err := s.cfg.Store.CloneReceiptRuleSet(ctx, p.AccountID, p.Region, name, original, s.clk.Now(), receipt.MaxRuleSets)
	switch {
	case errors.Is(err, store.ErrExists):
		return nil, seserr.RuleSetAlreadyExists(name)
	case errors.Is(err, store.ErrLimit):
		return nil, seserr.TooManyRuleSets()
	}
	return nil, ruleSetErr(err, original)
}

// deleteReceiptRuleSetV1: the active set cannot be deleted (CannotDelete);
// deleting a set that is not there succeeds, as SES answers.
func (s *Server) deleteReceiptRuleSetV1(ctx context.Context, q queryArgs) (any, error) {
	name, err := ruleSetName(q, "RuleSetName")
	if err != nil {
		return nil, err
	}
	p := principal(ctx)
	err = s.cfg.Store.DeleteReceiptRuleSet(ctx, p.AccountID, p.Region, name)
	switch {
	case errors.Is(err, store.ErrRuleSetActive):
		return nil, seserr.CannotDeleteActiveRuleSet(name)
	case errors.Is(err, store.ErrNotFound):
		return nil, nil
	}
	return nil, err
}

func (s *Server) describeReceiptRuleSetV1(ctx context.Context, q queryArgs) (any, error) {
	name, err := ruleSetName(q, "RuleSetName")
	if err != nil {
		return nil, err
	}
	p := principal(ctx)
	rs, err := s.cfg.Store.ReceiptRuleSet(ctx, p.AccountID, p.Region, name)
	if err != nil {
		return nil, ruleSetErr(err, name)
	}
	return ruleSetXML(rs), nil
}

func (s *Server) listReceiptRuleSetsV1(ctx context.Context, q queryArgs) (any, error) {
	p := principal(ctx)
	sets, next, err := pageByName(q.Get("NextToken"), ruleSetPage, func(after string, limit int) ([]receipt.RuleSet, error) {
		return s.cfg.Store.ReceiptRuleSets(ctx, p.AccountID, p.Region, after, limit)
	}, func(rs receipt.RuleSet) string { return rs.Name })
	if err != nil {
		return nil, err
	}
	out := struct {
		RuleSets struct {
			Member []ruleSetMetaXML `xml:"member"`
		} `xml:"RuleSets"`
		NextToken string `xml:",omitempty"`
	}{NextToken: next}
	for _, rs := range sets {
		out.RuleSets.Member = append(out.RuleSets.Member, ruleSetMetaXML{rs.Name, isoTime(rs.Created)})
	}
	return out, nil
}

// reorderReceiptRuleSetV1: RuleNames must name every rule of the set once.
// SES refuses a name given twice first, then rules left out, then names
// that are not rules of the set.
func (s *Server) reorderReceiptRuleSetV1(ctx context.Context, q queryArgs) (any, error) {
	if err := requireV1(q, "RuleSetName", "RuleNames"); err != nil {
		return nil, err
	}
	name := q.Get("RuleSetName")
	if err := receipt.ValidateRuleSetName(name); err != nil {
		return nil, err
	}
	order := q.List("RuleNames")
	p := principal(ctx)
	err := s.cfg.Store.EditReceiptRules(ctx, p.AccountID, p.Region, name, func(rules []receipt.Rule) ([]receipt.Rule, error) {
		pos := map[string]int{}
		for i, n := range order {
			if _, dup := pos[n]; dup {
				return nil, seserr.ReorderDuplicate(n)
			}
			pos[n] = i
		}
		var missing []string
		for _, r := range rules {
			if _, ok := pos[r.Name]; !ok {
				missing = append(missing, r.Name)
			}
		}
		if len(missing) > 0 {
			return nil, seserr.ReorderMissing(missing)
		}
		for _, n := range order {
			if ruleIndex(rules, n) < 0 {
				return nil, seserr.RuleDoesNotExist(n)
			}
		}
		slices.SortFunc(rules, func(a, b receipt.Rule) int { return pos[a.Name] - pos[b.Name] })
		return rules, nil
	})
	return nil, ruleSetErr(err, name)
}

// setActiveReceiptRuleSetV1: without RuleSetName it deactivates the active
// set (receiving stops); an empty name is refused, as SES does.
func (s *Server) setActiveReceiptRuleSetV1(ctx context.Context, q queryArgs) (any, error) {
	p := principal(ctx)
	if !q.Has("RuleSetName") {
		return nil, s.cfg.Store.SetActiveReceiptRuleSet(ctx, p.AccountID, p.Region, "")
	}
	name, err := ruleSetName(q, "RuleSetName")
	if err != nil {
		return nil, err
	}
	return nil, ruleSetErr(s.cfg.Store.SetActiveReceiptRuleSet(ctx, p.AccountID, p.Region, name), name)
}

// describeActiveReceiptRuleSetV1: with no active set SES answers an empty
// result (no Metadata, no Rules).
func (s *Server) describeActiveReceiptRuleSetV1(ctx context.Context, q queryArgs) (any, error) {
	p := principal(ctx)
	rs, err := s.cfg.Store.ActiveReceiptRuleSet(ctx, p.AccountID, p.Region)
	if err != nil || rs == nil {
		return nil, err
	}
	return ruleSetXML(rs), nil
}

// --- Rules -----------------------------------------------------------------------

// ruleIndex is the position of the rule named name (-1 if none).
func ruleIndex(rules []receipt.Rule, name string) int {
	return slices.IndexFunc(rules, func(r receipt.Rule) bool { return r.Name == name })
}

// checkedRule reads the Rule parameter and checks it: the model and the
// service's own checks, the set's existence, then the resources its
// actions name.
func (s *Server) checkedRule(ctx context.Context, q queryArgs, set string) (receipt.Rule, error) {
	r, err := ruleFromQuery(q.Sub("Rule"))
	if err != nil {
		return r, err
	}
	if err := receipt.ValidateRule(&r); err != nil {
		return r, err
	}
	p := principal(ctx)
	if _, err := s.cfg.Store.ReceiptRuleSet(ctx, p.AccountID, p.Region, set); err != nil {
		return r, ruleSetErr(err, set)
	}
	targets := receipt.Targets{TopicExists: s.topicExists, Functions: s.cfg.ReceivingFunctions, S3: s.cfg.ReceivingS3,
		SenderVerified: func(ctx context.Context, addr string) (bool, error) {
			if s.cfg.Sender == nil {
				return false, seserr.TemporaryFailure().Wrap(errors.New("api: no sender to check a bounce sender"))
			}
			return s.cfg.Sender.SenderVerified(ctx, p.AccountID, p.Region, addr)
		}}
	return r, targets.Check(ctx, &r)
}

// createReceiptRuleV1: the rule goes after After, or first without it.
func (s *Server) createReceiptRuleV1(ctx context.Context, q queryArgs) (any, error) {
	if err := requireV1(q, "RuleSetName", "Rule"); err != nil {
		return nil, err
	}
	set := q.Get("RuleSetName")
	if err := receipt.ValidateRuleSetName(set); err != nil {
		return nil, err
	}
	after, hasAfter := q.Get("After"), q.Has("After")
	if hasAfter {
		if err := receipt.ValidateRuleName(after, "after"); err != nil {
			return nil, err
		}
	}
	r, err := s.checkedRule(ctx, q, set)
	if err != nil {
		return nil, err
	}
	p := principal(ctx)
	err = s.cfg.Store.EditReceiptRules(ctx, p.AccountID, p.Region, set, func(rules []receipt.Rule) ([]receipt.Rule, error) {
		if ruleIndex(rules, r.Name) >= 0 {
			return nil, seserr.RuleAlreadyExists(r.Name)
		}
		if len(rules) >= receipt.MaxRules {
			return nil, seserr.TooManyRules()
		}
		at := 0
		if hasAfter {
			i := ruleIndex(rules, after)
			if i < 0 {
				return nil, seserr.RuleDoesNotExist(after)
			}
			at = i + 1
		}
		return slices.Insert(rules, at, r), nil
	})
	return nil, ruleSetErr(err, set)
}

// updateReceiptRuleV1 replaces the rule of that name in place: members not
// given take their defaults again, as SES does.
func (s *Server) updateReceiptRuleV1(ctx context.Context, q queryArgs) (any, error) {
	if err := requireV1(q, "RuleSetName", "Rule"); err != nil {
		return nil, err
	}
	set := q.Get("RuleSetName")
	if err := receipt.ValidateRuleSetName(set); err != nil {
		return nil, err
	}
	r, err := s.checkedRule(ctx, q, set)
	if err != nil {
		return nil, err
	}
	p := principal(ctx)
	err = s.cfg.Store.EditReceiptRules(ctx, p.AccountID, p.Region, set, func(rules []receipt.Rule) ([]receipt.Rule, error) {
		i := ruleIndex(rules, r.Name)
		if i < 0 {
			return nil, seserr.RuleDoesNotExist(r.Name)
		}
		rules[i] = r
		return rules, nil
	})
	return nil, ruleSetErr(err, set)
}

// ruleParams reads and checks RuleSetName and RuleName.
func ruleParams(q queryArgs) (set, rule string, err error) {
	if err := requireV1(q, "RuleSetName", "RuleName"); err != nil {
		return "", "", err
	}
	set, rule = q.Get("RuleSetName"), q.Get("RuleName")
	if err := receipt.ValidateRuleSetName(set); err != nil {
		return "", "", err
	}
	return set, rule, receipt.ValidateRuleName(rule, "ruleName")
}

// deleteReceiptRuleV1: the set must exist; a rule that is not in it is
// already deleted (the model gives DeleteReceiptRule no RuleDoesNotExist,
// and SES answers success).
func (s *Server) deleteReceiptRuleV1(ctx context.Context, q queryArgs) (any, error) {
	set, name, err := ruleParams(q)
	if err != nil {
		return nil, err
	}
	p := principal(ctx)
	err = s.cfg.Store.EditReceiptRules(ctx, p.AccountID, p.Region, set, func(rules []receipt.Rule) ([]receipt.Rule, error) {
		return slices.DeleteFunc(rules, func(r receipt.Rule) bool { return r.Name == name }), nil
	})
	return nil, ruleSetErr(err, set)
}

func (s *Server) describeReceiptRuleV1(ctx context.Context, q queryArgs) (any, error) {
	set, name, err := ruleParams(q)
	if err != nil {
		return nil, err
	}
	p := principal(ctx)
	rs, err := s.cfg.Store.ReceiptRuleSet(ctx, p.AccountID, p.Region, set)
	if err != nil {
		return nil, ruleSetErr(err, set)
	}
	i := ruleIndex(rs.Rules, name)
	if i < 0 {
		return nil, seserr.RuleDoesNotExist(name)
	}
	return struct{ Rule ruleXML }{toRuleXML(rs.Rules[i])}, nil
}

// setReceiptRulePositionV1 moves a rule after After, or first without it;
// a rule placed after itself stays where it is.
func (s *Server) setReceiptRulePositionV1(ctx context.Context, q queryArgs) (any, error) {
	set, name, err := ruleParams(q)
	if err != nil {
		return nil, err
	}
	after, hasAfter := q.Get("After"), q.Has("After")
	if hasAfter {
		if err := receipt.ValidateRuleName(after, "after"); err != nil {
			return nil, err
		}
	}
	p := principal(ctx)
	err = s.cfg.Store.EditReceiptRules(ctx, p.AccountID, p.Region, set, func(rules []receipt.Rule) ([]receipt.Rule, error) {
		i := ruleIndex(rules, name)
		if i < 0 {
			return nil, seserr.RuleDoesNotExist(name)
		}
		if hasAfter && after == name {
			return rules, nil
		}
		if hasAfter && ruleIndex(rules, after) < 0 {
			return nil, seserr.RuleDoesNotExist(after)
		}
		r := rules[i]
		rules = slices.Delete(rules, i, i+1)
		at := 0
		if hasAfter {
			at = ruleIndex(rules, after) + 1
		}
		return slices.Insert(rules, at, r), nil
	})
	return nil, ruleSetErr(err, set)
}
