package importexport

import (
	"testing"

	"sesame/internal/store"
)

// The data source parsers take whatever object a user points a job at:
// they must never panic, every record they return has a line number, and
// a contact made of one is checked before the store sees it.
func FuzzParseDataSource(f *testing.F) {
	for _, seed := range []string{
		"emailAddress,reason\na@example.com,BOUNCE\nb@example.com, COMPLAINT\n",
		"a@example.com\n\"unterminated,BOUNCE\n",
		"emailAddress,unsubscribeAll,attributesData,Sports\nann@example.com,true,\"{\"\"a\"\":1}\",OPT_IN\n",
		`{"emailAddress":"a@example.com","reason":"BOUNCE"}` + "\n{oops\n",
		`{"emailAddress":"x@y.z","topicPreferences":[{"topicName":"Sports","subscriptionStatus":"OPT_IN"}],"attributesData":{"k":[1]}}`,
	} {
		f.Add([]byte(seed))
	}
	list := store.ContactList{Name: "l", Topics: []store.Topic{{Name: "Sports", DefaultStatus: "OPT_OUT"}}}
	f.Fuzz(func(t *testing.T, body []byte) {
		var all []record
		all = append(all, parseJSONLines(body)...)
		for _, contacts := range []bool{false, true} {
			recs, err := parseCSV(body, contacts)
			if err == nil {
				all = append(all, recs...)
			}
		}
		for _, rec := range all {
			if rec.line < 1 {
				t.Fatalf("record %+v has no line number", rec)
			}
			if rec.err != "" {
				continue
			}
			c, reason := contactOf(rec, list)
			if reason == "" && len(c.Attributes) > maxAttributesBytes {
				t.Fatalf("contact with %d bytes of attributes accepted", len(c.Attributes))
			}
		}
	})
}
