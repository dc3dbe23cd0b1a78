package events

import (
	"encoding/json"
	"testing"
)

const docNotificationArn = "arn:aws:ses:us-east-1:888888888888:identity/example.com"

// docNotificationMail is the mail of the notification-examples page: John
// Doe writing to the Doe family with a custom Message-ID. Event-record tags
// are set too: a notification must leave them out.
func docNotificationMail(t testing.TB, messageID, date string, to string, dest ...string) Mail {
	return NewMail(MailInput{
		Timestamp: ts(t, "2016-01-27T14:59:38.237Z"), MessageID: messageID,
		Source: "john@example.com", SourceArn: docNotificationArn, SendingAccountID: docAccount,
		SourceIP: "127.0.3.0", CallerIdentity: "IAM_user_or_role_name",
		Destination: dest,
		Header: hdr(`From: "John Doe" <john@example.com>`, "To: "+to, "Message-ID: custom-message-ID",
			"Subject: Hello", `Content-Type: text/plain; charset="UTF-8"`, "Content-Transfer-Encoding: base64",
			"Date: "+date),
		Tags: map[string][]string{"ses:configuration-set": {"ConfigSet"}, "ses:source-ip": {"192.0.2.99"}},
	})
}

const docFamily = `"Jane Doe" <jane@example.com>, "Mary Doe" <mary@example.com>, "Richard Doe" <richard@example.com>`

var docFamilyAddrs = []string{"jane@example.com", "mary@example.com", "richard@example.com"}

type notificationGolden struct {
	file           string
	includeHeaders bool
	build          func(t *testing.T) Record
	patch          func(want map[string]any)
}

// complaintSubTypeNull: notification-contents lists complaintSubType (null
// or OnAccountSuppressionList) and AWS was recorded writing it; the older
// examples lack it.
func complaintSubTypeNull(want map[string]any) {
	want["complaint"].(map[string]any)["complaintSubType"] = nil
}

