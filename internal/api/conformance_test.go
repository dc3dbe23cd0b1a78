package api

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	v1types "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"sesame/internal/store"
)

// Issue 11, "Tests": every operation docs/api.md marks served is called
// with a successful request, and the raw answer is checked against the
// output shape of SES's service model (Debian's botocore copy): required
// members present, no member the shape does not declare, types and enum
// values as declared, recursively. The SDKs themselves are lenient (they
// skip unknown members and never check required ones), so a shape mistake
// would otherwise reach only the stricter clients.

// knownDeviations are mismatches ("api Operation: problem") known and
// kept, with why: they are logged, not failed, and one no longer found
// fails, so the list shrinks when they are fixed.
var knownDeviations = map[string]string{
	// Debian's sesv2 model predates template tags; the pinned SDK's
	// GetEmailTemplateOutput has Tags.
	"v2 GetEmailTemplate: $: member Tags is not in the model":                   "model older than the SDK",
	"v2 GetCustomVerificationEmailTemplate: $: member Tags is not in the model": "model older than the SDK",
	// … and Auto Validation (the SDK's SuppressionAttributes has it).
	"v2 GetAccount: $.SuppressionAttributes: member ValidationAttributes is not in the model": "model older than the SDK",
	"v2 GetAccount: $: member PricingAttributes is not in the model":                          "model older than the SDK",
	// An identity without a custom MAIL FROM domain has neither a domain
	// nor a status; the model marks both required (and its v1 twin too).
	// Inventing values would tell clients a MAIL FROM domain is set up.
	"v2 GetEmailIdentity: $.MailFromAttributes: required member MailFromDomain is missing":       "no custom MAIL FROM domain",
	"v2 GetEmailIdentity: $.MailFromAttributes: required member MailFromDomainStatus is missing": "no custom MAIL FROM domain",
	`v1 GetIdentityMailFromDomainAttributes: GetIdentityMailFromDomainAttributesResult.MailFromDomainAttributes{0}.value.MailFromDomainStatus: "NotStarted", want one of Pending, Success, Failed, TemporaryFailure (CustomMailFromStatus)`: "no custom MAIL FROM domain: status outside the enum",
	// The model marks the three topics required, yet a topic can be
	// unset; an empty element would read as a topic "" to SDK clients
	// that test for nil.
	"v1 GetIdentityNotificationAttributes: GetIdentityNotificationAttributesResult.NotificationAttributes{0}.value: required element BounceTopic is missing":    "topic not set",
	"v1 GetIdentityNotificationAttributes: GetIdentityNotificationAttributesResult.NotificationAttributes{0}.value: required element ComplaintTopic is missing": "topic not set",
	"v1 GetIdentityNotificationAttributes: GetIdentityNotificationAttributesResult.NotificationAttributes{0}.value: required element DeliveryTopic is missing":  "topic not set",
}

// capturingHTTP is the SDK clients' HTTP client: it keeps the last
// answer's body, so the test checks the bytes sesame sent, not what the
// SDK made of them.
type capturingHTTP struct {
	mu     sync.Mutex
	status int
	body   []byte
}

func (c *capturingHTTP) Do(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	c.mu.Lock()
	c.status, c.body = resp.StatusCode, b
	c.mu.Unlock()
	return resp, nil
}

func (c *capturingHTTP) last() (int, []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status, c.body
}

type conformClients struct {
	v2   *sesv2.Client
	v1   *ses.Client
	v2ip *sesv2.Client // on the server with dedicated IPs
	// v2jobs is on the server with an object store (jobs), whose bucket
	// holds jobsSource; jobs.acct is its account.
	v2jobs     *sesv2.Client
	jobs       *jobsEnv
	jobsSource string
	acct       string // v2's and v1's account
}

// conformStep is one successful call of one operation.
type conformStep struct {
	api, op string
	call    func(ctx context.Context) error
}

