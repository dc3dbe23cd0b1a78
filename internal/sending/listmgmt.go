package sending

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"sesame/internal/listmgmt"
	"sesame/internal/seserr"
	"sesame/internal/spool"
	"sesame/internal/store"
)

// ListManagement is how mail sent with list management options gets its
// unsubscribe links: the key that signs them and where they point (the
// API listener, as recipients reach it).
type ListManagement struct {
	Links *listmgmt.Links
	// BaseURL is scheme://host[:port] of the API listener as recipients
	// reach it (verification.link_base_url, or http://<api.listen>).
	BaseURL string
}

// ParseListManagementOptions reads an X-SES-LIST-MANAGEMENT-OPTIONS value:
// "<list>" or "<list>; topic=<topic>" (SES's form; spaces around the parts
// are allowed).
func ParseListManagementOptions(v string) (*spool.ListManagement, error) {
	list, rest, hasTopic := strings.Cut(v, ";")
	lm := &spool.ListManagement{ContactList: strings.TrimSpace(list)}
	if hasTopic {
		k, topic, ok := strings.Cut(strings.TrimSpace(rest), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "topic") {
			return nil, seserr.InvalidListManagementOptions(v)
		}
		lm.Topic = strings.TrimSpace(topic)
		if lm.Topic == "" {
			return nil, seserr.InvalidListManagementOptions(v)
		}
	}
	if lm.ContactList == "" {
		return nil, seserr.InvalidListManagementOptions(v)
	}
	return lm, nil
}

// checkListManagement checks the message's list management options (the
// API's ListManagementOptions, else the control header) and finds the
// recipients who are contacts of the list unsubscribed from it or from
// the topic. Such a message is accepted all the same and its other
// recipients are sent to; those are never delivered to and each becomes
// a Bounce (SES: "SES will issue a bounce event for a message that is
// sent to an unsubscribed contact on your contact list"). A recipient who
// is not a contact of the list is sent to (SES adds the unsubscribe link
// for them too; using it makes them a contact).
//
// The check is made here, at admission, rather than at delivery: sending
// is the one place that decides who may be sent to, the answer travels
// in the spooled envelope (Meta.Unsubscribed), so a message accepted is
// never lost to a store failure later (a failure here is a temporary
// refusal the client retries), and capture and MX mode bounce the same
// recipients. A contact who unsubscribes after the message was accepted
// is skipped from the next message on, as with SES's queue.
func (s *Sender) checkListManagement(ctx context.Context, sub *Submission, h *header, meta *spool.Meta) error {
	if meta.ListManagement == nil && h.hasListMgmt {
		lm, err := ParseListManagementOptions(h.listMgmt)
		if err != nil {
			return err
		}
		meta.ListManagement = lm
	}
	lm := meta.ListManagement
	if lm == nil {
		return nil
	}
	if lm.ContactList == "" {
		return seserr.MissingParameter("ListManagementOptions.ContactListName")
	}
	l, err := s.store.ContactList(ctx, sub.AccountID, sub.Region, lm.ContactList)
	if errors.Is(err, store.ErrNotFound) {
		return seserr.ContactListDoesNotExist(lm.ContactList)
	}
	if err != nil {
		return seserr.TemporaryFailure().Wrap(fmt.Errorf("sending: contact list %s: %w", lm.ContactList, err))
	}
	if lm.Topic != "" && !listHasTopic(l, lm.Topic) {
		return seserr.TopicDoesNotExist(lm.Topic, lm.ContactList)
	}
	meta.Unsubscribed = nil
	for _, r := range sub.Recipients {
		c, _, err := s.store.Contact(ctx, sub.AccountID, sub.Region, lm.ContactList, r)
		if errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrNoContactList) {
			continue
		}
		if err != nil {
			return seserr.TemporaryFailure().Wrap(fmt.Errorf("sending: contact %s of %s: %w", r, lm.ContactList, err))
		}
		if listmgmt.Unsubscribed(c, l, lm.Topic) {
			meta.Unsubscribed = append(meta.Unsubscribed, r)
		}
	}
	return nil
}

func listHasTopic(l store.ContactList, topic string) bool {
	for _, t := range l.Topics {
		if t.Name == topic {
			return true
		}
	}
	return false
}

// listManage gives a message with list management options its unsubscribe
// link (listmgmt.Apply: List-Unsubscribe, List-Unsubscribe-Post and the
// {{amazonSESUnsubscribeUrl}} placeholder) once its MessageId is known. As
// SES, only a message to one recipient gets them: the link is that
// recipient's. One that will not be delivered (unsubscribed, rejected,
// not rendered) is left as it is.
func (s *Sender) listManage(sub *Submission, meta *spool.Meta, id string) error {
	lm := meta.ListManagement
	if lm == nil || s.listMgmt == nil || len(sub.Recipients) != 1 || len(meta.Unsubscribed) > 0 ||
		meta.RenderingFailure != "" || meta.Rejected != "" {
		return nil
	}
	url := s.listMgmt.Links.URL(s.listMgmt.BaseURL, listmgmt.Token{AccountID: sub.AccountID, Region: sub.Region,
		List: lm.ContactList, Topic: lm.Topic, Email: sub.Recipients[0], MessageID: id})
	msg, err := io.ReadAll(sub.Draft.Reader())
	if err != nil {
		return fmt.Errorf("sending: reading %s for its unsubscribe link: %w", id, err)
	}
	out, err := listmgmt.Apply(msg, url)
	if err != nil {
		return fmt.Errorf("sending: unsubscribe link of %s: %w", id, err)
	}
	d, err := s.DraftOf(out)
	if err != nil {
		return err
	}
	if err := sub.Draft.Discard(); err != nil {
		s.logger.Warn("sending: discarding the draft without its unsubscribe link", "message", id, "err", err)
	}
	sub.Draft = d
	return nil
}
