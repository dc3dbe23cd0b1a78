package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
)

func newsTopics() []v2types.Topic {
	return []v2types.Topic{
		{TopicName: aws.String("news"), DisplayName: aws.String("News"), Description: aws.String("Weekly news"),
			DefaultSubscriptionStatus: v2types.SubscriptionStatusOptIn},
		{TopicName: aws.String("offers"), DisplayName: aws.String("Offers"), DefaultSubscriptionStatus: v2types.SubscriptionStatusOptOut},
	}
}

func (e *acctEnv) createList(t *testing.T, name string) {
	t.Helper()
	if _, err := e.v2.CreateContactList(context.Background(), &sesv2.CreateContactListInput{ContactListName: aws.String(name),
		Description: aws.String("the list"), Topics: newsTopics(),
		Tags: []v2types.Tag{{Key: aws.String("team"), Value: aws.String("growth")}}}); err != nil {
		t.Fatal(err)
	}
}

func pref(topic string, s v2types.SubscriptionStatus) v2types.TopicPreference {
	return v2types.TopicPreference{TopicName: aws.String(topic), SubscriptionStatus: s}
}

func prefPairs(ps []v2types.TopicPreference) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, aws.ToString(p.TopicName)+"="+string(p.SubscriptionStatus))
	}
	return out
}

