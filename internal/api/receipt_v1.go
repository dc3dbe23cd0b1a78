package api

import (
	"context"
	"strings"

	"sesame/internal/seserr"
)

// SES v1's receiving operations — receipt rule sets, receipt rules and IP
// filters — until sesame receives mail (a separate issue); SendBounce is in
// send_bounce.go.
// They answer what is true today: there are no rule sets, rules or
// filters, none is active, and none can be created or changed yet (a
// BadRequest, v1 InvalidParameterValue, that says so). Required parameters
// are checked first, as SES does.

func (s *Server) registerReceiptV1() {
	s.handleV1("ListReceiptRuleSets", s.listReceiptRuleSetsV1)
	s.handleV1("ListReceiptFilters", s.listReceiptFiltersV1)
	s.handleV1("DescribeActiveReceiptRuleSet", s.describeActiveReceiptRuleSetV1)
	s.handleV1("DescribeReceiptRuleSet", s.ruleSetDoesNotExistV1("RuleSetName"))
	s.handleV1("DescribeReceiptRule", s.ruleSetDoesNotExistV1("RuleSetName", "RuleName"))
	s.handleV1("DeleteReceiptRule", s.ruleSetDoesNotExistV1("RuleSetName", "RuleName"))
	// Deleting what does not exist leaves it not existing, and the model
	// gives these two no not-found error: they succeed.
	s.handleV1("DeleteReceiptRuleSet", s.nothingToDeleteV1("RuleSetName"))
	s.handleV1("DeleteReceiptFilter", s.nothingToDeleteV1("FilterName"))

	s.handleV1("CreateReceiptRuleSet", s.receivingNotImplementedV1("RuleSetName"))
	s.handleV1("CloneReceiptRuleSet", s.receivingNotImplementedV1("RuleSetName", "OriginalRuleSetName"))
	s.handleV1("CreateReceiptFilter", s.receivingNotImplementedV1("Filter"))
	s.handleV1("CreateReceiptRule", s.receivingNotImplementedV1("RuleSetName", "Rule"))
	s.handleV1("UpdateReceiptRule", s.receivingNotImplementedV1("RuleSetName", "Rule"))
	s.handleV1("ReorderReceiptRuleSet", s.receivingNotImplementedV1("RuleSetName", "RuleNames"))
	s.handleV1("SetReceiptRulePosition", s.receivingNotImplementedV1("RuleSetName", "RuleName"))
	s.handleV1("SetActiveReceiptRuleSet", s.setActiveReceiptRuleSetV1)
	s.handleV1("SendBounce", s.sendBounceV1)
}

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

func (s *Server) listReceiptRuleSetsV1(ctx context.Context, q queryArgs) (any, error) {
	if err := checkEmptyPage(q.Get("NextToken")); err != nil {
		return nil, err
	}
	return struct {
		RuleSets struct{} `xml:"RuleSets"`
	}{}, nil
}

func (s *Server) listReceiptFiltersV1(ctx context.Context, q queryArgs) (any, error) {
	return struct {
		Filters struct{} `xml:"Filters"`
	}{}, nil
}

// describeActiveReceiptRuleSetV1: no rule set is active, which SES answers
// with an empty result (no Metadata, no Rules).
func (s *Server) describeActiveReceiptRuleSetV1(ctx context.Context, q queryArgs) (any, error) {
	return nil, nil
}

func (s *Server) ruleSetDoesNotExistV1(required ...string) v1Handler {
	return func(ctx context.Context, q queryArgs) (any, error) {
		if err := requireV1(q, required...); err != nil {
			return nil, err
		}
		return nil, seserr.RuleSetDoesNotExist(q.Get("RuleSetName"))
	}
}

func (s *Server) nothingToDeleteV1(required ...string) v1Handler {
	return func(ctx context.Context, q queryArgs) (any, error) {
		return nil, requireV1(q, required...)
	}
}

func (s *Server) receivingNotImplementedV1(required ...string) v1Handler {
	return func(ctx context.Context, q queryArgs) (any, error) {
		if err := requireV1(q, required...); err != nil {
			return nil, err
		}
		return nil, seserr.ReceivingNotImplemented()
	}
}

// setActiveReceiptRuleSetV1: without a name it deactivates the active rule
// set — there is none, so that is already so; naming one would activate it.
func (s *Server) setActiveReceiptRuleSetV1(ctx context.Context, q queryArgs) (any, error) {
	if q.Get("RuleSetName") == "" {
		return nil, nil
	}
	return nil, seserr.ReceivingNotImplemented()
}
