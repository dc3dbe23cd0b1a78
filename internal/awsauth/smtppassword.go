// Package awsauth holds AWS credential cryptography: the SES SMTP password
// derivation (and, with the API issue, SigV4 request verification). It knows
// nothing of accounts or storage: callers hand it secrets.
package awsauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// smtpPasswordVersion is the first byte of a SigV4-derived SES SMTP password
// (the pre-2019 region-free form used 0x02).
const smtpPasswordVersion = 0x04

// SMTPPassword derives the SES SMTP password of a secret access key for one
// region, exactly as AWS documents it ("Obtaining Amazon SES SMTP credentials").
func SMTPPassword(secret, region string) string {
	k := hmacSHA256([]byte("AWS4"+secret), "11111111")
	for _, part := range []string{region, "ses", "aws4_request", "SendRawEmail"} {
		k = hmacSHA256(k, part)
	}
	return base64.StdEncoding.EncodeToString(append([]byte{smtpPasswordVersion}, k...))
}

// CheckSMTPPassword reports whether password is the SMTP password of secret in
// region, in constant time.
func CheckSMTPPassword(secret, region, password string) bool {
	want := SMTPPassword(secret, region)
	return subtle.ConstantTimeCompare([]byte(want), []byte(password)) == 1
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
