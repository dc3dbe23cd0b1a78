package console

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"sesame/internal/seserr"
	"sesame/internal/verify"
)

// The identities pages: SES console's "Verified identities". The list and
// the create form, one identity's status and the DNS records to publish
// (verify.Records, as `sesame admin identity records` prints them), and
// its settings: custom MAIL FROM domain, DKIM signing, resending an
// address's verification mail, deletion.

func init() {
	accountPages = append(accountPages, func(s *Server) map[string]handler {
		return map[string]handler{
			"GET /identities":                   s.identities,
			"POST /identities":                  s.createIdentity,
			"GET /identities/{name}":            s.identity,
			"POST /identities/{name}/mail-from": s.identityMailFrom,
			"POST /identities/{name}/dkim":      s.identityDKIM,
			"POST /identities/{name}/resend":    s.identityResend,
			"POST /identities/{name}/delete":    s.deleteIdentity,
		}
	})
}

// identityPath is an identity's page below the region (an address's @
// and + kept readable, anything else escaped).
func identityPath(name string) string { return "/identities/" + url.PathEscape(name) }

// identityRow is one line of the list.
type identityRow struct {
	Name, Type, Status, Path string
	SendingEnabled           bool
}

// identityForm is the create form's input, kept when it is shown again.
type identityForm struct {
	Kind        string // "domain" or "email"
	Domain      string
	Email       string
	UseMailFrom bool
	MailFrom    string // the subdomain's full name
	Behavior    string // BehaviorOnMxFailure
	KeyLength   string // Easy DKIM's key length
}

type identitiesData struct {
	Rows []identityRow
	Next string // the next page's token
	Form identityForm
}

// identities lists the region's identities (ListEmailIdentities) with the
// create form.
func (s *Server) identities(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.renderIdentities(w, r, v, http.StatusOK, identityForm{Kind: "domain", Behavior: string(types.BehaviorOnMxFailureUseDefaultValue),
		KeyLength: string(types.DkimSigningKeyLengthRsa2048Bit)})
}

func (s *Server) renderIdentities(w http.ResponseWriter, r *http.Request, v *view, status int, form identityForm) error {
	in := &sesv2.ListEmailIdentitiesInput{PageSize: aws.Int32(100)}
	if next := r.URL.Query().Get("next"); next != "" {
		in.NextToken = aws.String(next)
	}
	out, err := v.SESv2().ListEmailIdentities(r.Context(), in)
	if err != nil {
		return err
	}
	d := identitiesData{Form: form, Next: aws.ToString(out.NextToken)}
	for _, id := range out.EmailIdentities {
		name := aws.ToString(id.IdentityName)
		d.Rows = append(d.Rows, identityRow{Name: name, Type: string(id.IdentityType), Status: string(id.VerificationStatus),
			SendingEnabled: id.SendingEnabled, Path: v.URL(identityPath(name))})
	}
	return v.RenderStatus(w, status, "identities", "Identities", d)
}

