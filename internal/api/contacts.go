package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"sesame/internal/seserr"
	"sesame/internal/store"
)

// The list management group (v2 only): contact lists with their topics,
// and the contacts on them with their topic preferences, as data. What a
// list means at send time (List-Unsubscribe, skipping opted-out contacts)
// is sending's business, not this file's.

func (s *Server) registerContactLists() {
	const base = "/v2/email/contact-lists"
	s.handleV2("POST "+base, s.createContactListV2)
	s.handleV2("GET "+base, s.listContactListsV2)
	s.handleV2("GET "+base+"/{ContactListName}", s.getContactListV2)
	s.handleV2("PUT "+base+"/{ContactListName}", s.updateContactListV2)
	s.handleV2("DELETE "+base+"/{ContactListName}", s.deleteContactListV2)
	s.handleV2("POST "+base+"/{ContactListName}/contacts", s.createContactV2)
	// ListContacts is POST …/contacts/list in current SDKs; older models
	// (botocore, aws CLI 2.9) send a GET to …/contacts with a JSON body.
	s.handleV2("POST "+base+"/{ContactListName}/contacts/list", s.listContactsV2)
	s.handleV2("GET "+base+"/{ContactListName}/contacts", s.listContactsV2)
	s.handleV2("GET "+base+"/{ContactListName}/contacts/{EmailAddress}", s.getContactV2)
	s.handleV2("PUT "+base+"/{ContactListName}/contacts/{EmailAddress}", s.updateContactV2)
	s.handleV2("DELETE "+base+"/{ContactListName}/contacts/{EmailAddress}", s.deleteContactV2)
}

// ContactStore is what the list management operations need of the store.
type ContactStore interface {
	CreateContactList(ctx context.Context, l store.ContactList, max int) error
	ContactList(ctx context.Context, accountID, region, name string) (store.ContactList, error)
	UpdateContactList(ctx context.Context, accountID, region, name string, fn func(*store.ContactList) error) (store.ContactList, error)
	DeleteContactList(ctx context.Context, accountID, region, name string) error
	ContactLists(ctx context.Context, accountID, region, after string, limit int) ([]store.ContactList, error)
	CreateContact(ctx context.Context, c store.Contact, fill func(*store.Contact, store.ContactList) error) error
	Contact(ctx context.Context, accountID, region, list, email string) (store.Contact, store.ContactList, error)
	UpdateContact(ctx context.Context, accountID, region, list, email string, fn func(*store.Contact, store.ContactList) error) (store.Contact, error)
	DeleteContact(ctx context.Context, accountID, region, list, email string) error
	Contacts(ctx context.Context, accountID, region, list, after string, limit int,
		keep func(store.Contact, store.ContactList) bool) ([]store.Contact, store.ContactList, error)
}

func (s *Server) contactStore() ContactStore { return s.cfg.Store }

// SES's list management limits (developer guide, "Using list management").
const (
	maxContactLists     = 1  // per account and region
	maxContactTopics    = 20 // per list
	maxContactListName  = 64 // as other SES resource names
	maxContactPage      = 1000
	maxContactAttrBytes = 64 << 10
)

const (
	optIn  = "OPT_IN"
	optOut = "OPT_OUT"
)

// validContactName: ASCII letters, digits, underscores and dashes, 1–64
// characters (list and topic names, as SES's other resource names).
func validContactName(name string) bool { return validConfigurationSetName(name) }

func validSubscriptionStatus(s string) bool { return s == optIn || s == optOut }

// topicJSON is SES's Topic.
type topicJSON struct {
	TopicName                 string
	DisplayName               string
	Description               string `json:",omitempty"`
	DefaultSubscriptionStatus string
}

// preferenceJSON is SES's TopicPreference.
type preferenceJSON struct {
	TopicName          string
	SubscriptionStatus string
}

