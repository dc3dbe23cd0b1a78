package admin

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"regexp"

	"sesame/internal/policy"
	"sesame/internal/store"
)

// Access keys scoped by a policy: `key create --policy FILE` and `key
// policy`. The file is an IAM policy document in SES's grammar, without a
// Principal (the key is the principal); it is validated here, with the
// policy package's own words for what is wrong, and the server holds every
// API call and send of the key to it within a second.

// userName is IAM's rule for user names.
var userName = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

func checkUserName(name string) error {
	if name != "" && !userName.MatchString(name) {
		return fmt.Errorf("--name %q: up to 64 letters, digits and +=,.@_- (IAM's user names)", name)
	}
	return nil
}

// readPolicy reads and validates a key policy file ("" = none).
func readPolicy(file string) (string, error) {
	if file == "" {
		return "", nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("policy: %w", err)
	}
	if _, err := policy.Parse(string(b), policy.Key, ""); err != nil {
		return "", fmt.Errorf("policy %s: %w", file, err)
	}
	return string(b), nil
}

// policyJSON is a stored policy for JSON output: the document itself
// (it is JSON; Parse checked it), nil when there is none.
func policyJSON(doc string) json.RawMessage {
	if doc == "" || !json.Valid([]byte(doc)) {
		return nil
	}
	return json.RawMessage(doc)
}

// keyPolicy shows, replaces or removes a key's policy.
func (a *admin) keyPolicy(ctx context.Context, name string, args []string) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	keyID := fs.String("key", "", "the access key `ID` (AKIA…)")
	clear := fs.Bool("clear", false, "remove the policy: the key may do whatever its account may")
	pos, err := a.parse(fs, name, args)
	if errors.Is(err, errHelpShown) {
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case *keyID == "":
		return commandErr(name, "--key is required")
	case len(pos) > 1:
		return commandErr(name, fmt.Sprintf("want at most one FILE, have %d arguments", len(pos)))
	case len(pos) == 1 && *clear:
		return commandErr(name, "a FILE and --clear contradict each other")
	}
	var doc string
	if len(pos) == 1 {
		if doc, err = readPolicy(pos[0]); err != nil {
			return err
		}
	}
	if len(pos) == 1 || *clear {
		err = a.st.SetAccessKeyPolicy(ctx, *keyID, doc)
	}
	var k store.AccessKey
	if err == nil {
		k, err = a.st.AccessKey(ctx, *keyID)
	}
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no access key %s", *keyID)
	}
	if err != nil {
		return err
	}
	return a.print(struct {
		AccountID   string          `json:"account_id"`
		AccessKeyID string          `json:"access_key_id"`
		UserARN     string          `json:"user_arn"`
		Policy      json.RawMessage `json:"policy"`
	}{k.AccountID, k.ID, k.UserARN(), policyOrNull(k.Policy)})
}

// policyOrNull is policyJSON with JSON null for none, so "policy" is
// always there to read.
func policyOrNull(doc string) json.RawMessage {
	if j := policyJSON(doc); j != nil {
		return j
	}
	return json.RawMessage("null")
}
