// Package objstore reads and writes objects in the operator's
// S3-compatible store ([s3] in the configuration: MinIO, Garage, Ceph, AWS
// S3) with aws-sdk-go-v2's S3 client, at the configured endpoint only
// (never AWS's by default). Import and export jobs and the receipt rules'
// S3 action use it; what an object holds is theirs to decide.
package objstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// Config is where the objects live.
type Config struct {
	Endpoint                     string // base URL, e.g. "http://127.0.0.1:9000"
	Region                       string
	AccessKeyID, SecretAccessKey string // both empty: unsigned requests
	PathStyle                    bool
}

// Store is a client of the configured store.
type Store struct {
	cfg    Config
	client *s3.Client
}

// New builds the client.
func New(cfg Config) *Store {
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
	return &Store{cfg: cfg, client: client}
}

// ErrorCode is the S3 error code of err ("" when the store gave none).
func ErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// Get reads a whole object, up to limit bytes.
func (o *Store) Get(ctx context.Context, bucket, key string, limit int64) ([]byte, error) {
	out, err := o.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("read s3://%s/%s: %w", bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(io.LimitReader(out.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read s3://%s/%s: %w", bucket, key, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("read s3://%s/%s: larger than %d bytes", bucket, key, limit)
	}
	return b, nil
}

// Put writes an object.
func (o *Store) Put(ctx context.Context, bucket, key string, body []byte, contentType string) error {
	_, err := o.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body))), ContentType: aws.String(contentType)})
	if err != nil {
		return fmt.Errorf("write s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

// URL is an HTTP(S) URL that reads the object for a while (expires):
// presigned when sesame signs its requests, the plain object URL when it
// does not.
func (o *Store) URL(ctx context.Context, bucket, key string, expires time.Duration) (string, error) {
	if o.cfg.AccessKeyID == "" {
		u, err := url.Parse(o.cfg.Endpoint)
		if err != nil {
			return "", fmt.Errorf("object URL of s3://%s/%s: %w", bucket, key, err)
		}
		if o.cfg.PathStyle {
			return u.JoinPath(bucket, key).String(), nil
		}
		u.Host = bucket + "." + u.Host
		return u.JoinPath(key).String(), nil
	}
	req, err := s3.NewPresignClient(o.client).PresignGetObject(ctx,
		&s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}, s3.WithPresignExpires(expires))
	if err != nil {
		return "", fmt.Errorf("presign s3://%s/%s: %w", bucket, key, err)
	}
	return req.URL, nil
}
