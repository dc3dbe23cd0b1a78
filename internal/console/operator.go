package console

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"sesame/internal/queuectl"
	"sesame/internal/seserr"
	"sesame/internal/store"
)

// The operator's pages: what `sesame admin` does for accounts, their keys
// and settings, and the mail queue. Each runs the admin command itself
// (Config.Admin) and shows its JSON, so the console and the CLI cannot
// disagree about what an operation means.

func init() {
	operatorPages = append(operatorPages, func(s *Server) map[string]handler {
		return map[string]handler{
			"GET /accounts":                         s.opAccounts,
			"POST /accounts":                        s.opCreateAccount,
			"GET /accounts/{id}":                    s.opAccount,
			"GET /accounts/{id}/new-key":            s.opNewKey,
			"POST /accounts/{id}/keys":              s.opCreateKey,
			"POST /accounts/{id}/keys/{key}/{verb}": s.opKeyAction,
			"POST /accounts/{id}/settings/{region}": s.opSetAccount,
			"POST /accounts/{id}/reviews/{region}":  s.opReview,
			"GET /queue":                            s.opQueue,
			"POST /queue/retry-all":                 s.opRetryAll,
			"GET /queue/{id}":                       s.opQueueMessage,
			"POST /queue/{id}/retry":                s.opRetry,
			"POST /queue/{id}/delete":               s.opDelete,
		}
	})
}

// runAdmin runs `sesame admin ARGS…` and decodes its JSON into out (nil:
// ignored). A command's failure comes back as its message.
func (s *Server) runAdmin(ctx context.Context, out any, args ...string) error {
	if s.cfg.Admin == nil {
		return seserr.ConsoleNoOperatorView()
	}
	var b bytes.Buffer
	if err := s.cfg.Admin(ctx, args, &b); err != nil {
		return adminFailure(err)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b.Bytes(), out); err != nil {
		return fmt.Errorf("console: sesame admin %s: decode its output: %w", strings.Join(args, " "), err)
	}
	return nil
}

// adminFailure is an admin command's error as the operator is shown it:
// its message without the usage text a command-line mistake carries.
func adminFailure(err error) error {
	msg, _, _ := strings.Cut(err.Error(), "\n\n")
	return seserr.ConsoleAdminRefused(strings.TrimSpace(msg)).Wrap(err)
}

// The shapes of the admin commands' output (internal/admin).
type (
	opKeyInfo struct {
		AccessKeyID string    `json:"access_key_id"`
		Name        string    `json:"name,omitempty"`
		Active      bool      `json:"active"`
		Created     time.Time `json:"created"`
		HasPolicy   bool      `json:"has_policy"`
	}
	opAccountDetails struct {
		store.Account
		AccessKeys []opKeyInfo             `json:"access_keys"`
		Settings   []store.AccountSettings `json:"settings"`
		Reputation []store.Reputation      `json:"reputation"`
	}
	opNewKey struct {
		AccountID     string            `json:"account_id"`
		AccessKeyID   string            `json:"access_key_id"`
		Secret        string            `json:"secret_access_key"`
		SMTPPasswords map[string]string `json:"smtp_passwords"`
	}
)

// accountsData fills operator_accounts.html.
type accountsData struct {
	Accounts []store.Account
	Pending  []store.AccountDetails
}

func (s *Server) opAccounts(w http.ResponseWriter, r *http.Request, v *view) error {
	var d accountsData
	if err := s.runAdmin(r.Context(), &d.Accounts, "account", "list"); err != nil {
		return err
	}
	if err := s.runAdmin(r.Context(), &d.Pending, "account", "review"); err != nil {
		return err
	}
	v.Nav = "operator-accounts"
	return v.Render(w, "operator_accounts", "Accounts", d)
}

// newKeys holds a new key's secret between the POST that made it and the
// one page that shows it (by session): it never goes into a URL, and a
// reload does not make another account.
var newKeys = struct {
	sync.Mutex
	bySession map[string]opNewKey
}{bySession: map[string]opNewKey{}}

