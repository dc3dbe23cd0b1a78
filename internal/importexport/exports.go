package importexport

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"sesame/internal/events"
	"sesame/internal/objstore"
	"sesame/internal/seserr"
	"sesame/internal/store"
)

// Exporting reads the account's event records of the period (the event
// outbox, as GetMessageInsights does, so an export reaches back as far as
// the outbox keeps records) and writes one object. SES documents no layout
// for the exported files; sesame's rows carry the API's names:
//
//   - message insights: a row per message accepted in the period (its Send
//     or Reject record is in it) and recipient, with MessageId,
//     Timestamp (when the message was accepted, RFC 3339), FromEmailAddress,
//     Subject, Destination, Isp, LastDeliveryEvent, LastEngagementEvent —
//     the members MessageInsightsFilters filters on.
//   - metrics: a row per UTC day with Timestamp and one column per metric,
//     NAME_AGGREGATION (SEND_VOLUME, DELIVERY_RATE, …). Counts are per
//     recipient (sesame's statistics are); a RATE is the metric's volume
//     over SEND's that day.
//
// CSV has a header row; JSON is one object a line.

// eventsPage is how many event records an export reads at a time.
const eventsPage = 1000

func (r *Runner) runExport(ctx context.Context, j store.DataJob) (progress, error) {
	var req ExportRequest
	if err := json.Unmarshal(j.Request, &req); err != nil {
		return progress{errMessage: seserr.JobInterrupted}, fmt.Errorf("export %s: request: %w", j.ID, err)
	}
	// Checked when the job was created; a row it does not fit is damaged.
	if err := req.Validate(); err != nil {
		return progress{errMessage: seserr.JobInterrupted}, fmt.Errorf("export %s: request: %w", j.ID, err)
	}
	var t table
	var p progress
	var err error
	if m := req.ExportDataSource.MetricsDataSource; m != nil {
		t, p, err = r.metrics(ctx, j, m)
	} else {
		t, p, err = r.insights(ctx, j, req.ExportDataSource.MessageInsightsDataSource)
	}
	if err != nil {
		return p, err
	}
	dest := exportLocation(req.ExportDestination, j.ID)
	body, ctype := t.csv(), "text/csv"
	if req.ExportDestination.DataFormat == FormatJSON {
		body, ctype = t.jsonLines(), "application/x-ndjson"
	}
	if err := r.obj.Put(ctx, dest.Bucket, dest.Key, body, ctype); err != nil {
		p.errMessage = seserr.JobWriteFailed(objstore.ErrorCode(err))
		return p, err
	}
	p.exported = int64(len(t.rows))
	p.object = dest.String() // GetExportJob's ExportDestination.S3Url
	return p, nil
}

// exportLocation is the object an export writes: S3Url itself, or, when
// it names a bucket or a folder (ends in "/"), <JobId>.csv|json in it.
func exportLocation(d *ExportDestination, jobID string) Location {
	l, _ := ParseS3URL(d.S3Url, true)
	if l.Key == "" || strings.HasSuffix(l.Key, "/") {
		l.Key += jobID + "." + strings.ToLower(d.DataFormat)
	}
	return l
}

// table is an export's rows: values by column, in the columns' order.
type table struct {
	columns []string
	rows    [][]any
}

func (t table) csv() []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(t.columns)
	for _, row := range t.rows {
		rec := make([]string, len(row))
		for i, v := range row {
			switch v := v.(type) {
			case string:
				rec[i] = v
			case float64:
				rec[i] = strconv.FormatFloat(v, 'f', -1, 64)
			default:
				rec[i] = fmt.Sprint(v)
			}
		}
		w.Write(rec)
	}
	w.Flush()
	return b.Bytes()
}

func (t table) jsonLines() []byte {
	var b bytes.Buffer
	for _, row := range t.rows {
		b.WriteByte('{')
		for i, v := range row {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(t.columns[i])
			val, _ := json.Marshal(v)
			b.Write(k)
			b.WriteByte(':')
			b.Write(val)
		}
		b.WriteString("}\n")
	}
	return b.Bytes()
}

