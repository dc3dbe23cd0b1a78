package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"sesame/internal/events"
	"sesame/internal/seserr"
	"sesame/internal/sns"
	"sesame/internal/store"
)

// The event-destination group: where a configuration set's events go.
// v2 Create/Get/Update/DeleteConfigurationSetEventDestination(s); v1
// Create/Update/DeleteConfigurationSetEventDestination (v1 reads them back
// through DescribeConfigurationSet, configsets.go). Both protocols decode
// into store.EventDestination and call the core below. Every destination
// kind is stored; sesame publishes to SNS destinations only.

func (s *Server) registerEventDestinations() {
	const base = "/v2/email/configuration-sets/{ConfigurationSetName}/event-destinations"
	s.handleV2("POST "+base, s.createEventDestinationV2)
	s.handleV2("GET "+base, s.getEventDestinationsV2)
	s.handleV2("PUT "+base+"/{EventDestinationName}", s.updateEventDestinationV2)
	s.handleV2("DELETE "+base+"/{EventDestinationName}", s.deleteEventDestinationV2)

	s.handleV1("CreateConfigurationSetEventDestination", s.createEventDestinationV1)
	s.handleV1("UpdateConfigurationSetEventDestination", s.updateEventDestinationV1)
	s.handleV1("DeleteConfigurationSetEventDestination", s.deleteEventDestinationV1)
}

// maxEventDestinations is SES's limit per configuration set.
const maxEventDestinations = 10

// eventTypes maps SES v2's event type names to v1's, in v2's order.
var eventTypes = []struct{ v2, v1 string }{
	{"SEND", "send"}, {"REJECT", "reject"}, {"BOUNCE", "bounce"}, {"COMPLAINT", "complaint"},
	{"DELIVERY", "delivery"}, {"OPEN", "open"}, {"CLICK", "click"},
	{"RENDERING_FAILURE", "renderingFailure"}, {"DELIVERY_DELAY", "deliveryDelay"}, {"SUBSCRIPTION", "subscription"},
}

// dimensionSources maps CloudWatch's DimensionValueSource, v2 to v1.
var dimensionSources = map[string]string{"MESSAGE_TAG": "messageTag", "EMAIL_HEADER": "emailHeader", "LINK_TAG": "linkTag"}

// --- the core, shared by both protocols ----------------------------------

