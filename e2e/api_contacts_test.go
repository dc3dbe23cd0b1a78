package e2e

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"sesame/internal/testenv"
)

// Contact lists through Debian's aws CLI (2.9, whose model sends
// ListContacts as a GET with a JSON body) against the real binary: a list
// with topics and tags, contacts with preferences, a filtered and paged
// listing, SES's errors, and a delete that takes the contacts along.
func TestAPIContactListsWithAWSCLI(t *testing.T) {
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
	emails := func(args ...string) []string {
		t.Helper()
		var out struct {
			Contacts []struct{ EmailAddress string }
		}
		if err := json.Unmarshal([]byte(must(append([]string{"list-contacts", "--contact-list-name", "news"}, args...)...)), &out); err != nil {
			t.Fatal(err)
		}
		got := []string{}
		for _, c := range out.Contacts {
			got = append(got, c.EmailAddress)
		}
		return got
	}

	must("create-contact-list", "--contact-list-name", "news", "--description", "our news",
		"--topics", "TopicName=weekly,DisplayName=Weekly,DefaultSubscriptionStatus=OPT_IN",
		"TopicName=offers,DisplayName=Offers,DefaultSubscriptionStatus=OPT_OUT",
		"--tags", "Key=team,Value=mail")
	var list struct {
		ContactListName string
		Topics          []struct{ TopicName, DefaultSubscriptionStatus string }
		Tags            []struct{ Key, Value string }
	}
	if err := json.Unmarshal([]byte(must("get-contact-list", "--contact-list-name", "news")), &list); err != nil {
		t.Fatal(err)
	}
	if list.ContactListName != "news" || len(list.Topics) != 2 || list.Topics[1].DefaultSubscriptionStatus != "OPT_OUT" ||
		len(list.Tags) != 1 || list.Tags[0].Key != "team" {
		t.Fatalf("get-contact-list: %+v", list)
	}

	must("create-contact", "--contact-list-name", "news", "--email-address", "ann@example.com",
		"--topic-preferences", "TopicName=offers,SubscriptionStatus=OPT_IN", "--attributes-data", `{"name":"Ann"}`)
	must("create-contact", "--contact-list-name", "news", "--email-address", "bob@example.com")
	must("create-contact", "--contact-list-name", "news", "--email-address", "cy@example.com", "--unsubscribe-all")

	if got := emails(); !reflect.DeepEqual(got, []string{"ann@example.com", "bob@example.com", "cy@example.com"}) {
		t.Errorf("list-contacts: %v", got)
	}
	// Pages of one, following NextToken (this CLI's model has no
	// paginator for ListContacts, so it hands the token back).
	var paged []string
	for token := ""; len(paged) < 5; {
		args := []string{"list-contacts", "--contact-list-name", "news", "--page-size", "1"}
		if token != "" {
			args = append(args, "--next-token", token)
		}
		var page struct {
			Contacts  []struct{ EmailAddress string }
			NextToken string
		}
		if err := json.Unmarshal([]byte(must(args...)), &page); err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Contacts {
			paged = append(paged, c.EmailAddress)
		}
		if token = page.NextToken; token == "" {
			break
		}
	}
	if !reflect.DeepEqual(paged, []string{"ann@example.com", "bob@example.com", "cy@example.com"}) {
		t.Errorf("list-contacts by pages of one: %v", paged)
	}
	if got := emails("--filter", "FilteredStatus=OPT_IN,TopicFilter={TopicName=offers,UseDefaultIfPreferenceUnavailable=false}"); !reflect.DeepEqual(got, []string{"ann@example.com"}) {
		t.Errorf("list-contacts opted in to offers: %v", got)
	}
	if got := emails("--filter", "FilteredStatus=OPT_OUT"); !reflect.DeepEqual(got, []string{"cy@example.com"}) {
		t.Errorf("list-contacts unsubscribed from all: %v", got)
	}

	var c struct {
		TopicPreferences, TopicDefaultPreferences []struct{ TopicName, SubscriptionStatus string }
		AttributesData                            string
	}
	if err := json.Unmarshal([]byte(must("get-contact", "--contact-list-name", "news", "--email-address", "ann@example.com")), &c); err != nil {
		t.Fatal(err)
	}
	if len(c.TopicPreferences) != 1 || c.TopicPreferences[0].TopicName != "offers" || len(c.TopicDefaultPreferences) != 1 ||
		c.TopicDefaultPreferences[0].TopicName != "weekly" || c.AttributesData != `{"name":"Ann"}` {
		t.Errorf("get-contact: %+v", c)
	}

	// SES's errors, as the CLI shows them.
	for _, tc := range []struct {
		args []string
		code string
	}{
		{[]string{"create-contact-list", "--contact-list-name", "second"}, "(LimitExceededException)"},
		{[]string{"create-contact", "--contact-list-name", "news", "--email-address", "ann@example.com"}, "(AlreadyExistsException)"},
		{[]string{"create-contact", "--contact-list-name", "news", "--email-address", "dee@example.com", "--attributes-data", "{"}, "(BadRequestException)"},
		{[]string{"get-contact", "--contact-list-name", "nope", "--email-address", "ann@example.com"}, "(NotFoundException)"},
	} {
		out, err := aws(tc.args...)
		if err == nil || !strings.Contains(out, tc.code) {
			t.Errorf("aws sesv2 %s: %v\n%s\nwant %s", strings.Join(tc.args, " "), err, out, tc.code)
		}
	}

	// Deleting the list deletes its contacts: made again, it is empty.
	must("delete-contact-list", "--contact-list-name", "news")
	if out, err := aws("list-contacts", "--contact-list-name", "news"); err == nil || !strings.Contains(out, "(NotFoundException)") {
		t.Errorf("list-contacts of a deleted list: %v\n%s", err, out)
	}
	must("create-contact-list", "--contact-list-name", "news")
	if got := emails(); len(got) != 0 {
		t.Errorf("contacts of the re-made list: %v", got)
	}
}
