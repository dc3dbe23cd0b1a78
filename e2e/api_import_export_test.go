package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"sesame/internal/testenv"
)

// startS3 runs an S3-protocol server (gofakes3, in memory) in the test
// process on loopback with one bucket, and returns its URL and a client.
func startS3(t *testing.T, bucket string) (string, *s3.Client) {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	client := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDS3TEST", "s3secret", "")})
	return srv.URL, client
}

// TestImportExportJobs: sesame configured with an S3-compatible endpoint
// imports a CSV into the suppression list (the aws CLI's create-import-job)
// and a JSON object into a contact list (aws-sdk-go-v2), counts the bad
// record as failed, and exports message insights that read back from the
// bucket.
func TestImportExportJobs(t *testing.T) {
	testenv.Tool(t, "/usr/bin/aws")
	const bucket = "sesame-e2e"
	s3URL, objects := startS3(t, bucket)
	s := testenv.Start(t, testenv.Options{Extra: fmt.Sprintf(
		"[s3]\nendpoint = %q\naccess_key_id = \"AKIDS3TEST\"\nsecret_access_key = \"s3secret\"\n", s3URL)})
	s.Verify("sender@example.com")
	s.Production()
	ctx := context.Background()
	v2 := s.SESv2Client(t)
	put := func(key, body string) string {
		t.Helper()
		if _, err := objects.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
			Body: strings.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
		return "s3://" + bucket + "/" + key
	}
	importDone := func(id string) *sesv2.GetImportJobOutput {
		t.Helper()
		var job *sesv2.GetImportJobOutput
		waitFor(t, "import job "+id+" finished", func() bool {
			var err error
			job, err = v2.GetImportJob(ctx, &sesv2.GetImportJobInput{JobId: aws.String(id)})
			return err == nil && (job.JobStatus == v2types.JobStatusCompleted || job.JobStatus == v2types.JobStatusFailed)
		})
		return job
	}

	// The suppression list from SES's CSV format, with the aws CLI.
	src := put("suppress.csv", "bounced@example.net,BOUNCE\ncomplained@example.net, COMPLAINT\nnot-an-address,BOUNCE\n")
	var created struct{ JobId string }
	out := s.MustAWSCLI(t, "sesv2", "create-import-job",
		"--import-destination", `{"SuppressionListDestination":{"SuppressionListImportAction":"PUT"}}`,
		"--import-data-source", fmt.Sprintf(`{"S3Url":%q,"DataFormat":"CSV"}`, src))
	if err := json.Unmarshal([]byte(out), &created); err != nil || created.JobId == "" {
		t.Fatalf("create-import-job = %s (%v)", out, err)
	}
	job := importDone(created.JobId)
	if job.JobStatus != v2types.JobStatusCompleted || aws.ToInt32(job.ProcessedRecordsCount) != 3 || aws.ToInt32(job.FailedRecordsCount) != 1 {
		t.Fatalf("suppression import = %+v; want COMPLETED, 3 processed, 1 failed", job)
	}
	resp, err := http.Get(aws.ToString(job.FailureInfo.FailedRecordsS3Url))
	if err != nil {
		t.Fatal(err)
	}
	failed, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(failed), "not-an-address") {
		t.Errorf("failed records = %s", failed)
	}
	supp, err := v2.ListSuppressedDestinations(ctx, &sesv2.ListSuppressedDestinationsInput{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]v2types.SuppressionListReason{}
	for _, d := range supp.SuppressedDestinationSummaries {
		got[aws.ToString(d.EmailAddress)] = d.Reason
	}
	if len(got) != 2 || got["bounced@example.net"] != v2types.SuppressionListReasonBounce ||
		got["complained@example.net"] != v2types.SuppressionListReasonComplaint {
		t.Errorf("suppressed after the import: %v", got)
	}
	var listed struct {
		ImportJobs []struct{ JobId, JobStatus string }
	}
	if err := json.Unmarshal([]byte(s.MustAWSCLI(t, "sesv2", "list-import-jobs", "--import-destination-type", "SUPPRESSION_LIST")), &listed); err != nil ||
		len(listed.ImportJobs) != 1 || listed.ImportJobs[0].JobId != created.JobId || listed.ImportJobs[0].JobStatus != "COMPLETED" {
		t.Errorf("list-import-jobs = %+v, %v", listed, err)
	}

	// A contact list from JSON lines, with aws-sdk-go-v2.
	if _, err := v2.CreateContactList(ctx, &sesv2.CreateContactListInput{ContactListName: aws.String("newsletter"),
		Topics: []v2types.Topic{{TopicName: aws.String("weekly"), DisplayName: aws.String("Weekly"),
			DefaultSubscriptionStatus: v2types.SubscriptionStatusOptOut}}}); err != nil {
		t.Fatal(err)
	}
	src = put("contacts.json", `{"emailAddress":"ann@example.net","topicPreferences":[{"topicName":"weekly","subscriptionStatus":"OPT_IN"}]}
{"emailAddress":"bob@example.net","unsubscribeAll":true}
{"emailAddress":"cat@example.net","topicPreferences":[{"topicName":"daily","subscriptionStatus":"OPT_IN"}]}
`)
	imp, err := v2.CreateImportJob(ctx, &sesv2.CreateImportJobInput{
		ImportDestination: &v2types.ImportDestination{ContactListDestination: &v2types.ContactListDestination{
			ContactListName: aws.String("newsletter"), ContactListImportAction: v2types.ContactListImportActionPut}},
		ImportDataSource: &v2types.ImportDataSource{S3Url: aws.String(src), DataFormat: v2types.DataFormatJson}})
	if err != nil {
		t.Fatal(err)
	}
	job = importDone(aws.ToString(imp.JobId))
	if job.JobStatus != v2types.JobStatusCompleted || aws.ToInt32(job.ProcessedRecordsCount) != 3 || aws.ToInt32(job.FailedRecordsCount) != 1 {
		t.Fatalf("contact import = %+v; want 3 processed, 1 failed (a topic the list lacks)", job)
	}
	optedIn, err := v2.ListContacts(ctx, &sesv2.ListContactsInput{ContactListName: aws.String("newsletter"),
		Filter: &v2types.ListContactsFilter{FilteredStatus: v2types.SubscriptionStatusOptIn,
			TopicFilter: &v2types.TopicFilter{TopicName: aws.String("weekly")}}})
	if err != nil || len(optedIn.Contacts) != 1 || aws.ToString(optedIn.Contacts[0].EmailAddress) != "ann@example.net" {
		t.Errorf("contacts opted in to weekly = %+v, %v; want ann alone", optedIn, err)
	}
	all, err := v2.ListContacts(ctx, &sesv2.ListContactsInput{ContactListName: aws.String("newsletter")})
	if err != nil || len(all.Contacts) != 2 {
		t.Errorf("contacts = %+v, %v; want ann and bob", all, err)
	}

	// Message insights of a send, exported as CSV and read back.
	sent, err := v2.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("sender@example.com"),
		Destination: &v2types.Destination{ToAddresses: []string{"success@simulator.amazonses.com"}},
		Content:     simple("exported", "hello", "")})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the delivery in message insights", func() bool {
		in, err := v2.GetMessageInsights(ctx, &sesv2.GetMessageInsightsInput{MessageId: sent.MessageId})
		return err == nil && len(in.Insights) == 1 && len(in.Insights[0].Events) == 2
	})
	exp, err := v2.CreateExportJob(ctx, &sesv2.CreateExportJobInput{
		ExportDataSource: &v2types.ExportDataSource{MessageInsightsDataSource: &v2types.MessageInsightsDataSource{
			StartDate: aws.Time(time.Now().Add(-time.Hour)), EndDate: aws.Time(time.Now().Add(time.Hour))}},
		ExportDestination: &v2types.ExportDestination{DataFormat: v2types.DataFormatCsv, S3Url: aws.String("s3://" + bucket + "/exports/")}})
	if err != nil {
		t.Fatal(err)
	}
	var ej *sesv2.GetExportJobOutput
	waitFor(t, "the export finished", func() bool {
		ej, err = v2.GetExportJob(ctx, &sesv2.GetExportJobInput{JobId: exp.JobId})
		return err == nil && ej.JobStatus == v2types.JobStatusCompleted
	})
	if ej.Statistics == nil || aws.ToInt32(ej.Statistics.ExportedRecordsCount) != 1 {
		t.Errorf("export statistics = %+v", ej.Statistics)
	}
	obj, err := objects.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("exports/" + aws.ToString(exp.JobId) + ".csv")})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	lines := strings.Split(strings.TrimSpace(string(body)), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "MessageId,Timestamp,FromEmailAddress,Subject,Destination") ||
		!strings.HasPrefix(lines[1], aws.ToString(sent.MessageId)+",") ||
		!strings.HasSuffix(lines[1], ",exported,success@simulator.amazonses.com,UNKNOWN_ISP,DELIVERY,") {
		t.Errorf("exported insights = %q", body)
	}
}