// validateTopics checks a list's topics and returns them as the store keeps them.
func validateTopics(in []topicJSON) ([]store.Topic, error) {
	if len(in) > maxContactTopics {
		return nil, seserr.InvalidContactList(fmt.Sprintf("a contact list can have at most %d topics.", maxContactTopics))
	}
	out := make([]store.Topic, 0, len(in))
	seen := map[string]bool{}
	for _, t := range in {
		switch {
		case !validContactName(t.TopicName):
			return nil, seserr.InvalidContactList(fmt.Sprintf("topic name %q must be 1-%d letters, digits, '_' or '-'.", t.TopicName, maxContactListName))
		case seen[t.TopicName]:
			return nil, seserr.InvalidContactList(fmt.Sprintf("topic %s is given twice.", t.TopicName))
		case t.DisplayName == "":
			return nil, seserr.MissingParameter("DisplayName")
		case !validSubscriptionStatus(t.DefaultSubscriptionStatus):
			return nil, seserr.InvalidContactList(fmt.Sprintf("DefaultSubscriptionStatus of topic %s must be OPT_IN or OPT_OUT.", t.TopicName))
		}
		seen[t.TopicName] = true
		out = append(out, store.Topic{Name: t.TopicName, DisplayName: t.DisplayName, Description: t.Description,
			DefaultStatus: t.DefaultSubscriptionStatus})
	}
	return out, nil
}

func topicsOut(topics []store.Topic) []topicJSON {
	out := make([]topicJSON, 0, len(topics))
	for _, t := range topics {
		out = append(out, topicJSON{t.Name, t.DisplayName, t.Description, t.DefaultStatus})
	}
	return out
}

func hasTopic(l store.ContactList, name string) bool {
	for _, t := range l.Topics {
		if t.Name == name {
			return true
		}
	}
	return false
}

// contactListError turns the store's answers into SES's.
func contactListError(err error, name string) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return seserr.ContactListDoesNotExist(name)
	case errors.Is(err, store.ErrExists):
		return seserr.ContactListAlreadyExists(name)
	case errors.Is(err, store.ErrLimitExceeded):
		return seserr.ContactListLimitExceeded(maxContactLists)
	}
	return err
}

// contactError is contactListError for a contact's operations.
func contactError(err error, list, email string) error {
	switch {
	case errors.Is(err, store.ErrNoContactList):
		return seserr.ContactListDoesNotExist(list)
	case errors.Is(err, store.ErrNotFound):
		return seserr.ContactDoesNotExist(email, list)
	case errors.Is(err, store.ErrExists):
		return seserr.ContactAlreadyExists(email, list)
	}
	return err
}

// contactPageSize reads PageSize from the query (1–maxContactPage, default
// the maximum).
func contactPageSize(r *http.Request) (int, error) {
	size, given, err := queryInt(r, "PageSize")
	if err != nil {
		return 0, err
	}
	if !given {
		return maxContactPage, nil
	}
	if size < 1 || size > maxContactPage {
		return 0, seserr.PageSizeOutOfRange(maxContactPage)
	}
	return size, nil
}

// --- contact lists -------------------------------------------------------

func (s *Server) createContactListV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct {
		ContactListName string
		Topics          []topicJSON
		Description     string
		Tags            []store.Tag
	}
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	if in.ContactListName == "" {
		return nil, seserr.MissingParameter("ContactListName")
	}
	if !validContactName(in.ContactListName) {
		return nil, seserr.InvalidContactList(fmt.Sprintf("name %q must be 1-%d letters, digits, '_' or '-'.", in.ContactListName, maxContactListName))
	}
	topics, err := validateTopics(in.Topics)
	if err != nil {
		return nil, err
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	p := principal(ctx)
	l := store.ContactList{AccountID: p.AccountID, Region: p.Region, Name: in.ContactListName,
		Description: in.Description, Topics: topics, Created: s.clk.Now()}
	if err := s.contactStore().CreateContactList(ctx, l, maxContactLists); err != nil {
		return nil, contactListError(err, in.ContactListName)
	}
	return nil, s.setCreatedTags(ctx, store.ResourceContactList, in.ContactListName, in.Tags)
}

