package api

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"sesame/internal/clock"
	"sesame/internal/importexport"
	"sesame/internal/objstore"
	"sesame/internal/store"
	"sesame/internal/waitfor"
)

const jobsBucket = "sesame-jobs"

// jobsEnv is a server whose import and export jobs use a real
// S3-protocol server (gofakes3, in memory, on loopback) with a bucket.
type jobsEnv struct {
	*acctEnv
	s3 *s3.Client
}

func newJobsEnv(t *testing.T) *jobsEnv {
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
	backend := s3mem.New()
	if err := backend.CreateBucket(jobsBucket); err != nil {
		t.Fatal(err)
	}
	s3srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(s3srv.Close)
	clk := clock.NewFake(time.Now())
	jobs := importexport.New(importexport.Config{Store: st, Clock: clk, S3: objstore.Config{Endpoint: s3srv.URL,
		Region: "us-east-1", AccessKeyID: "AKIDJOBS", SecretAccessKey: "secret", PathStyle: true}})
	t.Cleanup(jobs.Close)
	srv := New(Config{Store: st, Regions: []string{"eu-west-1", "us-east-1"}, Clock: clk, Jobs: jobs})
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	e := &acctEnv{st: st, srv: srv, url: hs.URL, clk: clk, acct: acct.ID, region: "eu-west-1",
		creds: aws.Credentials{AccessKeyID: key.ID, SecretAccessKey: key.Secret}}
	e.v2, e.v1 = e.clients(e.region)
	client := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(s3srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDJOBS", "secret", "")})
	return &jobsEnv{acctEnv: e, s3: client}
}

func (e *jobsEnv) put(t *testing.T, key, body string) string {
	t.Helper()
	if _, err := e.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(jobsBucket), Key: aws.String(key),
		Body: strings.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	return "s3://" + jobsBucket + "/" + key
}

// importDone waits for an import job to finish and returns it.
func (e *jobsEnv) importDone(t *testing.T, id string) *sesv2.GetImportJobOutput {
	t.Helper()
	var out *sesv2.GetImportJobOutput
	waitfor.True(t, "import job "+id+" finished", func() bool {
		var err error
		out, err = e.v2.GetImportJob(context.Background(), &sesv2.GetImportJobInput{JobId: aws.String(id)})
		return err == nil && (out.JobStatus == v2types.JobStatusCompleted || out.JobStatus == v2types.JobStatusFailed)
	})
	return out
}

// httpGet reads a URL with a plain HTTP client, as a user of
// FailedRecordsS3Url or an export's S3Url would.
func httpGet(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", u, resp.Status, b)
	}
	return string(b)
}