// TestImportExportJobsNeedAnEndpoint: without [s3] endpoint both
// creations are refused with a BadRequestException that says so.
func TestImportExportJobsNeedAnEndpoint(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	ctx := context.Background()
	v2 := s.SESv2Client(t)
	_, err := v2.CreateImportJob(ctx, &sesv2.CreateImportJobInput{
		ImportDestination: &v2types.ImportDestination{SuppressionListDestination: &v2types.SuppressionListDestination{
			SuppressionListImportAction: v2types.SuppressionListImportActionPut}},
		ImportDataSource: &v2types.ImportDataSource{S3Url: aws.String("s3://bucket/list.csv"), DataFormat: v2types.DataFormatCsv}})
	wantCode(t, err, "BadRequestException")
	if !strings.Contains(err.Error(), "set [s3] endpoint") {
		t.Errorf("CreateImportJob: %v", err)
	}
	_, err = v2.CreateExportJob(ctx, &sesv2.CreateExportJobInput{
		ExportDataSource: &v2types.ExportDataSource{MessageInsightsDataSource: &v2types.MessageInsightsDataSource{
			StartDate: aws.Time(time.Now().Add(-time.Hour)), EndDate: aws.Time(time.Now())}},
		ExportDestination: &v2types.ExportDestination{DataFormat: v2types.DataFormatJson, S3Url: aws.String("s3://bucket/")}})
	wantCode(t, err, "BadRequestException")
	if !strings.Contains(err.Error(), "set [s3] endpoint") {
		t.Errorf("CreateExportJob: %v", err)
	}
}

