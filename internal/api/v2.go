package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"sesame/internal/seserr"
)

// v2Handler handles one SES v2 (REST-JSON) operation: it reads its input
// from the request (path values, query, JSON body) and returns the output
// to encode as JSON (nil = "{}").
type v2Handler func(ctx context.Context, r *http.Request) (any, error)

// handleV2 registers a v2 route, e.g. "GET /v2/email/identities/{EmailIdentity}".
func (s *Server) handleV2(pattern string, h v2Handler) {
	s.v2.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		out, err := h(r.Context(), r)
		if err != nil {
			s.writeV2Error(w, r, err)
			return
		}
		if out == nil {
			out = struct{}{}
		}
		writeJSON(w, http.StatusOK, out)
	})
}

// decodeJSON reads the request body into v. An empty body leaves v as it is;
// malformed JSON is a BadRequest.
func decodeJSON(r *http.Request, v any) error {
	body := bytes.TrimSpace(requestBody(r.Context()))
	if len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return seserr.UnparsableBody(err)
	}
	return nil
}

// epochTime is a timestamp as REST-JSON sends it: seconds since the epoch,
// with fractions.
type epochTime time.Time

// MarshalJSON writes seconds with millisecond precision.
func (t epochTime) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return []byte(strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)), nil
}

// UnmarshalJSON reads seconds (integer or fractional).
func (t *epochTime) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("not a timestamp: %s", b)
	}
	*t = epochTime(time.UnixMilli(int64(f * 1000)).UTC())
	return nil
}

// queryInt reads an optional integer query parameter (PageSize, …).
func queryInt(r *http.Request, name string) (int, bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, false, seserr.NotAnInteger(name)
	}
	return n, true, nil
}
