package importexport

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"sesame/internal/events"
	"sesame/internal/objstore"
	"sesame/internal/seserr"
	"sesame/internal/store"
	"sesame/internal/waitfor"
)

const (
	acct   = "111122223333"
	region = "us-east-1"
	bucket = "sesame-jobs"
)

// env is a real store and a real S3-protocol server (gofakes3, in memory,
// on loopback) with a bucket, and an S3 client of the test's own.
type env struct {
	st  *store.Store
	s3  *s3.Client
	cfg objstore.Config
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	backend := s3mem.New()
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	cfg := objstore.Config{Endpoint: srv.URL, Region: region, AccessKeyID: "AKIDTEST", SecretAccessKey: "secret", PathStyle: true}
	client := s3.New(s3.Options{Region: region, BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")})
	return &env{st: st, s3: client, cfg: cfg}
}

func (e *env) runner(t *testing.T) *Runner {
	r := New(Config{Store: e.st, S3: e.cfg})
	t.Cleanup(r.Close)
	return r
}

func (e *env) put(t *testing.T, key, body string) string {
	t.Helper()
	if _, err := e.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: strings.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	return "s3://" + bucket + "/" + key
}

func (e *env) get(t *testing.T, l string) string {
	t.Helper()
	loc, err := ParseS3URL(l, false)
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(loc.Bucket), Key: aws.String(loc.Key)})
	if err != nil {
		t.Fatalf("get %s: %v", l, err)
	}
	defer out.Body.Close()
	b, _ := io.ReadAll(out.Body)
	return string(b)
}

// finished waits for a job to finish and returns it.
func (e *env) finished(t *testing.T, kind, id string) store.DataJob {
	t.Helper()
	var j store.DataJob
	waitfor.True(t, "job "+id+" finished", func() bool {
		var err error
		j, err = e.st.DataJob(context.Background(), acct, region, kind, id)
		return err == nil && j.Finished()
	})
	return j
}

func suppressionImport(action, url, format string) ImportRequest {
	return ImportRequest{
		ImportDestination: &ImportDestination{SuppressionListDestination: &SuppressionListDestination{action}},
		ImportDataSource:  &ImportDataSource{S3Url: url, DataFormat: format}}
}

func TestImportSuppressionList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.runner(t)
	ctx := context.Background()
	// SES's CSV: address,reason (a space after the comma as in SES's
	// example), with a header; one bad address, one bad reason.
	src := e.put(t, "in/suppress.csv", "emailAddress,reason\na@example.com,BOUNCE\nb@example.com, COMPLAINT\n"+
		"not-an-address,BOUNCE\nc@example.com,SPAM\n")
	id, err := r.CreateImport(ctx, acct, region, suppressionImport(ActionPut, src, FormatCSV))
	if err != nil {
		t.Fatal(err)
	}
	j := e.finished(t, store.JobImport, id)
	if j.Status != store.JobCompleted || j.Processed != 4 || j.Failed != 2 || j.Completed.IsZero() {
		t.Fatalf("job = %+v; want COMPLETED, 4 processed, 2 failed", j)
	}
	for addr, reason := range map[string]string{"a@example.com": "BOUNCE", "b@example.com": "COMPLAINT"} {
		d, err := e.st.SuppressedDestination(ctx, acct, region, addr)
		if err != nil || d.Reason != reason {
			t.Errorf("%s: %+v, %v; want suppressed for %s", addr, d, err, reason)
		}
	}
	if _, err := e.st.SuppressedDestination(ctx, acct, region, "c@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("c@example.com (reason SPAM) suppressed: %v", err)
	}
	// The failed records are written next to the source.
	if want := src + "." + id + ".failed.csv"; j.Object != want {
		t.Fatalf("failed records at %q, want %q", j.Object, want)
	}
	rows, err := csv.NewReader(strings.NewReader(e.get(t, j.Object))).ReadAll()
	if err != nil || len(rows) != 3 || rows[1][0] != "4" || rows[1][2] != seserr.RecordInvalidAddress ||
		rows[2][1] != "c@example.com,SPAM" || rows[2][2] != seserr.RecordInvalidReason {
		t.Errorf("failed records = %q, %v", rows, err)
	}
	u, err := r.ObjectURL(ctx, j.Object)
	if err != nil || !strings.Contains(u, "X-Amz-Signature=") {
		t.Errorf("failed records URL = %q, %v; want a presigned URL", u, err)
	}

	// DELETE from JSON lines: an address not on the list is no failure.
	del := e.put(t, "in/unsuppress.json", `{"emailAddress": "a@example.com"}`+"\n\n"+`{"emailAddress":"nobody@example.com"}`+"\n{oops\n")
	id, err = r.CreateImport(ctx, acct, region, suppressionImport(ActionDelete, del, FormatJSON))
	if err != nil {
		t.Fatal(err)
	}
	j = e.finished(t, store.JobImport, id)
	if j.Status != store.JobCompleted || j.Processed != 3 || j.Failed != 1 {
		t.Fatalf("delete job = %+v; want 3 processed, 1 failed", j)
	}
	if _, err := e.st.SuppressedDestination(ctx, acct, region, "a@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a@example.com still suppressed: %v", err)
	}
}

