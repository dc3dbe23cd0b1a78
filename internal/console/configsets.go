package console

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"sesame/internal/seserr"
)

// The configuration sets pages, as SES's console has them: the list with a
// create form, and one set's page with its options (each changed by its
// own Put operation) and its event destinations. Everything goes through
// the SES v2 API, so SES's validation and error texts hold.

func init() {
	accountPages = append(accountPages, func(s *Server) map[string]handler {
		return map[string]handler{
			"GET /configuration-sets":                                          s.configSets,
			"POST /configuration-sets":                                         s.createConfigSet,
			"GET /configuration-sets/{name}":                                   s.configSet,
			"POST /configuration-sets/{name}/delete":                           s.deleteConfigSet,
			"POST /configuration-sets/{name}/sending":                          s.putConfigSetSending,
			"POST /configuration-sets/{name}/reputation":                       s.putConfigSetReputation,
			"POST /configuration-sets/{name}/tracking":                         s.putConfigSetTracking,
			"POST /configuration-sets/{name}/delivery":                         s.putConfigSetDelivery,
			"POST /configuration-sets/{name}/suppression":                      s.putConfigSetSuppression,
			"POST /configuration-sets/{name}/event-destinations":               s.createEventDest,
			"POST /configuration-sets/{name}/event-destinations/{dest}/state":  s.setEventDestEnabled,
			"POST /configuration-sets/{name}/event-destinations/{dest}/delete": s.deleteEventDest,
		}
	})
}

// configSetPageSize is how many names one list page shows.
const configSetPageSize = 100

// eventTypeNames are SES's event types, in the API's order.
var eventTypeNames = []string{"SEND", "REJECT", "BOUNCE", "COMPLAINT", "DELIVERY", "OPEN", "CLICK",
	"RENDERING_FAILURE", "DELIVERY_DELAY", "SUBSCRIPTION"}

// suppressionReasons are the reasons a set can override the account's
// suppression list with.
var suppressionReasons = []string{"BOUNCE", "COMPLAINT"}

// configSetForm is the create form's input, kept when SES refuses it.
type configSetForm struct {
	Name, RedirectDomain, HTTPSPolicy, TLSPolicy string
	SendingEnabled, ReputationMetrics            bool
	OverrideSuppression                          bool
	Reasons                                      []string
}

type configSetsData struct {
	Names         []string
	NextToken     string
	Form          configSetForm
	HTTPSPolicies []choice
	Reasons       []choice
}

// choice is one option of a select or one checkbox, and whether it is on.
type choice struct {
	Value string
	On    bool
}

// choices marks which of values are in on.
func choices(values, on []string) []choice {
	out := make([]choice, len(values))
	for i, v := range values {
		out[i] = choice{Value: v, On: slices.Contains(on, v)}
	}
	return out
}

// httpsPolicies are SES's tracking HTTPS policies.
var httpsPolicies = []string{"OPTIONAL", "REQUIRE", "REQUIRE_OPEN_ONLY"}

func (s *Server) configSets(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.showConfigSets(w, r, v, http.StatusOK, configSetForm{SendingEnabled: true, TLSPolicy: "OPTIONAL"})
}

func (s *Server) showConfigSets(w http.ResponseWriter, r *http.Request, v *view, status int, f configSetForm) error {
	in := &sesv2.ListConfigurationSetsInput{PageSize: aws.Int32(configSetPageSize)}
	if t := r.URL.Query().Get("next"); t != "" {
		in.NextToken = aws.String(t)
	}
	out, err := v.SESv2().ListConfigurationSets(r.Context(), in)
	if err != nil {
		return err
	}
	v.Nav = "configsets"
	d := configSetsData{Names: out.ConfigurationSets, NextToken: aws.ToString(out.NextToken), Form: f,
		HTTPSPolicies: choices(httpsPolicies, []string{f.HTTPSPolicy}), Reasons: choices(suppressionReasons, f.Reasons)}
	return v.RenderStatus(w, status, "configsets", "Configuration sets", d)
}