// A contact list: create with topics and tags, get, one per account,
// update, list, tag by ARN, delete (with its contacts and tags).
func TestContactListsV2(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	ctx := context.Background()
	e.createList(t, "members")

	got, err := e.v2.GetContactList(ctx, &sesv2.GetContactListInput{ContactListName: aws.String("members")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.ContactListName) != "members" || aws.ToString(got.Description) != "the list" || len(got.Topics) != 2 ||
		aws.ToString(got.Topics[0].Description) != "Weekly news" || got.Topics[1].DefaultSubscriptionStatus != v2types.SubscriptionStatusOptOut ||
		got.CreatedTimestamp == nil || time.Since(*got.CreatedTimestamp) > time.Minute ||
		!slices.Equal(tagPairs(got.Tags), []string{"team=growth"}) {
		t.Fatalf("get: %+v", got)
	}

	// SES allows one contact list per account (and region).
	_, err = e.v2.CreateContactList(ctx, &sesv2.CreateContactListInput{ContactListName: aws.String("members")})
	wantErrCode(t, err, "AlreadyExistsException")
	_, err = e.v2.CreateContactList(ctx, &sesv2.CreateContactListInput{ContactListName: aws.String("second")})
	wantErrCode(t, err, "LimitExceededException")
	other, _ := e.clients("us-east-1")
	if _, err := other.CreateContactList(ctx, &sesv2.CreateContactListInput{ContactListName: aws.String("second")}); err != nil {
		t.Fatalf("a list in another region: %v", err)
	}

	// Update replaces the whole list: topics, and the description left out.
	e.clk.Advance(time.Minute)
	_, err = e.v2.UpdateContactList(ctx, &sesv2.UpdateContactListInput{ContactListName: aws.String("members"),
		Topics: newsTopics()[:1]})
	if err != nil {
		t.Fatal(err)
	}
	got, err = e.v2.GetContactList(ctx, &sesv2.GetContactListInput{ContactListName: aws.String("members")})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Topics) != 1 || got.Description != nil || !got.LastUpdatedTimestamp.After(*got.CreatedTimestamp) {
		t.Fatalf("after update: %+v", got)
	}

	lists, err := e.v2.ListContactLists(ctx, &sesv2.ListContactListsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(lists.ContactLists) != 1 || aws.ToString(lists.ContactLists[0].ContactListName) != "members" ||
		lists.ContactLists[0].LastUpdatedTimestamp == nil || lists.NextToken != nil {
		t.Fatalf("list: %+v", lists)
	}
	_, err = e.v2.ListContactLists(ctx, &sesv2.ListContactListsInput{PageSize: aws.Int32(0)})
	wantErrCode(t, err, "BadRequestException")

	// Tags through the list's ARN.
	arn := e.arn("contact-list/members")
	if _, err := e.v2.TagResource(ctx, &sesv2.TagResourceInput{ResourceArn: aws.String(arn),
		Tags: []v2types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}); err != nil {
		t.Fatal(err)
	}
	if got := e.listTags(t, arn); !slices.Equal(got, []string{"team=growth", "env=prod"}) {
		t.Fatalf("tags: %v", got)
	}

	if _, err := e.v2.CreateContact(ctx, &sesv2.CreateContactInput{ContactListName: aws.String("members"),
		EmailAddress: aws.String("a@example.com")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v2.DeleteContactList(ctx, &sesv2.DeleteContactListInput{ContactListName: aws.String("members")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.v2.GetContactList(ctx, &sesv2.GetContactListInput{ContactListName: aws.String("members")})
	wantErrCode(t, err, "NotFoundException")
	_, err = e.v2.DeleteContactList(ctx, &sesv2.DeleteContactListInput{ContactListName: aws.String("members")})
	wantErrCode(t, err, "NotFoundException")
	_, err = e.v2.ListTagsForResource(ctx, &sesv2.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	wantErrCode(t, err, "NotFoundException")

	// Made again under the same name: no contacts, no tags.
	if _, err := e.v2.CreateContactList(ctx, &sesv2.CreateContactListInput{ContactListName: aws.String("members")}); err != nil {
		t.Fatal(err)
	}
	if got := e.listTags(t, arn); len(got) != 0 {
		t.Fatalf("tags of the new list: %v", got)
	}
	_, err = e.v2.GetContact(ctx, &sesv2.GetContactInput{ContactListName: aws.String("members"), EmailAddress: aws.String("a@example.com")})
	wantErrCode(t, err, "NotFoundException")
}

func TestContactListValidationV2(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	ctx := context.Background()
	many := []v2types.Topic{}
	for i := range 21 {
		many = append(many, v2types.Topic{TopicName: aws.String(fmt.Sprintf("t%d", i)), DisplayName: aws.String("T"),
			DefaultSubscriptionStatus: v2types.SubscriptionStatusOptIn})
	}
	topic := func(name, display, status string) []v2types.Topic {
		return []v2types.Topic{{TopicName: aws.String(name), DisplayName: aws.String(display),
			DefaultSubscriptionStatus: v2types.SubscriptionStatus(status)}}
	}
	for _, tc := range []struct {
		name   string
		in     *sesv2.CreateContactListInput
		status string
	}{
		{"bad name", &sesv2.CreateContactListInput{ContactListName: aws.String("a b")}, "BadRequestException"},
		{"long name", &sesv2.CreateContactListInput{ContactListName: aws.String(string(make([]byte, 65)))}, "BadRequestException"},
		{"21 topics", &sesv2.CreateContactListInput{ContactListName: aws.String("l"), Topics: many}, "BadRequestException"},
		{"bad status", &sesv2.CreateContactListInput{ContactListName: aws.String("l"), Topics: topic("x", "X", "MAYBE")}, "BadRequestException"},
		{"bad topic name", &sesv2.CreateContactListInput{ContactListName: aws.String("l"), Topics: topic("x y", "X", "OPT_IN")}, "BadRequestException"},
		{"duplicate topic", &sesv2.CreateContactListInput{ContactListName: aws.String("l"),
			Topics: append(topic("x", "X", "OPT_IN"), topic("x", "Y", "OPT_OUT")...)}, "BadRequestException"},
		{"reserved tag", &sesv2.CreateContactListInput{ContactListName: aws.String("l"),
			Tags: []v2types.Tag{{Key: aws.String("aws:x"), Value: aws.String("v")}}}, "BadRequestException"},
	} {
		_, err := e.v2.CreateContactList(ctx, tc.in)
		if errCode(err) != tc.status {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.status)
		}
	}
	// None of the refused ones was made: the one allowed list is still free.
	if _, err := e.v2.CreateContactList(ctx, &sesv2.CreateContactListInput{ContactListName: aws.String("ok_list-1"), Topics: many[:20]}); err != nil {
		t.Fatal(err)
	}
	_, err := e.v2.UpdateContactList(ctx, &sesv2.UpdateContactListInput{ContactListName: aws.String("ok_list-1"), Topics: many})
	wantErrCode(t, err, "BadRequestException")
	_, err = e.v2.UpdateContactList(ctx, &sesv2.UpdateContactListInput{ContactListName: aws.String("nope")})
	wantErrCode(t, err, "NotFoundException")
}

// Contacts: create with preferences and attributes, get with the topics'
// defaults, update, delete, and the errors of each.
func TestContactsV2(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	ctx := context.Background()
	e.createList(t, "members")
	list := aws.String("members")

	_, err := e.v2.CreateContact(ctx, &sesv2.CreateContactInput{ContactListName: list, EmailAddress: aws.String("ann@example.com"),
		TopicPreferences: []v2types.TopicPreference{pref("offers", v2types.SubscriptionStatusOptIn)},
		AttributesData:   aws.String(`{"name":"Ann"}`)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.v2.GetContact(ctx, &sesv2.GetContactInput{ContactListName: list, EmailAddress: aws.String("ann@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.EmailAddress) != "ann@example.com" || aws.ToString(got.ContactListName) != "members" ||
		!slices.Equal(prefPairs(got.TopicPreferences), []string{"offers=OPT_IN"}) ||
		!slices.Equal(prefPairs(got.TopicDefaultPreferences), []string{"news=OPT_IN"}) ||
		got.UnsubscribeAll || aws.ToString(got.AttributesData) != `{"name":"Ann"}` ||
		got.CreatedTimestamp == nil || got.LastUpdatedTimestamp == nil {
		t.Fatalf("get: %+v", got)
	}

	for _, tc := range []struct {
		name string
		in   *sesv2.CreateContactInput
		code string
	}{
		{"again", &sesv2.CreateContactInput{ContactListName: list, EmailAddress: aws.String("ann@example.com")}, "AlreadyExistsException"},
		{"no list", &sesv2.CreateContactInput{ContactListName: aws.String("other"), EmailAddress: aws.String("b@example.com")}, "NotFoundException"},
		{"bad address", &sesv2.CreateContactInput{ContactListName: list, EmailAddress: aws.String("not-an-address")}, "BadRequestException"},
		{"unknown topic", &sesv2.CreateContactInput{ContactListName: list, EmailAddress: aws.String("b@example.com"),
			TopicPreferences: []v2types.TopicPreference{pref("sports", v2types.SubscriptionStatusOptIn)}}, "BadRequestException"},
		{"bad status", &sesv2.CreateContactInput{ContactListName: list, EmailAddress: aws.String("b@example.com"),
			TopicPreferences: []v2types.TopicPreference{pref("news", "MAYBE")}}, "BadRequestException"},
		{"attributes not JSON", &sesv2.CreateContactInput{ContactListName: list, EmailAddress: aws.String("b@example.com"),
			AttributesData: aws.String("{name: Ann")}, "BadRequestException"},
	} {
		_, err := e.v2.CreateContact(ctx, tc.in)
		if errCode(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
	_, err = e.v2.GetContact(ctx, &sesv2.GetContactInput{ContactListName: list, EmailAddress: aws.String("b@example.com")})
	wantErrCode(t, err, "NotFoundException")

	// Update: preferences and UnsubscribeAll are replaced, AttributesData
	// stays when left out.
	e.clk.Advance(time.Minute)
	if _, err := e.v2.UpdateContact(ctx, &sesv2.UpdateContactInput{ContactListName: list, EmailAddress: aws.String("ann@example.com"),
		TopicPreferences: []v2types.TopicPreference{pref("news", v2types.SubscriptionStatusOptOut)}, UnsubscribeAll: true}); err != nil {
		t.Fatal(err)
	}
	got, err = e.v2.GetContact(ctx, &sesv2.GetContactInput{ContactListName: list, EmailAddress: aws.String("ann@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(prefPairs(got.TopicPreferences), []string{"news=OPT_OUT"}) ||
		!slices.Equal(prefPairs(got.TopicDefaultPreferences), []string{"offers=OPT_OUT"}) ||
		!got.UnsubscribeAll || aws.ToString(got.AttributesData) != `{"name":"Ann"}` || !got.LastUpdatedTimestamp.After(*got.CreatedTimestamp) {
		t.Fatalf("after update: %+v", got)
	}
	if _, err := e.v2.UpdateContact(ctx, &sesv2.UpdateContactInput{ContactListName: list, EmailAddress: aws.String("ann@example.com"),
		AttributesData: aws.String(`{"name":"Ann B"}`)}); err != nil {
		t.Fatal(err)
	}
	got, err = e.v2.GetContact(ctx, &sesv2.GetContactInput{ContactListName: list, EmailAddress: aws.String("ann@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.TopicPreferences) != 0 || len(got.TopicDefaultPreferences) != 2 || got.UnsubscribeAll ||
		aws.ToString(got.AttributesData) != `{"name":"Ann B"}` {
		t.Fatalf("after the second update: %+v", got)
	}
	_, err = e.v2.UpdateContact(ctx, &sesv2.UpdateContactInput{ContactListName: list, EmailAddress: aws.String("ann@example.com"),
		AttributesData: aws.String("[")})
	wantErrCode(t, err, "BadRequestException")
	_, err = e.v2.UpdateContact(ctx, &sesv2.UpdateContactInput{ContactListName: list, EmailAddress: aws.String("nobody@example.com")})
	wantErrCode(t, err, "NotFoundException")

	if _, err := e.v2.DeleteContact(ctx, &sesv2.DeleteContactInput{ContactListName: list, EmailAddress: aws.String("ann@example.com")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.v2.DeleteContact(ctx, &sesv2.DeleteContactInput{ContactListName: list, EmailAddress: aws.String("ann@example.com")})
	wantErrCode(t, err, "NotFoundException")
	_, err = e.v2.DeleteContact(ctx, &sesv2.DeleteContactInput{ContactListName: aws.String("other"), EmailAddress: aws.String("ann@example.com")})
	wantErrCode(t, err, "NotFoundException")
}

// ListContacts: filters by topic (own preference, or the default when
// asked), by UnsubscribeAll, and pages.
func TestListContactsV2(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	ctx := context.Background()
	e.createList(t, "members")
	list := aws.String("members")
	add := func(email string, unsubAll bool, prefs ...v2types.TopicPreference) {
		t.Helper()
		if _, err := e.v2.CreateContact(ctx, &sesv2.CreateContactInput{ContactListName: list, EmailAddress: aws.String(email),
			TopicPreferences: prefs, UnsubscribeAll: unsubAll}); err != nil {
			t.Fatal(err)
		}
	}
	add("a@example.com", false, pref("offers", v2types.SubscriptionStatusOptIn))
	add("b@example.com", false, pref("offers", v2types.SubscriptionStatusOptOut))
	add("c@example.com", false)
	add("d@example.com", true, pref("offers", v2types.SubscriptionStatusOptIn))

	emails := func(f *v2types.ListContactsFilter) []string {
		t.Helper()
		out, err := e.v2.ListContacts(ctx, &sesv2.ListContactsInput{ContactListName: list, Filter: f})
		if err != nil {
			t.Fatal(err)
		}
		got := []string{}
		for _, c := range out.Contacts {
			got = append(got, aws.ToString(c.EmailAddress))
		}
		return got
	}
	topicFilter := func(status v2types.SubscriptionStatus, topic string, useDefault bool) *v2types.ListContactsFilter {
		return &v2types.ListContactsFilter{FilteredStatus: status,
			TopicFilter: &v2types.TopicFilter{TopicName: aws.String(topic), UseDefaultIfPreferenceUnavailable: useDefault}}
	}
	for _, tc := range []struct {
		name   string
		filter *v2types.ListContactsFilter
		want   []string
	}{
		{"all", nil, []string{"a@example.com", "b@example.com", "c@example.com", "d@example.com"}},
		{"unsubscribed from all", &v2types.ListContactsFilter{FilteredStatus: v2types.SubscriptionStatusOptOut}, []string{"d@example.com"}},
		{"not unsubscribed", &v2types.ListContactsFilter{FilteredStatus: v2types.SubscriptionStatusOptIn},
			[]string{"a@example.com", "b@example.com", "c@example.com"}},
		{"offers in, own", topicFilter(v2types.SubscriptionStatusOptIn, "offers", false), []string{"a@example.com"}},
		{"offers out, own", topicFilter(v2types.SubscriptionStatusOptOut, "offers", false), []string{"b@example.com", "d@example.com"}},
		{"offers out, default", topicFilter(v2types.SubscriptionStatusOptOut, "offers", true),
			[]string{"b@example.com", "c@example.com", "d@example.com"}},
		{"news in, default", topicFilter(v2types.SubscriptionStatusOptIn, "news", true),
			[]string{"a@example.com", "b@example.com", "c@example.com"}},
		{"news in, own", topicFilter(v2types.SubscriptionStatusOptIn, "news", false), []string{}},
	} {
		if got := emails(tc.filter); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}

	// Each contact shows its own preferences and the defaults of the rest.
	out, err := e.v2.ListContacts(ctx, &sesv2.ListContactsInput{ContactListName: list, PageSize: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Contacts) != 1 || !slices.Equal(prefPairs(out.Contacts[0].TopicPreferences), []string{"offers=OPT_IN"}) ||
		!slices.Equal(prefPairs(out.Contacts[0].TopicDefaultPreferences), []string{"news=OPT_IN"}) || out.NextToken == nil {
		t.Fatalf("first page: %+v", out)
	}

	// Pages of a filtered list are full and end with the last match.
	var pages [][]string
	var token *string
	for {
		out, err := e.v2.ListContacts(ctx, &sesv2.ListContactsInput{ContactListName: list, PageSize: aws.Int32(2), NextToken: token,
			Filter: topicFilter(v2types.SubscriptionStatusOptOut, "offers", true)})
		if err != nil {
			t.Fatal(err)
		}
		page := []string{}
		for _, c := range out.Contacts {
			page = append(page, aws.ToString(c.EmailAddress))
		}
		pages = append(pages, page)
		if token = out.NextToken; token == nil || len(pages) > 5 {
			break
		}
	}
	if fmt.Sprint(pages) != "[[b@example.com c@example.com] [d@example.com]]" {
		t.Fatalf("pages: %v", pages)
	}

	_, err = e.v2.ListContacts(ctx, &sesv2.ListContactsInput{ContactListName: aws.String("other")})
	wantErrCode(t, err, "NotFoundException")
	_, err = e.v2.ListContacts(ctx, &sesv2.ListContactsInput{ContactListName: list, Filter: topicFilter(v2types.SubscriptionStatusOptIn, "sports", false)})
	wantErrCode(t, err, "BadRequestException")
	_, err = e.v2.ListContacts(ctx, &sesv2.ListContactsInput{ContactListName: list, NextToken: aws.String("garbage!")})
	wantErrCode(t, err, "BadRequestException")
	_, err = e.v2.ListContacts(ctx, &sesv2.ListContactsInput{ContactListName: list, PageSize: aws.Int32(1001)})
	wantErrCode(t, err, "BadRequestException")

	// Older models (botocore, aws CLI 2.9) send ListContacts as a GET to
	// …/contacts with the filter in a JSON body and PageSize in the query.
	status, body := e.signedCall(t, http.MethodGet, "/v2/email/contact-lists/members/contacts?PageSize=5", "application/json",
		`{"Filter":{"FilteredStatus":"OPT_OUT"}}`)
	var old struct {
		Contacts []struct{ EmailAddress string }
	}
	if err := json.Unmarshal([]byte(body), &old); status != http.StatusOK || err != nil ||
		len(old.Contacts) != 1 || old.Contacts[0].EmailAddress != "d@example.com" {
		t.Fatalf("GET ListContacts: %d %s", status, body)
	}
}