func TestImportContactList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.runner(t)
	ctx := context.Background()
	list := store.ContactList{AccountID: acct, Region: region, Name: "news", Created: time.Now(),
		Topics: []store.Topic{{Name: "Sports", DisplayName: "Sports", DefaultStatus: "OPT_OUT"},
			{Name: "Cycling", DisplayName: "Cycling", DefaultStatus: "OPT_IN"}}}
	if err := e.st.CreateContactList(ctx, list, 1); err != nil {
		t.Fatal(err)
	}
	contactImport := func(action, url, format string) ImportRequest {
		return ImportRequest{ImportDestination: &ImportDestination{ContactListDestination: &ContactListDestination{"news", action}},
			ImportDataSource: &ImportDataSource{S3Url: url, DataFormat: format}}
	}
	src := e.put(t, "contacts.json", `{"emailAddress":"ann@example.com","topicPreferences":[{"topicName":"Sports","subscriptionStatus":"OPT_IN"}],"attributesData":"{\"plan\":\"pro\"}"}
{"emailAddress":"bob@example.com","unsubscribeAll":true}
{"emailAddress":"cat@example.com","topicPreferences":[{"topicName":"Chess","subscriptionStatus":"OPT_IN"}]}
`)
	id, err := r.CreateImport(ctx, acct, region, contactImport(ActionPut, src, FormatJSON))
	if err != nil {
		t.Fatal(err)
	}
	if j := e.finished(t, store.JobImport, id); j.Status != store.JobCompleted || j.Processed != 3 || j.Failed != 1 {
		t.Fatalf("job = %+v; want 3 processed, 1 failed (unknown topic)", j)
	}
	ann, _, err := e.st.Contact(ctx, acct, region, "news", "ann@example.com")
	if err != nil || len(ann.Preferences) != 1 || ann.Preferences[0] != (store.TopicPreference{Topic: "Sports", Status: "OPT_IN"}) ||
		ann.Attributes != `{"plan":"pro"}` {
		t.Errorf("ann = %+v, %v", ann, err)
	}
	if bob, _, err := e.st.Contact(ctx, acct, region, "news", "bob@example.com"); err != nil || !bob.UnsubscribeAll {
		t.Errorf("bob = %+v, %v; want unsubscribed from all", bob, err)
	}
	// CSV with a header naming topics; PUT replaces ann's preferences.
	src = e.put(t, "contacts.csv", "emailAddress,unsubscribeAll,Sports,Cycling\nann@example.com,false,OPT_OUT,OPT_IN\ndan@example.com,,,\n")
	id, err = r.CreateImport(ctx, acct, region, contactImport(ActionPut, src, FormatCSV))
	if err != nil {
		t.Fatal(err)
	}
	if j := e.finished(t, store.JobImport, id); j.Processed != 2 || j.Failed != 0 {
		t.Fatalf("csv job = %+v", j)
	}
	ann, _, _ = e.st.Contact(ctx, acct, region, "news", "ann@example.com")
	if !slices.Equal(ann.Preferences, []store.TopicPreference{{Topic: "Sports", Status: "OPT_OUT"}, {Topic: "Cycling", Status: "OPT_IN"}}) {
		t.Errorf("ann's preferences after CSV = %+v", ann.Preferences)
	}
	if _, _, err := e.st.Contact(ctx, acct, region, "news", "dan@example.com"); err != nil {
		t.Errorf("dan not added: %v", err)
	}
	// A CSV without an emailAddress column fails the job.
	src = e.put(t, "bad.csv", "address\nx@example.com\n")
	id, _ = r.CreateImport(ctx, acct, region, contactImport(ActionDelete, src, FormatCSV))
	if j := e.finished(t, store.JobImport, id); j.Status != store.JobFailed || j.ErrorMessage != seserr.JobNoEmailColumn {
		t.Errorf("job = %+v; want FAILED: %s", j, seserr.JobNoEmailColumn)
	}
	// An unknown list is refused at once.
	req := contactImport(ActionPut, src, FormatCSV)
	req.ImportDestination.ContactListDestination.ContactListName = "other"
	if _, err := r.CreateImport(ctx, acct, region, req); err == nil || !strings.Contains(err.Error(), "List with name other does not exist") {
		t.Errorf("unknown list: %v", err)
	}
}

func TestImportObjectMissingFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.runner(t)
	id, err := r.CreateImport(context.Background(), acct, region, suppressionImport(ActionPut, "s3://"+bucket+"/absent.csv", FormatCSV))
	if err != nil {
		t.Fatal(err)
	}
	if j := e.finished(t, store.JobImport, id); j.Status != store.JobFailed || j.ErrorMessage != "Failed to read the data source object from the S3 bucket: NoSuchKey." {
		t.Errorf("job = %+v; want FAILED: NoSuchKey", j)
	}
}

// A job PROCESSING when sesame stopped runs again from the start.
func TestUnfinishedJobResumes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	src := e.put(t, "again.csv", "z@example.com,BOUNCE\n")
	req, _ := json.Marshal(suppressionImport(ActionPut, src, FormatCSV))
	j := store.DataJob{AccountID: acct, Region: region, ID: "crashed-job", Kind: store.JobImport, Type: TypeSuppressionList,
		Request: req, Status: store.JobProcessing, Processed: 7, Created: time.Now()}
	if err := e.st.CreateDataJob(ctx, j); err != nil {
		t.Fatal(err)
	}
	// A row whose request no longer reads is failed, not retried forever.
	damaged := j
	damaged.ID, damaged.Request = "damaged-job", []byte(`{}`)
	if err := e.st.CreateDataJob(ctx, damaged); err != nil {
		t.Fatal(err)
	}
	r := e.runner(t)
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if j := e.finished(t, store.JobImport, "damaged-job"); j.Status != store.JobFailed || j.ErrorMessage != seserr.JobInterrupted {
		t.Errorf("damaged job = %+v", j)
	}
	if j := e.finished(t, store.JobImport, "crashed-job"); j.Status != store.JobCompleted || j.Processed != 1 {
		t.Errorf("resumed job = %+v; want COMPLETED with 1 processed (counted afresh)", j)
	}
	if _, err := e.st.SuppressedDestination(ctx, acct, region, "z@example.com"); err != nil {
		t.Error(err)
	}
}

func TestNoEndpointRefuses(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := New(Config{Store: e.st})
	_, err := r.CreateImport(context.Background(), acct, region, suppressionImport(ActionPut, "s3://b-1/k", FormatCSV))
	var se *seserr.Error
	if !errors.As(err, &se) || se.APICode != "BadRequestException" || !strings.Contains(se.Message, "[s3] endpoint") {
		t.Errorf("import without an endpoint: %v", err)
	}
	// Validation comes first: a bad request says what is wrong with it.
	_, err = r.CreateImport(context.Background(), acct, region, suppressionImport(ActionPut, "https://b-1/k", FormatCSV))
	if err == nil || !strings.Contains(err.Error(), "must begin with s3://") {
		t.Errorf("bad URL: %v", err)
	}
}

