package console

import (
	"net/http"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/sesv2"
)

// dashboardData fills dashboard.html.
type dashboardData struct {
	Account     *sesv2.GetAccountOutput
	Unlimited   bool // Max24HourSend -1: no 24-hour quota
	UsedPercent float64
	APIEndpoint string
}

// dashboard is the region's account page: sandbox or production, the
// quotas and today's use, whether sending is paused, the enforcement
// status (GetAccount, as the API answers it).
func (s *Server) dashboard(w http.ResponseWriter, r *http.Request, v *view) error {
	acct, err := v.SESv2().GetAccount(r.Context(), &sesv2.GetAccountInput{})
	if err != nil {
		return err
	}
	d := dashboardData{Account: acct, APIEndpoint: s.cfg.APIEndpoint}
	if q := acct.SendQuota; q != nil {
		d.Unlimited = q.Max24HourSend < 0
		if q.Max24HourSend > 0 {
			d.UsedPercent = min(100, q.SentLast24Hours/q.Max24HourSend*100)
		}
	}
	return v.Render(w, "dashboard", "Account dashboard", d)
}

// switchRegion answers the header's region selector: the same page in
// another region.
func (s *Server) switchRegion(w http.ResponseWriter, r *http.Request) {
	to := r.URL.Query().Get("to")
	if !slices.Contains(s.cfg.Regions, to) {
		to = s.cfg.Regions[0]
	}
	p := safeNext(r.URL.Query().Get("path"))
	if p == "" {
		p = "/"
	}
	http.Redirect(w, r, "/"+to+p, http.StatusSeeOther)
}
