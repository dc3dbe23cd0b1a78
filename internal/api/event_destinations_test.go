package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	v1types "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"

	"sesame/internal/clock"
	"sesame/internal/store"
)

// fakeTopics is Config.Topics: the names of the topics that exist (the
// API checks the ARN's account itself); "broken" fails.
type fakeTopics map[string]bool

func (f fakeTopics) TopicExists(_ context.Context, arn string) (bool, error) {
	name := arn[strings.LastIndexByte(arn, ':')+1:]
	if name == "broken" {
		return false, errors.New("SNS is down")
	}
	return f[name], nil
}

// newTopicsEnv is newAcctEnv with Config.Topics set.
func newTopicsEnv(t *testing.T, topics Topics) *acctEnv {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	acct, key, err := st.CreateAccount(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Now())
	srv := New(Config{Store: st, Regions: []string{"eu-west-1", "us-east-1"}, Clock: clk, Topics: topics})
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	e := &acctEnv{st: st, srv: srv, url: hs.URL, clk: clk, acct: acct.ID, region: "eu-west-1",
		creds: aws.Credentials{AccessKeyID: key.ID, SecretAccessKey: key.Secret}}
	e.v2, e.v1 = e.clients(e.region)
	return e
}

func (e *acctEnv) topic(name string) string { return "arn:aws:sns:eu-west-1:" + e.acct + ":" + name }

// wantAPIError checks an SDK error's code and message.
func wantAPIError(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v, want %s %q", err, code, msg)
	}
	if ae.ErrorCode() != code || ae.ErrorMessage() != msg {
		t.Fatalf("error = %s %q, want %s %q", ae.ErrorCode(), ae.ErrorMessage(), code, msg)
	}
}

// signedQuery sends a signed v1 request and returns the answer's body.
func (e *acctEnv) signedQuery(t *testing.T, form url.Values) string {
	t.Helper()
	form.Set("Version", "2010-12-01")
	body := form.Encode()
	req, err := http.NewRequest(http.MethodPost, e.url+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), e.creds, req, hex.EncodeToString(sum[:]), "ses", e.region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: status %d: %s", form.Get("Action"), resp.StatusCode, b)
	}
	return string(b)
}