// eachEvent calls fn with the account's event records of [start, end), in
// order, a page at a time; it returns how many it read.
func (r *Runner) eachEvent(ctx context.Context, j store.DataJob, start, end time.Time, fn func(store.OutboxEvent, *events.Record) bool) (int64, error) {
	var n, after int64
	for {
		evs, err := r.st.AccountEvents(ctx, j.AccountID, j.Region, start, end, after, eventsPage)
		if err != nil {
			return n, err
		}
		for _, ev := range evs {
			after = ev.Seq
			var rec events.Record
			if err := json.Unmarshal(ev.Record, &rec); err != nil {
				r.log.Warn("export: event record unreadable", "job", j.ID, "seq", ev.Seq, "err", err)
				continue
			}
			n++
			if !fn(ev, &rec) {
				return n, nil
			}
		}
		if len(evs) < eventsPage {
			return n, nil
		}
	}
}

// --- message insights ----------------------------------------------------

var insightsColumns = []string{"MessageId", "Timestamp", "FromEmailAddress", "Subject", "Destination", "Isp",
	"LastDeliveryEvent", "LastEngagementEvent"}

func (r *Runner) insights(ctx context.Context, j store.DataJob, src *MessageInsightsDataSource) (table, progress, error) {
	t := table{columns: insightsColumns}
	var p progress
	limit := maxInsightsResults
	if src.MaxResults != nil {
		limit = *src.MaxResults
	}
	// The messages sent in the period (their Send or Reject record is in
	// it), then each one's whole history, later events included.
	var ids []string
	seen := map[string]bool{}
	n, err := r.eachEvent(ctx, j, time.Time(*src.StartDate), time.Time(*src.EndDate), func(ev store.OutboxEvent, rec *events.Record) bool {
		accepted := rec.EventType == events.TypeSend || rec.EventType == events.TypeReject
		if accepted && !seen[ev.MessageID] {
			seen[ev.MessageID] = true
			ids = append(ids, ev.MessageID)
		}
		return true
	})
	p.processed = n
	if err != nil {
		return t, p, err
	}
	for _, id := range ids {
		if len(t.rows) >= limit {
			break
		}
		evs, err := r.st.MessageEvents(ctx, j.AccountID, j.Region, id)
		if err != nil {
			return t, p, err
		}
		h, ok, err := events.HistoryOf(evs)
		if err != nil || !ok {
			continue
		}
		order, byRcpt := h.ByRecipient()
		for _, rcpt := range order {
			row := insightsRow(id, &h, rcpt, byRcpt[rcpt])
			if keepInsight(row, src.Include, src.Exclude) && len(t.rows) < limit {
				t.rows = append(t.rows, []any{row.messageID, row.timestamp, row.from, row.subject, row.destination,
					row.isp, row.lastDelivery, row.lastEngagement})
			}
		}
	}
	return t, p, nil
}

type insightRow struct {
	messageID, timestamp, from, subject, destination, isp, lastDelivery, lastEngagement string
}

func insightsRow(id string, h *events.History, rcpt string, recs []*events.Record) insightRow {
	row := insightRow{messageID: id, timestamp: h.Mail.Timestamp.UTC().Format(time.RFC3339Nano), from: h.From(),
		subject: h.Subject(), destination: rcpt, isp: "UNKNOWN_ISP"}
	for _, rec := range recs {
		switch {
		case rec.Open != nil:
			row.lastEngagement = "OPEN"
		case rec.Click != nil:
			row.lastEngagement = "CLICK"
		case rec.Bounce != nil:
			row.lastDelivery = strings.ToUpper(rec.Bounce.BounceType) + "_BOUNCE"
		case rec.Complaint != nil:
			row.lastDelivery = "COMPLAINT"
		case rec.Delivery != nil:
			row.lastDelivery = "DELIVERY"
		case rec.EventType == events.TypeSend && row.lastDelivery == "":
			row.lastDelivery = "SEND"
		}
	}
	return row
}

// keepInsight applies MessageInsightsFilters: every Include list given
// must contain the row's value, no Exclude list may (case-insensitive).
func keepInsight(row insightRow, include, exclude *MessageInsightsFilters) bool {
	match := func(f *MessageInsightsFilters) (all, any bool) {
		all = true
		for _, c := range []struct {
			list []string
			v    string
		}{{f.FromEmailAddress, row.from}, {f.Destination, row.destination}, {f.Subject, row.subject},
			{f.Isp, row.isp}, {f.LastDeliveryEvent, row.lastDelivery}, {f.LastEngagementEvent, row.lastEngagement}} {
			if len(c.list) == 0 {
				continue
			}
			in := slices.ContainsFunc(c.list, func(s string) bool { return strings.EqualFold(s, c.v) })
			all, any = all && in, any || in
		}
		return all, any
	}
	if include != nil {
		if all, _ := match(include); !all {
			return false
		}
	}
	if exclude != nil {
		if _, any := match(exclude); any {
			return false
		}
	}
	return true
}

