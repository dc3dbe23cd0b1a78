package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"sesame/internal/receipt"
)

func TestReceiptFilters(t *testing.T) {
	t.Parallel()
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	now := time.Unix(1700000000, 0)
	block := receipt.Filter{Name: "all", IPFilter: receipt.IPFilter{Policy: receipt.PolicyBlock, Cidr: "0.0.0.0/0"}}
	allow := receipt.Filter{Name: "home", IPFilter: receipt.IPFilter{Policy: receipt.PolicyAllow, Cidr: "127.0.0.1"}}
	for _, f := range []receipt.Filter{allow, block} {
		if err := s.CreateReceiptFilter(ctx, "a", "r", f, now, 2); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateReceiptFilter(ctx, "a", "r", block, now, 5); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate filter: %v, want ErrExists", err)
	}
	third := receipt.Filter{Name: "third", IPFilter: block.IPFilter}
	if err := s.CreateReceiptFilter(ctx, "a", "r", third, now, 2); !errors.Is(err, ErrLimit) {
		t.Errorf("third filter with max 2: %v, want ErrLimit", err)
	}
	// Another region and another account are apart.
	if err := s.CreateReceiptFilter(ctx, "a", "r2", third, now, 2); err != nil {
		t.Fatal(err)
	}
	got, err := s.ReceiptFilters(ctx, "a", "r")
	if err != nil || !reflect.DeepEqual(got, []receipt.Filter{block, allow}) {
		t.Errorf("ReceiptFilters = %+v, %v; want both, by name", got, err)
	}
	if got, err := s.ReceiptFilters(ctx, "b", "r"); err != nil || got == nil || len(got) != 0 {
		t.Errorf("another account's filters = %#v, %v; want an empty list", got, err)
	}
	if err := s.DeleteReceiptFilter(ctx, "a", "r", "all"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteReceiptFilter(ctx, "a", "r", "all"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting again: %v, want ErrNotFound", err)
	}
	if got, _ := s.ReceiptFilters(ctx, "a", "r"); !reflect.DeepEqual(got, []receipt.Filter{allow}) {
		t.Errorf("after delete: %+v", got)
	}
}

func TestReceiptRuleSets(t *testing.T) {
	t.Parallel()
	s := openTest(t, t.TempDir())
	ctx := context.Background()
	t0 := time.Unix(1700000000, 123000000).UTC()
	if err := s.CreateReceiptRuleSet(ctx, "a", "r", "one", t0, 2); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateReceiptRuleSet(ctx, "a", "r", "one", t0, 2); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate set: %v, want ErrExists", err)
	}
	if rs, err := s.ActiveReceiptRuleSet(ctx, "a", "r"); rs != nil || err != nil {
		t.Errorf("ActiveReceiptRuleSet before any is active = %+v, %v; want nil, nil", rs, err)
	}

	rules := []receipt.Rule{
		{Name: "first", Enabled: true, TLSPolicy: receipt.TLSRequire, Recipients: []string{"a@example.com"},
			Actions: []receipt.Action{{AddHeaderAction: &receipt.AddHeaderAction{HeaderName: "X-A", HeaderValue: "1"}},
				{StopAction: &receipt.StopAction{Scope: "RuleSet"}}}},
		{Name: "second", TLSPolicy: receipt.TLSOptional, ScanEnabled: true},
	}
	if err := s.EditReceiptRules(ctx, "a", "r", "one", func(old []receipt.Rule) ([]receipt.Rule, error) {
		if len(old) != 0 {
			t.Errorf("a new set's rules = %+v", old)
		}
		return rules, nil
	}); err != nil {
		t.Fatal(err)
	}
	refused := errors.New("refused")
	if err := s.EditReceiptRules(ctx, "a", "r", "one", func(old []receipt.Rule) ([]receipt.Rule, error) {
		return nil, refused
	}); !errors.Is(err, refused) {
		t.Errorf("an edit's error = %v, want it returned", err)
	}
	if err := s.EditReceiptRules(ctx, "a", "r", "none", func(old []receipt.Rule) ([]receipt.Rule, error) {
		return old, nil
	}); !errors.Is(err, ErrNotFound) {
		t.Errorf("editing a missing set: %v, want ErrNotFound", err)
	}
	rs, err := s.ReceiptRuleSet(ctx, "a", "r", "one")
	if err != nil || rs.Name != "one" || !rs.Created.Equal(t0) || !reflect.DeepEqual(rs.Rules, rules) {
		t.Fatalf("ReceiptRuleSet = %+v, %v; want the rules in order, created %v", rs, err, t0)
	}

	// A clone copies the rules; a taken name wins over a missing original.
	t1 := t0.Add(time.Hour)
	if err := s.CloneReceiptRuleSet(ctx, "a", "r", "one", "missing", t1, 5); !errors.Is(err, ErrExists) {
		t.Errorf("clone onto a taken name: %v, want ErrExists", err)
	}
	if err := s.CloneReceiptRuleSet(ctx, "a", "r", "two", "missing", t1, 5); !errors.Is(err, ErrNotFound) {
		t.Errorf("clone of a missing set: %v, want ErrNotFound", err)
	}
	if err := s.CloneReceiptRuleSet(ctx, "a", "r", "two", "one", t1, 5); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateReceiptRuleSet(ctx, "a", "r", "three", t1, 2); !errors.Is(err, ErrLimit) {
		t.Errorf("third set with max 2: %v, want ErrLimit", err)
	}
	clone, err := s.ReceiptRuleSet(ctx, "a", "r", "two")
	if err != nil || !clone.Created.Equal(t1) || !reflect.DeepEqual(clone.Rules, rules) {
		t.Errorf("clone = %+v, %v", clone, err)
	}
	list, err := s.ReceiptRuleSets(ctx, "a", "r", "", 10)
	if err != nil || len(list) != 2 || list[0].Name != "one" || list[1].Name != "two" || list[0].Rules != nil {
		t.Errorf("ReceiptRuleSets = %+v, %v", list, err)
	}
	if list, _ := s.ReceiptRuleSets(ctx, "a", "r", "one", 10); len(list) != 1 || list[0].Name != "two" {
		t.Errorf("ReceiptRuleSets after one = %+v", list)
	}

	// The active set: activation, its rules in order, CannotDelete, deactivation.
	if err := s.SetActiveReceiptRuleSet(ctx, "a", "r", "missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("activating a missing set: %v, want ErrNotFound", err)
	}
	if err := s.SetActiveReceiptRuleSet(ctx, "a", "r", "one"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetActiveReceiptRuleSet(ctx, "a", "r", "two"); err != nil {
		t.Fatal(err)
	}
	active, err := s.ActiveReceiptRuleSet(ctx, "a", "r")
	if err != nil || active == nil || active.Name != "two" || !reflect.DeepEqual(active.Rules, rules) {
		t.Fatalf("ActiveReceiptRuleSet = %+v, %v; want two with its rules", active, err)
	}
	if other, err := s.ActiveReceiptRuleSet(ctx, "a", "r2"); other != nil || err != nil {
		t.Errorf("another region's active set = %+v, %v", other, err)
	}
	if err := s.DeleteReceiptRuleSet(ctx, "a", "r", "two"); !errors.Is(err, ErrRuleSetActive) {
		t.Errorf("deleting the active set: %v, want ErrRuleSetActive", err)
	}
	if err := s.DeleteReceiptRuleSet(ctx, "a", "r", "one"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteReceiptRuleSet(ctx, "a", "r", "one"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting again: %v, want ErrNotFound", err)
	}
	// A set made again under a deleted one's name starts empty.
	if err := s.CreateReceiptRuleSet(ctx, "a", "r", "one", t1, 5); err != nil {
		t.Fatal(err)
	}
	if again, err := s.ReceiptRuleSet(ctx, "a", "r", "one"); err != nil || len(again.Rules) != 0 {
		t.Errorf("recreated set = %+v, %v; want no rules", again, err)
	}
	// An active set with no rules still reads as active.
	if err := s.SetActiveReceiptRuleSet(ctx, "a", "r", "one"); err != nil {
		t.Fatal(err)
	}
	if active, err := s.ActiveReceiptRuleSet(ctx, "a", "r"); err != nil || active == nil || active.Name != "one" || len(active.Rules) != 0 {
		t.Errorf("empty active set = %+v, %v", active, err)
	}
	if err := s.SetActiveReceiptRuleSet(ctx, "a", "r", ""); err != nil {
		t.Fatal(err)
	}
	if active, err := s.ActiveReceiptRuleSet(ctx, "a", "r"); active != nil || err != nil {
		t.Errorf("after deactivation = %+v, %v; want nil, nil", active, err)
	}
	if _, err := s.ReceiptRuleSet(ctx, "a", "r", "missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("ReceiptRuleSet(missing): %v, want ErrNotFound", err)
	}
}

// The inbound MX's two reads are cheap: the benchmark shows their cost per
// message with a full-size active set.
func BenchmarkActiveReceiptRuleSet(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	ctx := context.Background()
	if err := s.CreateReceiptRuleSet(ctx, "a", "r", "set", time.Now(), 40); err != nil {
		b.Fatal(err)
	}
	if err := s.EditReceiptRules(ctx, "a", "r", "set", func([]receipt.Rule) ([]receipt.Rule, error) {
		var rules []receipt.Rule
		for i := range 20 {
			rules = append(rules, receipt.Rule{Name: "r" + string(rune('a'+i)), Enabled: true, TLSPolicy: "Optional",
				Recipients: []string{"x@example.com"}, Actions: []receipt.Action{{SNSAction: &receipt.SNSAction{TopicArn: "arn:aws:sns:r:a:t"}}}})
		}
		return rules, nil
	}); err != nil {
		b.Fatal(err)
	}
	if err := s.SetActiveReceiptRuleSet(ctx, "a", "r", "set"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if rs, err := s.ActiveReceiptRuleSet(ctx, "a", "r"); err != nil || len(rs.Rules) != 20 {
			b.Fatal(rs, err)
		}
		if _, err := s.ReceiptFilters(ctx, "a", "r"); err != nil {
			b.Fatal(err)
		}
	}
}
