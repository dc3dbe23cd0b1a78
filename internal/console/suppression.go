package console

import (
	"html/template"
	"net/http"
	"net/url"
	"sesame/internal/seserr"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
)

func init() {
	accountPages = append(accountPages, func(s *Server) map[string]handler {
		return map[string]handler{
			"GET /suppression":           s.suppression,
			"POST /suppression":          s.addSuppressed,
			"GET /suppression/remove":    s.confirmRemoveSuppressed,
			"POST /suppression/remove":   s.removeSuppressed,
			"POST /suppression/settings": s.suppressionSettings,
		}
	})
}

// suppressionPage is how many addresses one page of the list shows.
const suppressionPage = 50

// suppressionFilter is the list's search form, as the query string keeps it.
type suppressionFilter struct {
	Address, Reason, From, To, Token string
}

func (f suppressionFilter) query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"address": f.Address, "reason": f.Reason, "from": f.From, "to": f.To} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

// Filtered says whether the list is narrowed by anything.
func (f suppressionFilter) Filtered() bool {
	return f.Address != "" || f.Reason != "" || f.From != "" || f.To != ""
}

// suppressionData fills suppression.html.
type suppressionData struct {
	Filter suppressionFilter
	// Found is the searched address' entry (GetSuppressedDestination);
	// NotFound is set when it is not on the list.
	Found    *types.SuppressedDestination
	NotFound bool
	List     []types.SuppressedDestinationSummary
	NextPage template.URL // the next page's address, "" on the last
	// Reasons is the account's automatic suppression (GetAccount).
	Bounce, Complaint bool
	// Add is the add form's input, kept when it failed.
	AddAddress, AddReason string
	AddError              string
}

// suppression is the account's suppression list in the region: search by
// address, filter by reason and date, page through it, add and remove
// addresses, and the account-level setting of what SES adds itself.
func (s *Server) suppression(w http.ResponseWriter, r *http.Request, v *view) error {
	q := r.URL.Query()
	f := suppressionFilter{Address: strings.TrimSpace(q.Get("address")), Reason: q.Get("reason"),
		From: q.Get("from"), To: q.Get("to"), Token: q.Get("token")}
	d, err := s.suppressionData(r, v, f)
	if err != nil {
		return err
	}
	return v.Render(w, "suppression", "Suppression list", d)
}

func (s *Server) suppressionData(r *http.Request, v *view, f suppressionFilter) (*suppressionData, error) {
	ctx := r.Context()
	c := v.SESv2()
	d := &suppressionData{Filter: f, AddReason: "BOUNCE"}
	acct, err := c.GetAccount(ctx, &sesv2.GetAccountInput{})
	if err != nil {
		return nil, err
	}
	if sa := acct.SuppressionAttributes; sa != nil {
		for _, reason := range sa.SuppressedReasons {
			d.Bounce = d.Bounce || reason == types.SuppressionListReasonBounce
			d.Complaint = d.Complaint || reason == types.SuppressionListReasonComplaint
		}
	}
	if f.Address != "" {
		out, err := c.GetSuppressedDestination(ctx, &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String(f.Address)})
		switch {
		case IsNotFound(err):
			d.NotFound = true
		case err != nil:
			return nil, err
		default:
			d.Found = out.SuppressedDestination
		}
		return d, nil
	}
	in := &sesv2.ListSuppressedDestinationsInput{PageSize: aws.Int32(suppressionPage)}
	if f.Reason != "" {
		in.Reasons = []types.SuppressionListReason{types.SuppressionListReason(f.Reason)}
	}
	// The dates are whole days in UTC, the end date included.
	if f.From != "" {
		t, err := time.Parse(time.DateOnly, f.From)
		if err != nil {
			v.Error = seserr.ConsoleNotADate("start").Message
			return d, nil
		}
		in.StartDate = &t
	}
	if f.To != "" {
		t, err := time.Parse(time.DateOnly, f.To)
		if err != nil {
			v.Error = seserr.ConsoleNotADate("end").Message
			return d, nil
		}
		t = t.Add(24*time.Hour - time.Second)
		in.EndDate = &t
	}
	if f.Token != "" {
		in.NextToken = aws.String(f.Token)
	}
	out, err := c.ListSuppressedDestinations(ctx, in)
	if err != nil {
		// A bad filter is the form's error, not the page's.
		v.Error = errorText(err)
		return d, nil
	}
	d.List = out.SuppressedDestinationSummaries
	if tok := aws.ToString(out.NextToken); tok != "" {
		q := f.query()
		q.Set("token", tok)
		// Already a URL: html/template would escape its "=" and "&" again.
		d.NextPage = template.URL(v.URL("/suppression") + "?" + q.Encode())
	}
	return d, nil
}