func TestOperationsConform(t *testing.T) {
	t.Parallel()
	models := map[string]*svcModel{}
	for api, path := range botocoreModels {
		m, err := loadModel(path)
		if errors.Is(err, os.ErrNotExist) {
			t.Skipf("%s: not installed; nothing to check the answers against", path)
		}
		if err != nil {
			t.Fatal(err)
		}
		models[api] = m
	}
	tables := readOperationsTable(t)

	// Most operations run on a server wired as `sesame serve` wires it
	// (verifier, sender), out of the sandbox, with brand.example verified;
	// dedicated IPs need a server configured with some.
	e := newCVEnv(t, true)
	ipEnv := newIPEnv(t, "127.0.0.2", "127.0.0.3")
	capture := &capturingHTTP{}
	cfg := func(region, url string, creds aws.Credentials) aws.Config {
		return aws.Config{Region: region, Credentials: credentials.StaticCredentialsProvider{Value: creds},
			RetryMaxAttempts: 1, BaseEndpoint: aws.String(url), HTTPClient: capture}
	}
	key, err := e.st.AccessKey(context.Background(), e.creds.AccessKeyID)
	if err != nil {
		t.Fatal(err)
	}
	// Enough quota for the sends below, which come faster than SES's 1/s.
	set := store.DefaultSettings(key.AccountID, idRegion)
	set.Production, set.MaxSendRate, set.Max24HourSend = true, 1000, 1000
	if err := e.st.PutAccountSettings(context.Background(), set); err != nil {
		t.Fatal(err)
	}
	c := conformClients{acct: key.AccountID,
		v2:   sesv2.NewFromConfig(cfg(idRegion, e.url, e.creds)),
		v1:   ses.NewFromConfig(cfg(idRegion, e.url, e.creds)),
		v2ip: sesv2.NewFromConfig(cfg(ipEnv.region, ipEnv.url, ipEnv.creds)),
	}
	c.jobs = newJobsEnv(t)
	c.v2jobs = sesv2.NewFromConfig(cfg(c.jobs.region, c.jobs.url, c.jobs.creds))
	c.jobsSource = c.jobs.put(t, "conform.csv", "a@example.com,BOUNCE\n")

	steps := conformSteps(c)
	covered, seenDeviations := map[string]bool{}, map[string]bool{}
	for _, s := range steps {
		key := s.api + " " + s.op
		row, ok := tables[s.api][s.op]
		if !ok || !isServed(row.status) {
			t.Errorf("%s: not marked served in docs/api.md (%q)", key, row.status)
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := s.call(ctx)
		cancel()
		if err != nil {
			t.Errorf("%s: %v", key, err)
			continue
		}
		covered[key] = true
		status, body := capture.last()
		m := models[s.api]
		if _, ok := m.Operations[s.op]; !ok {
			t.Logf("%s: not in Debian's botocore model (older than the SDK); not checked", key)
			delete(covered, key)
			continue
		}
		var problems []string
		if s.api == "v2" {
			problems = m.checkJSON(s.op, body)
		} else {
			problems = m.checkXML(s.op, body)
		}
		if status/100 != 2 {
			problems = append(problems, fmt.Sprintf("status %d", status))
		}
		failed := false
		for _, p := range problems {
			p = key + ": " + p
			if why, known := knownDeviations[p]; known {
				t.Logf("known deviation (%s): %s", why, p)
				seenDeviations[p] = true
				continue
			}
			t.Error(p)
			failed = true
		}
		if failed {
			t.Logf("%s answered: %s", key, body)
		}
	}
	for _, p := range sortedKeys(knownDeviations) {
		if !seenDeviations[p] {
			t.Errorf("known deviation no longer found: remove it from knownDeviations: %s", p)
		}
	}
	var uncovered []string
	for _, api := range []string{"v2", "v1"} {
		for _, op := range sortedKeys(tables[api]) {
			st := tables[api][op].status
			if (st == "supported" || strings.HasPrefix(st, "partial: ")) && !covered[api+" "+op] {
				uncovered = append(uncovered, api+" "+op)
			}
		}
	}
	t.Logf("supported or partial but not checked yet (%d): %s", len(uncovered), strings.Join(uncovered, ", "))
	t.Logf("%d operations called successfully and checked against the model", len(covered))
}

// conformSteps are the calls, in order: creations first (so the reads
// have something to read), deletions last.
func conformSteps(c conformClients) []conformStep {
	s := aws.String
	v2, v1, v2ip := c.v2, c.v1, c.v2ip
	arnOf := func(resource string) string { return "arn:aws:ses:" + idRegion + ":" + c.acct + ":" + resource }
	var steps []conformStep
	add := func(api, op string, call func(ctx context.Context) error) {
		steps = append(steps, conformStep{api, op, call})
	}
	v2s := func(op string, call func(ctx context.Context) error) { add("v2", op, call) }
	v1s := func(op string, call func(ctx context.Context) error) { add("v1", op, call) }
	ignore := func(_ any, err error) error { return err }

	// v2: creations.
	v2s("CreateConfigurationSet", func(ctx context.Context) error {
		return ignore(v2.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: s("cs2"),
			Tags: []v2types.Tag{{Key: s("team"), Value: s("mail")}}}))
	})
	v2s("CreateConfigurationSetEventDestination", func(ctx context.Context) error {
		return ignore(v2.CreateConfigurationSetEventDestination(ctx, &sesv2.CreateConfigurationSetEventDestinationInput{
			ConfigurationSetName: s("cs2"), EventDestinationName: s("cw"),
			EventDestination: &v2types.EventDestinationDefinition{Enabled: true, MatchingEventTypes: []v2types.EventType{"SEND", "BOUNCE"},
				CloudWatchDestination: &v2types.CloudWatchDestination{DimensionConfigurations: []v2types.CloudWatchDimensionConfiguration{
					{DimensionName: s("campaign"), DimensionValueSource: "MESSAGE_TAG", DefaultDimensionValue: s("none")}}}}}))
	})
	v2s("CreateEmailTemplate", func(ctx context.Context) error {
		return ignore(v2.CreateEmailTemplate(ctx, &sesv2.CreateEmailTemplateInput{TemplateName: s("t2"),
			TemplateContent: &v2types.EmailTemplateContent{Subject: s("Hi {{name}}"), Text: s("Hello {{name}}"), Html: s("<p>Hello {{name}}</p>")}}))
	})
	v2s("CreateContactList", func(ctx context.Context) error {
		return ignore(v2.CreateContactList(ctx, &sesv2.CreateContactListInput{ContactListName: s("members"),
			Topics: []v2types.Topic{{TopicName: s("offers"), DisplayName: s("Offers"), DefaultSubscriptionStatus: v2types.SubscriptionStatusOptOut}}}))
	})
	v2s("CreateContact", func(ctx context.Context) error {
		return ignore(v2.CreateContact(ctx, &sesv2.CreateContactInput{ContactListName: s("members"), EmailAddress: s("ann@example.com"),
			TopicPreferences: []v2types.TopicPreference{{TopicName: s("offers"), SubscriptionStatus: v2types.SubscriptionStatusOptIn}}}))
	})
	v2s("CreateDedicatedIpPool", func(ctx context.Context) error {
		return ignore(v2ip.CreateDedicatedIpPool(ctx, &sesv2.CreateDedicatedIpPoolInput{PoolName: s("marketing")}))
	})
	v2s("PutDedicatedIpInPool", func(ctx context.Context) error {
		return ignore(v2ip.PutDedicatedIpInPool(ctx, &sesv2.PutDedicatedIpInPoolInput{Ip: s("127.0.0.2"), DestinationPoolName: s("marketing")}))
	})
	v2s("CreateCustomVerificationEmailTemplate", func(ctx context.Context) error {
		return ignore(v2.CreateCustomVerificationEmailTemplate(ctx, &sesv2.CreateCustomVerificationEmailTemplateInput{
			TemplateName: s("cv2"), FromEmailAddress: s("ceo@brand.example"), TemplateSubject: s("Confirm"),
			TemplateContent:       s("<html><body>Confirm</body></html>"),
			SuccessRedirectionURL: s("https://brand.example/ok"), FailureRedirectionURL: s("https://brand.example/fail")}))
	})

	v2s("CreateEmailIdentity", func(ctx context.Context) error {
		return ignore(v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: s("new.example"),
			Tags: []v2types.Tag{{Key: s("team"), Value: s("mail")}}}))
	})
	v2s("TagResource", func(ctx context.Context) error {
		return ignore(v2.TagResource(ctx, &sesv2.TagResourceInput{ResourceArn: s(arnOf("configuration-set/cs2")),
			Tags: []v2types.Tag{{Key: s("cost"), Value: s("1")}}}))
	})
	v2s("ListTagsForResource", func(ctx context.Context) error {
		return ignore(v2.ListTagsForResource(ctx, &sesv2.ListTagsForResourceInput{ResourceArn: s(arnOf("configuration-set/cs2"))}))
	})
	v2s("UntagResource", func(ctx context.Context) error {
		return ignore(v2.UntagResource(ctx, &sesv2.UntagResourceInput{ResourceArn: s(arnOf("configuration-set/cs2")), TagKeys: []string{"cost"}}))
	})
	v2s("PutConfigurationSetSendingOptions", func(ctx context.Context) error {
		return ignore(v2.PutConfigurationSetSendingOptions(ctx, &sesv2.PutConfigurationSetSendingOptionsInput{ConfigurationSetName: s("cs2"), SendingEnabled: true}))
	})
	v2s("PutConfigurationSetReputationOptions", func(ctx context.Context) error {
		return ignore(v2.PutConfigurationSetReputationOptions(ctx, &sesv2.PutConfigurationSetReputationOptionsInput{ConfigurationSetName: s("cs2"), ReputationMetricsEnabled: true}))
	})
	v2s("PutConfigurationSetTrackingOptions", func(ctx context.Context) error {
		return ignore(v2.PutConfigurationSetTrackingOptions(ctx, &sesv2.PutConfigurationSetTrackingOptionsInput{ConfigurationSetName: s("cs2"), CustomRedirectDomain: s("brand.example")}))
	})
	v2s("UpdateEmailTemplate", func(ctx context.Context) error {
		return ignore(v2.UpdateEmailTemplate(ctx, &sesv2.UpdateEmailTemplateInput{TemplateName: s("t2"),
			TemplateContent: &v2types.EmailTemplateContent{Subject: s("Hi {{name}}"), Text: s("Hello again {{name}}")}}))
	})
	v2s("PutEmailIdentityFeedbackAttributes", func(ctx context.Context) error {
		return ignore(v2.PutEmailIdentityFeedbackAttributes(ctx, &sesv2.PutEmailIdentityFeedbackAttributesInput{EmailIdentity: s("brand.example"), EmailForwardingEnabled: true}))
	})
	v2s("PutEmailIdentityConfigurationSetAttributes", func(ctx context.Context) error {
		return ignore(v2.PutEmailIdentityConfigurationSetAttributes(ctx, &sesv2.PutEmailIdentityConfigurationSetAttributesInput{EmailIdentity: s("brand.example"), ConfigurationSetName: s("cs2")}))
	})
	v2s("PutAccountSendingAttributes", func(ctx context.Context) error {
		return ignore(v2.PutAccountSendingAttributes(ctx, &sesv2.PutAccountSendingAttributesInput{SendingEnabled: true}))
	})
	v2s("PutSuppressedDestination", func(ctx context.Context) error {
		return ignore(v2.PutSuppressedDestination(ctx, &sesv2.PutSuppressedDestinationInput{EmailAddress: s("gone@example.com"), Reason: v2types.SuppressionListReasonBounce}))
	})
	v2s("SendEmail", func(ctx context.Context) error {
		return ignore(v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: s("ceo@brand.example"),
			Destination: &v2types.Destination{ToAddresses: []string{"ann@example.com"}},
			Content:     &v2types.EmailContent{Simple: &v2types.Message{Subject: &v2types.Content{Data: s("Hi")}, Body: &v2types.Body{Text: &v2types.Content{Data: s("Hello")}}}}}))
	})
	v2s("SendBulkEmail", func(ctx context.Context) error {
		return ignore(v2.SendBulkEmail(ctx, &sesv2.SendBulkEmailInput{FromEmailAddress: s("ceo@brand.example"),
			DefaultContent:   &v2types.BulkEmailContent{Template: &v2types.Template{TemplateName: s("t2"), TemplateData: s(`{"name":"you"}`)}},
			BulkEmailEntries: []v2types.BulkEmailEntry{{Destination: &v2types.Destination{ToAddresses: []string{"ann@example.com"}}}}}))
	})
	v2s("SendCustomVerificationEmail", func(ctx context.Context) error {
		return ignore(v2.SendCustomVerificationEmail(ctx, &sesv2.SendCustomVerificationEmailInput{EmailAddress: s("bob@example.com"), TemplateName: s("cv2")}))
	})

	v2s("PutEmailIdentityDkimAttributes", func(ctx context.Context) error {
		return ignore(v2.PutEmailIdentityDkimAttributes(ctx, &sesv2.PutEmailIdentityDkimAttributesInput{EmailIdentity: s("brand.example"), SigningEnabled: false}))
	})
	v2s("PutEmailIdentityMailFromAttributes", func(ctx context.Context) error {
		return ignore(v2.PutEmailIdentityMailFromAttributes(ctx, &sesv2.PutEmailIdentityMailFromAttributesInput{EmailIdentity: s("new.example"),
			MailFromDomain: s("bounce.new.example"), BehaviorOnMxFailure: v2types.BehaviorOnMxFailureUseDefaultValue}))
	})
	v2s("PutConfigurationSetDeliveryOptions", func(ctx context.Context) error {
		return ignore(v2.PutConfigurationSetDeliveryOptions(ctx, &sesv2.PutConfigurationSetDeliveryOptionsInput{ConfigurationSetName: s("cs2"), TlsPolicy: v2types.TlsPolicyRequire}))
	})
	v2s("PutConfigurationSetSuppressionOptions", func(ctx context.Context) error {
		return ignore(v2.PutConfigurationSetSuppressionOptions(ctx, &sesv2.PutConfigurationSetSuppressionOptionsInput{ConfigurationSetName: s("cs2"),
			SuppressedReasons: []v2types.SuppressionListReason{v2types.SuppressionListReasonBounce}}))
	})
	v2s("PutAccountSuppressionAttributes", func(ctx context.Context) error {
		return ignore(v2.PutAccountSuppressionAttributes(ctx, &sesv2.PutAccountSuppressionAttributesInput{
			SuppressedReasons: []v2types.SuppressionListReason{v2types.SuppressionListReasonBounce, v2types.SuppressionListReasonComplaint}}))
	})
	v2s("PutAccountDedicatedIpWarmupAttributes", func(ctx context.Context) error {
		return ignore(v2.PutAccountDedicatedIpWarmupAttributes(ctx, &sesv2.PutAccountDedicatedIpWarmupAttributesInput{AutoWarmupEnabled: true}))
	})
	v2s("PutDedicatedIpWarmupAttributes", func(ctx context.Context) error {
		return ignore(v2ip.PutDedicatedIpWarmupAttributes(ctx, &sesv2.PutDedicatedIpWarmupAttributesInput{Ip: s("127.0.0.2"), WarmupPercentage: aws.Int32(50)}))
	})
	v2s("UpdateConfigurationSetEventDestination", func(ctx context.Context) error {
		return ignore(v2.UpdateConfigurationSetEventDestination(ctx, &sesv2.UpdateConfigurationSetEventDestinationInput{
			ConfigurationSetName: s("cs2"), EventDestinationName: s("cw"),
			EventDestination: &v2types.EventDestinationDefinition{Enabled: false, MatchingEventTypes: []v2types.EventType{"DELIVERY"},
				CloudWatchDestination: &v2types.CloudWatchDestination{DimensionConfigurations: []v2types.CloudWatchDimensionConfiguration{
					{DimensionName: s("campaign"), DimensionValueSource: "MESSAGE_TAG", DefaultDimensionValue: s("none")}}}}}))
	})
	v2s("UpdateContactList", func(ctx context.Context) error {
		return ignore(v2.UpdateContactList(ctx, &sesv2.UpdateContactListInput{ContactListName: s("members"), Description: s("Members"),
			Topics: []v2types.Topic{{TopicName: s("offers"), DisplayName: s("Offers"), DefaultSubscriptionStatus: v2types.SubscriptionStatusOptOut}}}))
	})
	v2s("UpdateContact", func(ctx context.Context) error {
		return ignore(v2.UpdateContact(ctx, &sesv2.UpdateContactInput{ContactListName: s("members"), EmailAddress: s("ann@example.com"),
			UnsubscribeAll: true}))
	})
	v2s("UpdateCustomVerificationEmailTemplate", func(ctx context.Context) error {
		return ignore(v2.UpdateCustomVerificationEmailTemplate(ctx, &sesv2.UpdateCustomVerificationEmailTemplateInput{
			TemplateName: s("cv2"), FromEmailAddress: s("ceo@brand.example"), TemplateSubject: s("Please confirm"),
			TemplateContent:       s("<html><body>Confirm</body></html>"),
			SuccessRedirectionURL: s("https://brand.example/ok"), FailureRedirectionURL: s("https://brand.example/fail")}))
	})

	v2s("CreateEmailIdentityPolicy", func(ctx context.Context) error {
		return ignore(v2.CreateEmailIdentityPolicy(ctx, &sesv2.CreateEmailIdentityPolicyInput{EmailIdentity: s("brand.example"),
			PolicyName: s("delegate"), Policy: s(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"ses:SendEmail","Resource":"` + arnOf("identity/brand.example") + `"}]}`)}))
	})
	v2s("UpdateEmailIdentityPolicy", func(ctx context.Context) error {
		return ignore(v2.UpdateEmailIdentityPolicy(ctx, &sesv2.UpdateEmailIdentityPolicyInput{EmailIdentity: s("brand.example"),
			PolicyName: s("delegate"), Policy: s(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"ses:SendEmail","Resource":"` + arnOf("identity/brand.example") + `"}]}`)}))
	})

	// v2: reads.
	v2s("GetAccount", func(ctx context.Context) error { return ignore(v2.GetAccount(ctx, &sesv2.GetAccountInput{})) })
	v2s("ListEmailIdentities", func(ctx context.Context) error {
		return ignore(v2.ListEmailIdentities(ctx, &sesv2.ListEmailIdentitiesInput{}))
	})
	v2s("GetEmailIdentity", func(ctx context.Context) error {
		return ignore(v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: s("brand.example")}))
	})
	v2s("GetEmailIdentityPolicies", func(ctx context.Context) error {
		return ignore(v2.GetEmailIdentityPolicies(ctx, &sesv2.GetEmailIdentityPoliciesInput{EmailIdentity: s("brand.example")}))
	})
	v2s("ListConfigurationSets", func(ctx context.Context) error {
		return ignore(v2.ListConfigurationSets(ctx, &sesv2.ListConfigurationSetsInput{}))
	})
	v2s("GetConfigurationSet", func(ctx context.Context) error {
		return ignore(v2.GetConfigurationSet(ctx, &sesv2.GetConfigurationSetInput{ConfigurationSetName: s("cs2")}))
	})
	v2s("GetConfigurationSetEventDestinations", func(ctx context.Context) error {
		return ignore(v2.GetConfigurationSetEventDestinations(ctx, &sesv2.GetConfigurationSetEventDestinationsInput{ConfigurationSetName: s("cs2")}))
	})
	v2s("ListEmailTemplates", func(ctx context.Context) error {
		return ignore(v2.ListEmailTemplates(ctx, &sesv2.ListEmailTemplatesInput{}))
	})
	v2s("GetEmailTemplate", func(ctx context.Context) error {
		return ignore(v2.GetEmailTemplate(ctx, &sesv2.GetEmailTemplateInput{TemplateName: s("t2")}))
	})
	v2s("TestRenderEmailTemplate", func(ctx context.Context) error {
		return ignore(v2.TestRenderEmailTemplate(ctx, &sesv2.TestRenderEmailTemplateInput{TemplateName: s("t2"), TemplateData: s(`{"name":"Ann"}`)}))
	})
	v2s("ListContactLists", func(ctx context.Context) error {
		return ignore(v2.ListContactLists(ctx, &sesv2.ListContactListsInput{}))
	})
	v2s("GetContactList", func(ctx context.Context) error {
		return ignore(v2.GetContactList(ctx, &sesv2.GetContactListInput{ContactListName: s("members")}))
	})
	v2s("ListContacts", func(ctx context.Context) error {
		return ignore(v2.ListContacts(ctx, &sesv2.ListContactsInput{ContactListName: s("members")}))
	})
	v2s("GetContact", func(ctx context.Context) error {
		return ignore(v2.GetContact(ctx, &sesv2.GetContactInput{ContactListName: s("members"), EmailAddress: s("ann@example.com")}))
	})
	v2s("ListDedicatedIpPools", func(ctx context.Context) error {
		return ignore(v2ip.ListDedicatedIpPools(ctx, &sesv2.ListDedicatedIpPoolsInput{}))
	})
	v2s("GetDedicatedIpPool", func(ctx context.Context) error {
		return ignore(v2ip.GetDedicatedIpPool(ctx, &sesv2.GetDedicatedIpPoolInput{PoolName: s("marketing")}))
	})
	v2s("GetDedicatedIp", func(ctx context.Context) error {
		return ignore(v2ip.GetDedicatedIp(ctx, &sesv2.GetDedicatedIpInput{Ip: s("127.0.0.2")}))
	})
	v2s("GetDedicatedIps", func(ctx context.Context) error {
		return ignore(v2ip.GetDedicatedIps(ctx, &sesv2.GetDedicatedIpsInput{}))
	})
	v2s("ListCustomVerificationEmailTemplates", func(ctx context.Context) error {
		return ignore(v2.ListCustomVerificationEmailTemplates(ctx, &sesv2.ListCustomVerificationEmailTemplatesInput{}))
	})
	v2s("GetCustomVerificationEmailTemplate", func(ctx context.Context) error {
		return ignore(v2.GetCustomVerificationEmailTemplate(ctx, &sesv2.GetCustomVerificationEmailTemplateInput{TemplateName: s("cv2")}))
	})
	v2s("ListSuppressedDestinations", func(ctx context.Context) error {
		return ignore(v2.ListSuppressedDestinations(ctx, &sesv2.ListSuppressedDestinationsInput{}))
	})

	v2s("GetSuppressedDestination", func(ctx context.Context) error {
		return ignore(v2.GetSuppressedDestination(ctx, &sesv2.GetSuppressedDestinationInput{EmailAddress: s("gone@example.com")}))
	})
	v2s("GetEmailAddressInsights", func(ctx context.Context) error {
		return ignore(v2.GetEmailAddressInsights(ctx, &sesv2.GetEmailAddressInsightsInput{EmailAddress: s("ann@example.com")}))
	})

	// v2: import and export jobs.
	var importID, exportID string
	v2s("CreateImportJob", func(ctx context.Context) error {
		out, err := c.v2jobs.CreateImportJob(ctx, &sesv2.CreateImportJobInput{
			ImportDestination: &v2types.ImportDestination{SuppressionListDestination: &v2types.SuppressionListDestination{
				SuppressionListImportAction: v2types.SuppressionListImportActionPut}},
			ImportDataSource: &v2types.ImportDataSource{S3Url: s(c.jobsSource), DataFormat: v2types.DataFormatCsv}})
		if err == nil {
			importID = aws.ToString(out.JobId)
		}
		return err
	})
	v2s("GetImportJob", func(ctx context.Context) error {
		return ignore(c.v2jobs.GetImportJob(ctx, &sesv2.GetImportJobInput{JobId: s(importID)}))
	})
	v2s("ListImportJobs", func(ctx context.Context) error {
		return ignore(c.v2jobs.ListImportJobs(ctx, &sesv2.ListImportJobsInput{}))
	})
	v2s("CreateExportJob", func(ctx context.Context) error {
		out, err := c.v2jobs.CreateExportJob(ctx, &sesv2.CreateExportJobInput{
			ExportDataSource: &v2types.ExportDataSource{MessageInsightsDataSource: &v2types.MessageInsightsDataSource{
				StartDate: aws.Time(time.Now().Add(-time.Hour)), EndDate: aws.Time(time.Now())}},
			ExportDestination: &v2types.ExportDestination{DataFormat: v2types.DataFormatJson, S3Url: s("s3://" + jobsBucket + "/exports/")}})
		if err == nil {
			exportID = aws.ToString(out.JobId)
		}
		return err
	})
	v2s("GetExportJob", func(ctx context.Context) error {
		return ignore(c.v2jobs.GetExportJob(ctx, &sesv2.GetExportJobInput{JobId: s(exportID)}))
	})
	v2s("ListExportJobs", func(ctx context.Context) error {
		return ignore(c.v2jobs.ListExportJobs(ctx, &sesv2.ListExportJobsInput{}))
	})
	v2s("CancelExportJob", func(ctx context.Context) error {
		// A job that has not started yet, so the cancellation is certain.
		if err := c.jobs.st.CreateDataJob(ctx, store.DataJob{AccountID: c.jobs.acct, Region: c.jobs.region, ID: "queued",
			Kind: store.JobExport, Type: "MESSAGE_INSIGHTS", Status: store.JobCreated, Created: time.Now(), Request: []byte(`{}`)}); err != nil {
			return err
		}
		return ignore(c.v2jobs.CancelExportJob(ctx, &sesv2.CancelExportJobInput{JobId: s("queued")}))
	})

	// v2: deletions.
	v2s("DeleteEmailIdentityPolicy", func(ctx context.Context) error {
		return ignore(v2.DeleteEmailIdentityPolicy(ctx, &sesv2.DeleteEmailIdentityPolicyInput{EmailIdentity: s("brand.example"), PolicyName: s("delegate")}))
	})
	v2s("DeleteSuppressedDestination", func(ctx context.Context) error {
		return ignore(v2.DeleteSuppressedDestination(ctx, &sesv2.DeleteSuppressedDestinationInput{EmailAddress: s("gone@example.com")}))
	})
	v2s("DeleteEmailIdentity", func(ctx context.Context) error {
		return ignore(v2.DeleteEmailIdentity(ctx, &sesv2.DeleteEmailIdentityInput{EmailIdentity: s("new.example")}))
	})
	v2s("CreateDedicatedIpPool", func(ctx context.Context) error {
		return ignore(v2ip.CreateDedicatedIpPool(ctx, &sesv2.CreateDedicatedIpPoolInput{PoolName: s("spare")}))
	})
	v2s("DeleteDedicatedIpPool", func(ctx context.Context) error {
		return ignore(v2ip.DeleteDedicatedIpPool(ctx, &sesv2.DeleteDedicatedIpPoolInput{PoolName: s("spare")}))
	})
	v2s("DeleteContact", func(ctx context.Context) error {
		return ignore(v2.DeleteContact(ctx, &sesv2.DeleteContactInput{ContactListName: s("members"), EmailAddress: s("ann@example.com")}))
	})
	v2s("DeleteContactList", func(ctx context.Context) error {
		return ignore(v2.DeleteContactList(ctx, &sesv2.DeleteContactListInput{ContactListName: s("members")}))
	})
	v2s("DeleteEmailTemplate", func(ctx context.Context) error {
		return ignore(v2.DeleteEmailTemplate(ctx, &sesv2.DeleteEmailTemplateInput{TemplateName: s("t2")}))
	})
	v2s("DeleteConfigurationSetEventDestination", func(ctx context.Context) error {
		return ignore(v2.DeleteConfigurationSetEventDestination(ctx, &sesv2.DeleteConfigurationSetEventDestinationInput{
			ConfigurationSetName: s("cs2"), EventDestinationName: s("cw")}))
	})
	v2s("DeleteConfigurationSet", func(ctx context.Context) error {
		return ignore(v2.DeleteConfigurationSet(ctx, &sesv2.DeleteConfigurationSetInput{ConfigurationSetName: s("cs2")}))
	})
	v2s("DeleteCustomVerificationEmailTemplate", func(ctx context.Context) error {
		return ignore(v2.DeleteCustomVerificationEmailTemplate(ctx, &sesv2.DeleteCustomVerificationEmailTemplateInput{TemplateName: s("cv2")}))
	})

	// v1: creations.
	v1s("CreateConfigurationSet", func(ctx context.Context) error {
		return ignore(v1.CreateConfigurationSet(ctx, &ses.CreateConfigurationSetInput{ConfigurationSet: &v1types.ConfigurationSet{Name: s("cs1")}}))
	})
	v1s("CreateTemplate", func(ctx context.Context) error {
		return ignore(v1.CreateTemplate(ctx, &ses.CreateTemplateInput{Template: &v1types.Template{TemplateName: s("t1"),
			SubjectPart: s("Hi {{name}}"), TextPart: s("Hello {{name}}")}}))
	})

	v1s("VerifyDomainIdentity", func(ctx context.Context) error {
		return ignore(v1.VerifyDomainIdentity(ctx, &ses.VerifyDomainIdentityInput{Domain: s("v1.example")}))
	})
	v1s("PutIdentityPolicy", func(ctx context.Context) error {
		return ignore(v1.PutIdentityPolicy(ctx, &ses.PutIdentityPolicyInput{Identity: s("v1.example"), PolicyName: s("delegate"),
			Policy: s(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"ses:SendEmail","Resource":"` + arnOf("identity/v1.example") + `"}]}`)}))
	})
	v1s("VerifyDomainDkim", func(ctx context.Context) error {
		return ignore(v1.VerifyDomainDkim(ctx, &ses.VerifyDomainDkimInput{Domain: s("v1.example")}))
	})
	v1s("VerifyEmailIdentity", func(ctx context.Context) error {
		return ignore(v1.VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: s("carl@example.com")}))
	})
	v1s("CreateConfigurationSetEventDestination", func(ctx context.Context) error {
		return ignore(v1.CreateConfigurationSetEventDestination(ctx, &ses.CreateConfigurationSetEventDestinationInput{ConfigurationSetName: s("cs1"),
			EventDestination: &v1types.EventDestination{Name: s("cw"), Enabled: true, MatchingEventTypes: []v1types.EventType{"send"},
				CloudWatchDestination: &v1types.CloudWatchDestination{DimensionConfigurations: []v1types.CloudWatchDimensionConfiguration{
					{DimensionName: s("campaign"), DimensionValueSource: "messageTag", DefaultDimensionValue: s("none")}}}}}))
	})
	v1s("CreateConfigurationSetTrackingOptions", func(ctx context.Context) error {
		return ignore(v1.CreateConfigurationSetTrackingOptions(ctx, &ses.CreateConfigurationSetTrackingOptionsInput{ConfigurationSetName: s("cs1"),
			TrackingOptions: &v1types.TrackingOptions{CustomRedirectDomain: s("brand.example")}}))
	})
	v1s("PutConfigurationSetDeliveryOptions", func(ctx context.Context) error {
		return ignore(v1.PutConfigurationSetDeliveryOptions(ctx, &ses.PutConfigurationSetDeliveryOptionsInput{ConfigurationSetName: s("cs1"),
			DeliveryOptions: &v1types.DeliveryOptions{TlsPolicy: v1types.TlsPolicyRequire}}))
	})
	v1s("SetIdentityFeedbackForwardingEnabled", func(ctx context.Context) error {
		return ignore(v1.SetIdentityFeedbackForwardingEnabled(ctx, &ses.SetIdentityFeedbackForwardingEnabledInput{Identity: s("brand.example"), ForwardingEnabled: true}))
	})
	v1s("SendEmail", func(ctx context.Context) error {
		return ignore(v1.SendEmail(ctx, &ses.SendEmailInput{Source: s("ceo@brand.example"),
			Destination: &v1types.Destination{ToAddresses: []string{"ann@example.com"}},
			Message:     &v1types.Message{Subject: &v1types.Content{Data: s("Hi")}, Body: &v1types.Body{Text: &v1types.Content{Data: s("Hello")}}}}))
	})
	v1s("SendRawEmail", func(ctx context.Context) error {
		return ignore(v1.SendRawEmail(ctx, &ses.SendRawEmailInput{RawMessage: &v1types.RawMessage{
			Data: []byte("From: ceo@brand.example\r\nTo: ann@example.com\r\nSubject: Hi\r\n\r\nHello\r\n")}}))
	})
	v1s("SendTemplatedEmail", func(ctx context.Context) error {
		return ignore(v1.SendTemplatedEmail(ctx, &ses.SendTemplatedEmailInput{Source: s("ceo@brand.example"),
			Destination: &v1types.Destination{ToAddresses: []string{"ann@example.com"}}, Template: s("t1"), TemplateData: s(`{"name":"Ann"}`)}))
	})
	v1s("SendBulkTemplatedEmail", func(ctx context.Context) error {
		return ignore(v1.SendBulkTemplatedEmail(ctx, &ses.SendBulkTemplatedEmailInput{Source: s("ceo@brand.example"), Template: s("t1"),
			DefaultTemplateData: s(`{"name":"you"}`),
			Destinations:        []v1types.BulkEmailDestination{{Destination: &v1types.Destination{ToAddresses: []string{"ann@example.com"}}}}}))
	})

	v1s("CreateCustomVerificationEmailTemplate", func(ctx context.Context) error {
		return ignore(v1.CreateCustomVerificationEmailTemplate(ctx, &ses.CreateCustomVerificationEmailTemplateInput{
			TemplateName: s("cv1"), FromEmailAddress: s("ceo@brand.example"), TemplateSubject: s("Confirm"),
			TemplateContent:       s("<html><body>Confirm</body></html>"),
			SuccessRedirectionURL: s("https://brand.example/ok"), FailureRedirectionURL: s("https://brand.example/fail")}))
	})
	v1s("UpdateCustomVerificationEmailTemplate", func(ctx context.Context) error {
		return ignore(v1.UpdateCustomVerificationEmailTemplate(ctx, &ses.UpdateCustomVerificationEmailTemplateInput{
			TemplateName: s("cv1"), TemplateSubject: s("Please confirm")}))
	})
	v1s("SendCustomVerificationEmail", func(ctx context.Context) error {
		return ignore(v1.SendCustomVerificationEmail(ctx, &ses.SendCustomVerificationEmailInput{EmailAddress: s("dora@example.com"), TemplateName: s("cv1")}))
	})
	v1s("VerifyEmailAddress", func(ctx context.Context) error {
		return ignore(v1.VerifyEmailAddress(ctx, &ses.VerifyEmailAddressInput{EmailAddress: s("emil@example.com")}))
	})
	v1s("SetIdentityDkimEnabled", func(ctx context.Context) error {
		return ignore(v1.SetIdentityDkimEnabled(ctx, &ses.SetIdentityDkimEnabledInput{Identity: s("v1.example"), DkimEnabled: true}))
	})
	v1s("SetIdentityHeadersInNotificationsEnabled", func(ctx context.Context) error {
		return ignore(v1.SetIdentityHeadersInNotificationsEnabled(ctx, &ses.SetIdentityHeadersInNotificationsEnabledInput{Identity: s("brand.example"),
			NotificationType: v1types.NotificationTypeBounce, Enabled: true}))
	})
	v1s("SetIdentityMailFromDomain", func(ctx context.Context) error {
		return ignore(v1.SetIdentityMailFromDomain(ctx, &ses.SetIdentityMailFromDomainInput{Identity: s("v1.example"), MailFromDomain: s("bounce.v1.example")}))
	})
	v1s("UpdateAccountSendingEnabled", func(ctx context.Context) error {
		return ignore(v1.UpdateAccountSendingEnabled(ctx, &ses.UpdateAccountSendingEnabledInput{Enabled: true}))
	})
	v1s("UpdateConfigurationSetEventDestination", func(ctx context.Context) error {
		return ignore(v1.UpdateConfigurationSetEventDestination(ctx, &ses.UpdateConfigurationSetEventDestinationInput{ConfigurationSetName: s("cs1"),
			EventDestination: &v1types.EventDestination{Name: s("cw"), Enabled: false, MatchingEventTypes: []v1types.EventType{"delivery"},
				CloudWatchDestination: &v1types.CloudWatchDestination{DimensionConfigurations: []v1types.CloudWatchDimensionConfiguration{
					{DimensionName: s("campaign"), DimensionValueSource: "messageTag", DefaultDimensionValue: s("none")}}}}}))
	})
	v1s("UpdateConfigurationSetReputationMetricsEnabled", func(ctx context.Context) error {
		return ignore(v1.UpdateConfigurationSetReputationMetricsEnabled(ctx, &ses.UpdateConfigurationSetReputationMetricsEnabledInput{ConfigurationSetName: s("cs1"), Enabled: true}))
	})
	v1s("UpdateConfigurationSetSendingEnabled", func(ctx context.Context) error {
		return ignore(v1.UpdateConfigurationSetSendingEnabled(ctx, &ses.UpdateConfigurationSetSendingEnabledInput{ConfigurationSetName: s("cs1"), Enabled: true}))
	})
	v1s("UpdateConfigurationSetTrackingOptions", func(ctx context.Context) error {
		return ignore(v1.UpdateConfigurationSetTrackingOptions(ctx, &ses.UpdateConfigurationSetTrackingOptionsInput{ConfigurationSetName: s("cs1"),
			TrackingOptions: &v1types.TrackingOptions{CustomRedirectDomain: s("brand.example")}}))
	})
	v1s("UpdateTemplate", func(ctx context.Context) error {
		return ignore(v1.UpdateTemplate(ctx, &ses.UpdateTemplateInput{Template: &v1types.Template{TemplateName: s("t1"),
			SubjectPart: s("Hi {{name}}"), TextPart: s("Hello again {{name}}")}}))
	})

	// v1: reads.
	v1s("GetCustomVerificationEmailTemplate", func(ctx context.Context) error {
		return ignore(v1.GetCustomVerificationEmailTemplate(ctx, &ses.GetCustomVerificationEmailTemplateInput{TemplateName: s("cv1")}))
	})
	v1s("GetSendQuota", func(ctx context.Context) error { return ignore(v1.GetSendQuota(ctx, &ses.GetSendQuotaInput{})) })
	v1s("GetSendStatistics", func(ctx context.Context) error {
		return ignore(v1.GetSendStatistics(ctx, &ses.GetSendStatisticsInput{}))
	})
	v1s("GetAccountSendingEnabled", func(ctx context.Context) error {
		return ignore(v1.GetAccountSendingEnabled(ctx, &ses.GetAccountSendingEnabledInput{}))
	})
	v1s("ListIdentities", func(ctx context.Context) error { return ignore(v1.ListIdentities(ctx, &ses.ListIdentitiesInput{})) })
	v1s("ListVerifiedEmailAddresses", func(ctx context.Context) error {
		return ignore(v1.ListVerifiedEmailAddresses(ctx, &ses.ListVerifiedEmailAddressesInput{}))
	})
	ids := []string{"brand.example"}
	v1s("GetIdentityVerificationAttributes", func(ctx context.Context) error {
		return ignore(v1.GetIdentityVerificationAttributes(ctx, &ses.GetIdentityVerificationAttributesInput{Identities: ids}))
	})
	v1s("GetIdentityDkimAttributes", func(ctx context.Context) error {
		return ignore(v1.GetIdentityDkimAttributes(ctx, &ses.GetIdentityDkimAttributesInput{Identities: ids}))
	})
	v1s("GetIdentityMailFromDomainAttributes", func(ctx context.Context) error {
		return ignore(v1.GetIdentityMailFromDomainAttributes(ctx, &ses.GetIdentityMailFromDomainAttributesInput{Identities: ids}))
	})
	v1s("GetIdentityNotificationAttributes", func(ctx context.Context) error {
		return ignore(v1.GetIdentityNotificationAttributes(ctx, &ses.GetIdentityNotificationAttributesInput{Identities: ids}))
	})
	v1s("GetIdentityPolicies", func(ctx context.Context) error {
		return ignore(v1.GetIdentityPolicies(ctx, &ses.GetIdentityPoliciesInput{Identity: s("v1.example"), PolicyNames: []string{"delegate"}}))
	})
	v1s("ListIdentityPolicies", func(ctx context.Context) error {
		return ignore(v1.ListIdentityPolicies(ctx, &ses.ListIdentityPoliciesInput{Identity: s("v1.example")}))
	})
	v1s("ListConfigurationSets", func(ctx context.Context) error {
		return ignore(v1.ListConfigurationSets(ctx, &ses.ListConfigurationSetsInput{}))
	})
	v1s("DescribeConfigurationSet", func(ctx context.Context) error {
		return ignore(v1.DescribeConfigurationSet(ctx, &ses.DescribeConfigurationSetInput{ConfigurationSetName: s("cs1"),
			ConfigurationSetAttributeNames: []v1types.ConfigurationSetAttribute{"eventDestinations", "trackingOptions", "deliveryOptions", "reputationOptions"}}))
	})
	v1s("ListTemplates", func(ctx context.Context) error { return ignore(v1.ListTemplates(ctx, &ses.ListTemplatesInput{})) })
	v1s("GetTemplate", func(ctx context.Context) error {
		return ignore(v1.GetTemplate(ctx, &ses.GetTemplateInput{TemplateName: s("t1")}))
	})
	v1s("TestRenderTemplate", func(ctx context.Context) error {
		return ignore(v1.TestRenderTemplate(ctx, &ses.TestRenderTemplateInput{TemplateName: s("t1"), TemplateData: s(`{"name":"Ann"}`)}))
	})
	v1s("ListCustomVerificationEmailTemplates", func(ctx context.Context) error {
		return ignore(v1.ListCustomVerificationEmailTemplates(ctx, &ses.ListCustomVerificationEmailTemplatesInput{}))
	})

	// v1: deletions.
	v1s("DeleteConfigurationSetEventDestination", func(ctx context.Context) error {
		return ignore(v1.DeleteConfigurationSetEventDestination(ctx, &ses.DeleteConfigurationSetEventDestinationInput{ConfigurationSetName: s("cs1"), EventDestinationName: s("cw")}))
	})
	v1s("DeleteConfigurationSetTrackingOptions", func(ctx context.Context) error {
		return ignore(v1.DeleteConfigurationSetTrackingOptions(ctx, &ses.DeleteConfigurationSetTrackingOptionsInput{ConfigurationSetName: s("cs1")}))
	})
	v1s("DeleteIdentityPolicy", func(ctx context.Context) error {
		return ignore(v1.DeleteIdentityPolicy(ctx, &ses.DeleteIdentityPolicyInput{Identity: s("v1.example"), PolicyName: s("delegate")}))
	})
	v1s("DeleteIdentity", func(ctx context.Context) error {
		return ignore(v1.DeleteIdentity(ctx, &ses.DeleteIdentityInput{Identity: s("v1.example")}))
	})
	v1s("DeleteVerifiedEmailAddress", func(ctx context.Context) error {
		return ignore(v1.DeleteVerifiedEmailAddress(ctx, &ses.DeleteVerifiedEmailAddressInput{EmailAddress: s("carl@example.com")}))
	})
	v1s("DeleteCustomVerificationEmailTemplate", func(ctx context.Context) error {
		return ignore(v1.DeleteCustomVerificationEmailTemplate(ctx, &ses.DeleteCustomVerificationEmailTemplateInput{TemplateName: s("cv1")}))
	})
	v1s("DeleteTemplate", func(ctx context.Context) error {
		return ignore(v1.DeleteTemplate(ctx, &ses.DeleteTemplateInput{TemplateName: s("t1")}))
	})
	v1s("DeleteConfigurationSet", func(ctx context.Context) error {
		return ignore(v1.DeleteConfigurationSet(ctx, &ses.DeleteConfigurationSetInput{ConfigurationSetName: s("cs1")}))
	})
	return steps
}

// svcModel is the part of a botocore service-2.json the check reads.
type svcModel struct {
	Operations map[string]struct {
		Output *struct {
			Shape         string `json:"shape"`
			ResultWrapper string `json:"resultWrapper"`
		} `json:"output"`
	} `json:"operations"`
	Shapes map[string]modelShape `json:"shapes"`
}

type modelShape struct {
	Type     string                 `json:"type"`
	Members  map[string]modelMember `json:"members"`
	Required []string               `json:"required"`
	Member   *modelMember           `json:"member"`
	Key      *modelMember           `json:"key"`
	Value    *modelMember           `json:"value"`
	Enum     []string               `json:"enum"`
	Payload  string                 `json:"payload"`
	// Flattened lists and maps have no wrapper element in XML.
	Flattened       bool   `json:"flattened"`
	TimestampFormat string `json:"timestampFormat"`
}

type modelMember struct {
	Shape           string `json:"shape"`
	Location        string `json:"location"`
	LocationName    string `json:"locationName"`
	JSONName        string `json:"jsonName"`
	Flattened       bool   `json:"flattened"`
	TimestampFormat string `json:"timestampFormat"`
}

func loadModel(path string) (*svcModel, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the model: %w", err)
	}
	var m svcModel
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &m, nil
}

// checkJSON checks a REST-JSON answer's body against op's output shape.
func (m *svcModel) checkJSON(op string, body []byte) []string {
	out := m.Operations[op].Output
	if out == nil {
		return nil
	}
	var problems []string
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return []string{fmt.Sprintf("not JSON: %v", err)}
	}
	sh := m.Shapes[out.Shape]
	if sh.Payload != "" {
		mem := sh.Members[sh.Payload]
		m.jsonValue("$", mem.Shape, mem.TimestampFormat, v, &problems)
		return problems
	}
	// Members bound to headers or the status code are not in the body.
	body2 := modelShape{Type: "structure", Members: map[string]modelMember{}}
	for name, mem := range sh.Members {
		if mem.Location == "" {
			body2.Members[name] = mem
		}
	}
	for _, r := range sh.Required {
		if _, ok := body2.Members[r]; ok {
			body2.Required = append(body2.Required, r)
		}
	}
	m.jsonStruct("$", body2, v, &problems)
	return problems
}

func (m *svcModel) jsonStruct(path string, sh modelShape, v any, problems *[]string) {
	obj, ok := v.(map[string]any)
	if !ok {
		*problems = append(*problems, fmt.Sprintf("%s: %T, want an object", path, v))
		return
	}
	byKey := map[string]string{}
	for name, mem := range sh.Members {
		key := name
		if mem.JSONName != "" {
			key = mem.JSONName
		}
		byKey[key] = name
	}
	for _, r := range sh.Required {
		key := r
		if mem := sh.Members[r]; mem.JSONName != "" {
			key = mem.JSONName
		}
		if _, ok := obj[key]; !ok {
			*problems = append(*problems, fmt.Sprintf("%s: required member %s is missing", path, key))
		}
	}
	for _, key := range sortedKeys(obj) {
		name, ok := byKey[key]
		if !ok {
			*problems = append(*problems, fmt.Sprintf("%s: member %s is not in the model", path, key))
			continue
		}
		mem := sh.Members[name]
		m.jsonValue(path+"."+key, mem.Shape, mem.TimestampFormat, obj[key], problems)
	}
}

func (m *svcModel) jsonValue(path, shapeName, tsFormat string, v any, problems *[]string) {
	sh, ok := m.Shapes[shapeName]
	if !ok {
		*problems = append(*problems, fmt.Sprintf("%s: the model has no shape %s", path, shapeName))
		return
	}
	bad := func(want string) {
		*problems = append(*problems, fmt.Sprintf("%s: %s %v, want %s (%s)", path, jsonKind(v), v, want, shapeName))
	}
	if v == nil {
		bad(sh.Type + " (null is not a value)")
		return
	}
	switch sh.Type {
	case "structure":
		m.jsonStruct(path, sh, v, problems)
	case "list":
		arr, ok := v.([]any)
		if !ok {
			bad("an array")
			return
		}
		for i, el := range arr {
			m.jsonValue(fmt.Sprintf("%s[%d]", path, i), sh.Member.Shape, sh.Member.TimestampFormat, el, problems)
		}
	case "map":
		obj, ok := v.(map[string]any)
		if !ok {
			bad("an object")
			return
		}
		for _, k := range sortedKeys(obj) {
			m.jsonValue(path+"."+k, sh.Value.Shape, sh.Value.TimestampFormat, obj[k], problems)
		}
	case "string", "blob":
		str, ok := v.(string)
		if !ok {
			bad("a string")
			return
		}
		if len(sh.Enum) > 0 && !slices.Contains(sh.Enum, str) {
			bad("one of " + strings.Join(sh.Enum, ", "))
		}
	case "integer", "long":
		n, ok := v.(json.Number)
		if _, err := n.Int64(); !ok || err != nil {
			bad("an integer")
		}
	case "double", "float":
		if _, ok := v.(json.Number); !ok {
			bad("a number")
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			bad("a boolean")
		}
	case "timestamp":
		format := tsFormat
		if format == "" {
			format = sh.TimestampFormat
		}
		switch format {
		case "", "unixTimestamp": // REST-JSON's default
			if _, ok := v.(json.Number); !ok {
				bad("epoch seconds")
			}
		default:
			if _, ok := v.(string); !ok {
				bad("a " + format + " string")
			}
		}
	default:
		bad("a shape type the check knows")
	}
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	}
	return fmt.Sprintf("%T", v)
}

// xnode is an XML element, generically.
type xnode struct {
	XMLName xml.Name
	Nodes   []xnode `xml:",any"`
	Text    string  `xml:",chardata"`
}

// checkXML checks a Query answer's body: <OpResponse> holding
// <OpResult> (when the operation has an output) and <ResponseMetadata>.
func (m *svcModel) checkXML(op string, body []byte) []string {
	var root xnode
	if err := xml.Unmarshal(body, &root); err != nil {
		return []string{fmt.Sprintf("not XML: %v", err)}
	}
	var problems []string
	if root.XMLName.Local != op+"Response" {
		problems = append(problems, fmt.Sprintf("root element %s, want %sResponse", root.XMLName.Local, op))
	}
	out := m.Operations[op].Output
	var result *xnode
	for i, n := range root.Nodes {
		switch {
		case n.XMLName.Local == "ResponseMetadata":
		case out != nil && n.XMLName.Local == out.ResultWrapper:
			result = &root.Nodes[i]
		default:
			problems = append(problems, fmt.Sprintf("%sResponse: unexpected element %s", op, n.XMLName.Local))
		}
	}
	if out == nil {
		return problems
	}
	if result == nil {
		return append(problems, fmt.Sprintf("%sResponse: no %s", op, out.ResultWrapper))
	}
	m.xmlValue(out.ResultWrapper, out.Shape, *result, &problems)
	return problems
}

func (m *svcModel) xmlValue(path, shapeName string, n xnode, problems *[]string) {
	sh, ok := m.Shapes[shapeName]
	if !ok {
		*problems = append(*problems, fmt.Sprintf("%s: the model has no shape %s", path, shapeName))
		return
	}
	bad := func(want string) {
		*problems = append(*problems, fmt.Sprintf("%s: %q, want %s (%s)", path, n.Text, want, shapeName))
	}
	text := strings.TrimSpace(n.Text)
	switch sh.Type {
	case "structure":
		byName := map[string]string{}
		for name, mem := range sh.Members {
			el := name
			if mem.LocationName != "" {
				el = mem.LocationName
			}
			byName[el] = name
		}
		seen := map[string]bool{}
		for _, c := range n.Nodes {
			name, ok := byName[c.XMLName.Local]
			if !ok {
				*problems = append(*problems, fmt.Sprintf("%s: element %s is not in the model", path, c.XMLName.Local))
				continue
			}
			if seen[name] {
				*problems = append(*problems, fmt.Sprintf("%s: element %s twice", path, c.XMLName.Local))
			}
			seen[name] = true
			m.xmlValue(path+"."+c.XMLName.Local, sh.Members[name].Shape, c, problems)
		}
		for _, r := range sh.Required {
			if !seen[r] {
				*problems = append(*problems, fmt.Sprintf("%s: required element %s is missing", path, r))
			}
		}
	case "list":
		el := "member"
		if sh.Member.LocationName != "" {
			el = sh.Member.LocationName
		}
		for i, c := range n.Nodes {
			if c.XMLName.Local != el {
				*problems = append(*problems, fmt.Sprintf("%s: list element %s, want %s", path, c.XMLName.Local, el))
				continue
			}
			m.xmlValue(fmt.Sprintf("%s[%d]", path, i), sh.Member.Shape, c, problems)
		}
	case "map":
		keyEl, valEl := "key", "value"
		if sh.Key.LocationName != "" {
			keyEl = sh.Key.LocationName
		}
		if sh.Value.LocationName != "" {
			valEl = sh.Value.LocationName
		}
		for i, c := range n.Nodes {
			p := fmt.Sprintf("%s{%d}", path, i)
			if c.XMLName.Local != "entry" || len(c.Nodes) != 2 {
				*problems = append(*problems, fmt.Sprintf("%s: map element %s with %d children, want entry with %s and %s", p, c.XMLName.Local, len(c.Nodes), keyEl, valEl))
				continue
			}
			for _, kv := range c.Nodes {
				switch kv.XMLName.Local {
				case keyEl:
					m.xmlValue(p+"."+keyEl, sh.Key.Shape, kv, problems)
				case valEl:
					m.xmlValue(p+"."+valEl, sh.Value.Shape, kv, problems)
				default:
					*problems = append(*problems, fmt.Sprintf("%s: map entry element %s", p, kv.XMLName.Local))
				}
			}
		}
	case "string", "blob":
		if len(n.Nodes) > 0 {
			bad("text")
		} else if len(sh.Enum) > 0 && !slices.Contains(sh.Enum, text) {
			bad("one of " + strings.Join(sh.Enum, ", "))
		}
	case "integer", "long":
		if _, err := strconv.ParseInt(text, 10, 64); err != nil {
			bad("an integer")
		}
	case "double", "float":
		if _, err := strconv.ParseFloat(text, 64); err != nil {
			bad("a number")
		}
	case "boolean":
		if text != "true" && text != "false" {
			bad("true or false")
		}
	case "timestamp":
		if _, err := time.Parse(time.RFC3339Nano, text); err != nil {
			bad("an ISO 8601 timestamp")
		}
	default:
		bad("a shape type the check knows")
	}
}