func TestEventDestinationsV2(t *testing.T) {
	t.Parallel()
	e := newTopicsEnv(t, nil)
	ctx := context.Background()
	if _, err := e.v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("cs")}); err != nil {
		t.Fatal(err)
	}
	create := func(name string, def v2types.EventDestinationDefinition) error {
		_, err := e.v2.CreateConfigurationSetEventDestination(ctx, &sesv2.CreateConfigurationSetEventDestinationInput{
			ConfigurationSetName: aws.String("cs"), EventDestinationName: aws.String(name), EventDestination: &def})
		return err
	}
	if err := create("to-sns", v2types.EventDestinationDefinition{Enabled: true,
		MatchingEventTypes: []v2types.EventType{"SEND", "BOUNCE", "DELIVERY", "BOUNCE"},
		SnsDestination:     &v2types.SnsDestination{TopicArn: aws.String(e.topic("events"))}}); err != nil {
		t.Fatal(err)
	}
	if err := create("a-firehose", v2types.EventDestinationDefinition{MatchingEventTypes: []v2types.EventType{"OPEN", "CLICK"},
		KinesisFirehoseDestination: &v2types.KinesisFirehoseDestination{IamRoleArn: aws.String("arn:aws:iam::1:role/r"), DeliveryStreamArn: aws.String("arn:aws:firehose:eu-west-1:1:deliverystream/s")}}); err != nil {
		t.Fatal(err)
	}
	if err := create("cw", v2types.EventDestinationDefinition{Enabled: true, MatchingEventTypes: []v2types.EventType{"RENDERING_FAILURE", "DELIVERY_DELAY", "SUBSCRIPTION"},
		CloudWatchDestination: &v2types.CloudWatchDestination{DimensionConfigurations: []v2types.CloudWatchDimensionConfiguration{
			{DimensionName: aws.String("campaign"), DimensionValueSource: "MESSAGE_TAG", DefaultDimensionValue: aws.String("none")}}}}); err != nil {
		t.Fatal(err)
	}
	got, err := e.v2.GetConfigurationSetEventDestinations(ctx, &sesv2.GetConfigurationSetEventDestinationsInput{ConfigurationSetName: aws.String("cs")})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range got.EventDestinations {
		names = append(names, aws.ToString(d.Name))
	}
	if !slices.Equal(names, []string{"a-firehose", "cw", "to-sns"}) {
		t.Fatalf("names = %v", names)
	}
	fh, cw, sns := got.EventDestinations[0], got.EventDestinations[1], got.EventDestinations[2]
	if !sns.Enabled || !slices.Equal(sns.MatchingEventTypes, []v2types.EventType{"SEND", "BOUNCE", "DELIVERY"}) ||
		sns.SnsDestination == nil || aws.ToString(sns.SnsDestination.TopicArn) != e.topic("events") || sns.KinesisFirehoseDestination != nil {
		t.Errorf("SNS destination = %+v", sns)
	}
	if fh.Enabled || fh.KinesisFirehoseDestination == nil || aws.ToString(fh.KinesisFirehoseDestination.IamRoleArn) != "arn:aws:iam::1:role/r" || fh.SnsDestination != nil {
		t.Errorf("Firehose destination = %+v", fh)
	}
	if cw.CloudWatchDestination == nil || len(cw.CloudWatchDestination.DimensionConfigurations) != 1 ||
		cw.CloudWatchDestination.DimensionConfigurations[0].DimensionValueSource != "MESSAGE_TAG" {
		t.Errorf("CloudWatch destination = %+v", cw)
	}

	// Update replaces the definition.
	if _, err := e.v2.UpdateConfigurationSetEventDestination(ctx, &sesv2.UpdateConfigurationSetEventDestinationInput{
		ConfigurationSetName: aws.String("cs"), EventDestinationName: aws.String("to-sns"),
		EventDestination: &v2types.EventDestinationDefinition{Enabled: false, MatchingEventTypes: []v2types.EventType{"COMPLAINT"},
			SnsDestination: &v2types.SnsDestination{TopicArn: aws.String(e.topic("other"))}}}); err != nil {
		t.Fatal(err)
	}
	list, err := e.st.EventDestinations(ctx, e.acct, e.region, "cs")
	if err != nil || len(list) != 3 {
		t.Fatalf("store: %v %v", list, err)
	}
	if d := list[2]; d.Enabled || !slices.Equal(d.MatchingEventTypes, []string{"COMPLAINT"}) || d.SNSTopicARN != e.topic("other") || d.Matches("COMPLAINT") {
		t.Errorf("after update: %+v", d)
	}

	if _, err := e.v2.DeleteConfigurationSetEventDestination(ctx, &sesv2.DeleteConfigurationSetEventDestinationInput{
		ConfigurationSetName: aws.String("cs"), EventDestinationName: aws.String("cw")}); err != nil {
		t.Fatal(err)
	}
	got, _ = e.v2.GetConfigurationSetEventDestinations(ctx, &sesv2.GetConfigurationSetEventDestinationsInput{ConfigurationSetName: aws.String("cs")})
	if len(got.EventDestinations) != 2 {
		t.Errorf("after delete: %d destinations", len(got.EventDestinations))
	}

	// Deleting the set deletes its destinations.
	if _, err := e.v2.DeleteConfigurationSet(ctx, &sesv2.DeleteConfigurationSetInput{ConfigurationSetName: aws.String("cs")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("cs")}); err != nil {
		t.Fatal(err)
	}
	got, _ = e.v2.GetConfigurationSetEventDestinations(ctx, &sesv2.GetConfigurationSetEventDestinationsInput{ConfigurationSetName: aws.String("cs")})
	if got == nil || len(got.EventDestinations) != 0 {
		t.Errorf("a recreated set has the old destinations: %+v", got)
	}
}