// checkEventDestination checks what needs no lookup: the name, the event
// types (made unique, in the order given) and that exactly one destination
// is given.
func checkEventDestination(d *store.EventDestination) error {
	if !validConfigurationSetName(d.Name) {
		return seserr.InvalidEventDestinationName(d.Name)
	}
	if len(d.MatchingEventTypes) == 0 {
		return seserr.MissingParameter("MatchingEventTypes")
	}
	var types []string
	for _, t := range d.MatchingEventTypes {
		if !slices.ContainsFunc(eventTypes, func(e struct{ v2, v1 string }) bool { return e.v2 == t }) {
			return seserr.InvalidEventType(t)
		}
		if !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	d.MatchingEventTypes = types
	o := d.Other
	n := 0
	for _, set := range []bool{d.SNSTopicARN != "", o.KinesisFirehose != nil, o.CloudWatch != nil, o.EventBridge != nil, o.Pinpoint != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return seserr.BadRequest("An event destination must have exactly one destination: SNS, Kinesis Firehose, CloudWatch, EventBridge or Pinpoint.")
	}
	if cw := o.CloudWatch; cw != nil {
		for _, dim := range cw.DimensionConfigurations {
			if dim.DimensionName == "" {
				return seserr.MissingParameter("DimensionName")
			}
			if _, ok := dimensionSources[dim.DimensionValueSource]; !ok {
				return seserr.InvalidDimensionValueSource(dim.DimensionValueSource)
			}
		}
	}
	return nil
}

// topicExists reports whether topicARN names an SNS topic of the caller's
// account. Without Config.Topics any well-formed ARN of the account counts.
// A topic of another account never does: sesame does not evaluate topic
// policies, so it publishes only to the caller's own topics.
func (s *Server) topicExists(ctx context.Context, topicARN string) (bool, error) {
	parts := strings.SplitN(topicARN, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] != "sns" || parts[3] == "" || parts[5] == "" ||
		parts[4] != principal(ctx).AccountID {
		return false, nil
	}
	if s.cfg.Topics == nil {
		return true, nil
	}
	ok, err := s.cfg.Topics.TopicExists(ctx, topicARN)
	if err != nil {
		return false, fmt.Errorf("api: SNS topic %s: %w", topicARN, err)
	}
	return ok, nil
}

// checkSNSDestination: an SNS destination's topic must exist.
func (s *Server) checkSNSDestination(ctx context.Context, d store.EventDestination) error {
	if d.SNSTopicARN == "" {
		return nil
	}
	ok, err := s.topicExists(ctx, d.SNSTopicARN)
	if err != nil {
		return err
	}
	if !ok {
		return seserr.InvalidSNSDestination(d.SNSTopicARN)
	}
	return nil
}

// createEventDestination: SES's order is the request's own checks, the
// configuration set, the topic.
func (s *Server) createEventDestination(ctx context.Context, d store.EventDestination) error {
	if err := checkEventDestination(&d); err != nil {
		return err
	}
	if _, err := s.configurationSet(ctx, d.ConfigurationSet); err != nil {
		return err
	}
	if err := s.checkSNSDestination(ctx, d); err != nil {
		return err
	}
	p := principal(ctx)
	d.AccountID, d.Region, d.Created = p.AccountID, p.Region, s.clk.Now()
	err := s.cfg.Store.CreateEventDestination(ctx, d, maxEventDestinations)
	switch {
	case errors.Is(err, store.ErrNotFound): // deleted meanwhile
		return seserr.ConfigurationSetDoesNotExist(d.ConfigurationSet)
	case errors.Is(err, store.ErrExists):
		return seserr.EventDestinationAlreadyExists(d.ConfigurationSet, d.Name)
	case errors.Is(err, store.ErrLimit):
		return seserr.EventDestinationLimitExceeded(d.ConfigurationSet, maxEventDestinations)
	case err != nil:
		return err
	}
	s.validateTopic(ctx, d)
	return nil
}

// validateTopic publishes the notification SES sends a topic when an event
// destination starts using it (spec §9: no Subject, SES's text), so a
// subscriber sees at once that the wiring works. A failure is logged: the
// destination is made all the same.
func (s *Server) validateTopic(ctx context.Context, d store.EventDestination) {
	if d.SNSTopicARN == "" || s.cfg.SNS == nil {
		return
	}
	if _, err := s.cfg.SNS.Publish(ctx, []sns.Publication{{TopicArn: d.SNSTopicARN, Message: events.TopicValidationMessage}}); err != nil {
		s.log.Warn("api: publishing the SNS topic validation message", "topic", d.SNSTopicARN, "err", err)
	}
}

func (s *Server) updateEventDestination(ctx context.Context, d store.EventDestination) error {
	if err := checkEventDestination(&d); err != nil {
		return err
	}
	if _, err := s.configurationSet(ctx, d.ConfigurationSet); err != nil {
		return err
	}
	if err := s.checkSNSDestination(ctx, d); err != nil {
		return err
	}
	p := principal(ctx)
	d.AccountID, d.Region = p.AccountID, p.Region
	err := s.cfg.Store.UpdateEventDestination(ctx, d)
	if errors.Is(err, store.ErrNotFound) {
		return seserr.EventDestinationDoesNotExist(d.ConfigurationSet)
	}
	return err
}

func (s *Server) deleteEventDestination(ctx context.Context, configSet, name string) error {
	if _, err := s.configurationSet(ctx, configSet); err != nil {
		return err
	}
	p := principal(ctx)
	err := s.cfg.Store.DeleteEventDestination(ctx, p.AccountID, p.Region, configSet, name)
	if errors.Is(err, store.ErrNotFound) {
		return seserr.EventDestinationDoesNotExist(configSet)
	}
	return err
}

func (s *Server) eventDestinations(ctx context.Context, configSet string) ([]store.EventDestination, error) {
	if _, err := s.configurationSet(ctx, configSet); err != nil {
		return nil, err
	}
	p := principal(ctx)
	return s.cfg.Store.EventDestinations(ctx, p.AccountID, p.Region, configSet)
}

// --- v2 ------------------------------------------------------------------

type snsDestinationV2 struct{ TopicArn string }

// eventDestinationV2 is v2's EventDestinationDefinition (request) and, with
// Name, its EventDestination (response). The other kinds' store shapes are
// v2's own.
type eventDestinationV2 struct {
	Name                       string `json:",omitempty"`
	Enabled                    bool
	MatchingEventTypes         []string
	KinesisFirehoseDestination *store.KinesisFirehoseDestination `json:",omitempty"`
	CloudWatchDestination      *store.CloudWatchDestination      `json:",omitempty"`
	SnsDestination             *snsDestinationV2                 `json:",omitempty"`
	EventBridgeDestination     *store.EventBridgeDestination     `json:",omitempty"`
	PinpointDestination        *store.PinpointDestination        `json:",omitempty"`
}

func (e *eventDestinationV2) store(configSet, name string) (store.EventDestination, error) {
	d := store.EventDestination{ConfigurationSet: configSet, Name: name}
	d.Enabled, d.MatchingEventTypes = e.Enabled, e.MatchingEventTypes
	d.Other = store.OtherDestinations{KinesisFirehose: e.KinesisFirehoseDestination, CloudWatch: e.CloudWatchDestination,
		EventBridge: e.EventBridgeDestination, Pinpoint: e.PinpointDestination}
	if e.SnsDestination != nil {
		if d.SNSTopicARN = e.SnsDestination.TopicArn; d.SNSTopicARN == "" {
			return d, seserr.MissingParameter("TopicArn")
		}
	}
	return d, nil
}

func eventDestinationOutV2(d store.EventDestination) eventDestinationV2 {
	out := eventDestinationV2{Name: d.Name, Enabled: d.Enabled, MatchingEventTypes: nonNil(d.MatchingEventTypes),
		KinesisFirehoseDestination: d.Other.KinesisFirehose, CloudWatchDestination: d.Other.CloudWatch,
		EventBridgeDestination: d.Other.EventBridge, PinpointDestination: d.Other.Pinpoint}
	if d.SNSTopicARN != "" {
		out.SnsDestination = &snsDestinationV2{TopicArn: d.SNSTopicARN}
	}
	return out
}

func (s *Server) createEventDestinationV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct {
		EventDestinationName string
		EventDestination     *eventDestinationV2
	}
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	if in.EventDestinationName == "" {
		return nil, seserr.MissingParameter("EventDestinationName")
	}
	if in.EventDestination == nil {
		return nil, seserr.MissingParameter("EventDestination")
	}
	d, err := in.EventDestination.store(r.PathValue("ConfigurationSetName"), in.EventDestinationName)
	if err != nil {
		return nil, err
	}
	return nil, s.createEventDestination(ctx, d)
}