func TestExportMessageInsightsAndMetrics(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.runner(t)
	ctx := context.Background()
	sent := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	subject := "Hello, world"
	mail := events.Mail{Timestamp: events.NewTime(sent), Source: "shop@example.com", MessageID: "m-1",
		Destination:   []string{"x@example.net", "y@example.net"},
		CommonHeaders: &events.CommonHeaders{From: []string{"shop@example.com"}, Subject: &subject}}
	var evs []store.OutboxEvent
	for i, ev := range []any{&events.Send{}, &events.Delivery{Timestamp: events.NewTime(sent.Add(time.Second)), Recipients: []string{"x@example.net"}},
		&events.Bounce{BounceType: "Permanent", BounceSubType: "General", Timestamp: events.NewTime(sent.Add(2 * time.Second)),
			BouncedRecipients: []events.BouncedRecipient{{EmailAddress: "y@example.net"}}}} {
		rec, err := events.NewRecord(mail, ev)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(rec)
		evs = append(evs, store.OutboxEvent{Key: "k" + string(rune('0'+i)), AccountID: acct, Region: region, MessageID: "m-1",
			EventType: rec.EventType, Record: b, Created: sent.Add(time.Duration(i) * time.Second)})
	}
	if err := e.st.AppendEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	start, end := Timestamp(sent.Add(-time.Hour)), Timestamp(sent.Add(time.Hour))
	id, err := r.CreateExport(ctx, acct, region, ExportRequest{
		ExportDataSource:  &ExportDataSource{MessageInsightsDataSource: &MessageInsightsDataSource{StartDate: &start, EndDate: &end}},
		ExportDestination: &ExportDestination{DataFormat: FormatCSV, S3Url: "s3://" + bucket + "/exports/"}})
	if err != nil {
		t.Fatal(err)
	}
	j := e.finished(t, store.JobExport, id)
	if j.Status != store.JobCompleted || j.Exported != 2 || j.Processed != 3 {
		t.Fatalf("insights export = %+v; want 2 rows from 3 events", j)
	}
	rows, err := csv.NewReader(strings.NewReader(e.get(t, "s3://"+bucket+"/exports/"+id+".csv"))).ReadAll()
	if err != nil || len(rows) != 3 || !slices.Equal(rows[0], insightsColumns) ||
		!slices.Equal(rows[1], []string{"m-1", "2026-12-01T10:00:00Z", "shop@example.com", subject, "x@example.net", "UNKNOWN_ISP", "DELIVERY", ""}) ||
		rows[2][4] != "y@example.net" || rows[2][6] != "PERMANENT_BOUNCE" {
		t.Errorf("insights rows = %q, %v", rows, err)
	}
	// A period holding only later events of the message has no row for it.
	later := Timestamp(sent.Add(time.Second))
	id, err = r.CreateExport(ctx, acct, region, ExportRequest{
		ExportDataSource:  &ExportDataSource{MessageInsightsDataSource: &MessageInsightsDataSource{StartDate: &later, EndDate: &end}},
		ExportDestination: &ExportDestination{DataFormat: FormatJSON, S3Url: "s3://" + bucket + "/later.json"}})
	if err != nil {
		t.Fatal(err)
	}
	if j := e.finished(t, store.JobExport, id); j.Status != store.JobCompleted || j.Exported != 0 || j.Processed != 2 {
		t.Errorf("export of a period after the send = %+v; want 0 rows from 2 events", j)
	}
	// Filters: only bounced rows.
	id, err = r.CreateExport(ctx, acct, region, ExportRequest{
		ExportDataSource: &ExportDataSource{MessageInsightsDataSource: &MessageInsightsDataSource{StartDate: &start, EndDate: &end,
			Include: &MessageInsightsFilters{LastDeliveryEvent: []string{"PERMANENT_BOUNCE"}}}},
		ExportDestination: &ExportDestination{DataFormat: FormatJSON, S3Url: "s3://" + bucket + "/bounced.json"}})
	if err != nil {
		t.Fatal(err)
	}
	e.finished(t, store.JobExport, id)
	var row map[string]string
	if got := e.get(t, "s3://"+bucket+"/bounced.json"); json.Unmarshal([]byte(got), &row) != nil || row["Destination"] != "y@example.net" ||
		strings.Count(got, "\n") != 1 {
		t.Errorf("filtered JSON export = %q", got)
	}
	// Metrics by day, per recipient.
	id, err = r.CreateExport(ctx, acct, region, ExportRequest{
		ExportDataSource: &ExportDataSource{MetricsDataSource: &MetricsDataSource{Namespace: "VDM", StartDate: &start, EndDate: &end,
			Dimensions: map[string][]string{"EMAIL_IDENTITY": {"example.com"}},
			Metrics:    []ExportMetric{{"SEND", "VOLUME"}, {"DELIVERY", "RATE"}, {"PERMANENT_BOUNCE", "VOLUME"}}}},
		ExportDestination: &ExportDestination{DataFormat: FormatCSV, S3Url: "s3://" + bucket + "/metrics.csv"}})
	if err != nil {
		t.Fatal(err)
	}
	e.finished(t, store.JobExport, id)
	if got, want := e.get(t, "s3://"+bucket+"/metrics.csv"),
		"Timestamp,SEND_VOLUME,DELIVERY_RATE,PERMANENT_BOUNCE_VOLUME\n2026-12-01T00:00:00Z,2,0.5,1\n"; got != want {
		t.Errorf("metrics = %q, want %q", got, want)
	}
	// A bucket that is not there fails the export, saying so.
	id, err = r.CreateExport(ctx, acct, region, ExportRequest{
		ExportDataSource:  &ExportDataSource{MessageInsightsDataSource: &MessageInsightsDataSource{StartDate: &start, EndDate: &end}},
		ExportDestination: &ExportDestination{DataFormat: FormatCSV, S3Url: "s3://no-such-bucket/x.csv"}})
	if err != nil {
		t.Fatal(err)
	}
	if j := e.finished(t, store.JobExport, id); j.Status != store.JobFailed ||
		j.ErrorMessage != "Failed to write the export to the S3 bucket: NoSuchBucket." {
		t.Errorf("export to a missing bucket = %+v", j)
	}
	// A metric sesame cannot count is refused.
	_, err = r.CreateExport(ctx, acct, region, ExportRequest{
		ExportDataSource: &ExportDataSource{MetricsDataSource: &MetricsDataSource{Namespace: "VDM", StartDate: &start, EndDate: &end,
			Dimensions: map[string][]string{}, Metrics: []ExportMetric{{"DELIVERY_OPEN", "VOLUME"}}}},
		ExportDestination: &ExportDestination{DataFormat: FormatCSV, S3Url: "s3://" + bucket + "/m.csv"}})
	if err == nil || !strings.Contains(err.Error(), "cannot export metric DELIVERY_OPEN") {
		t.Errorf("DELIVERY_OPEN: %v", err)
	}
}

