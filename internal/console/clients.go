package console

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/smithy-go"

	"sesame/internal/awsauth"
	"sesame/internal/seserr"
)

// inProcess is an SDK HTTP client that hands each request to the API
// server in this process, as the signed-in principal: the SDK encodes
// the operation and decodes its answer exactly as for a remote sesame,
// and no secret is kept after sign-in (the console has checked it).
type inProcess struct {
	api    API
	p      awsauth.Principal
	remote string // the browser's address, for key policies' ses:source-ip
}

func (t inProcess) Do(req *http.Request) (*http.Response, error) {
	if req.Body == nil {
		req.Body = http.NoBody
	}
	req.RemoteAddr = t.remote
	rec := newRecorder()
	t.api.ServeAs(rec, req, t.p)
	return rec.response(req), nil
}

// consoleEndpoint is the address the in-process clients are given; no
// request leaves the process.
const consoleEndpoint = "http://console.sesame.internal"

func (v *view) principal() awsauth.Principal {
	return awsauth.Principal{AccessKeyID: v.Session.AccessKeyID, AccountID: v.Session.AccountID,
		Region: v.Region, Service: awsauth.Service}
}

func (v *view) sdkConfig() aws.Config {
	return aws.Config{
		Region:      v.Region,
		Credentials: aws.AnonymousCredentials{},
		HTTPClient:  inProcess{api: v.s.cfg.API, p: v.principal(), remote: v.remote},
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
	}
}

// SESv2 is an SES v2 client acting as the signed-in access key in the
// view's region.
func (v *view) SESv2() *sesv2.Client {
	return sesv2.NewFromConfig(v.sdkConfig(), func(o *sesv2.Options) { o.BaseEndpoint = aws.String(consoleEndpoint) })
}

// SES is an SES v1 client (receipt rules, GetSendStatistics) acting as the
// signed-in access key in the view's region.
func (v *view) SES() *ses.Client {
	return ses.NewFromConfig(v.sdkConfig(), func(o *ses.Options) { o.BaseEndpoint = aws.String(consoleEndpoint) })
}

// errorText is what a person is shown for err: an SES error in SES's
// words ("MessageRejected: Email address is not verified. …"), sesame's
// own failures by their message.
func errorText(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if ae.ErrorMessage() == "" {
			return ae.ErrorCode()
		}
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return seserr.As(err).Message
}

// errorStatus is the HTTP status to answer err with.
func errorStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() >= 400 {
		return re.HTTPStatusCode()
	}
	if e := seserr.As(err); e.HTTPStatus != 0 {
		return e.HTTPStatus
	}
	return http.StatusInternalServerError
}

// IsNotFound says whether err is the API's NotFoundException (v2) or a
// v1 "does not exist" error.
func IsNotFound(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "NotFoundException", "RuleSetDoesNotExist", "RuleDoesNotExist", "TemplateDoesNotExist",
		"ConfigurationSetDoesNotExist":
		return true
	}
	return false
}

// recorder is the ResponseWriter an in-process request is answered into.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}} }

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

func (r *recorder) response(req *http.Request) *http.Response {
	r.WriteHeader(http.StatusOK)
	return &http.Response{StatusCode: r.status, Status: fmt.Sprintf("%d %s", r.status, http.StatusText(r.status)),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: r.header, ContentLength: int64(r.body.Len()),
		Body: io.NopCloser(&r.body), Request: req}
}