func (s *Server) getContactListV2(ctx context.Context, r *http.Request) (any, error) {
	name := r.PathValue("ContactListName")
	p := principal(ctx)
	l, err := s.contactStore().ContactList(ctx, p.AccountID, p.Region, name)
	if err != nil {
		return nil, contactListError(err, name)
	}
	tags, err := s.resourceTags(ctx, store.ResourceContactList, name)
	if err != nil {
		return nil, contactListError(err, name)
	}
	return struct {
		ContactListName      string
		Topics               []topicJSON
		Description          string `json:",omitempty"`
		CreatedTimestamp     epochTime
		LastUpdatedTimestamp epochTime
		Tags                 []store.Tag
	}{l.Name, topicsOut(l.Topics), l.Description, epochTime(l.Created), epochTime(l.Updated), tags}, nil
}

func (s *Server) updateContactListV2(ctx context.Context, r *http.Request) (any, error) {
	name := r.PathValue("ContactListName")
	var in struct {
		Topics      []topicJSON
		Description string
	}
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	// SES: "This operation does a complete replacement": a list updated
	// without Topics has none afterwards.
	topics, err := validateTopics(in.Topics)
	if err != nil {
		return nil, err
	}
	p := principal(ctx)
	now := s.clk.Now()
	_, err = s.contactStore().UpdateContactList(ctx, p.AccountID, p.Region, name, func(l *store.ContactList) error {
		l.Topics, l.Description, l.Updated = topics, in.Description, now
		return nil
	})
	return nil, contactListError(err, name)
}

func (s *Server) deleteContactListV2(ctx context.Context, r *http.Request) (any, error) {
	name := r.PathValue("ContactListName")
	p := principal(ctx)
	return nil, contactListError(s.contactStore().DeleteContactList(ctx, p.AccountID, p.Region, name), name)
}

func (s *Server) listContactListsV2(ctx context.Context, r *http.Request) (any, error) {
	size, err := contactPageSize(r)
	if err != nil {
		return nil, err
	}
	p := principal(ctx)
	list, next, err := pageByName(r.URL.Query().Get("NextToken"), size, func(after string, limit int) ([]store.ContactList, error) {
		return s.contactStore().ContactLists(ctx, p.AccountID, p.Region, after, limit)
	}, func(l store.ContactList) string { return l.Name })
	if err != nil {
		return nil, err
	}
	type entry struct {
		ContactListName      string
		LastUpdatedTimestamp epochTime
	}
	out := struct {
		ContactLists []entry
		NextToken    string `json:",omitempty"`
	}{ContactLists: []entry{}, NextToken: next}
	for _, l := range list {
		out.ContactLists = append(out.ContactLists, entry{l.Name, epochTime(l.Updated)})
	}
	return out, nil
}

// --- contacts ------------------------------------------------------------

// contactFields are CreateContact's and UpdateContact's fields; nil is absent.
type contactFields struct {
	TopicPreferences *[]preferenceJSON
	UnsubscribeAll   *bool
	AttributesData   *string
}

// validate checks the fields that need no list.
func (f contactFields) validate() error {
	if f.AttributesData != nil && *f.AttributesData != "" {
		if len(*f.AttributesData) > maxContactAttrBytes {
			return seserr.InvalidContact(fmt.Sprintf("AttributesData is longer than %d bytes.", maxContactAttrBytes))
		}
		if !json.Valid([]byte(*f.AttributesData)) {
			return seserr.InvalidContact("AttributesData must be a valid JSON document.")
		}
	}
	return nil
}