func TestCancelExport(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	// A job not yet started (as one waiting for a slot).
	j := store.DataJob{AccountID: acct, Region: region, ID: "waiting", Kind: store.JobExport, Type: TypeMessageInsights,
		Request: []byte(`{}`), Status: store.JobCreated, Created: time.Now()}
	if err := e.st.CreateDataJob(ctx, j); err != nil {
		t.Fatal(err)
	}
	r := New(Config{Store: e.st, S3: e.cfg})
	if err := r.CancelExport(ctx, acct, region, "waiting"); err != nil {
		t.Fatal(err)
	}
	if j, _ := e.st.DataJob(ctx, acct, region, store.JobExport, "waiting"); j.Status != store.JobCancelled || j.Completed.IsZero() {
		t.Errorf("cancelled job = %+v", j)
	}
	if err := r.CancelExport(ctx, acct, region, "waiting"); err == nil || !strings.Contains(err.Error(), "can no longer be cancelled") {
		t.Errorf("second cancel: %v", err)
	}
	if err := r.CancelExport(ctx, acct, region, "nope"); err == nil || !strings.Contains(err.Error(), "Export job <nope> does not exist.") {
		t.Errorf("unknown job: %v", err)
	}
	// A cancelled job is not resumed.
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if j, _ := e.st.DataJob(ctx, acct, region, store.JobExport, "waiting"); j.Status != store.JobCancelled {
		t.Errorf("after Start: %+v", j)
	}
}

func TestParseS3URL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in     string
		prefix bool
		want   Location
		err    string
	}{
		{"s3://my-bucket/a/b.csv", false, Location{"my-bucket", "a/b.csv"}, ""},
		{"s3://my-bucket", true, Location{"my-bucket", ""}, ""},
		{"s3://my-bucket/", false, Location{}, "names no object key"},
		{"https://my-bucket/k", false, Location{}, "must begin with s3://"},
		{"s3:///k", false, Location{}, "names no bucket"},
		{"s3://My_Bucket/k", false, Location{}, "not a valid bucket name"},
	} {
		got, err := ParseS3URL(tc.in, tc.prefix)
		if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("ParseS3URL(%q) = %+v, %v; want %+v, %q", tc.in, got, err, tc.want, tc.err)
		}
	}
}

// A job another node claimed is left to it while its claim is renewed;
// once the claim runs out (the node died) this node's sweep takes the job
// and runs it.
func TestJobOfDeadNodeTakenOver(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	src := e.put(t, "orphan.csv", "o@example.com,BOUNCE\n")
	req, _ := json.Marshal(suppressionImport(ActionPut, src, FormatCSV))
	claimTTL := 600 * time.Millisecond
	j := store.DataJob{AccountID: acct, Region: region, ID: "orphan-job", Kind: store.JobImport, Type: TypeSuppressionList,
		Request: req, Status: store.JobProcessing, Created: time.Now(),
		ClaimedBy: "dead-node", ClaimedUntil: time.Now().Add(claimTTL)}
	if err := e.st.CreateDataJob(ctx, j); err != nil {
		t.Fatal(err)
	}
	r := New(Config{Store: e.st, S3: e.cfg, Holder: "live-node", ClaimTTL: claimTTL})
	t.Cleanup(r.Close)
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.st.DataJob(ctx, acct, region, store.JobImport, "orphan-job"); got.Finished() {
		t.Fatalf("job run while the other node's claim held: %+v", got)
	}
	if got := e.finished(t, store.JobImport, "orphan-job"); got.Status != store.JobCompleted || got.Processed != 1 {
		t.Errorf("taken-over job = %+v; want COMPLETED with 1 processed", got)
	}
	if _, err := e.st.SuppressedDestination(ctx, acct, region, "o@example.com"); err != nil {
		t.Error(err)
	}
}