func (s *Server) createConfigSet(w http.ResponseWriter, r *http.Request, v *view) error {
	f := configSetForm{
		Name:                strings.TrimSpace(r.PostFormValue("name")),
		RedirectDomain:      strings.TrimSpace(r.PostFormValue("redirect_domain")),
		HTTPSPolicy:         r.PostFormValue("https_policy"),
		TLSPolicy:           r.PostFormValue("tls_policy"),
		SendingEnabled:      r.PostFormValue("sending_enabled") != "",
		ReputationMetrics:   r.PostFormValue("reputation_metrics") != "",
		OverrideSuppression: r.PostFormValue("override_suppression") != "",
		Reasons:             r.PostForm["reasons"],
	}
	in := &sesv2.CreateConfigurationSetInput{
		ConfigurationSetName: aws.String(f.Name),
		SendingOptions:       &types.SendingOptions{SendingEnabled: f.SendingEnabled},
		ReputationOptions:    &types.ReputationOptions{ReputationMetricsEnabled: f.ReputationMetrics},
	}
	if f.TLSPolicy != "" {
		in.DeliveryOptions = &types.DeliveryOptions{TlsPolicy: types.TlsPolicy(f.TLSPolicy)}
	}
	if f.RedirectDomain != "" || f.HTTPSPolicy != "" {
		in.TrackingOptions = &types.TrackingOptions{HttpsPolicy: types.HttpsPolicy(f.HTTPSPolicy)}
		if f.RedirectDomain != "" {
			in.TrackingOptions.CustomRedirectDomain = aws.String(f.RedirectDomain)
		}
	}
	if f.OverrideSuppression {
		in.SuppressionOptions = &types.SuppressionOptions{SuppressedReasons: reasonsOf(f.Reasons)}
	}
	if _, err := v.SESv2().CreateConfigurationSet(r.Context(), in); err != nil {
		v.Error = errorText(err)
		return s.showConfigSets(w, r, v, errorStatus(err), f)
	}
	return v.Redirect(w, r, configSetPath(f.Name), "Configuration set "+f.Name+" created.")
}

func reasonsOf(ss []string) []types.SuppressionListReason {
	out := []types.SuppressionListReason{}
	for _, s := range ss {
		out = append(out, types.SuppressionListReason(s))
	}
	return out
}

// configSetPath is a set's page below the region.
func configSetPath(name string) string { return "/configuration-sets/" + url.PathEscape(name) }

// destForm is the add-destination form's input, kept when SES refuses it.
type destForm struct {
	Name, TopicARN string
	Types          []string
	Enabled        bool
}

// destRow is one event destination as the table shows it.
type destRow struct {
	Name    string
	Enabled bool
	Types   []string
	Kind    string // SNS, EventBridge, CloudWatch, Kinesis Firehose, Pinpoint
	Target  string // the topic, bus, stream or application; CloudWatch's dimensions
}

type configSetData struct {
	Name          string
	Set           *sesv2.GetConfigurationSetOutput
	Override      bool     // the set overrides the account's suppression list
	Reasons       []choice // the override's reasons
	MaxDelivery   string
	HTTPSPolicies []choice
	Dests         []destRow
	DestForm      destForm
	EventTypes    []choice
	TopicExample  string
}

func (s *Server) configSet(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.showConfigSet(w, r, v, http.StatusOK, destForm{Enabled: true})
}

// showConfigSet renders a set's page; status and f carry a refused form.
func (s *Server) showConfigSet(w http.ResponseWriter, r *http.Request, v *view, status int, f destForm) error {
	name := r.PathValue("name")
	cl := v.SESv2()
	set, err := cl.GetConfigurationSet(r.Context(), &sesv2.GetConfigurationSetInput{ConfigurationSetName: aws.String(name)})
	if err != nil {
		return err
	}
	dests, err := cl.GetConfigurationSetEventDestinations(r.Context(),
		&sesv2.GetConfigurationSetEventDestinationsInput{ConfigurationSetName: aws.String(name)})
	if err != nil {
		return err
	}
	d := configSetData{Name: name, Set: set, DestForm: f, EventTypes: choices(eventTypeNames, f.Types),
		TopicExample: fmt.Sprintf("arn:aws:sns:%s:%s:my-topic", v.Region, v.Session.AccountID)}
	var reasons []string
	if sup := set.SuppressionOptions; sup != nil {
		d.Override = true
		for _, r := range sup.SuppressedReasons {
			reasons = append(reasons, string(r))
		}
	}
	d.Reasons = choices(suppressionReasons, reasons)
	var https string
	if t := set.TrackingOptions; t != nil {
		https = string(t.HttpsPolicy)
	}
	d.HTTPSPolicies = choices(httpsPolicies, []string{https})
	if del := set.DeliveryOptions; del != nil && del.MaxDeliverySeconds != nil && *del.MaxDeliverySeconds > 0 {
		d.MaxDelivery = strconv.FormatInt(*del.MaxDeliverySeconds, 10)
	}
	for _, e := range dests.EventDestinations {
		d.Dests = append(d.Dests, destRowOf(e))
	}
	v.Nav = "configsets"
	return v.RenderStatus(w, status, "configset", "Configuration set "+name, d)
}

