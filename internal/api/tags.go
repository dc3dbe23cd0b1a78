package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"sesame/internal/policy"
	"sesame/internal/seserr"
	"sesame/internal/store"
)

// The tag group: v2 TagResource, UntagResource and ListTagsForResource, by
// SES's resource ARNs (arn:aws:ses:REGION:ACCOUNT:TYPE/NAME), and the
// validation the create operations' Tags share. v1 has no tagging. A
// resource's tags are its account's and region's: an ARN naming another
// account or region is refused, never looked up there.

func (s *Server) registerTags() {
	s.handleV2("POST /v2/email/tags", s.tagResourceV2)
	s.handleV2("DELETE /v2/email/tags", s.untagResourceV2)
	s.handleV2("GET /v2/email/tags", s.listTagsForResourceV2)
}

// TagStore is what the tag operations need of the store.
type TagStore interface {
	ResourceTags(ctx context.Context, r store.Resource) ([]store.Tag, error)
	TagResource(ctx context.Context, r store.Resource, tags []store.Tag, max int) error
	UntagResource(ctx context.Context, r store.Resource, keys []string) error
	SetResourceTags(ctx context.Context, r store.Resource, tags []store.Tag) error
}

func (s *Server) tagStore() TagStore { return s.cfg.Store }

// SES's tag limits.
const (
	maxTags        = 50
	maxTagKeyLen   = 128
	maxTagValueLen = 256
)

// taggableKind is one resource type of SES's ARNs: the store's type and
// SES's name for it in NotFound messages. Types whose resources sesame
// does not have yet are listed all the same: their ARNs parse and name no
// resource (the store has no table for them).
type taggableKind struct {
	typ  store.ResourceType
	name string
}

var taggableKinds = map[string]taggableKind{
	"configuration-set":                  {store.ResourceConfigurationSet, "ConfigurationSet"},
	"identity":                           {store.ResourceIdentity, "EmailIdentity"},
	"template":                           {store.ResourceTemplate, "Template"},
	"contact-list":                       {"contact-list", "ContactList"},
	"dedicated-ip-pool":                  {"dedicated-ip-pool", "DedicatedIpPool"},
	"custom-verification-email-template": {store.ResourceCustomVerificationTemplate, "CustomVerificationEmailTemplate"},
}

// taggedResource is a parsed resource ARN.
type taggedResource struct {
	store.Resource
	kind taggableKind
}

// parseResourceArn reads arn:PARTITION:ses:REGION:ACCOUNT:TYPE/NAME.
func parseResourceArn(arn string) (taggedResource, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || !strings.HasPrefix(parts[1], "aws") || parts[2] != "ses" ||
		parts[3] == "" || !policy.IsAccountID(parts[4]) {
		return taggedResource{}, seserr.InvalidResourceArn(arn)
	}
	typ, name, ok := strings.Cut(parts[5], "/")
	kind, known := taggableKinds[typ]
	if !ok || !known || name == "" {
		return taggedResource{}, seserr.InvalidResourceArn(arn)
	}
	return taggedResource{kind: kind, Resource: store.Resource{AccountID: parts[4], Region: parts[3], Type: kind.typ, Name: name}}, nil
}

// callersResource parses arn and checks it is the caller's: for another
// account or region, foreign is the error.
func callersResource(ctx context.Context, arn string, foreign error) (taggedResource, error) {
	if arn == "" {
		return taggedResource{}, seserr.MissingParameter("ResourceArn")
	}
	res, err := parseResourceArn(arn)
	if err != nil {
		return res, err
	}
	if p := principal(ctx); res.AccountID != p.AccountID || res.Region != p.Region {
		if foreign == nil {
			return res, res.notFound()
		}
		return res, foreign
	}
	return res, nil
}

func (r taggedResource) notFound() error {
	return seserr.TaggedResourceNotFound(r.kind.name, r.Name)
}

