package api

import (
	"encoding/xml"
	"net/http"

	"sesame/internal/seserr"
)

func unknownOperation() error           { return seserr.UnknownOperation() }
func unknownRegion(region string) error { return seserr.UnknownRegion(region) }

// writeV2Error answers in REST-JSON's error shape: the status, the code in
// x-amzn-ErrorType (botocore reads it there first) and {"message": …}.
func (s *Server) writeV2Error(w http.ResponseWriter, r *http.Request, err error) {
	e := seserr.As(err)
	s.logAPIError(r, e)
	w.Header().Set("x-amzn-ErrorType", e.APICode)
	writeJSON(w, e.HTTPStatus, map[string]string{"message": e.Message})
}

// writeV1Error answers in the Query protocol's <ErrorResponse>. Client
// errors are 400 (authentication ones 403), server faults 500.
func (s *Server) writeV1Error(w http.ResponseWriter, r *http.Request, err error) {
	e := seserr.As(err)
	status := http.StatusBadRequest
	if e.HTTPStatus >= 500 || e.HTTPStatus == http.StatusForbidden {
		status = e.HTTPStatus
	}
	s.writeQueryError(w, r, e, v1Namespace, status)
}

// writeQueryError writes a Query protocol <ErrorResponse> (SES v1, SNS) in
// the namespace ns.
func (s *Server) writeQueryError(w http.ResponseWriter, r *http.Request, e *seserr.Error, ns string, status int) {
	s.logAPIError(r, e)
	typ := "Sender"
	if e.HTTPStatus >= 500 {
		typ = "Receiver"
	}
	type errorBody struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	resp := struct {
		XMLName   xml.Name  `xml:"ErrorResponse"`
		Xmlns     string    `xml:"xmlns,attr"`
		Error     errorBody `xml:"Error"`
		RequestID string    `xml:"RequestId"`
	}{Xmlns: ns, Error: errorBody{typ, e.QueryCode, e.Message}, RequestID: requestID(r.Context())}
	writeXML(w, status, resp)
}

func (s *Server) logAPIError(r *http.Request, e *seserr.Error) {
	if e.HTTPStatus >= 500 {
		s.log.Error("api: request failed", "method", r.Method, "path", r.URL.Path, "code", e.APICode, "err", e)
		return
	}
	s.log.Debug("api: request refused", "method", r.Method, "path", r.URL.Path, "code", e.APICode, "err", e)
}

func writeXML(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(v)
}