func destRowOf(e types.EventDestination) destRow {
	row := destRow{Name: aws.ToString(e.Name), Enabled: e.Enabled}
	for _, t := range e.MatchingEventTypes {
		row.Types = append(row.Types, string(t))
	}
	switch {
	case e.SnsDestination != nil:
		row.Kind, row.Target = "Amazon SNS", aws.ToString(e.SnsDestination.TopicArn)
	case e.EventBridgeDestination != nil:
		row.Kind, row.Target = "Amazon EventBridge", aws.ToString(e.EventBridgeDestination.EventBusArn)
	case e.KinesisFirehoseDestination != nil:
		row.Kind, row.Target = "Amazon Data Firehose", aws.ToString(e.KinesisFirehoseDestination.DeliveryStreamArn)
	case e.CloudWatchDestination != nil:
		var dims []string
		for _, dim := range e.CloudWatchDestination.DimensionConfigurations {
			dims = append(dims, aws.ToString(dim.DimensionName))
		}
		row.Kind, row.Target = "Amazon CloudWatch", strings.Join(dims, ", ")
	case e.PinpointDestination != nil:
		row.Kind, row.Target = "Amazon Pinpoint", aws.ToString(e.PinpointDestination.ApplicationArn)
	}
	return row
}

// definitionOf is what UpdateConfigurationSetEventDestination needs to keep
// a destination as it is: the API replaces the whole definition.
func definitionOf(e types.EventDestination) *types.EventDestinationDefinition {
	return &types.EventDestinationDefinition{
		Enabled:                    e.Enabled,
		MatchingEventTypes:         e.MatchingEventTypes,
		SnsDestination:             e.SnsDestination,
		EventBridgeDestination:     e.EventBridgeDestination,
		KinesisFirehoseDestination: e.KinesisFirehoseDestination,
		CloudWatchDestination:      e.CloudWatchDestination,
		PinpointDestination:        e.PinpointDestination,
	}
}

func (s *Server) deleteConfigSet(w http.ResponseWriter, r *http.Request, v *view) error {
	name := r.PathValue("name")
	if _, err := v.SESv2().DeleteConfigurationSet(r.Context(),
		&sesv2.DeleteConfigurationSetInput{ConfigurationSetName: aws.String(name)}); err != nil {
		return s.optionFailed(w, r, v, err)
	}
	return v.Redirect(w, r, "/configuration-sets", "Configuration set "+name+" deleted.")
}

// optionFailed shows the set's page again with SES's error for a form of it.
func (s *Server) optionFailed(w http.ResponseWriter, r *http.Request, v *view, err error) error {
	if IsNotFound(err) {
		return err
	}
	v.Error = errorText(err)
	return s.showConfigSet(w, r, v, errorStatus(err), destForm{Enabled: true})
}

// optionSaved answers a successful option form.
func (s *Server) optionSaved(w http.ResponseWriter, r *http.Request, v *view, what string) error {
	return v.Redirect(w, r, configSetPath(r.PathValue("name")), what+" saved.")
}

func (s *Server) putConfigSetSending(w http.ResponseWriter, r *http.Request, v *view) error {
	_, err := v.SESv2().PutConfigurationSetSendingOptions(r.Context(), &sesv2.PutConfigurationSetSendingOptionsInput{
		ConfigurationSetName: aws.String(r.PathValue("name")), SendingEnabled: r.PostFormValue("sending_enabled") == "true"})
	if err != nil {
		return s.optionFailed(w, r, v, err)
	}
	return s.optionSaved(w, r, v, "Sending options")
}

func (s *Server) putConfigSetReputation(w http.ResponseWriter, r *http.Request, v *view) error {
	_, err := v.SESv2().PutConfigurationSetReputationOptions(r.Context(), &sesv2.PutConfigurationSetReputationOptionsInput{
		ConfigurationSetName: aws.String(r.PathValue("name")), ReputationMetricsEnabled: r.PostFormValue("reputation_metrics") == "true"})
	if err != nil {
		return s.optionFailed(w, r, v, err)
	}
	return s.optionSaved(w, r, v, "Reputation options")
}

func (s *Server) putConfigSetTracking(w http.ResponseWriter, r *http.Request, v *view) error {
	in := &sesv2.PutConfigurationSetTrackingOptionsInput{ConfigurationSetName: aws.String(r.PathValue("name")),
		HttpsPolicy: types.HttpsPolicy(r.PostFormValue("https_policy"))}
	if d := strings.TrimSpace(r.PostFormValue("redirect_domain")); d != "" {
		in.CustomRedirectDomain = aws.String(d)
	}
	if _, err := v.SESv2().PutConfigurationSetTrackingOptions(r.Context(), in); err != nil {
		return s.optionFailed(w, r, v, err)
	}
	return s.optionSaved(w, r, v, "Tracking options")
}