// validateTags checks tags as SES does, in its order: how many, the
// characters (value before key), the reserved prefix, the lengths (all
// reported together), then duplicate keys.
func validateTags(tags []store.Tag) error {
	if len(tags) > maxTags {
		return seserr.TagsTooMany(maxTags)
	}
	for _, t := range tags {
		if !validTagText(t.Value) || !validTagText(t.Key) {
			return seserr.TagCharacters()
		}
	}
	for _, t := range tags {
		if reservedTagKey(t.Key) {
			return seserr.TagReservedPrefix()
		}
	}
	var lengths []seserr.TagLength
	for i, t := range tags {
		// Lengths count characters (code points), as SES's model does.
		if utf8.RuneCountInString(t.Value) > maxTagValueLen {
			lengths = append(lengths, seserr.TagLength{Index: i + 1, Member: "value", Max: maxTagValueLen})
		}
		switch n := utf8.RuneCountInString(t.Key); {
		case n > maxTagKeyLen:
			lengths = append(lengths, seserr.TagLength{Index: i + 1, Member: "key", Max: maxTagKeyLen})
		case n == 0:
			lengths = append(lengths, seserr.TagLength{Index: i + 1, Member: "key"})
		}
	}
	if len(lengths) > 0 {
		return seserr.TagLengths(lengths)
	}
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		if seen[t.Key] {
			return seserr.TagDuplicateKey()
		}
		seen[t.Key] = true
	}
	return nil
}

// validTagText: Unicode letters, digits, white space and _ . : / = + - @.
func validTagText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, c := range s {
		if unicode.IsLetter(c) || unicode.IsNumber(c) || unicode.IsSpace(c) || unicode.Is(unicode.Zs, c) {
			continue
		}
		if !strings.ContainsRune("_.:/=+-@", c) {
			return false
		}
	}
	return true
}

// reservedTagKey: "aws:" (any case) is AWS's own prefix.
func reservedTagKey(key string) bool {
	return len(key) >= 4 && strings.EqualFold(key[:4], "aws:")
}

// setCreatedTags keeps the tags a create operation was given (already
// validated) on the resource it made.
func (s *Server) setCreatedTags(ctx context.Context, typ store.ResourceType, name string, tags []store.Tag) error {
	if len(tags) == 0 {
		return nil
	}
	p := principal(ctx)
	return s.tagStore().SetResourceTags(ctx, store.Resource{AccountID: p.AccountID, Region: p.Region, Type: typ, Name: name}, tags)
}

// resourceTags is a resource's tags for its Get operation (never nil).
func (s *Server) resourceTags(ctx context.Context, typ store.ResourceType, name string) ([]store.Tag, error) {
	p := principal(ctx)
	return s.tagStore().ResourceTags(ctx, store.Resource{AccountID: p.AccountID, Region: p.Region, Type: typ, Name: name})
}

// --- v2 ------------------------------------------------------------------

func (s *Server) tagResourceV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct {
		ResourceArn string
		Tags        *[]store.Tag
	}
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	if in.ResourceArn == "" {
		return nil, seserr.MissingParameter("ResourceArn")
	}
	if in.Tags == nil {
		return nil, seserr.MissingParameter("Tags")
	}
	res, err := callersResource(ctx, in.ResourceArn, seserr.TagForeignResource("tag"))
	if err != nil {
		return nil, err
	}
	if err := validateTags(*in.Tags); err != nil {
		return nil, err
	}
	err = s.tagStore().TagResource(ctx, res.Resource, *in.Tags, maxTags)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, res.notFound()
	case errors.Is(err, store.ErrLimit):
		return nil, seserr.TagsTooManyAfterMerge(maxTags)
	}
	return nil, err
}

func (s *Server) untagResourceV2(ctx context.Context, r *http.Request) (any, error) {
	q := r.URL.Query()
	res, err := callersResource(ctx, q.Get("ResourceArn"), seserr.TagForeignResource("untag"))
	if err != nil {
		return nil, err
	}
	keys := q["TagKeys"]
	if len(keys) == 0 {
		return nil, seserr.MissingParameter("TagKeys")
	}
	for _, k := range keys {
		if reservedTagKey(k) {
			return nil, seserr.TagReservedPrefix()
		}
	}
	err = s.tagStore().UntagResource(ctx, res.Resource, keys)
	if errors.Is(err, store.ErrNotFound) {
		return nil, res.notFound()
	}
	return nil, err
}

func (s *Server) listTagsForResourceV2(ctx context.Context, r *http.Request) (any, error) {
	// Another account's or region's resource is one the caller has not got.
	res, err := callersResource(ctx, r.URL.Query().Get("ResourceArn"), nil)
	if err != nil {
		return nil, err
	}
	tags, err := s.tagStore().ResourceTags(ctx, res.Resource)
	if errors.Is(err, store.ErrNotFound) {
		return nil, res.notFound()
	}
	if err != nil {
		return nil, err
	}
	return map[string]any{"Tags": tags}, nil
}