// addSuppressed adds an address (PutSuppressedDestination); SES replaces
// the reason of one already there.
func (s *Server) addSuppressed(w http.ResponseWriter, r *http.Request, v *view) error {
	addr := strings.TrimSpace(r.PostFormValue("email_address"))
	reason := r.PostFormValue("reason")
	_, err := v.SESv2().PutSuppressedDestination(r.Context(), &sesv2.PutSuppressedDestinationInput{
		EmailAddress: aws.String(addr), Reason: types.SuppressionListReason(reason)})
	if err != nil {
		d, derr := s.suppressionData(r, v, suppressionFilter{})
		if derr != nil {
			return derr
		}
		d.AddAddress, d.AddReason, d.AddError = addr, reason, errorText(err)
		return v.RenderStatus(w, errorStatus(err), "suppression", "Suppression list", d)
	}
	return v.Redirect(w, r, "/suppression?"+url.Values{"address": {addr}}.Encode(),
		addr+" is on the suppression list ("+reason+").")
}

// confirmRemoveSuppressed asks before removing an address: a page of its
// own, so the question is asked without JavaScript too.
func (s *Server) confirmRemoveSuppressed(w http.ResponseWriter, r *http.Request, v *view) error {
	addr := strings.TrimSpace(r.URL.Query().Get("address"))
	out, err := v.SESv2().GetSuppressedDestination(r.Context(), &sesv2.GetSuppressedDestinationInput{EmailAddress: aws.String(addr)})
	if err != nil {
		return err
	}
	v.Nav = "suppression"
	return v.Render(w, "suppression_remove", "Remove from the suppression list", out.SuppressedDestination)
}

// removeSuppressed removes an address (DeleteSuppressedDestination).
func (s *Server) removeSuppressed(w http.ResponseWriter, r *http.Request, v *view) error {
	addr := strings.TrimSpace(r.PostFormValue("email_address"))
	if _, err := v.SESv2().DeleteSuppressedDestination(r.Context(), &sesv2.DeleteSuppressedDestinationInput{
		EmailAddress: aws.String(addr)}); err != nil {
		return err
	}
	return v.Redirect(w, r, "/suppression", addr+" was removed from the suppression list.")
}

// suppressionSettings sets which bounces and complaints SES adds to the
// list itself (PutAccountSuppressionAttributes).
func (s *Server) suppressionSettings(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := r.ParseForm(); err != nil {
		return err
	}
	reasons := []types.SuppressionListReason{}
	for _, reason := range r.PostForm["reasons"] {
		reasons = append(reasons, types.SuppressionListReason(reason))
	}
	if _, err := v.SESv2().PutAccountSuppressionAttributes(r.Context(), &sesv2.PutAccountSuppressionAttributesInput{
		SuppressedReasons: reasons}); err != nil {
		return err
	}
	msg := "Automatic suppression is off."
	if len(reasons) > 0 {
		var names []string
		for _, reason := range reasons {
			names = append(names, strings.ToLower(string(reason))+"s")
		}
		msg = "SES now adds addresses to the list for " + strings.Join(names, " and ") + "."
	}
	return v.Redirect(w, r, "/suppression", msg)
}
