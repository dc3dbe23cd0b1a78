package awsauth

import "testing"

// Vectors from ../shared/spec/ses-smtp-and-accounts.md §3; us-east-2 is the
// aws-sdk-php test suite's published value.
func TestSMTPPasswordVectors(t *testing.T) {
	t.Parallel()
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	for _, tc := range []struct{ region, want string }{
		{"us-east-2", "BMPPgbAHoFVbze1Ud0oA5uNdXRwUXUZ+qOwphGJbl/cS"},
		{"us-east-1", "BLBM/9hSUELfq8Gw+rU1YcBjkOxGbhT2XG763xVLGWL9"},
		{"us-west-2", "BF2PynzbSCAjX08zhZZnP/kW+T9P5zs/1Er0pi5vTEmd"},
		{"eu-west-1", "BMW5RDrXmmVs0lV7GpI4oLkHXpZ4stDsk6q91z1g38Pk"},
	} {
		if got := SMTPPassword(secret, tc.region); got != tc.want {
			t.Errorf("SMTPPassword(%s) = %s, want %s", tc.region, got, tc.want)
		}
		if !CheckSMTPPassword(secret, tc.region, tc.want) {
			t.Errorf("CheckSMTPPassword(%s) refused the right password", tc.region)
		}
	}
	if CheckSMTPPassword(secret, "us-east-1", SMTPPassword(secret, "us-west-2")) {
		t.Error("a us-west-2 password was accepted for us-east-1")
	}
}