func notificationGoldens() []notificationGolden {
	const date = "Wed, 27 Jan 2016 14:05:45 +0000"
	return []notificationGolden{
		{file: "notification_bounce_dsn.json", includeHeaders: true, build: func(t *testing.T) Record {
			return mustRecord(t, docNotificationMail(t, "00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000",
				date, docFamily, docFamilyAddrs...), &Bounce{
				BounceType: BouncePermanent, BounceSubType: SubTypeGeneral, ReportingMTA: "dns; email.example.com",
				BouncedRecipients: []BouncedRecipient{{EmailAddress: "jane@example.com", Status: "5.1.1",
					Action: "failed", DiagnosticCode: "smtp; 550 5.1.1 <jane@example.com>... User"}},
				Timestamp:  tm(t, "2016-01-27T14:59:38.237Z"),
				FeedbackID: "00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa068a-000000", RemoteMtaIP: "127.0.2.0",
			})
		}},
		{file: "notification_bounce_no_dsn.json", includeHeaders: true, build: func(t *testing.T) Record {
			return mustRecord(t, docNotificationMail(t, "00000137860315fd-34208509-5b74-41f3-95c5-22c1edc3c924-000000",
				date, docFamily, docFamilyAddrs...), &Bounce{
				BounceType: BouncePermanent, BounceSubType: SubTypeGeneral,
				BouncedRecipients: []BouncedRecipient{{EmailAddress: "jane@example.com"}, {EmailAddress: "richard@example.com"}},
				Timestamp:         tm(t, "2016-01-27T14:59:38.237Z"),
				FeedbackID:        "00000137860315fd-869464a4-8680-4114-98d3-716fe35851f9-000000", RemoteMtaIP: "127.0.2.0",
			})
		}},
		{file: "notification_complaint_feedback.json", includeHeaders: true, build: func(t *testing.T) Record {
			return mustRecord(t, docNotificationMail(t, "000001378603177f-7a5433e7-8edb-42ae-af10-f0181f34d6ee-000000",
				date, docFamily, docFamilyAddrs...), &Complaint{
				UserAgent:             "AnyCompany Feedback Loop (V0.01)",
				ComplainedRecipients:  []ComplainedRecipient{{EmailAddress: "richard@example.com"}},
				ComplaintFeedbackType: "abuse", ArrivalDate: tm(t, "2016-01-27T14:59:38.237Z"),
				Timestamp:  tm(t, "2016-01-27T14:59:38.237Z"),
				FeedbackID: "000001378603177f-18c07c78-fa81-4a58-9dd1-fedc3cb8f49a-000000",
			})
		}, patch: complaintSubTypeNull},
		{file: "notification_complaint_no_feedback.json", includeHeaders: true, build: func(t *testing.T) Record {
			return mustRecord(t, docNotificationMail(t, "0000013786031775-163e3910-53eb-4c8e-a04a-f29debf88a84-000000",
				date, docFamily, docFamilyAddrs...), &Complaint{
				ComplainedRecipients: []ComplainedRecipient{{EmailAddress: "richard@example.com"}},
				Timestamp:            tm(t, "2016-01-27T14:59:38.237Z"),
				FeedbackID:           "0000013786031775-fea503bc-7497-49e1-881b-a0379bb037d3-000000",
			})
		}, patch: complaintSubTypeNull},
		{file: "notification_delivery.json", includeHeaders: true, build: func(t *testing.T) Record {
			return mustRecord(t, docNotificationMail(t, "0000014644fe5ef6-9a483358-9170-4cb4-a269-f5dcdf415321-000000",
				"Wed, 27 Jan 2016 14:58:45 +0000", `"Jane Doe" <jane@example.com>`, "jane@example.com"), &Delivery{
				Timestamp: tm(t, "2016-01-27T14:59:38.237Z"), Recipients: []string{"jane@example.com"},
				ProcessingTimeMillis: 546, ReportingMTA: "a8-70.smtp-out.amazonses.com",
				SMTPResponse: "250 ok:  Message 64111812 accepted", RemoteMtaIP: "127.0.2.0",
			})
		}},
		// The recorded simulator complaint as an identity notification: its
		// message had no Message-ID, so commonHeaders has no messageId (the
		// event record shows SES's id there); sourceIp and callerIdentity
		// come from the tags.
		{file: "observed_notification_complaint.json", includeHeaders: true, build: func(t *testing.T) Record {
			m := observedMail(t)
			m.SourceIP = ""
			return mustRecord(t, m, &Complaint{
				FeedbackID:           "0100017fd2f87864-7f070191-4eb1-49e3-a42e-7e996b718724-000000",
				ComplainedRecipients: []ComplainedRecipient{{EmailAddress: "complaint@simulator.amazonses.com"}},
				Timestamp:            tm(t, "2022-03-28T23:59:33.564Z"), UserAgent: "Amazon SES Mailbox Simulator",
				ComplaintFeedbackType: "abuse", ArrivalDate: tm(t, "2022-03-28T23:59:33.564Z"),
			})
		}},
		// Recorded: a suppression-list bounce — no remoteMtaIp (no MTA was
		// tried), SES's own reportingMTA, the message's Message-ID with its
		// angle brackets.
		{file: "observed_notification_bounce_suppressed.json", includeHeaders: true, build: func(t *testing.T) Record {
			return mustRecord(t, NewMail(MailInput{
				Timestamp: ts(t, "2021-05-08T14:35:45.469Z"), MessageID: "1111111111111111-22222222-3333-4444-5555-666666666666-000000",
				Source: "noreply@example.com", SourceArn: "arn:aws:ses:ap-southeast-1:123456789012:identity/noreply@example.com",
				SourceIP: "192.0.2.2", SendingAccountID: docAccount, Destination: []string{"John <john@example.net>"},
				Header: hdr("Message-ID: <99999999999999999999999999999999@swift.generated>",
					"Date: Sat, 08 May 2021 22:35:44 +0800", "Subject: YourSite: Test send mail",
					"From: YourSite <noreply@example.com>", "To: John <john@example.net>", "MIME-Version: 1.0",
					`Content-Type: multipart/mixed; boundary="_=_swift_5555555555_77777777777777777777777777777777_=_"`),
			}), &Bounce{
				FeedbackID: "aaaaaaaaaaaaaaaa-bbbbbbbb-cccc-dddd-eeee-ffffffffffff-000000",
				BounceType: BouncePermanent, BounceSubType: SubTypeOnAccountSuppressionList,
				BouncedRecipients: []BouncedRecipient{{EmailAddress: "John <john@example.net>", Action: "failed", Status: "5.1.1",
					DiagnosticCode: "Amazon SES did not send the message to this address because it is on the suppression list for your account. For more information about removing addresses from the suppression list, see the Amazon SES Developer Guide at https://docs.aws.amazon.com/ses/latest/DeveloperGuide/sending-email-suppression-list.html"}},
				Timestamp: tm(t, "2021-05-08T14:35:45.000Z"), ReportingMTA: "dns; amazonses.com",
			})
		}},
		// Recorded: a delivery notification of an identity without headers
		// in its notifications.
		{file: "observed_notification_delivery_no_headers.json", build: func(t *testing.T) Record {
			return mustRecord(t, NewMail(MailInput{
				Timestamp: ts(t, "2017-07-05T20:01:20.773Z"), MessageID: "0101015d1457bd85-2ff839b3-c119-4311-b90c-5ce39eff3026-000000",
				Source: "sender@example.com", SourceArn: "arn:aws:ses:us-west-2:123456789012:identity/sender@example.com",
				SourceIP: "192.0.2.3", SendingAccountID: docAccount, Destination: []string{"recipient@example.com"},
				Header: hdr("From: sender@example.com", "To: recipient@example.com", "Subject: hi"),
			}), &Delivery{Timestamp: tm(t, "2017-07-05T20:01:21.302Z"), ProcessingTimeMillis: 529,
				Recipients: []string{"recipient@example.com"}, SMTPResponse: "250 ok: Message 122614849 accepted",
				RemoteMtaIP: "192.0.2.4", ReportingMTA: "a27-42.smtp-out.us-west-2.amazonses.com"})
		}},
	}
}