// TestImportJobResumesAfterCrash: a job PROCESSING when sesame is killed
// (its read of the object held open by the S3 server) runs again from the
// start after the restart and completes.
func TestImportJobResumesAfterCrash(t *testing.T) {
	const bucket = "sesame-crash"
	backend := s3mem.New()
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	fake := gofakes3.New(backend).Server()
	reached, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The first read of the source hangs until released (or until its
		// client, the sesame killed below, goes away).
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/held.csv") {
			first := false
			once.Do(func() { first = true; close(reached) })
			if first {
				select {
				case <-release:
				case <-r.Context().Done():
					return
				}
			}
		}
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	if _, err := backend.PutObject(bucket, "held.csv", nil, strings.NewReader("held@example.net,BOUNCE\n"), 24, nil); err != nil {
		t.Fatal(err)
	}
	s := testenv.Start(t, testenv.Options{Extra: fmt.Sprintf(
		"[s3]\nendpoint = %q\naccess_key_id = \"AKIDS3TEST\"\nsecret_access_key = \"s3secret\"\n", srv.URL)})
	ctx := context.Background()
	v2 := s.SESv2Client(t)
	created, err := v2.CreateImportJob(ctx, &sesv2.CreateImportJobInput{
		ImportDestination: &v2types.ImportDestination{SuppressionListDestination: &v2types.SuppressionListDestination{
			SuppressionListImportAction: v2types.SuppressionListImportActionPut}},
		ImportDataSource: &v2types.ImportDataSource{S3Url: aws.String("s3://" + bucket + "/held.csv"), DataFormat: v2types.DataFormatCsv}})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-reached:
	case <-time.After(20 * time.Second):
		t.Fatal("sesame never read the source object")
	}
	job, err := v2.GetImportJob(ctx, &sesv2.GetImportJobInput{JobId: created.JobId})
	if err != nil || job.JobStatus != v2types.JobStatusProcessing {
		t.Fatalf("while reading: %+v, %v; want PROCESSING", job, err)
	}
	s.Kill()
	close(release)
	s.Restart()
	v2 = s.SESv2Client(t)
	waitFor(t, "the resumed job completed", func() bool {
		job, err = v2.GetImportJob(ctx, &sesv2.GetImportJobInput{JobId: created.JobId})
		return err == nil && job.JobStatus == v2types.JobStatusCompleted
	})
	if aws.ToInt32(job.ProcessedRecordsCount) != 1 || aws.ToInt32(job.FailedRecordsCount) != 0 {
		t.Errorf("resumed job = %+v", job)
	}
	if _, err := v2.GetSuppressedDestination(ctx, &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String("held@example.net")}); err != nil {
		t.Errorf("held@example.net not suppressed after the resumed import: %v", err)
	}
}
