package importexport

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"sesame/internal/objstore"
	"sesame/internal/seserr"
	"sesame/internal/store"
)

// Importing: the object is read whole, each record is applied on its own
// (a bad record fails alone and is written to the failed records), and the
// counts say how many were processed and how many of those failed.
//
// Formats. The suppression list's are SES's (developer guide, "Adding
// email addresses to your account-level suppression list in bulk"): CSV
// lines "address,reason" (PUT) or "address" (DELETE), an optional
// "emailAddress,reason" header; JSON one object a line,
// {"emailAddress": …, "reason": …}. SES documents no contact list format;
// sesame's mirrors the Contact shape: JSON one object a line,
// {"emailAddress", "unsubscribeAll", "attributesData", "topicPreferences":
// [{"topicName", "subscriptionStatus"}]}; CSV with a header row naming
// emailAddress and optionally unsubscribeAll, attributesData and one
// column per topic (its name) holding OPT_IN, OPT_OUT or nothing.

// maxImportRecords is SES's limit of addresses an object.
const maxImportRecords = 100000

// maxAttributesBytes is SES's limit on a contact's AttributesData.
const maxAttributesBytes = 64 << 10

// record is one record of the data source: its line, its text, and its
// fields by name (lower-cased); topics are a contact's preferences.
type record struct {
	line   int
	text   string
	fields map[string]string
	topics []topicPref
	err    string // unparsable: why
}

type topicPref struct{ Topic, Status string }

// failure is a record that could not be applied.
type failure struct {
	rec    record
	reason string
}

func (r *Runner) runImport(ctx context.Context, j store.DataJob) (progress, error) {
	var req ImportRequest
	if err := json.Unmarshal(j.Request, &req); err != nil {
		return progress{errMessage: seserr.JobInterrupted}, fmt.Errorf("import %s: request: %w", j.ID, err)
	}
	// Checked when the job was created; a row it does not fit is damaged.
	if err := req.Validate(); err != nil {
		return progress{errMessage: seserr.JobInterrupted}, fmt.Errorf("import %s: request: %w", j.ID, err)
	}
	src, _ := ParseS3URL(req.ImportDataSource.S3Url, false)
	body, err := r.obj.Get(ctx, src.Bucket, src.Key, maxObjectBytes)
	if err != nil {
		return progress{errMessage: seserr.JobReadFailed(objstore.ErrorCode(err))}, err
	}
	var recs []record
	if req.ImportDataSource.DataFormat == FormatJSON {
		recs = parseJSONLines(body)
	} else {
		recs, err = parseCSV(body, req.Type() == TypeContactList)
		if err != nil {
			return progress{errMessage: err.Error()}, nil
		}
	}
	if len(recs) > maxImportRecords {
		return progress{errMessage: seserr.JobTooManyRecords}, nil
	}
	apply := r.suppressionApplier(j, req.Action())
	if c := req.ImportDestination.ContactListDestination; c != nil {
		list, err := r.st.ContactList(ctx, j.AccountID, j.Region, c.ContactListName)
		if errors.Is(err, store.ErrNotFound) {
			return progress{errMessage: seserr.JobContactListGone}, nil
		}
		if err != nil {
			return progress{}, err
		}
		apply = r.contactApplier(j, list, req.Action())
	}
	var p progress
	var failed []failure
	for _, rec := range recs {
		if ctx.Err() != nil {
			return p, ctx.Err()
		}
		p.processed++
		reason := rec.err
		if reason == "" {
			if reason, err = apply(ctx, rec); err != nil {
				return p, err // the store failed: the job is interrupted, not the record
			}
		}
		if reason != "" {
			p.failed++
			failed = append(failed, failure{rec, reason})
		}
	}
	if len(failed) > 0 {
		out := Location{Bucket: src.Bucket, Key: src.Key + "." + j.ID + ".failed.csv"}
		if err := r.obj.Put(ctx, out.Bucket, out.Key, failedRecordsCSV(failed), "text/csv"); err != nil {
			// The counts still stand; the operator's log says why the
			// records are not there (a read-only bucket, say).
			r.log.Warn("import job: failed records not written", "job", j.ID, "err", err)
		} else {
			p.object = out.String()
		}
	}
	return p, nil
}

// failedRecordsCSV lists the failed records: line number, the record as
// given, why it failed.
func failedRecordsCSV(failed []failure) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"lineNumber", "record", "failureReason"})
	for _, f := range failed {
		w.Write([]string{strconv.Itoa(f.rec.line), f.rec.text, f.reason})
	}
	w.Flush()
	return b.Bytes()
}

// parseJSONLines reads one JSON object a line (blank lines skipped).
func parseJSONLines(body []byte) []record {
	var out []record
	for i, line := range strings.Split(string(body), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		rec := record{line: i + 1, text: line, fields: map[string]string{}}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &obj); err != nil {
			rec.err = seserr.RecordUnparsable(err.Error())
			out = append(out, rec)
			continue
		}
		for k, v := range obj {
			k = strings.ToLower(k)
			if k == "topicpreferences" {
				var prefs []struct{ TopicName, SubscriptionStatus string }
				if err := json.Unmarshal(v, &prefs); err != nil {
					rec.err = seserr.RecordUnparsable("topicPreferences: " + err.Error())
				}
				for _, p := range prefs {
					rec.topics = append(rec.topics, topicPref{p.TopicName, p.SubscriptionStatus})
				}
				continue
			}
			var s string
			if json.Unmarshal(v, &s) == nil {
				rec.fields[k] = s
			} else {
				rec.fields[k] = string(v) // a number, a boolean, an object (attributesData)
			}
		}
		out = append(out, rec)
	}
	return out
}

