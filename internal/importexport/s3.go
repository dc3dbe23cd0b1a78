package importexport

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// maxObjectBytes bounds what an import reads (SES takes up to 100,000
// records an object; at SES's longest lines that is well under this).
const maxObjectBytes = 256 << 20

// presignFor is how long a failed-records URL answered by GetImportJob works.
const presignFor = time.Hour

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
