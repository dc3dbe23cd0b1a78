package awsauth

import (
	"context"
	"errors"
	"net/http"
	"time"

	"sesame/internal/seserr"
)

// ErrUnknownKey is what a KeyLookup returns for an access key id it does not
// know (or a key that is not active).
var ErrUnknownKey = errors.New("awsauth: unknown access key")

// KeyLookup finds the secret and account of an access key id.
type KeyLookup func(ctx context.Context, accessKeyID string) (secret, accountID string, err error)

// Principal is who signed a request, and in which region namespace.
type Principal struct {
	AccessKeyID string
	AccountID   string
	Region      string // the credential scope's region
	Service     string // the credential scope's service ("ses")
}

// MaxSkew is how far a request's signing time may be from the server's clock.
const MaxSkew = 15 * time.Minute

// VerifyRequest checks an AWS Signature Version 4 request, in the header form
// (Authorization: AWS4-HMAC-SHA256 …) or the presigned query form, against
// the body the server read, and returns who signed it. Failures are
// *seserr.Error values with AWS's codes (IncompleteSignature,
// MissingAuthenticationToken, InvalidClientTokenId, SignatureDoesNotMatch,
// RequestExpired).
//
// CONTRACT STUB: refuses everything until implemented.
func VerifyRequest(ctx context.Context, r *http.Request, body []byte, lookup KeyLookup, now time.Time) (Principal, error) {
	return Principal{}, seserr.InvalidCredentials()
}