// createIdentity is the create form: CreateEmailIdentity (a domain with
// Easy DKIM of the chosen key length), then the custom MAIL FROM domain
// if asked for.
func (s *Server) createIdentity(w http.ResponseWriter, r *http.Request, v *view) error {
	f := identityForm{Kind: r.PostFormValue("kind"), Domain: strings.TrimSpace(r.PostFormValue("domain")),
		Email: strings.TrimSpace(r.PostFormValue("email")), UseMailFrom: r.PostFormValue("use_mail_from") != "",
		MailFrom: strings.TrimSpace(r.PostFormValue("mail_from")), Behavior: r.PostFormValue("behavior"),
		KeyLength: r.PostFormValue("key_length")}
	in := &sesv2.CreateEmailIdentityInput{}
	switch f.Kind {
	case "email":
		in.EmailIdentity = aws.String(f.Email)
	case "domain":
		in.EmailIdentity = aws.String(f.Domain)
		if f.KeyLength != "" {
			in.DkimSigningAttributes = &types.DkimSigningAttributes{NextSigningKeyLength: types.DkimSigningKeyLength(f.KeyLength)}
		}
	default:
		f.Kind = "domain"
		v.Error = seserr.ConsoleIdentityKindMissing().Message
		return s.renderIdentities(w, r, v, http.StatusBadRequest, f)
	}
	name := aws.ToString(in.EmailIdentity)
	// The form's two fields say which kind the user meant: an address in
	// the domain field would otherwise become an address identity.
	if f.Kind == "domain" && strings.Contains(name, "@") {
		v.Error = seserr.ConsoleDomainHasAt(name).Message
		return s.renderIdentities(w, r, v, http.StatusBadRequest, f)
	}
	if f.Kind == "email" && name != "" && !strings.Contains(name, "@") {
		v.Error = seserr.ConsoleAddressNeedsAt(name).Message
		return s.renderIdentities(w, r, v, http.StatusBadRequest, f)
	}
	if f.UseMailFrom && f.MailFrom == "" {
		v.Error = seserr.ConsoleMailFromDomainMissing().Message
		return s.renderIdentities(w, r, v, http.StatusBadRequest, f)
	}
	if _, err := v.SESv2().CreateEmailIdentity(r.Context(), in); err != nil {
		v.Error = errorText(err)
		return s.renderIdentities(w, r, v, errorStatus(err), f)
	}
	if canon, err := verify.CanonicalName(name); err == nil {
		name = canon
	}
	flash := "Created the identity " + name + "."
	if f.Kind == "email" {
		flash += " SES sent a verification mail to it: follow its link within 24 hours."
	} else {
		flash += " Publish the DNS records below; SES checks them every few minutes."
	}
	if f.UseMailFrom {
		if _, err := v.SESv2().PutEmailIdentityMailFromAttributes(r.Context(), &sesv2.PutEmailIdentityMailFromAttributesInput{
			EmailIdentity: aws.String(name), MailFromDomain: aws.String(f.MailFrom),
			BehaviorOnMxFailure: types.BehaviorOnMxFailure(f.Behavior)}); err != nil {
			flash += " The custom MAIL FROM domain was not set: " + errorText(err)
		}
	}
	return v.Redirect(w, r, identityPath(name), flash)
}

// identityData fills identity.html.
type identityData struct {
	Name, Path string
	Domain     bool
	ID         *sesv2.GetEmailIdentityOutput
	Records    []verify.Record
	// RecordsError says why records could not be listed (the operator's
	// configuration lacks a domain).
	RecordsError string
	Policies     int
	// MailFrom and Behavior are the MAIL FROM form's values (the user's
	// input when it failed).
	MailFrom, Behavior string
}

// identity is one identity's page: GetEmailIdentity, and for a domain
// the DNS records to publish.
func (s *Server) identity(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.renderIdentity(w, r, v, http.StatusOK, nil)
}

// renderIdentity shows the identity page; form, when set, is the MAIL
// FROM form's failed input.
func (s *Server) renderIdentity(w http.ResponseWriter, r *http.Request, v *view, status int, form *identityData) error {
	name := r.PathValue("name")
	id, err := v.SESv2().GetEmailIdentity(r.Context(), &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(name)})
	if err != nil {
		return err
	}
	v.Nav = "identities"
	d := identityData{Name: name, Path: identityPath(name), Domain: id.IdentityType == types.IdentityTypeDomain, ID: id,
		Policies: len(id.Policies), Behavior: string(types.BehaviorOnMxFailureUseDefaultValue)}
	if mf := id.MailFromAttributes; mf != nil {
		d.MailFrom = aws.ToString(mf.MailFromDomain)
		if mf.BehaviorOnMxFailure != "" {
			d.Behavior = string(mf.BehaviorOnMxFailure)
		}
	}
	if form != nil {
		d.MailFrom, d.Behavior = form.MailFrom, form.Behavior
	}
	if d.Domain {
		d.Records, err = s.identityRecords(r, v, name, id)
		if err != nil {
			d.RecordsError = err.Error()
		}
	}
	return v.RenderStatus(w, status, "identity", name, d)
}