func (s *Server) putConfigSetDelivery(w http.ResponseWriter, r *http.Request, v *view) error {
	in := &sesv2.PutConfigurationSetDeliveryOptionsInput{ConfigurationSetName: aws.String(r.PathValue("name")),
		TlsPolicy: types.TlsPolicy(r.PostFormValue("tls_policy"))}
	// The operation replaces all delivery options: the form carries each.
	if p := strings.TrimSpace(r.PostFormValue("sending_pool")); p != "" {
		in.SendingPoolName = aws.String(p)
	}
	if m := strings.TrimSpace(r.PostFormValue("max_delivery_seconds")); m != "" {
		n, err := strconv.ParseInt(m, 10, 64)
		if err != nil {
			v.Error = seserr.ConsoleNotSeconds("Maximum delivery time", m).Message
			return s.showConfigSet(w, r, v, http.StatusBadRequest, destForm{Enabled: true})
		}
		in.MaxDeliverySeconds = aws.Int64(n)
	}
	if _, err := v.SESv2().PutConfigurationSetDeliveryOptions(r.Context(), in); err != nil {
		return s.optionFailed(w, r, v, err)
	}
	return s.optionSaved(w, r, v, "Delivery options")
}

func (s *Server) putConfigSetSuppression(w http.ResponseWriter, r *http.Request, v *view) error {
	_, err := v.SESv2().PutConfigurationSetSuppressionOptions(r.Context(), &sesv2.PutConfigurationSetSuppressionOptionsInput{
		ConfigurationSetName: aws.String(r.PathValue("name")), SuppressedReasons: reasonsOf(r.PostForm["reasons"])})
	if err != nil {
		return s.optionFailed(w, r, v, err)
	}
	return s.optionSaved(w, r, v, "Suppression list settings")
}

func (s *Server) createEventDest(w http.ResponseWriter, r *http.Request, v *view) error {
	f := destForm{Name: strings.TrimSpace(r.PostFormValue("dest_name")), TopicARN: strings.TrimSpace(r.PostFormValue("topic_arn")),
		Types: r.PostForm["event_types"], Enabled: r.PostFormValue("enabled") != ""}
	def := &types.EventDestinationDefinition{Enabled: f.Enabled}
	for _, t := range f.Types {
		def.MatchingEventTypes = append(def.MatchingEventTypes, types.EventType(t))
	}
	if f.TopicARN != "" {
		def.SnsDestination = &types.SnsDestination{TopicArn: aws.String(f.TopicARN)}
	}
	_, err := v.SESv2().CreateConfigurationSetEventDestination(r.Context(), &sesv2.CreateConfigurationSetEventDestinationInput{
		ConfigurationSetName: aws.String(r.PathValue("name")), EventDestinationName: aws.String(f.Name), EventDestination: def})
	if err != nil {
		if IsNotFound(err) {
			return err
		}
		v.Error = errorText(err)
		return s.showConfigSet(w, r, v, errorStatus(err), f)
	}
	return v.Redirect(w, r, configSetPath(r.PathValue("name"))+"#event-destinations", "Event destination "+f.Name+" added.")
}

func (s *Server) setEventDestEnabled(w http.ResponseWriter, r *http.Request, v *view) error {
	name, dest := r.PathValue("name"), r.PathValue("dest")
	cl := v.SESv2()
	out, err := cl.GetConfigurationSetEventDestinations(r.Context(),
		&sesv2.GetConfigurationSetEventDestinationsInput{ConfigurationSetName: aws.String(name)})
	if err != nil {
		return err
	}
	i := slices.IndexFunc(out.EventDestinations, func(e types.EventDestination) bool { return aws.ToString(e.Name) == dest })
	if i < 0 {
		// Gone meanwhile (another tab, the API): SES's words for it.
		e := seserr.EventDestinationDoesNotExist(name)
		v.Error = e.APICode + ": " + e.Message
		return s.showConfigSet(w, r, v, e.HTTPStatus, destForm{Enabled: true})
	}
	def := definitionOf(out.EventDestinations[i])
	def.Enabled = r.PostFormValue("enabled") == "true"
	if _, err := cl.UpdateConfigurationSetEventDestination(r.Context(), &sesv2.UpdateConfigurationSetEventDestinationInput{
		ConfigurationSetName: aws.String(name), EventDestinationName: aws.String(dest), EventDestination: def}); err != nil {
		return s.optionFailed(w, r, v, err)
	}
	state := "disabled"
	if def.Enabled {
		state = "enabled"
	}
	return v.Redirect(w, r, configSetPath(name)+"#event-destinations", "Event destination "+dest+" "+state+".")
}

func (s *Server) deleteEventDest(w http.ResponseWriter, r *http.Request, v *view) error {
	name, dest := r.PathValue("name"), r.PathValue("dest")
	if _, err := v.SESv2().DeleteConfigurationSetEventDestination(r.Context(), &sesv2.DeleteConfigurationSetEventDestinationInput{
		ConfigurationSetName: aws.String(name), EventDestinationName: aws.String(dest)}); err != nil {
		return s.optionFailed(w, r, v, err)
	}
	return v.Redirect(w, r, configSetPath(name)+"#event-destinations", "Event destination "+dest+" deleted.")
}