func TestImportJobsV2(t *testing.T) {
	t.Parallel()
	e := newJobsEnv(t)
	ctx := context.Background()
	src := e.put(t, "suppress.csv", "a@example.com,BOUNCE\nb@example.com,COMPLAINT\nbroken,BOUNCE\n")
	created, err := e.v2.CreateImportJob(ctx, &sesv2.CreateImportJobInput{
		ImportDestination: &v2types.ImportDestination{SuppressionListDestination: &v2types.SuppressionListDestination{
			SuppressionListImportAction: v2types.SuppressionListImportActionPut}},
		ImportDataSource: &v2types.ImportDataSource{S3Url: aws.String(src), DataFormat: v2types.DataFormatCsv}})
	if err != nil {
		t.Fatal(err)
	}
	job := e.importDone(t, aws.ToString(created.JobId))
	if job.JobStatus != v2types.JobStatusCompleted || aws.ToInt32(job.ProcessedRecordsCount) != 3 ||
		aws.ToInt32(job.FailedRecordsCount) != 1 || job.CompletedTimestamp == nil || job.CreatedTimestamp == nil ||
		aws.ToString(job.ImportDataSource.S3Url) != src || job.ImportDestination.SuppressionListDestination == nil {
		t.Fatalf("GetImportJob = %+v", job)
	}
	if job.FailureInfo == nil || !strings.HasPrefix(aws.ToString(job.FailureInfo.FailedRecordsS3Url), "http") {
		t.Fatalf("FailureInfo = %+v; want an HTTP URL of the failed records", job.FailureInfo)
	}
	if got := httpGet(t, aws.ToString(job.FailureInfo.FailedRecordsS3Url)); !strings.Contains(got, "3,\"broken,BOUNCE\",") {
		t.Errorf("failed records = %q", got)
	}
	supp, err := e.v2.ListSuppressedDestinations(ctx, &sesv2.ListSuppressedDestinationsInput{})
	if err != nil || len(supp.SuppressedDestinationSummaries) != 2 {
		t.Fatalf("ListSuppressedDestinations = %+v, %v; want a and b", supp, err)
	}

	// A contact list from JSON lines.
	if _, err := e.v2.CreateContactList(ctx, &sesv2.CreateContactListInput{ContactListName: aws.String("news"),
		Topics: []v2types.Topic{{TopicName: aws.String("Deals"), DisplayName: aws.String("Deals"),
			DefaultSubscriptionStatus: v2types.SubscriptionStatusOptOut}}}); err != nil {
		t.Fatal(err)
	}
	src = e.put(t, "contacts.json", `{"emailAddress":"ann@example.com","topicPreferences":[{"topicName":"Deals","subscriptionStatus":"OPT_IN"}]}`+"\n")
	created, err = e.v2.CreateImportJob(ctx, &sesv2.CreateImportJobInput{
		ImportDestination: &v2types.ImportDestination{ContactListDestination: &v2types.ContactListDestination{
			ContactListName: aws.String("news"), ContactListImportAction: v2types.ContactListImportActionPut}},
		ImportDataSource: &v2types.ImportDataSource{S3Url: aws.String(src), DataFormat: v2types.DataFormatJson}})
	if err != nil {
		t.Fatal(err)
	}
	if job := e.importDone(t, aws.ToString(created.JobId)); job.JobStatus != v2types.JobStatusCompleted ||
		aws.ToInt32(job.FailedRecordsCount) != 0 || job.FailureInfo != nil {
		t.Fatalf("contact import = %+v", job)
	}
	contacts, err := e.v2.ListContacts(ctx, &sesv2.ListContactsInput{ContactListName: aws.String("news")})
	if err != nil || len(contacts.Contacts) != 1 || aws.ToString(contacts.Contacts[0].EmailAddress) != "ann@example.com" ||
		contacts.Contacts[0].TopicPreferences[0].SubscriptionStatus != v2types.SubscriptionStatusOptIn {
		t.Fatalf("ListContacts = %+v, %v", contacts, err)
	}

	// Listing: by type, and a page at a time.
	list, err := e.v2.ListImportJobs(ctx, &sesv2.ListImportJobsInput{ImportDestinationType: v2types.ImportDestinationTypeContactList})
	if err != nil || len(list.ImportJobs) != 1 || aws.ToString(list.ImportJobs[0].JobId) != aws.ToString(created.JobId) ||
		list.ImportJobs[0].ImportDestination.ContactListDestination == nil {
		t.Fatalf("ListImportJobs(CONTACT_LIST) = %+v, %v", list, err)
	}
	page, err := e.v2.ListImportJobs(ctx, &sesv2.ListImportJobsInput{PageSize: aws.Int32(1)})
	if err != nil || len(page.ImportJobs) != 1 || page.NextToken == nil {
		t.Fatalf("ListImportJobs(PageSize 1) = %+v, %v", page, err)
	}
	next, err := e.v2.ListImportJobs(ctx, &sesv2.ListImportJobsInput{PageSize: aws.Int32(1), NextToken: page.NextToken})
	if err != nil || len(next.ImportJobs) != 1 || next.NextToken != nil ||
		aws.ToString(next.ImportJobs[0].JobId) == aws.ToString(page.ImportJobs[0].JobId) {
		t.Fatalf("second page = %+v, %v", next, err)
	}
	_, err = e.v2.ListImportJobs(ctx, &sesv2.ListImportJobsInput{NextToken: aws.String("bogus")})
	wantErrCode(t, err, "BadRequestException")
	_, err = e.v2.GetImportJob(ctx, &sesv2.GetImportJobInput{JobId: aws.String("nope")})
	wantErrCode(t, err, "NotFoundException")
	// An unknown list and a bad URL are refused at once.
	_, err = e.v2.CreateImportJob(ctx, &sesv2.CreateImportJobInput{
		ImportDestination: &v2types.ImportDestination{ContactListDestination: &v2types.ContactListDestination{
			ContactListName: aws.String("other"), ContactListImportAction: v2types.ContactListImportActionPut}},
		ImportDataSource: &v2types.ImportDataSource{S3Url: aws.String(src), DataFormat: v2types.DataFormatJson}})
	wantErrCode(t, err, "NotFoundException")
	_, err = e.v2.CreateImportJob(ctx, &sesv2.CreateImportJobInput{
		ImportDestination: &v2types.ImportDestination{SuppressionListDestination: &v2types.SuppressionListDestination{
			SuppressionListImportAction: v2types.SuppressionListImportActionDelete}},
		ImportDataSource: &v2types.ImportDataSource{S3Url: aws.String("bucket/key"), DataFormat: v2types.DataFormatJson}})
	wantErrCode(t, err, "BadRequestException")
}

