package api

import (
	"encoding/base64"
	"strings"

	"sesame/internal/seserr"
)

// Page tokens are opaque to clients: the last key of the page, encoded.
func encodePageToken(lastKey string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("v1:" + lastKey))
}

func decodePageToken(token string) (string, error) {
	if token == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || !strings.HasPrefix(string(b), "v1:") {
		return "", seserr.InvalidNextToken()
	}
	return strings.TrimPrefix(string(b), "v1:"), nil
}

// pageByName is a list paged by name: at most size items after the
// token's key, fetched with one more than that to learn whether a next
// page follows (then its token is the page's last name).
func pageByName[T any](token string, size int, fetch func(after string, limit int) ([]T, error), name func(T) string) ([]T, string, error) {
	after, err := decodePageToken(token)
	if err != nil {
		return nil, "", err
	}
	list, err := fetch(after, size+1)
	if err != nil {
		return nil, "", err
	}
	if len(list) <= size {
		return list, "", nil
	}
	list = list[:size]
	return list, encodePageToken(name(list[size-1])), nil
}