func (s *Server) getEventDestinationsV2(ctx context.Context, r *http.Request) (any, error) {
	list, err := s.eventDestinations(ctx, r.PathValue("ConfigurationSetName"))
	if err != nil {
		return nil, err
	}
	out := make([]eventDestinationV2, 0, len(list))
	for _, d := range list {
		out = append(out, eventDestinationOutV2(d))
	}
	return map[string]any{"EventDestinations": out}, nil
}

func (s *Server) updateEventDestinationV2(ctx context.Context, r *http.Request) (any, error) {
	var in struct{ EventDestination *eventDestinationV2 }
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	if in.EventDestination == nil {
		return nil, seserr.MissingParameter("EventDestination")
	}
	d, err := in.EventDestination.store(r.PathValue("ConfigurationSetName"), r.PathValue("EventDestinationName"))
	if err != nil {
		return nil, err
	}
	return nil, s.updateEventDestination(ctx, d)
}

func (s *Server) deleteEventDestinationV2(ctx context.Context, r *http.Request) (any, error) {
	return nil, s.deleteEventDestination(ctx, r.PathValue("ConfigurationSetName"), r.PathValue("EventDestinationName"))
}

// --- v1 ------------------------------------------------------------------

// eventDestinationV1 reads v1's EventDestination.* parameters.
func eventDestinationV1(q queryArgs) (store.EventDestination, error) {
	configSet, err := q.Required("ConfigurationSetName")
	if err != nil {
		return store.EventDestination{}, err
	}
	e := q.Sub("EventDestination")
	name, err := e.Required("Name")
	if err != nil {
		return store.EventDestination{}, seserr.MissingParameter("EventDestination.Name")
	}
	d := store.EventDestination{ConfigurationSet: configSet, Name: name}
	if d.Enabled, _, err = e.Bool("Enabled"); err != nil {
		return d, err
	}
	for _, t := range e.List("MatchingEventTypes") {
		i := slices.IndexFunc(eventTypes, func(et struct{ v2, v1 string }) bool { return et.v1 == t })
		if i < 0 {
			return d, seserr.InvalidEventType(t)
		}
		d.MatchingEventTypes = append(d.MatchingEventTypes, eventTypes[i].v2)
	}
	if e.Has("SNSDestination.TopicARN") {
		if d.SNSTopicARN = e.Get("SNSDestination.TopicARN"); d.SNSTopicARN == "" {
			return d, seserr.MissingParameter("EventDestination.SNSDestination.TopicARN")
		}
	}
	if e.Has("KinesisFirehoseDestination.IAMRoleARN") || e.Has("KinesisFirehoseDestination.DeliveryStreamARN") {
		d.Other.KinesisFirehose = &store.KinesisFirehoseDestination{IamRoleArn: e.Get("KinesisFirehoseDestination.IAMRoleARN"),
			DeliveryStreamArn: e.Get("KinesisFirehoseDestination.DeliveryStreamARN")}
	}
	if dims := e.Members("CloudWatchDestination.DimensionConfigurations"); len(dims) > 0 {
		cw := &store.CloudWatchDestination{}
		for _, m := range dims {
			dim := e.Sub(m)
			src := dim.Get("DimensionValueSource")
			for v2, v1 := range dimensionSources {
				if v1 == src {
					src = v2
				}
			}
			cw.DimensionConfigurations = append(cw.DimensionConfigurations, store.CloudWatchDimension{
				DimensionName: dim.Get("DimensionName"), DimensionValueSource: src, DefaultDimensionValue: dim.Get("DefaultDimensionValue")})
		}
		d.Other.CloudWatch = cw
	}
	return d, nil
}