func TestExportJobsV2(t *testing.T) {
	t.Parallel()
	e := newJobsEnv(t)
	ctx := context.Background()
	now := time.Now()
	created, err := e.v2.CreateExportJob(ctx, &sesv2.CreateExportJobInput{
		ExportDataSource: &v2types.ExportDataSource{MetricsDataSource: &v2types.MetricsDataSource{
			Namespace: v2types.MetricNamespaceVdm, StartDate: aws.Time(now.Add(-time.Hour)), EndDate: aws.Time(now),
			Dimensions: map[string][]string{}, Metrics: []v2types.ExportMetric{{Name: v2types.MetricSend, Aggregation: v2types.MetricAggregationVolume}}}},
		ExportDestination: &v2types.ExportDestination{DataFormat: v2types.DataFormatCsv, S3Url: aws.String("s3://" + jobsBucket + "/m.csv")}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(created.JobId)
	var job *sesv2.GetExportJobOutput
	waitfor.True(t, "export finished", func() bool {
		job, err = e.v2.GetExportJob(ctx, &sesv2.GetExportJobInput{JobId: aws.String(id)})
		return err == nil && job.JobStatus == v2types.JobStatusCompleted
	})
	if job.ExportSourceType != v2types.ExportSourceTypeMetricsData || job.Statistics == nil || job.CompletedTimestamp == nil ||
		job.ExportDataSource.MetricsDataSource == nil || job.ExportDestination.DataFormat != v2types.DataFormatCsv {
		t.Fatalf("GetExportJob = %+v", job)
	}
	if got := httpGet(t, aws.ToString(job.ExportDestination.S3Url)); got != "Timestamp,SEND_VOLUME\n" {
		t.Errorf("export (no sends) = %q", got)
	}
	list, err := e.v2.ListExportJobs(ctx, &sesv2.ListExportJobsInput{JobStatus: v2types.JobStatusCompleted})
	if err != nil || len(list.ExportJobs) != 1 || aws.ToString(list.ExportJobs[0].JobId) != id {
		t.Fatalf("ListExportJobs(COMPLETED) = %+v, %v", list, err)
	}
	if list, err := e.v2.ListExportJobs(ctx, &sesv2.ListExportJobsInput{ExportSourceType: v2types.ExportSourceTypeMessageInsights}); err != nil || len(list.ExportJobs) != 0 {
		t.Fatalf("ListExportJobs(MESSAGE_INSIGHTS) = %+v, %v", list, err)
	}
	_, err = e.v2.CancelExportJob(ctx, &sesv2.CancelExportJobInput{JobId: aws.String(id)})
	wantErrCode(t, err, "BadRequestException")
	_, err = e.v2.CancelExportJob(ctx, &sesv2.CancelExportJobInput{JobId: aws.String("nope")})
	wantErrCode(t, err, "NotFoundException")
	_, err = e.v2.GetExportJob(ctx, &sesv2.GetExportJobInput{JobId: aws.String("nope")})
	wantErrCode(t, err, "NotFoundException")

	// A job waiting to run is cancelled.
	if err := e.st.CreateDataJob(ctx, store.DataJob{AccountID: e.acct, Region: e.region, ID: "waiting", Kind: store.JobExport,
		Type: importexport.TypeMessageInsights, Status: store.JobCreated, Created: now,
		Request: []byte(`{"ExportDataSource":{"MessageInsightsDataSource":{"StartDate":1,"EndDate":2}},"ExportDestination":{"DataFormat":"JSON","S3Url":"s3://b-1/k"}}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v2.CancelExportJob(ctx, &sesv2.CancelExportJobInput{JobId: aws.String("waiting")}); err != nil {
		t.Fatal(err)
	}
	if job, err := e.v2.GetExportJob(ctx, &sesv2.GetExportJobInput{JobId: aws.String("waiting")}); err != nil ||
		job.JobStatus != v2types.JobStatusCancelled || aws.ToString(job.ExportDestination.S3Url) != "s3://b-1/k" {
		t.Fatalf("cancelled job = %+v, %v", job, err)
	}
	// SES writes to a bucket of its own without S3Url; sesame has none.
	_, err = e.v2.CreateExportJob(ctx, &sesv2.CreateExportJobInput{
		ExportDataSource: &v2types.ExportDataSource{MessageInsightsDataSource: &v2types.MessageInsightsDataSource{
			StartDate: aws.Time(now.Add(-time.Hour)), EndDate: aws.Time(now)}},
		ExportDestination: &v2types.ExportDestination{DataFormat: v2types.DataFormatJson}})
	wantErrCode(t, err, "BadRequestException")
}

// Without [s3] endpoint, creating a job is refused with a message that
// says what to configure; reads answer as for an account without jobs.
func TestJobsWithoutObjectStore(t *testing.T) {
	t.Parallel()
	e := newAcctEnv(t)
	ctx := context.Background()
	now := time.Now()
	checkRefusals(t, []refusal{
		{"CreateImportJob", func() error {
			_, err := e.v2.CreateImportJob(ctx, &sesv2.CreateImportJobInput{
				ImportDestination: &v2types.ImportDestination{SuppressionListDestination: &v2types.SuppressionListDestination{
					SuppressionListImportAction: v2types.SuppressionListImportActionPut}},
				ImportDataSource: &v2types.ImportDataSource{S3Url: aws.String("s3://bucket/key.csv"), DataFormat: v2types.DataFormatCsv}})
			return err
		}, "BadRequestException", "set [s3] endpoint"},
		{"CreateExportJob", func() error {
			_, err := e.v2.CreateExportJob(ctx, &sesv2.CreateExportJobInput{
				ExportDataSource: &v2types.ExportDataSource{MessageInsightsDataSource: &v2types.MessageInsightsDataSource{
					StartDate: aws.Time(now.Add(-time.Hour)), EndDate: aws.Time(now)}},
				ExportDestination: &v2types.ExportDestination{DataFormat: v2types.DataFormatJson, S3Url: aws.String("s3://bucket/")}})
			return err
		}, "BadRequestException", "set [s3] endpoint"},
		{"GetExportJob", func() error {
			_, err := e.v2.GetExportJob(ctx, &sesv2.GetExportJobInput{JobId: aws.String("j1")})
			return err
		}, "NotFoundException", "Export job <j1> does not exist."},
		{"CancelExportJob", func() error {
			_, err := e.v2.CancelExportJob(ctx, &sesv2.CancelExportJobInput{JobId: aws.String("j1")})
			return err
		}, "NotFoundException", "<j1>"},
		{"ListExportJobs(NextToken)", func() error {
			_, err := e.v2.ListExportJobs(ctx, &sesv2.ListExportJobsInput{NextToken: aws.String("x")})
			return err
		}, "BadRequestException", "NextToken"},
	})
	jobs, err := e.v2.ListExportJobs(ctx, &sesv2.ListExportJobsInput{ExportSourceType: v2types.ExportSourceTypeMetricsData})
	if err != nil || len(jobs.ExportJobs) != 0 {
		t.Errorf("ListExportJobs = %+v, %v; want an empty list", jobs, err)
	}
	imports, err := e.v2.ListImportJobs(ctx, &sesv2.ListImportJobsInput{})
	if err != nil || len(imports.ImportJobs) != 0 {
		t.Errorf("ListImportJobs = %+v, %v; want an empty list", imports, err)
	}
}