func (s *Server) opCreateAccount(w http.ResponseWriter, r *http.Request, v *view) error {
	var k opNewKey
	if err := s.runAdmin(r.Context(), &k, "account", "create"); err != nil {
		return err
	}
	return s.showNewKeyNext(w, r, v, k, "Account "+k.AccountID+" created.")
}

func (s *Server) opCreateKey(w http.ResponseWriter, r *http.Request, v *view) error {
	var k opNewKey
	if err := s.runAdmin(r.Context(), &k, "key", "create", "--account", r.PathValue("id")); err != nil {
		v.Error = errorText(err)
		return s.showAccount(w, r, v, errorStatus(err))
	}
	return s.showNewKeyNext(w, r, v, k, "Access key "+k.AccessKeyID+" created.")
}

func (s *Server) showNewKeyNext(w http.ResponseWriter, r *http.Request, v *view, k opNewKey, flash string) error {
	newKeys.Lock()
	newKeys.bySession[v.Session.ID] = k
	newKeys.Unlock()
	return v.Redirect(w, r, "/operator/accounts/"+k.AccountID+"/new-key", flash)
}

// opNewKey shows the secret stashed for this session once.
func (s *Server) opNewKey(w http.ResponseWriter, r *http.Request, v *view) error {
	newKeys.Lock()
	k, ok := newKeys.bySession[v.Session.ID]
	if ok && k.AccountID == r.PathValue("id") {
		delete(newKeys.bySession, v.Session.ID)
	} else {
		ok = false
	}
	newKeys.Unlock()
	v.Nav = "operator-accounts"
	return v.Render(w, "operator_newkey", "New access key", struct {
		Key       opNewKey
		Shown     bool
		AccountID string
	}{k, ok, r.PathValue("id")})
}

// accountData fills operator_account.html.
type accountData struct {
	opAccountDetails
	Pending map[string]store.AccountDetails // by region
}

func (s *Server) opAccount(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.showAccount(w, r, v, http.StatusOK)
}

// showAccount renders the account page; status is a failed form's.
func (s *Server) showAccount(w http.ResponseWriter, r *http.Request, v *view, status int) error {
	id := r.PathValue("id")
	var d accountData
	if err := s.runAdmin(r.Context(), &d.opAccountDetails, "account", "show", "--account", id); err != nil {
		return err
	}
	var pending []store.AccountDetails
	if err := s.runAdmin(r.Context(), &pending, "account", "review", "--account", id); err != nil {
		return err
	}
	d.Pending = map[string]store.AccountDetails{}
	for _, p := range pending {
		d.Pending[p.Region] = p
	}
	v.Nav = "operator-accounts"
	return v.RenderStatus(w, status, "operator_account", "Account "+id, d)
}

// opKeyAction activates, deactivates or deletes a key.
func (s *Server) opKeyAction(w http.ResponseWriter, r *http.Request, v *view) error {
	id, key, verb := r.PathValue("id"), r.PathValue("key"), r.PathValue("verb")
	done := map[string]string{"activate": "activated", "deactivate": "deactivated", "delete": "deleted"}[verb]
	if done == "" {
		return errNoSuchPage
	}
	var out struct {
		Note string `json:"note"`
	}
	if err := s.runAdmin(r.Context(), &out, "key", verb, "--key", key); err != nil {
		v.Error = errorText(err)
		return s.showAccount(w, r, v, errorStatus(err))
	}
	msg := "Access key " + key + " " + done + "."
	if out.Note != "" {
		msg += " Note: " + out.Note
	}
	return v.Redirect(w, r, "/operator/accounts/"+id, msg)
}

