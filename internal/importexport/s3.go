package importexport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// S3Config is where the jobs' objects live: the operator's S3-compatible
// store ([s3] in the configuration).
type S3Config struct {
	Endpoint                     string // base URL, e.g. "http://127.0.0.1:9000"
	Region                       string
	AccessKeyID, SecretAccessKey string // both empty: unsigned requests
	PathStyle                    bool
}

// maxObjectBytes bounds what an import reads (SES takes up to 100,000
// records an object; at SES's longest lines that is well under this).
const maxObjectBytes = 256 << 20

// presignFor is how long a failed-records URL answered by GetImportJob works.
const presignFor = time.Hour

// objects reads and writes the jobs' objects with aws-sdk-go-v2's S3
// client, at the configured endpoint only (never AWS's by default).
type objects struct {
	cfg    S3Config
	client *s3.Client
}

func newObjects(cfg S3Config) *objects {
	var creds aws.CredentialsProvider = aws.AnonymousCredentials{}
	if cfg.AccessKeyID != "" {
		creds = credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, "")
	}
	client := s3.New(s3.Options{
		Region:       cfg.Region,
		BaseEndpoint: aws.String(cfg.Endpoint),
		UsePathStyle: cfg.PathStyle,
		Credentials:  creds,
		// S3-compatible servers differ in the newer checksum headers; send
		// and check them only where S3 requires them.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
	return &objects{cfg: cfg, client: client}
}

// Location is an object's place: SES's S3Url, s3://bucket/key.
type Location struct{ Bucket, Key string }

func (l Location) String() string { return "s3://" + l.Bucket + "/" + l.Key }

// ParseS3URL reads an S3Url (s3://bucket/key; the key may contain
// slashes). prefix allows an empty key (an export's destination may name a
// bucket or a folder).
func ParseS3URL(s string, prefix bool) (Location, error) {
	rest, ok := strings.CutPrefix(s, "s3://")
	if !ok {
		return Location{}, errors.New("must begin with s3://")
	}
	bucket, key, _ := strings.Cut(rest, "/")
	switch {
	case bucket == "":
		return Location{}, errors.New("names no bucket")
	case !validBucket(bucket):
		return Location{}, fmt.Errorf("bucket %q is not a valid bucket name", bucket)
	case key == "" && !prefix:
		return Location{}, errors.New("names no object key")
	case len(key) > 1024:
		return Location{}, errors.New("object key is longer than 1024 bytes")
	}
	return Location{Bucket: bucket, Key: key}, nil
}

// validBucket: S3's bucket naming rules (3–63 lower-case letters, digits,
// dots and hyphens, beginning and ending with a letter or digit).
func validBucket(b string) bool {
	if len(b) < 3 || len(b) > 63 {
		return false
	}
	for i, c := range b {
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && ((c != '.' && c != '-') || i == 0 || i == len(b)-1) {
			return false
		}
	}
	return true
}

// s3ErrorCode is the S3 error code of err ("" when the store gave none).
func s3ErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// get reads a whole object, up to maxObjectBytes.
func (o *objects) get(ctx context.Context, l Location) ([]byte, error) {
	out, err := o.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(l.Bucket), Key: aws.String(l.Key)})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", l, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(io.LimitReader(out.Body, maxObjectBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", l, err)
	}
	if len(b) > maxObjectBytes {
		return nil, fmt.Errorf("read %s: larger than %d bytes", l, maxObjectBytes)
	}
	return b, nil
}

// put writes an object.
func (o *objects) put(ctx context.Context, l Location, body []byte, contentType string) error {
	_, err := o.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(l.Bucket), Key: aws.String(l.Key),
		Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body))), ContentType: aws.String(contentType)})
	if err != nil {
		return fmt.Errorf("write %s: %w", l, err)
	}
	return nil
}

// URL is an HTTP(S) URL that reads the object for a while: presigned when
// sesame signs its requests, the plain object URL when it does not.
func (o *objects) URL(ctx context.Context, l Location) (string, error) {
	if o.cfg.AccessKeyID == "" {
		u, err := url.Parse(o.cfg.Endpoint)
		if err != nil {
			return "", fmt.Errorf("object URL of %s: %w", l, err)
		}
		if o.cfg.PathStyle {
			return u.JoinPath(l.Bucket, l.Key).String(), nil
		}
		u.Host = l.Bucket + "." + u.Host
		return u.JoinPath(l.Key).String(), nil
	}
	req, err := s3.NewPresignClient(o.client).PresignGetObject(ctx,
		&s3.GetObjectInput{Bucket: aws.String(l.Bucket), Key: aws.String(l.Key)}, s3.WithPresignExpires(presignFor))
	if err != nil {
		return "", fmt.Errorf("presign %s: %w", l, err)
	}
	return req.URL, nil
}