// apply checks the preferences against the list's topics and sets the
// fields present onto c.
func (f contactFields) apply(c *store.Contact, l store.ContactList) error {
	if f.TopicPreferences != nil {
		prefs := make([]store.TopicPreference, 0, len(*f.TopicPreferences))
		seen := map[string]bool{}
		for _, p := range *f.TopicPreferences {
			switch {
			case !hasTopic(l, p.TopicName):
				return seserr.InvalidContact(fmt.Sprintf("topic %q is not a topic of list %s.", p.TopicName, l.Name))
			case seen[p.TopicName]:
				return seserr.InvalidContact(fmt.Sprintf("topic %s is given twice.", p.TopicName))
			case !validSubscriptionStatus(p.SubscriptionStatus):
				return seserr.InvalidContact(fmt.Sprintf("SubscriptionStatus of topic %s must be OPT_IN or OPT_OUT.", p.TopicName))
			}
			seen[p.TopicName] = true
			prefs = append(prefs, store.TopicPreference{Topic: p.TopicName, Status: p.SubscriptionStatus})
		}
		c.Preferences = prefs
	}
	if f.UnsubscribeAll != nil {
		c.UnsubscribeAll = *f.UnsubscribeAll
	}
	if f.AttributesData != nil {
		c.Attributes = *f.AttributesData
	}
	return nil
}

// preferences are a contact's own preferences for the list's topics and
// the list's defaults for the topics it has none for (a topic removed from
// the list since is no longer shown).
func preferences(c store.Contact, l store.ContactList) (own, defaults []preferenceJSON) {
	own, defaults = []preferenceJSON{}, []preferenceJSON{}
	for _, t := range l.Topics {
		status := ""
		for _, p := range c.Preferences {
			if p.Topic == t.Name {
				status = p.Status
			}
		}
		if status != "" {
			own = append(own, preferenceJSON{t.Name, status})
		} else {
			defaults = append(defaults, preferenceJSON{t.Name, t.DefaultStatus})
		}
	}
	return own, defaults
}