func TestNotificationsMatchGoldens(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, g := range notificationGoldens() {
		t.Run(g.file, func(t *testing.T) {
			n, ok := g.build(t).Notification(g.includeHeaders)
			if !ok {
				t.Fatal("no notification")
			}
			seen[n.NotificationType] = true
			want := readGolden(t, g.file)
			if g.patch != nil {
				g.patch(want)
			}
			assertJSON(t, n, want)
		})
	}
	for _, typ := range []string{TypeBounce, TypeComplaint, TypeDelivery} {
		if !seen[typ] {
			t.Errorf("no golden for notification type %q", typ)
		}
	}
}

// TestNotificationWithoutHeaders: "When bounce notifications are not
// configured to include the original email headers, the mail object ...
// does not include the headersTruncated, headers, and commonHeaders fields."
func TestNotificationWithoutHeaders(t *testing.T) {
	t.Parallel()
	for _, g := range notificationGoldens() {
		if !g.includeHeaders {
			continue
		}
		n, ok := g.build(t).Notification(false)
		if !ok {
			t.Fatalf("%s: no notification", g.file)
		}
		want := readGolden(t, g.file)
		if g.patch != nil {
			g.patch(want)
		}
		mail := want["mail"].(map[string]any)
		delete(mail, "headersTruncated")
		delete(mail, "headers")
		delete(mail, "commonHeaders")
		t.Run(g.file, func(t *testing.T) { assertJSON(t, n, want) })
	}
}

func TestNotificationOnlyForBounceComplaintDelivery(t *testing.T) {
	t.Parallel()
	for _, g := range eventGoldens() {
		r := g.build(t)
		n, ok := r.Notification(true)
		want := r.EventType == TypeBounce || r.EventType == TypeComplaint || r.EventType == TypeDelivery
		if ok != want {
			t.Errorf("%s: Notification ok=%v, want %v", r.EventType, ok, want)
		}
		if !ok {
			continue
		}
		doc := toAny(t, n)
		if _, has := lookup(doc, "mail.tags"); has {
			t.Errorf("%s: notification carries tags", r.EventType)
		}
		if _, has := lookup(doc, "eventType"); has {
			t.Errorf("%s: notification carries eventType", r.EventType)
		}
		if doc["notificationType"] != r.EventType {
			t.Errorf("%s: notificationType %v", r.EventType, doc["notificationType"])
		}
	}
	if _, ok := (Record{EventType: TypeBounce}).Notification(true); ok {
		t.Error("a Bounce record without its bounce object made a notification")
	}
}

// TestNotificationFromStoredRecord: a record read back from its JSON has
// lost the notification-only fields; the notification falls back to the
// tags and the listed Message-ID.
func TestNotificationFromStoredRecord(t *testing.T) {
	t.Parallel()
	r := notificationGoldens()[0].build(t)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Record
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	n, ok := back.Notification(true)
	if !ok {
		t.Fatal("no notification")
	}
	if n.Mail.SourceIP != "192.0.2.99" { // the ses:source-ip tag
		t.Errorf("sourceIp %q", n.Mail.SourceIP)
	}
	if n.Mail.CommonHeaders.MessageID != "custom-message-ID" {
		t.Errorf("commonHeaders.messageId %q", n.Mail.CommonHeaders.MessageID)
	}
	if n.Bounce.RemoteMtaIP != "" {
		t.Errorf("remoteMtaIp survived the record's JSON: %q", n.Bounce.RemoteMtaIP)
	}
}