// identityRecords is what the domain's owner publishes, composed as `sesame
// admin identity records` does from what the API tells the user: the
// v1 _amazonses token comes from GetIdentityVerificationAttributes (v2's
// GetEmailIdentity has none), BYODKIM's public key only the user has.
func (s *Server) identityRecords(r *http.Request, v *view, name string, id *sesv2.GetEmailIdentityOutput) ([]verify.Record, error) {
	in := verify.RecordsInput{Domain: strings.ToLower(name), Region: v.Region, Status: string(id.VerificationStatus),
		DKIMCNAMEDomain: s.cfg.DKIMCNAMEDomain, MailFromMXDomain: s.cfg.MailFromMXDomain, Hostname: s.cfg.Hostname,
		SourceAddresses: s.cfg.SourceAddresses}
	if dk := id.DkimAttributes; dk != nil {
		in.DKIMStatus = string(dk.Status)
		// GetEmailIdentity reports the origin as AWS_SES even when DKIM was
		// never set up; without tokens there is nothing to publish.
		switch {
		case dk.SigningAttributesOrigin == types.DkimSigningAttributesOriginExternal:
			in.DKIMOrigin = string(dk.SigningAttributesOrigin)
			if len(dk.Tokens) > 0 { // SES gives BYODKIM's selector as its token
				in.DKIMSelector = dk.Tokens[0]
			}
		case len(dk.Tokens) > 0:
			in.DKIMOrigin, in.DKIMTokens = string(dk.SigningAttributesOrigin), dk.Tokens
		}
	}
	if mf := id.MailFromAttributes; mf != nil {
		in.MailFromDomain = aws.ToString(mf.MailFromDomain)
	}
	if id.VerificationStatus != types.VerificationStatusSuccess {
		va, err := v.SES().GetIdentityVerificationAttributes(r.Context(), &ses.GetIdentityVerificationAttributesInput{
			Identities: []string{name}})
		if err != nil {
			return nil, err
		}
		for k, a := range va.VerificationAttributes {
			if strings.EqualFold(k, name) {
				in.DomainToken = aws.ToString(a.VerificationToken)
			}
		}
	}
	return verify.Records(in)
}

// identityMailFrom sets (action=set) or clears the custom MAIL FROM
// domain (PutEmailIdentityMailFromAttributes).
func (s *Server) identityMailFrom(w http.ResponseWriter, r *http.Request, v *view) error {
	name := r.PathValue("name")
	in := &sesv2.PutEmailIdentityMailFromAttributesInput{EmailIdentity: aws.String(name),
		BehaviorOnMxFailure: types.BehaviorOnMxFailure(r.PostFormValue("behavior"))}
	flash := "The custom MAIL FROM domain is cleared: mail uses sesame's bounce domain."
	if r.PostFormValue("action") == "set" {
		mf := strings.TrimSpace(r.PostFormValue("mail_from"))
		in.MailFromDomain = aws.String(mf)
		flash = "The MAIL FROM domain is " + mf + ": publish its MX and SPF records."
	}
	if _, err := v.SESv2().PutEmailIdentityMailFromAttributes(r.Context(), in); err != nil {
		v.Error = errorText(err)
		return s.renderIdentity(w, r, v, errorStatus(err), &identityData{MailFrom: aws.ToString(in.MailFromDomain),
			Behavior: string(in.BehaviorOnMxFailure)})
	}
	return v.Redirect(w, r, identityPath(name), flash)
}

// identityDKIM turns DKIM signing on or off (PutEmailIdentityDkimAttributes).
func (s *Server) identityDKIM(w http.ResponseWriter, r *http.Request, v *view) error {
	name := r.PathValue("name")
	on := r.PostFormValue("enabled") == "true"
	if _, err := v.SESv2().PutEmailIdentityDkimAttributes(r.Context(), &sesv2.PutEmailIdentityDkimAttributesInput{
		EmailIdentity: aws.String(name), SigningEnabled: on}); err != nil {
		v.Error = errorText(err)
		return s.renderIdentity(w, r, v, errorStatus(err), nil)
	}
	flash := "DKIM signing is off: mail from " + name + " goes out unsigned."
	if on {
		flash = "DKIM signing is on."
	}
	return v.Redirect(w, r, identityPath(name), flash)
}

// identityResend mails an address's verification message again: v1
// VerifyEmailIdentity on an existing address does that, as in SES.
func (s *Server) identityResend(w http.ResponseWriter, r *http.Request, v *view) error {
	name := r.PathValue("name")
	if _, err := v.SES().VerifyEmailIdentity(r.Context(), &ses.VerifyEmailIdentityInput{EmailAddress: aws.String(name)}); err != nil {
		v.Error = errorText(err)
		return s.renderIdentity(w, r, v, errorStatus(err), nil)
	}
	return v.Redirect(w, r, identityPath(name), "SES sent the verification mail to "+name+" again: follow its link within 24 hours.")
}

// deleteIdentity is DeleteEmailIdentity; back to the list.
func (s *Server) deleteIdentity(w http.ResponseWriter, r *http.Request, v *view) error {
	name := r.PathValue("name")
	if _, err := v.SESv2().DeleteEmailIdentity(r.Context(), &sesv2.DeleteEmailIdentityInput{EmailIdentity: aws.String(name)}); err != nil {
		v.Error = errorText(err)
		return s.renderIdentity(w, r, v, errorStatus(err), nil)
	}
	return v.Redirect(w, r, "/identities", "Deleted the identity "+name+".")
}