func (s *Server) createContactV2(ctx context.Context, r *http.Request) (any, error) {
	list := r.PathValue("ContactListName")
	var in struct {
		EmailAddress string
		contactFields
	}
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	if in.EmailAddress == "" {
		return nil, seserr.MissingParameter("EmailAddress")
	}
	if !validSuppressionAddress(in.EmailAddress) {
		return nil, seserr.InvalidContact(fmt.Sprintf("%q is not a valid email address.", in.EmailAddress))
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	p := principal(ctx)
	c := store.Contact{AccountID: p.AccountID, Region: p.Region, List: list, Email: in.EmailAddress, Created: s.clk.Now()}
	err := s.contactStore().CreateContact(ctx, c, in.apply)
	return nil, contactError(err, list, in.EmailAddress)
}

func (s *Server) getContactV2(ctx context.Context, r *http.Request) (any, error) {
	list, email := r.PathValue("ContactListName"), r.PathValue("EmailAddress")
	p := principal(ctx)
	c, l, err := s.contactStore().Contact(ctx, p.AccountID, p.Region, list, email)
	if err != nil {
		return nil, contactError(err, list, email)
	}
	own, defaults := preferences(c, l)
	return struct {
		ContactListName         string
		EmailAddress            string
		TopicPreferences        []preferenceJSON
		TopicDefaultPreferences []preferenceJSON
		UnsubscribeAll          bool
		AttributesData          string `json:",omitempty"`
		CreatedTimestamp        epochTime
		LastUpdatedTimestamp    epochTime
	}{l.Name, c.Email, own, defaults, c.UnsubscribeAll, c.Attributes, epochTime(c.Created), epochTime(c.Updated)}, nil
}

func (s *Server) updateContactV2(ctx context.Context, r *http.Request) (any, error) {
	list, email := r.PathValue("ContactListName"), r.PathValue("EmailAddress")
	var in contactFields
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	// SES replaces a contact's preferences with those given ("otherwise,
	// all your existing preferences will be removed"), and SDKs leave a
	// false UnsubscribeAll out; AttributesData left out stays as it was.
	if in.TopicPreferences == nil {
		in.TopicPreferences = &[]preferenceJSON{}
	}
	if in.UnsubscribeAll == nil {
		in.UnsubscribeAll = new(bool)
	}
	p := principal(ctx)
	now := s.clk.Now()
	_, err := s.contactStore().UpdateContact(ctx, p.AccountID, p.Region, list, email, func(c *store.Contact, l store.ContactList) error {
		c.Updated = now
		return in.apply(c, l)
	})
	return nil, contactError(err, list, email)
}

func (s *Server) deleteContactV2(ctx context.Context, r *http.Request) (any, error) {
	list, email := r.PathValue("ContactListName"), r.PathValue("EmailAddress")
	p := principal(ctx)
	return nil, contactError(s.contactStore().DeleteContact(ctx, p.AccountID, p.Region, list, email), list, email)
}

// contactFilter is SES's ListContactsFilter.
type contactFilter struct {
	FilteredStatus string
	TopicFilter    *struct {
		TopicName                         string
		UseDefaultIfPreferenceUnavailable bool
	}
}

// keeps says whether c passes the filter. With a topic, a contact's status
// is its own preference, else (when asked) the topic's default; a contact
// without either is left out, and one who unsubscribed from everything is
// OPT_OUT of every topic. Without a topic, FilteredStatus is about
// UnsubscribeAll: OPT_OUT lists those who unsubscribed from all.
func (f contactFilter) keeps(c store.Contact, l store.ContactList) bool {
	if f.TopicFilter == nil || f.TopicFilter.TopicName == "" {
		switch f.FilteredStatus {
		case optOut:
			return c.UnsubscribeAll
		case optIn:
			return !c.UnsubscribeAll
		}
		return true
	}
	topic := f.TopicFilter.TopicName
	status := ""
	if c.UnsubscribeAll {
		status = optOut
	}
	for _, p := range c.Preferences {
		if status == "" && p.Topic == topic {
			status = p.Status
		}
	}
	if status == "" && f.TopicFilter.UseDefaultIfPreferenceUnavailable {
		for _, t := range l.Topics {
			if t.Name == topic {
				status = t.DefaultStatus
			}
		}
	}
	return status != "" && (f.FilteredStatus == "" || status == f.FilteredStatus)
}

func (s *Server) listContactsV2(ctx context.Context, r *http.Request) (any, error) {
	list := r.PathValue("ContactListName")
	var in struct {
		Filter    contactFilter
		PageSize  *int   // the POST route's body may carry them
		NextToken string //
	}
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	f := in.Filter
	if f.FilteredStatus != "" && !validSubscriptionStatus(f.FilteredStatus) {
		return nil, seserr.InvalidContact("FilteredStatus must be OPT_IN or OPT_OUT.")
	}
	size, err := contactPageSize(r)
	if err != nil {
		return nil, err
	}
	if in.PageSize != nil {
		if *in.PageSize < 1 || *in.PageSize > maxContactPage {
			return nil, seserr.PageSizeOutOfRange(maxContactPage)
		}
		size = *in.PageSize
	}
	token := r.URL.Query().Get("NextToken")
	if token == "" {
		token = in.NextToken
	}
	p := principal(ctx)
	var l store.ContactList
	contacts, next, err := pageByName(token, size, func(after string, limit int) ([]store.Contact, error) {
		var cs []store.Contact
		var err error
		cs, l, err = s.contactStore().Contacts(ctx, p.AccountID, p.Region, list, after, limit, f.keeps)
		return cs, err
	}, func(c store.Contact) string { return c.Email })
	if err != nil {
		return nil, contactError(err, list, "")
	}
	if f.TopicFilter != nil && f.TopicFilter.TopicName != "" && !hasTopic(l, f.TopicFilter.TopicName) {
		return nil, seserr.InvalidContact(fmt.Sprintf("topic %q is not a topic of list %s.", f.TopicFilter.TopicName, list))
	}
	type entry struct {
		EmailAddress            string
		TopicPreferences        []preferenceJSON
		TopicDefaultPreferences []preferenceJSON
		UnsubscribeAll          bool
		LastUpdatedTimestamp    epochTime
	}
	out := struct {
		Contacts  []entry
		NextToken string `json:",omitempty"`
	}{Contacts: []entry{}, NextToken: next}
	for _, c := range contacts {
		own, defaults := preferences(c, l)
		out.Contacts = append(out.Contacts, entry{c.Email, own, defaults, c.UnsubscribeAll, epochTime(c.Updated)})
	}
	return out, nil
}