func (s *Server) createEventDestinationV1(ctx context.Context, q queryArgs) (any, error) {
	d, err := eventDestinationV1(q)
	if err != nil {
		return nil, err
	}
	return nil, s.createEventDestination(ctx, d)
}

func (s *Server) updateEventDestinationV1(ctx context.Context, q queryArgs) (any, error) {
	d, err := eventDestinationV1(q)
	if err != nil {
		return nil, err
	}
	return nil, s.updateEventDestination(ctx, d)
}

func (s *Server) deleteEventDestinationV1(ctx context.Context, q queryArgs) (any, error) {
	set, err := q.Required("ConfigurationSetName")
	if err != nil {
		return nil, err
	}
	name, err := q.Required("EventDestinationName")
	if err != nil {
		return nil, err
	}
	return nil, s.deleteEventDestination(ctx, set, name)
}

// v1's EventDestination in DescribeConfigurationSet: TopicARN, IAMRoleARN
// spelled as v1 does, event types in v1 spelling and sorted (as recorded
// on SES). v1 has no EventBridge or Pinpoint destinations.
type (
	snsDestinationV1      struct{ TopicARN string }
	firehoseDestinationV1 struct{ IAMRoleARN, DeliveryStreamARN string }
	dimensionV1           struct{ DimensionName, DimensionValueSource, DefaultDimensionValue string }
	cloudWatchV1          struct {
		DimensionConfigurations []dimensionV1 `xml:"DimensionConfigurations>member"`
	}
	eventDestinationOutV1 struct {
		Name                       string
		Enabled                    bool
		MatchingEventTypes         []string               `xml:"MatchingEventTypes>member"`
		SNSDestination             *snsDestinationV1      `xml:",omitempty"`
		KinesisFirehoseDestination *firehoseDestinationV1 `xml:",omitempty"`
		CloudWatchDestination      *cloudWatchV1          `xml:",omitempty"`
	}
)

func eventDestinationsV1(list []store.EventDestination) []eventDestinationOutV1 {
	out := make([]eventDestinationOutV1, 0, len(list))
	for _, d := range list {
		e := eventDestinationOutV1{Name: d.Name, Enabled: d.Enabled, MatchingEventTypes: []string{}}
		for _, t := range d.MatchingEventTypes {
			if i := slices.IndexFunc(eventTypes, func(et struct{ v2, v1 string }) bool { return et.v2 == t }); i >= 0 {
				e.MatchingEventTypes = append(e.MatchingEventTypes, eventTypes[i].v1)
			}
		}
		slices.Sort(e.MatchingEventTypes)
		if d.SNSTopicARN != "" {
			e.SNSDestination = &snsDestinationV1{d.SNSTopicARN}
		}
		if f := d.Other.KinesisFirehose; f != nil {
			e.KinesisFirehoseDestination = &firehoseDestinationV1{f.IamRoleArn, f.DeliveryStreamArn}
		}
		if cw := d.Other.CloudWatch; cw != nil {
			e.CloudWatchDestination = &cloudWatchV1{DimensionConfigurations: []dimensionV1{}}
			for _, dim := range cw.DimensionConfigurations {
				e.CloudWatchDestination.DimensionConfigurations = append(e.CloudWatchDestination.DimensionConfigurations,
					dimensionV1{dim.DimensionName, dimensionSources[dim.DimensionValueSource], dim.DefaultDimensionValue})
			}
		}
		out = append(out, e)
	}
	return out
}