func TestEventDestinationErrorsV2(t *testing.T) {
	t.Parallel()
	e := newTopicsEnv(t, fakeTopics{"events": true})
	ctx := context.Background()
	if _, err := e.v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("cs")}); err != nil {
		t.Fatal(err)
	}
	sns := func(arn string) *v2types.EventDestinationDefinition {
		return &v2types.EventDestinationDefinition{Enabled: true, MatchingEventTypes: []v2types.EventType{"SEND"},
			SnsDestination: &v2types.SnsDestination{TopicArn: aws.String(arn)}}
	}
	create := func(set, name string, def *v2types.EventDestinationDefinition) func() error {
		return func() error {
			_, err := e.v2.CreateConfigurationSetEventDestination(ctx, &sesv2.CreateConfigurationSetEventDestinationInput{
				ConfigurationSetName: aws.String(set), EventDestinationName: aws.String(name), EventDestination: def})
			return err
		}
	}
	for i := range 10 {
		if err := create("cs", fmt.Sprintf("d%d", i), sns(e.topic("events")))(); err != nil {
			t.Fatal(err)
		}
	}
	missingTopic := e.topic("missing")
	otherAccount := "arn:aws:sns:eu-west-1:999999999999:events"
	for _, tc := range []struct {
		name      string
		call      func() error
		code, msg string
	}{
		{"create in a missing set", create("nope", "x", sns(e.topic("events"))), "NotFoundException", "Configuration set <nope> does not exist."},
		{"duplicate name", create("cs", "d3", sns(e.topic("events"))), "AlreadyExistsException", "Event destination d3 already exists in configuration set <cs>."},
		{"an eleventh", create("cs", "d10", sns(e.topic("events"))), "LimitExceededException", "Maximum number of event destinations (10) reached for configuration set <cs>."},
		{"a topic that does not exist", create("cs", "x", sns(missingTopic)), "BadRequestException", "SNS topic <" + missingTopic + "> not found."},
		{"another account's topic", create("cs", "x", sns(otherAccount)), "BadRequestException", "SNS topic <" + otherAccount + "> not found."},
		{"not an ARN", create("cs", "x", sns("events")), "BadRequestException", "SNS topic <events> not found."},
		{"an unknown event type", create("cs", "x", &v2types.EventDestinationDefinition{MatchingEventTypes: []v2types.EventType{"OPENED"},
			SnsDestination: &v2types.SnsDestination{TopicArn: aws.String(e.topic("events"))}}), "BadRequestException", "Invalid event type OPENED."},
		{"no destination", create("cs", "x", &v2types.EventDestinationDefinition{MatchingEventTypes: []v2types.EventType{"SEND"}}),
			"BadRequestException", "An event destination must have exactly one destination: SNS, Kinesis Firehose, CloudWatch, EventBridge or Pinpoint."},
		{"two destinations", create("cs", "x", &v2types.EventDestinationDefinition{MatchingEventTypes: []v2types.EventType{"SEND"},
			SnsDestination:         &v2types.SnsDestination{TopicArn: aws.String(e.topic("events"))},
			EventBridgeDestination: &v2types.EventBridgeDestination{EventBusArn: aws.String("arn:aws:events:eu-west-1:1:event-bus/default")}}),
			"BadRequestException", "An event destination must have exactly one destination: SNS, Kinesis Firehose, CloudWatch, EventBridge or Pinpoint."},
		{"a bad name", create("cs", "a b", sns(e.topic("events"))), "BadRequestException",
			"Event destination name <a b> is invalid: it must be 1 to 64 ASCII letters, digits, underscores or dashes."},
		{"get of a missing set", func() error {
			_, err := e.v2.GetConfigurationSetEventDestinations(ctx, &sesv2.GetConfigurationSetEventDestinationsInput{ConfigurationSetName: aws.String("nope")})
			return err
		}, "NotFoundException", "Configuration set <nope> does not exist."},
		{"update of a missing destination", func() error {
			_, err := e.v2.UpdateConfigurationSetEventDestination(ctx, &sesv2.UpdateConfigurationSetEventDestinationInput{
				ConfigurationSetName: aws.String("cs"), EventDestinationName: aws.String("gone"), EventDestination: sns(e.topic("events"))})
			return err
		}, "NotFoundException", "No EventDestination found for cs"},
		{"update to a missing topic", func() error {
			_, err := e.v2.UpdateConfigurationSetEventDestination(ctx, &sesv2.UpdateConfigurationSetEventDestinationInput{
				ConfigurationSetName: aws.String("cs"), EventDestinationName: aws.String("d1"), EventDestination: sns(missingTopic)})
			return err
		}, "BadRequestException", "SNS topic <" + missingTopic + "> not found."},
		{"delete of a missing destination", func() error {
			_, err := e.v2.DeleteConfigurationSetEventDestination(ctx, &sesv2.DeleteConfigurationSetEventDestinationInput{
				ConfigurationSetName: aws.String("cs"), EventDestinationName: aws.String("gone")})
			return err
		}, "NotFoundException", "No EventDestination found for cs"},
		{"delete in a missing set", func() error {
			_, err := e.v2.DeleteConfigurationSetEventDestination(ctx, &sesv2.DeleteConfigurationSetEventDestinationInput{
				ConfigurationSetName: aws.String("nope"), EventDestinationName: aws.String("d1")})
			return err
		}, "NotFoundException", "Configuration set <nope> does not exist."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantAPIError(t, tc.call(), tc.code, tc.msg)
		})
	}
}