// parseCSV reads the CSV records. A suppression list's have the columns
// emailAddress and reason, with or without that header; a contact list's
// name their columns in a header row, which must name emailAddress.
func parseCSV(body []byte, contacts bool) ([]record, error) {
	rd := csv.NewReader(bytes.NewReader(body))
	rd.FieldsPerRecord = -1
	rd.TrimLeadingSpace = true
	var header []string
	var out []record
	for {
		fields, err := rd.Read()
		if err == io.EOF {
			break
		}
		text := strings.Join(fields, ",")
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			out = append(out, record{line: pe.Line, text: text, err: seserr.RecordUnparsable(pe.Err.Error())})
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s", seserr.RecordUnparsable(err.Error()))
		}
		line, _ := rd.FieldPos(0)
		for i := range fields {
			fields[i] = strings.TrimSpace(fields[i])
		}
		if header == nil {
			if contacts || strings.EqualFold(fields[0], "emailAddress") {
				header = fields
				if contacts && !hasColumn(header, "emailaddress") {
					return nil, errors.New(seserr.JobNoEmailColumn)
				}
				continue
			}
			header = []string{"emailAddress", "reason"}
		}
		rec := record{line: line, text: text, fields: map[string]string{}}
		for i, v := range fields {
			if i >= len(header) {
				break
			}
			name := strings.ToLower(header[i])
			switch {
			case name == "emailaddress" || name == "reason" || name == "unsubscribeall" || name == "attributesdata":
				rec.fields[name] = v
			case contacts && v != "":
				rec.topics = append(rec.topics, topicPref{header[i], v})
			}
		}
		out = append(out, rec)
	}
	return out, nil
}

func hasColumn(header []string, lower string) bool {
	for _, h := range header {
		if strings.ToLower(h) == lower {
			return true
		}
	}
	return false
}

// validAddress: a local part and a domain, nothing that could split a
// header (the API's check for suppressed addresses and contacts).
func validAddress(addr string) bool {
	at := strings.LastIndexByte(addr, '@')
	return at > 0 && at < len(addr)-1 && len(addr) <= 320 && !strings.ContainsAny(addr, "\r\n\x00 <>,;")
}

// applier applies one record: a non-empty reason when the record fails, an
// error when the store does.
type applier func(ctx context.Context, rec record) (reason string, err error)

func (r *Runner) suppressionApplier(j store.DataJob, action string) applier {
	return func(ctx context.Context, rec record) (string, error) {
		addr := rec.fields["emailaddress"]
		if !validAddress(addr) {
			return seserr.RecordInvalidAddress, nil
		}
		if action == ActionDelete {
			err := r.st.DeleteSuppressedDestination(ctx, j.AccountID, j.Region, addr)
			if errors.Is(err, store.ErrNotFound) {
				return "", nil // already off the list: what DELETE wants
			}
			return "", err
		}
		reason := strings.ToUpper(rec.fields["reason"])
		if reason != store.ReasonBounce && reason != store.ReasonComplaint {
			return seserr.RecordInvalidReason, nil
		}
		return "", r.st.PutSuppressedDestination(ctx, store.SuppressedDestination{AccountID: j.AccountID,
			Region: j.Region, Address: addr, Reason: reason, Updated: r.clk.Now()})
	}
}

func (r *Runner) contactApplier(j store.DataJob, list store.ContactList, action string) applier {
	return func(ctx context.Context, rec record) (string, error) {
		addr := rec.fields["emailaddress"]
		if !validAddress(addr) {
			return seserr.RecordInvalidAddress, nil
		}
		if action == ActionDelete {
			err := r.st.DeleteContact(ctx, j.AccountID, j.Region, list.Name, addr)
			if errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrNoContactList) {
				return "", nil
			}
			return "", err
		}
		c, reason := contactOf(rec, list)
		if reason != "" {
			return reason, nil
		}
		now := r.clk.Now()
		// PUT replaces a contact that is there ("it will override it with
		// the new value"), else adds it.
		_, err := r.st.UpdateContact(ctx, j.AccountID, j.Region, list.Name, addr, func(cur *store.Contact, _ store.ContactList) error {
			cur.Preferences, cur.UnsubscribeAll, cur.Attributes, cur.Updated = c.Preferences, c.UnsubscribeAll, c.Attributes, now
			return nil
		})
		if errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrNoContactList) {
			c.AccountID, c.Region, c.List, c.Email, c.Created, c.Updated = j.AccountID, j.Region, list.Name, addr, now, now
			err = r.st.CreateContact(ctx, c, func(*store.Contact, store.ContactList) error { return nil })
		}
		return "", err
	}
}

// contactOf is the contact a record describes, or why it is invalid.
func contactOf(rec record, list store.ContactList) (store.Contact, string) {
	var c store.Contact
	switch u := strings.ToLower(rec.fields["unsubscribeall"]); u {
	case "", "false":
	case "true":
		c.UnsubscribeAll = true
	default:
		return c, seserr.RecordInvalidUnsub
	}
	if a := rec.fields["attributesdata"]; a != "" {
		if len(a) > maxAttributesBytes || !json.Valid([]byte(a)) {
			return c, seserr.RecordInvalidAttrs
		}
		c.Attributes = a
	}
	seen := map[string]bool{}
	for _, p := range rec.topics {
		known := false
		for _, t := range list.Topics {
			known = known || t.Name == p.Topic
		}
		switch {
		case !known || seen[p.Topic]:
			return c, seserr.RecordUnknownTopic(p.Topic)
		case p.Status != "OPT_IN" && p.Status != "OPT_OUT":
			return c, seserr.RecordInvalidStatus(p.Topic)
		}
		seen[p.Topic] = true
		c.Preferences = append(c.Preferences, store.TopicPreference{Topic: p.Topic, Status: p.Status})
	}
	return c, ""
}