// --- metrics ---------------------------------------------------------------

func (r *Runner) metrics(ctx context.Context, j store.DataJob, src *MetricsDataSource) (table, progress, error) {
	var p progress
	type day = int64 // Unix seconds of the UTC day
	counts := map[day]map[string]float64{}
	add := func(d day, metric string, n int) {
		if counts[d] == nil {
			counts[d] = map[string]float64{}
		}
		counts[d][metric] += float64(n)
	}
	n, err := r.eachEvent(ctx, j, time.Time(*src.StartDate), time.Time(*src.EndDate), func(ev store.OutboxEvent, rec *events.Record) bool {
		if !inDimensions(src.Dimensions, ev, rec) {
			return true
		}
		d := ev.Created.UTC().Truncate(24 * time.Hour).Unix()
		switch {
		case rec.EventType == events.TypeSend:
			add(d, "SEND", len(rec.Mail.Destination))
		case rec.Delivery != nil:
			add(d, "DELIVERY", len(rec.Delivery.Recipients))
		case rec.Bounce != nil && rec.Bounce.BounceType == "Permanent":
			add(d, "PERMANENT_BOUNCE", len(rec.Bounce.BouncedRecipients))
		case rec.Bounce != nil && rec.Bounce.BounceType == "Transient":
			add(d, "TRANSIENT_BOUNCE", len(rec.Bounce.BouncedRecipients))
		case rec.Complaint != nil:
			add(d, "COMPLAINT", len(rec.Complaint.ComplainedRecipients))
		case rec.Open != nil:
			add(d, "OPEN", 1)
		case rec.Click != nil:
			add(d, "CLICK", 1)
		}
		return true
	})
	p.processed = n
	if err != nil {
		return table{}, p, err
	}
	t := table{columns: []string{"Timestamp"}}
	for _, m := range src.Metrics {
		agg := m.Aggregation
		if agg == "" {
			agg = "VOLUME"
		}
		t.columns = append(t.columns, m.Name+"_"+agg)
	}
	days := make([]day, 0, len(counts))
	for d := range counts {
		days = append(days, d)
	}
	slices.Sort(days)
	for _, d := range days {
		row := []any{time.Unix(d, 0).UTC().Format(time.RFC3339)}
		for _, m := range src.Metrics {
			v := counts[d][m.Name]
			if m.Aggregation == "RATE" {
				if sent := counts[d]["SEND"]; sent > 0 {
					v /= sent
				} else {
					v = 0
				}
			}
			row = append(row, v)
		}
		t.rows = append(t.rows, row)
	}
	return t, p, nil
}

// inDimensions: the event matches every dimension given (any of its
// values). EMAIL_IDENTITY matches the sending identity (sourceArn's), the
// From address or its domain; ISP matches UNKNOWN_ISP only (sesame names
// no mailbox provider).
func inDimensions(dims map[string][]string, ev store.OutboxEvent, rec *events.Record) bool {
	for dim, values := range dims {
		if len(values) == 0 {
			continue
		}
		var have []string
		switch dim {
		case "CONFIGURATION_SET":
			have = []string{ev.ConfigurationSet}
		case "ISP":
			have = []string{"UNKNOWN_ISP"}
		case "EMAIL_IDENTITY":
			src := rec.Mail.Source
			if i := strings.LastIndexByte(src, '<'); i >= 0 {
				src = strings.TrimSuffix(src[i+1:], ">")
			}
			have = append(have, src)
			if at := strings.LastIndexByte(src, '@'); at >= 0 {
				have = append(have, src[at+1:])
			}
			if _, id, ok := strings.Cut(rec.Mail.SourceArn, ":identity/"); ok {
				have = append(have, id)
			}
		}
		hit := false
		for _, v := range values {
			hit = hit || slices.ContainsFunc(have, func(h string) bool { return strings.EqualFold(h, v) })
		}
		if !hit {
			return false
		}
	}
	return true
}