func TestEventDestinationsV1(t *testing.T) {
	t.Parallel()
	e := newTopicsEnv(t, fakeTopics{"events": true, "other": true})
	ctx := context.Background()
	if _, err := e.v1.CreateConfigurationSet(ctx, &ses.CreateConfigurationSetInput{ConfigurationSet: &v1types.ConfigurationSet{Name: aws.String("cs")}}); err != nil {
		t.Fatal(err)
	}
	dest := func(name, arn string, types ...v1types.EventType) *v1types.EventDestination {
		return &v1types.EventDestination{Name: aws.String(name), Enabled: true, MatchingEventTypes: types,
			SNSDestination: &v1types.SNSDestination{TopicARN: aws.String(arn)}}
	}
	if _, err := e.v1.CreateConfigurationSetEventDestination(ctx, &ses.CreateConfigurationSetEventDestinationInput{ConfigurationSetName: aws.String("cs"),
		EventDestination: dest("sns-dest", e.topic("events"), "send", "delivery", "bounce", "open", "click")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v1.CreateConfigurationSetEventDestination(ctx, &ses.CreateConfigurationSetEventDestinationInput{ConfigurationSetName: aws.String("cs"),
		EventDestination: &v1types.EventDestination{Name: aws.String("fh"), MatchingEventTypes: []v1types.EventType{"renderingFailure", "deliveryDelay"},
			KinesisFirehoseDestination: &v1types.KinesisFirehoseDestination{IAMRoleARN: aws.String("arn:aws:iam::1:role/r"), DeliveryStreamARN: aws.String("arn:aws:firehose:x")}}}); err != nil {
		t.Fatal(err)
	}
	got, err := e.v1.DescribeConfigurationSet(ctx, &ses.DescribeConfigurationSetInput{ConfigurationSetName: aws.String("cs"),
		ConfigurationSetAttributeNames: []v1types.ConfigurationSetAttribute{"eventDestinations"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.EventDestinations) != 2 {
		t.Fatalf("EventDestinations = %+v", got.EventDestinations)
	}
	fh, sns := got.EventDestinations[0], got.EventDestinations[1]
	if aws.ToString(sns.Name) != "sns-dest" || !sns.Enabled || sns.SNSDestination == nil || aws.ToString(sns.SNSDestination.TopicARN) != e.topic("events") ||
		!slices.Equal(sns.MatchingEventTypes, []v1types.EventType{"bounce", "click", "delivery", "open", "send"}) {
		t.Errorf("SNS destination = %+v", sns)
	}
	if fh.Enabled || fh.KinesisFirehoseDestination == nil || aws.ToString(fh.KinesisFirehoseDestination.IAMRoleARN) != "arn:aws:iam::1:role/r" ||
		!slices.Equal(fh.MatchingEventTypes, []v1types.EventType{"deliveryDelay", "renderingFailure"}) {
		t.Errorf("Firehose destination = %+v", fh)
	}
	// The wire spelling: v1 says TopicARN (the SDK matches names without case).
	raw := e.signedQuery(t, url.Values{"Action": {"DescribeConfigurationSet"}, "ConfigurationSetName": {"cs"},
		"ConfigurationSetAttributeNames.member.1": {"eventDestinations"}})
	if !strings.Contains(raw, "<SNSDestination><TopicARN>"+e.topic("events")+"</TopicARN></SNSDestination>") ||
		!strings.Contains(raw, "<IAMRoleARN>arn:aws:iam::1:role/r</IAMRoleARN>") {
		t.Errorf("DescribeConfigurationSet:\n%s", raw)
	}
	// v2 reads what v1 wrote.
	v2got, err := e.v2.GetConfigurationSetEventDestinations(ctx, &sesv2.GetConfigurationSetEventDestinationsInput{ConfigurationSetName: aws.String("cs")})
	if err != nil || len(v2got.EventDestinations) != 2 || !slices.Equal(v2got.EventDestinations[1].MatchingEventTypes, []v2types.EventType{"SEND", "DELIVERY", "BOUNCE", "OPEN", "CLICK"}) {
		t.Fatalf("v2 view: %+v %v", v2got, err)
	}

	if _, err := e.v1.UpdateConfigurationSetEventDestination(ctx, &ses.UpdateConfigurationSetEventDestinationInput{ConfigurationSetName: aws.String("cs"),
		EventDestination: dest("sns-dest", e.topic("other"), "complaint")}); err != nil {
		t.Fatal(err)
	}
	got, _ = e.v1.DescribeConfigurationSet(ctx, &ses.DescribeConfigurationSetInput{ConfigurationSetName: aws.String("cs"),
		ConfigurationSetAttributeNames: []v1types.ConfigurationSetAttribute{"eventDestinations"}})
	if d := got.EventDestinations[1]; aws.ToString(d.SNSDestination.TopicARN) != e.topic("other") || !slices.Equal(d.MatchingEventTypes, []v1types.EventType{"complaint"}) {
		t.Errorf("after update: %+v", d)
	}
	if _, err := e.v1.DeleteConfigurationSetEventDestination(ctx, &ses.DeleteConfigurationSetEventDestinationInput{ConfigurationSetName: aws.String("cs"),
		EventDestinationName: aws.String("fh")}); err != nil {
		t.Fatal(err)
	}

	missing := e.topic("missing")
	for _, tc := range []struct {
		name      string
		call      func() error
		code, msg string
	}{
		{"create in a missing set", func() error {
			_, err := e.v1.CreateConfigurationSetEventDestination(ctx, &ses.CreateConfigurationSetEventDestinationInput{ConfigurationSetName: aws.String("nope"),
				EventDestination: dest("x", e.topic("events"), "send")})
			return err
		}, "ConfigurationSetDoesNotExist", "Configuration set <nope> does not exist."},
		{"a topic that does not exist", func() error {
			_, err := e.v1.CreateConfigurationSetEventDestination(ctx, &ses.CreateConfigurationSetEventDestinationInput{ConfigurationSetName: aws.String("cs"),
				EventDestination: dest("x", missing, "send")})
			return err
		}, "InvalidSNSDestination", "SNS topic <" + missing + "> not found."},
		{"duplicate name", func() error {
			_, err := e.v1.CreateConfigurationSetEventDestination(ctx, &ses.CreateConfigurationSetEventDestinationInput{ConfigurationSetName: aws.String("cs"),
				EventDestination: dest("sns-dest", e.topic("events"), "send")})
			return err
		}, "EventDestinationAlreadyExists", "Event destination sns-dest already exists in configuration set <cs>."},
		{"an unknown event type", func() error {
			_, err := e.v1.CreateConfigurationSetEventDestination(ctx, &ses.CreateConfigurationSetEventDestinationInput{ConfigurationSetName: aws.String("cs"),
				EventDestination: dest("x", e.topic("events"), "SEND")})
			return err
		}, "InvalidParameterValue", "Invalid event type SEND."},
		{"update of a missing destination", func() error {
			_, err := e.v1.UpdateConfigurationSetEventDestination(ctx, &ses.UpdateConfigurationSetEventDestinationInput{ConfigurationSetName: aws.String("cs"),
				EventDestination: dest("fh", e.topic("events"), "send")})
			return err
		}, "EventDestinationDoesNotExist", "No EventDestination found for cs"},
		{"delete of a missing destination", func() error {
			_, err := e.v1.DeleteConfigurationSetEventDestination(ctx, &ses.DeleteConfigurationSetEventDestinationInput{ConfigurationSetName: aws.String("cs"),
				EventDestinationName: aws.String("fh")})
			return err
		}, "EventDestinationDoesNotExist", "No EventDestination found for cs"},
		{"delete in a missing set", func() error {
			_, err := e.v1.DeleteConfigurationSetEventDestination(ctx, &ses.DeleteConfigurationSetEventDestinationInput{ConfigurationSetName: aws.String("nope"),
				EventDestinationName: aws.String("x")})
			return err
		}, "ConfigurationSetDoesNotExist", "Configuration set <nope> does not exist."},
		{"SNS failing", func() error {
			_, err := e.v1.CreateConfigurationSetEventDestination(ctx, &ses.CreateConfigurationSetEventDestinationInput{ConfigurationSetName: aws.String("cs"),
				EventDestination: dest("x", e.topic("broken"), "send")})
			return err
		}, "InternalFailure", "Temporary service failure"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantAPIError(t, tc.call(), tc.code, tc.msg)
		})
	}
}