// opSetAccount runs `account set` for one region with the form's values.
func (s *Server) opSetAccount(w http.ResponseWriter, r *http.Request, v *view) error {
	id, region := r.PathValue("id"), r.PathValue("region")
	args := []string{"account", "set", "--account", id, "--region", region}
	switch r.PostFormValue("access") {
	case "production":
		args = append(args, "--production")
	case "sandbox":
		args = append(args, "--sandbox")
	}
	for field, flag := range map[string]string{"max_send_rate": "--max-send-rate", "max_24h_send": "--max-24h-send",
		"enforcement_status": "--enforcement-status"} {
		if val := strings.TrimSpace(r.PostFormValue(field)); val != "" {
			args = append(args, flag, val)
		}
	}
	if val := r.PostFormValue("sending_enabled"); val != "" {
		if _, err := strconv.ParseBool(val); err == nil {
			args = append(args, "--sending-enabled="+val)
		}
	}
	if err := s.runAdmin(r.Context(), nil, args...); err != nil {
		v.Error = errorText(err)
		return s.showAccount(w, r, v, errorStatus(err))
	}
	return v.Redirect(w, r, "/operator/accounts/"+id, "Settings of "+region+" saved.")
}

// opReview grants or denies a pending production access request.
func (s *Server) opReview(w http.ResponseWriter, r *http.Request, v *view) error {
	id, region := r.PathValue("id"), r.PathValue("region")
	decision, msg := "--deny", "Production access denied in "+region+": the account stays in the sandbox."
	if r.PostFormValue("decision") == "grant" {
		decision, msg = "--grant", "Production access granted in "+region+"."
	}
	if err := s.runAdmin(r.Context(), nil, "account", "review", "--account", id, "--region", region, decision); err != nil {
		v.Error = errorText(err)
		return s.showAccount(w, r, v, errorStatus(err))
	}
	return v.Redirect(w, r, "/operator/accounts/"+id, msg)
}

func (s *Server) opQueue(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.showQueue(w, r, v, http.StatusOK)
}

func (s *Server) showQueue(w http.ResponseWriter, r *http.Request, v *view, status int) error {
	var ms []queuectl.Message
	if err := s.runAdmin(r.Context(), &ms, "queue", "list"); err != nil {
		return err
	}
	v.Nav = "operator-queue"
	return v.RenderStatus(w, status, "operator_queue", "Mail queue", ms)
}

func (s *Server) opQueueMessage(w http.ResponseWriter, r *http.Request, v *view) error {
	var d queuectl.Detail
	if err := s.runAdmin(r.Context(), &d, "queue", "show", r.PathValue("id")); err != nil {
		return err
	}
	v.Nav = "operator-queue"
	return v.Render(w, "operator_message", "Queued message "+d.ID, d)
}

func (s *Server) opRetry(w http.ResponseWriter, r *http.Request, v *view) error {
	id := r.PathValue("id")
	if err := s.runAdmin(r.Context(), nil, "queue", "retry", id); err != nil {
		v.Error = errorText(err)
		return s.showQueue(w, r, v, errorStatus(err))
	}
	return v.Redirect(w, r, "/operator/queue", "Message "+id+" is due now.")
}

func (s *Server) opRetryAll(w http.ResponseWriter, r *http.Request, v *view) error {
	var out struct {
		Retried int `json:"retried"`
	}
	if err := s.runAdmin(r.Context(), &out, "queue", "retry", "--all"); err != nil {
		v.Error = errorText(err)
		return s.showQueue(w, r, v, errorStatus(err))
	}
	return v.Redirect(w, r, "/operator/queue", fmt.Sprintf("%d deferred message(s) are due now.", out.Retried))
}

func (s *Server) opDelete(w http.ResponseWriter, r *http.Request, v *view) error {
	id := r.PathValue("id")
	if err := s.runAdmin(r.Context(), nil, "queue", "delete", id); err != nil {
		v.Error = errorText(err)
		return s.showQueue(w, r, v, errorStatus(err))
	}
	return v.Redirect(w, r, "/operator/queue", "Message "+id+" deleted from the queue.")
}
