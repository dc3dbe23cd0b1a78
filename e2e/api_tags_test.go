package e2e

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"sesame/internal/testenv"
)

// The tag operations through Debian's aws CLI against the real binary, as
// a Terraform-like script would use them: a configuration set and a
// template made with tags, tagged, listed, untagged, and deleted with their
// tags.
func TestAPITagsWithAWSCLI(t *testing.T) {
	testenv.Tool(t, "/usr/bin/aws")
	s := testenv.Start(t, testenv.Options{})
	aws := func(args ...string) (string, error) { return s.AWSCLI(t, append([]string{"sesv2"}, args...)...) }
	must := func(args ...string) string {
		t.Helper()
		out, err := aws(args...)
		if err != nil {
			t.Fatalf("aws sesv2 %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	list := func(arn string) []string {
		t.Helper()
		var out struct{ Tags []struct{ Key, Value string } }
		if err := json.Unmarshal([]byte(must("list-tags-for-resource", "--resource-arn", arn)), &out); err != nil {
			t.Fatal(err)
		}
		if out.Tags == nil {
			t.Fatalf("list-tags-for-resource %s: no Tags", arn)
		}
		pairs := []string{}
		for _, tag := range out.Tags {
			pairs = append(pairs, tag.Key+"="+tag.Value)
		}
		return pairs
	}
	arn := func(resource string) string { return "arn:aws:ses:" + s.Regions[0] + ":" + s.Account + ":" + resource }

	must("create-configuration-set", "--configuration-set-name", "cli-set", "--tags", "Key=team,Value=mail")
	// Debian's CLI (2.9) predates CreateEmailTemplate's Tags: tag it after.
	must("create-email-template", "--template-name", "cli-tpl", "--template-content", `{"Subject":"s","Text":"t"}`)
	must("tag-resource", "--resource-arn", arn("template/cli-tpl"), "--tags", "Key=team,Value=mail")
	for _, res := range []string{"configuration-set/cli-set", "template/cli-tpl"} {
		a := arn(res)
		if got := list(a); !reflect.DeepEqual(got, []string{"team=mail"}) {
			t.Errorf("%s after create: %v", res, got)
		}
		must("tag-resource", "--resource-arn", a, "--tags", "Key=env,Value=prod", "Key=team,Value=ops")
		if got := list(a); !reflect.DeepEqual(got, []string{"team=ops", "env=prod"}) {
			t.Errorf("%s after tag-resource: %v", res, got)
		}
		must("untag-resource", "--resource-arn", a, "--tag-keys", "team", "absent")
		if got := list(a); !reflect.DeepEqual(got, []string{"env=prod"}) {
			t.Errorf("%s after untag-resource: %v", res, got)
		}
	}
	var cs struct{ Tags []struct{ Key, Value string } }
	if err := json.Unmarshal([]byte(must("get-configuration-set", "--configuration-set-name", "cli-set")), &cs); err != nil {
		t.Fatal(err)
	}
	if len(cs.Tags) != 1 || cs.Tags[0].Key != "env" || cs.Tags[0].Value != "prod" {
		t.Errorf("get-configuration-set Tags = %+v", cs.Tags)
	}

	// SES's errors, as the CLI shows them.
	for _, tc := range []struct {
		args       []string
		code, want string
	}{
		{[]string{"tag-resource", "--resource-arn", arn("configuration-set/cli-set"), "--tags", "Key=aws:x,Value=v"},
			"(BadRequestException)", "Caller is an end user and not allowed to mutate system tags"},
		{[]string{"tag-resource", "--resource-arn", arn("identity/nobody.example"), "--tags", "Key=k,Value=v"},
			"(NotFoundException)", "No EmailIdentity present with name: nobody.example"},
		{[]string{"list-tags-for-resource", "--resource-arn", "arn:aws:ses:" + s.Regions[0] + ":123456789012:configuration-set/cli-set"},
			"(NotFoundException)", "No ConfigurationSet present with name: cli-set"},
	} {
		out, err := aws(tc.args...)
		if err == nil || !strings.Contains(out, tc.code) || !strings.Contains(out, ": "+tc.want+"\n") {
			t.Errorf("aws sesv2 %s: %v\n%s\nwant %s %q", strings.Join(tc.args, " "), err, out, tc.code, tc.want)
		}
	}

	// Deleting a resource deletes its tags: made again, it has none.
	must("delete-configuration-set", "--configuration-set-name", "cli-set")
	must("create-configuration-set", "--configuration-set-name", "cli-set")
	if got := list(arn("configuration-set/cli-set")); len(got) != 0 {
		t.Errorf("re-made set's tags: %v", got)
	}
}
