package store

import "crypto/rand"

// newAccountID returns 12 random decimal digits, as an AWS account id.
func newAccountID() string {
	return randomFrom("0123456789", 12)
}

// newAccessKeyID returns "AKIA" and 16 characters of [A-Z2-7], the shape of
// an AWS long-term access key id.
func newAccessKeyID() string {
	return "AKIA" + rand.Text()[:16]
}

// newSecret returns 40 characters of [A-Za-z0-9/+], as an AWS secret key.
func newSecret() string {
	return randomFrom("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+", 40)
}

// randomFrom draws n characters uniformly from alphabet (at most 256 long)
// by rejection sampling, so no character is favoured.
func randomFrom(alphabet string, n int) string {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, n+8)
	for len(out) < n {
		rand.Read(buf)
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out)
}
