package console

import (
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
)

// Enabling or disabling a destination sends its whole definition back
// (UpdateConfigurationSetEventDestination replaces it): every kind of
// destination and the event types must survive the round trip.
func TestDefinitionOfKeepsEveryField(t *testing.T) {
	e := types.EventDestination{Name: aws.String("d"), Enabled: true,
		MatchingEventTypes:         []types.EventType{types.EventTypeBounce, types.EventTypeClick},
		SnsDestination:             &types.SnsDestination{TopicArn: aws.String("arn:aws:sns:us-east-1:1:t")},
		EventBridgeDestination:     &types.EventBridgeDestination{EventBusArn: aws.String("bus")},
		KinesisFirehoseDestination: &types.KinesisFirehoseDestination{DeliveryStreamArn: aws.String("s"), IamRoleArn: aws.String("r")},
		CloudWatchDestination: &types.CloudWatchDestination{DimensionConfigurations: []types.CloudWatchDimensionConfiguration{
			{DimensionName: aws.String("n"), DefaultDimensionValue: aws.String("v"), DimensionValueSource: types.DimensionValueSourceMessageTag}}},
		PinpointDestination: &types.PinpointDestination{ApplicationArn: aws.String("app")},
	}
	d := definitionOf(e)
	// Every field of the definition has its namesake in the destination.
	dv, ev := reflect.ValueOf(d).Elem(), reflect.ValueOf(e)
	for i := range dv.NumField() {
		f := dv.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		if !reflect.DeepEqual(dv.Field(i).Interface(), ev.FieldByName(f.Name).Interface()) {
			t.Errorf("definition's %s = %v, want %v", f.Name, dv.Field(i).Interface(), ev.FieldByName(f.Name).Interface())
		}
	}
}

func TestDestRowOf(t *testing.T) {
	for _, tc := range []struct {
		e         types.EventDestination
		kind, tgt string
	}{
		{types.EventDestination{SnsDestination: &types.SnsDestination{TopicArn: aws.String("arn:t")}}, "Amazon SNS", "arn:t"},
		{types.EventDestination{EventBridgeDestination: &types.EventBridgeDestination{EventBusArn: aws.String("bus")}}, "Amazon EventBridge", "bus"},
		{types.EventDestination{KinesisFirehoseDestination: &types.KinesisFirehoseDestination{DeliveryStreamArn: aws.String("st")}}, "Amazon Data Firehose", "st"},
		{types.EventDestination{CloudWatchDestination: &types.CloudWatchDestination{DimensionConfigurations: []types.CloudWatchDimensionConfiguration{
			{DimensionName: aws.String("a")}, {DimensionName: aws.String("b")}}}}, "Amazon CloudWatch", "a, b"},
		{types.EventDestination{PinpointDestination: &types.PinpointDestination{ApplicationArn: aws.String("app")}}, "Amazon Pinpoint", "app"},
	} {
		row := destRowOf(tc.e)
		if row.Kind != tc.kind || row.Target != tc.tgt {
			t.Errorf("destRowOf = %q %q, want %q %q", row.Kind, row.Target, tc.kind, tc.tgt)
		}
	}
}

func TestChoices(t *testing.T) {
	got := choices(eventTypeNames, []string{"OPEN", "SEND", "NOPE"})
	var on []string
	for _, c := range got {
		if c.On {
			on = append(on, c.Value)
		}
	}
	if len(got) != 10 || !reflect.DeepEqual(on, []string{"SEND", "OPEN"}) {
		t.Errorf("choices = %+v", got)
	}
}
