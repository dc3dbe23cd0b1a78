package awsauth

// Requests real clients sent, byte for byte (captured offline on 2026-11-22,
// /work/shared/spec/sdk-requests.txt): aws-sdk-go-v2 (sesv2 and ses), AWS CLI
// v2 and v1 (botocore), and @aws-sdk/client-sesv2 as nodemailer drives it.
// Each was signed with a static test key; the verifier must accept every one
// at its own signing time and refuse it under another secret.

type replayedRequest struct {
	client string
	header string // request line and headers, LF-separated
	body   string
}

// replaySecrets are the static test credentials the captures were signed with.
func replaySecrets() map[string]string {
	return map[string]string{
		"AKIAIOSFODNN7EXAMPLE": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"AKIDCLITEST":          "clisecret",
		"AKIDNODE":             "nodesecret",
		"AKIDENV":              "secretenv",
	}
}

func replayedRequests() []replayedRequest {
	return []replayedRequest{
		{"aws-sdk-go-v2 sesv2 SendEmail Simple", `POST /v2/email/outbound-emails HTTP/1.1
Host: 127.0.0.1:45389
Accept-Encoding: gzip
Amz-Sdk-Invocation-Id: 60adab5a-528a-460f-8d80-43ec4e6fe84b
Amz-Sdk-Request: attempt=1; max=3
Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261122/us-east-1/ses/aws4_request, SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date, Signature=14c83bd9424a6b981acbb3457dd541fcd0410eced61a54fb463ffc5d3f8deddb
Content-Length: 388
Content-Type: application/json
User-Agent: aws-sdk-go-v2/1.47.7 ua/2.1 os/linux lang/go#1.26.8 md/GOOS#linux md/GOARCH#amd64 api/sesv2#1.79.7 m/E,e
X-Amz-Date: 20261122T103744Z`,
			`{"ConfigurationSetName":"my-config-set","Content":{"Simple":{"Body":{"Html":{"Data":"<p>Hi there</p>"},"Text":{"Data":"Hi there"}},"Subject":{"Charset":"UTF-8","Data":"Hello"}}},"Destination":{"CcAddresses":["cc@example.com"],"ToAddresses":["to@example.com"]},"EmailTags":[{"Name":"campaign","Value":"c1"}],"FromEmailAddress":"sender@example.com","ReplyToAddresses":["reply@example.com"]}`},
		{"aws-sdk-go-v2 sesv2 SendEmail Raw", `POST /v2/email/outbound-emails HTTP/1.1
Host: 127.0.0.1:34181
Accept-Encoding: gzip
Amz-Sdk-Invocation-Id: ab7f408e-1c74-44a0-9662-26456f31d060
Amz-Sdk-Request: attempt=1; max=3
Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261122/us-east-1/ses/aws4_request, SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date, Signature=a6af4a7e1843b0bd9038a7643c2f3ad95ea2e83101f73c571841301d9642208e
Content-Length: 123
Content-Type: application/json
User-Agent: aws-sdk-go-v2/1.47.7 ua/2.1 os/linux lang/go#1.26.8 md/GOOS#linux md/GOARCH#amd64 api/sesv2#1.79.7 m/E,e
X-Amz-Date: 20261122T103744Z`,
			`{"Content":{"Raw":{"Data":"RnJvbTogc2VuZGVyQGV4YW1wbGUuY29tDQpUbzogdG9AZXhhbXBsZS5jb20NClN1YmplY3Q6IHJhdw0KDQpib2R5DQo="}}}`},
		{"aws-sdk-go-v2 sesv2 SendEmail Template", `POST /v2/email/outbound-emails HTTP/1.1
Host: 127.0.0.1:35183
Accept-Encoding: gzip
Amz-Sdk-Invocation-Id: bbc7f053-8814-4194-984a-7f49940dbcd6
Amz-Sdk-Request: attempt=1; max=3
Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261122/us-east-1/ses/aws4_request, SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date, Signature=28fba53f7eb6a677aeeba62368831c7229423dbd2c6c9a1cb739cfe9d74819f9
Content-Length: 176
Content-Type: application/json
User-Agent: aws-sdk-go-v2/1.47.7 ua/2.1 os/linux lang/go#1.26.8 md/GOOS#linux md/GOARCH#amd64 api/sesv2#1.79.7 m/E,e
X-Amz-Date: 20261122T103744Z`,
			`{"Content":{"Template":{"TemplateData":"{\"name\":\"Ann\"}","TemplateName":"welcome"}},"Destination":{"ToAddresses":["to@example.com"]},"FromEmailAddress":"sender@example.com"}`},
		{"aws-sdk-go-v2 sesv2 GetAccount (retry attempt 2)", `GET /v2/email/account HTTP/1.1
Host: 127.0.0.1:36463
Accept-Encoding: gzip
Amz-Sdk-Invocation-Id: d1a05411-8f97-4a05-8692-c0870d5ec69c
Amz-Sdk-Request: attempt=2; max=3
Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261122/us-east-1/ses/aws4_request, SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;host;x-amz-date, Signature=9afc3737e77c6977ffd51823c84d3f50f7cfc81d43bbcba8ae8ca8eb943cf12e
User-Agent: aws-sdk-go-v2/1.47.7 ua/2.1 os/linux lang/go#1.26.8 md/GOOS#linux md/GOARCH#amd64 api/sesv2#1.79.7 m/E,e
X-Amz-Date: 20261122T103744Z`,
			``},
		{"aws-sdk-go-v2 ses SendEmail", `POST / HTTP/1.1
Host: 127.0.0.1:43167
Accept-Encoding: gzip
Amz-Sdk-Invocation-Id: 7aa00bed-056c-4c12-a53a-8e8a105e6440
Amz-Sdk-Request: attempt=1; max=3
Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261122/us-east-1/ses/aws4_request, SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date, Signature=b598e0999541e5763f2eaf712cbf3f1a18e8c5aae4bc6ba13baad1d3163fbd5c
Content-Length: 485
Content-Type: application/x-www-form-urlencoded
User-Agent: aws-sdk-go-v2/1.47.7 ua/2.1 os/linux lang/go#1.26.8 md/GOOS#linux md/GOARCH#amd64 api/ses#1.42.8 m/E,e
X-Amz-Date: 20261122T103746Z`,
			`Action=SendEmail&ConfigurationSetName=my-config-set&Destination.BccAddresses.member.1=bcc%40example.com&Destination.ToAddresses.member.1=to%40example.com&Destination.ToAddresses.member.2=to2%40example.com&Message.Body.Html.Data=%3Cp%3EHi%3C%2Fp%3E&Message.Body.Text.Data=Hi+%26+bye&Message.Subject.Charset=UTF-8&Message.Subject.Data=Hello+v1&ReplyToAddresses.member.1=reply%40example.com&Source=sender%40example.com&Tags.member.1.Name=campaign&Tags.member.1.Value=c1&Version=2010-12-01`},
		{"aws-sdk-go-v2 ses SendRawEmail", `POST / HTTP/1.1
Host: 127.0.0.1:44567
Accept-Encoding: gzip
Amz-Sdk-Invocation-Id: 3574985d-23c0-46c8-bf87-ce5452169842
Amz-Sdk-Request: attempt=1; max=3
Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261122/us-east-1/ses/aws4_request, SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date, Signature=90f3a7978df51bc122ec98b6bf495de0d6c44c69e06894137966481ef57baeef
Content-Length: 149
Content-Type: application/x-www-form-urlencoded
User-Agent: aws-sdk-go-v2/1.47.7 ua/2.1 os/linux lang/go#1.26.8 md/GOOS#linux md/GOARCH#amd64 api/ses#1.42.8 m/E,e
X-Amz-Date: 20261122T103746Z`,
			`Action=SendRawEmail&RawMessage.Data=RnJvbTogc2VuZGVyQGV4YW1wbGUuY29tDQpUbzogdG9AZXhhbXBsZS5jb20NClN1YmplY3Q6IHJhdw0KDQpib2R5DQo%3D&Version=2010-12-01`},
		{"aws-sdk-go-v2 sesv2 via AWS_ENDPOINT_URL_SESV2, eu-west-1", `POST /v2/email/outbound-emails HTTP/1.1
Host: 127.0.0.1:46771
Accept-Encoding: gzip
Amz-Sdk-Invocation-Id: 3036d2db-0937-4077-9789-9ea014b6e646
Amz-Sdk-Request: attempt=1; max=3
Authorization: AWS4-HMAC-SHA256 Credential=AKIDENV/20261122/eu-west-1/ses/aws4_request, SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date, Signature=fbfadcd13a3b6886f4864f3741e45b4b87e4f3134c4506df345c22081ce7a277
Content-Length: 165
Content-Type: application/json
User-Agent: aws-sdk-go-v2/1.47.7 ua/2.1 os/linux lang/go#1.26.8 md/GOOS#linux md/GOARCH#amd64 api/sesv2#1.79.7 m/E,g
X-Amz-Date: 20261122T103746Z`,
			`{"Content":{"Simple":{"Body":{"Text":{"Data":"b"}},"Subject":{"Data":"s"}}},"Destination":{"ToAddresses":["to@example.com"]},"FromEmailAddress":"sender@example.com"}`},
		{"aws CLI v2 sesv2 send-email simple", `POST /v2/email/outbound-emails HTTP/1.1
Host: 127.0.0.1:18765
Accept-Encoding: identity
Content-Type: application/json
User-Agent: aws-cli/2.9.19 Python/3.11.2 Linux/6.18.44-fc-v669 source/x86_64.debian.12 prompt/off command/sesv2.send-email
X-Amz-Date: 20261122T103502Z
Authorization: AWS4-HMAC-SHA256 Credential=AKIDCLITEST/20261122/us-east-1/ses/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=85c5cd00d733bc45cfeae80cc960b44cbde1776711fb46b885c0652a5566572a
Content-Length: 198`,
			`{"FromEmailAddress": "sender@example.com", "Destination": {"ToAddresses": ["to@example.com"]}, "Content": {"Simple": {"Subject": {"Data": "CLI test"}, "Body": {"Text": {"Data": "hello from cli"}}}}}`},
		{"aws CLI v2 ses send-email", `POST / HTTP/1.1
Host: 127.0.0.1:18765
Accept-Encoding: identity
Content-Type: application/x-www-form-urlencoded; charset=utf-8
User-Agent: aws-cli/2.9.19 Python/3.11.2 Linux/6.18.44-fc-v669 source/x86_64.debian.12 prompt/off command/ses.send-email
X-Amz-Date: 20261122T103503Z
Authorization: AWS4-HMAC-SHA256 Credential=AKIDCLITEST/20261122/us-east-1/ses/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=3af09a08297124752ecaa5499f15c7e4c7e7b9ee5d958fd5769c520a85a0b5a1
Content-Length: 173`,
			`Action=SendEmail&Version=2010-12-01&Source=sender%40example.com&Destination.ToAddresses.member.1=to%40example.com&Message.Subject.Data=CLI+v1&Message.Body.Text.Data=hello+v1`},
		{"aws CLI v2 sesv2 send-email raw", `POST /v2/email/outbound-emails HTTP/1.1
Host: 127.0.0.1:18765
Accept-Encoding: identity
Content-Type: application/json
User-Agent: aws-cli/2.9.19 Python/3.11.2 Linux/6.18.44-fc-v669 source/x86_64.debian.12 prompt/off command/sesv2.send-email
X-Amz-Date: 20261122T103504Z
Authorization: AWS4-HMAC-SHA256 Credential=AKIDCLITEST/20261122/us-east-1/ses/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=a7642c310c8b2bdde4f958dcd4a28987d87cfd2e642cfcd6beab390afa023eb8
Content-Length: 130`,
			`{"Content": {"Raw": {"Data": "RnJvbTogc2VuZGVyQGV4YW1wbGUuY29tDQpUbzogdG9AZXhhbXBsZS5jb20NClN1YmplY3Q6IHJhdw0KDQpyYXcgYm9keQ0K"}}}`},
		{"aws CLI v1 sesv2 send-email simple", `POST /v2/email/outbound-emails HTTP/1.1
Host: 127.0.0.1:18765
Accept-Encoding: identity
Content-Type: application/json
User-Agent: aws-cli/1.45.11 md/Botocore#1.43.11 ua/2.1 os/linux#6.18.44-fc-v669 md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython m/N,g,b,Z,D cfg/retry-mode#legacy botocore/1.43.11
X-Amz-Date: 20261122T103506Z
Authorization: AWS4-HMAC-SHA256 Credential=AKIDCLITEST/20261122/us-east-1/ses/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=753345779d3ebde0f008ad9d96e814066f728acf9fde2164d8d4559ef5bc9295
amz-sdk-invocation-id: 2bf6aaae-c1c9-4e6f-a91f-6c8fc62ab8e7
amz-sdk-request: attempt=1
Content-Length: 198`,
			`{"FromEmailAddress": "sender@example.com", "Destination": {"ToAddresses": ["to@example.com"]}, "Content": {"Simple": {"Subject": {"Data": "CLI test"}, "Body": {"Text": {"Data": "hello from cli"}}}}}`},
		{"aws CLI v1 ses send-email", `POST / HTTP/1.1
Host: 127.0.0.1:18765
Accept-Encoding: identity
Content-Type: application/x-www-form-urlencoded; charset=utf-8
User-Agent: aws-cli/1.45.11 md/Botocore#1.43.11 ua/2.1 os/linux#6.18.44-fc-v669 md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython m/D,g,Z,N,b cfg/retry-mode#legacy botocore/1.43.11
X-Amz-Date: 20261122T103508Z
Authorization: AWS4-HMAC-SHA256 Credential=AKIDCLITEST/20261122/us-east-1/ses/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=0b5ec11a81bd8c02d48fbd9ce0af20a1d2b01adb60a9f70179d9fdb262186400
amz-sdk-invocation-id: 1dfe8dc8-c9d9-479e-9deb-a3ed1bda391b
amz-sdk-request: attempt=1
Content-Length: 173`,
			`Action=SendEmail&Version=2010-12-01&Source=sender%40example.com&Destination.ToAddresses.member.1=to%40example.com&Message.Subject.Data=CLI+v1&Message.Body.Text.Data=hello+v1`},
		{"aws CLI v1 sesv2 send-email raw (fileb)", `POST /v2/email/outbound-emails HTTP/1.1
Host: 127.0.0.1:18765
Accept-Encoding: identity
Content-Type: application/json
User-Agent: aws-cli/1.45.11 md/Botocore#1.43.11 ua/2.1 os/linux#6.18.44-fc-v669 md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython m/b,N,g,Z,D cfg/retry-mode#legacy botocore/1.43.11
X-Amz-Date: 20261122T103509Z
Authorization: AWS4-HMAC-SHA256 Credential=AKIDCLITEST/20261122/us-east-1/ses/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=6b5b272facee8ce0c9c214b78c05ff2d67b4f236d376aa79f01f39295bd55b6d
amz-sdk-invocation-id: ecc43be7-f7d3-4300-a5e5-038df733b27e
amz-sdk-request: attempt=1
Content-Length: 162`,
			`{"Content": {"Raw": {"Data": "Um5KdmJUb2djMlZ1WkdWeVFHVjRZVzF3YkdVdVkyOXREUXBVYnpvZ2RHOUFaWGhoYlhCc1pTNWpiMjBOQ2xOMVltcGxZM1E2SUhKaGR3MEtEUXB5WVhjZ1ltOWtlUTBL"}}}`},
		{"aws CLI v1 sesv2 send-email raw (inline)", `POST /v2/email/outbound-emails HTTP/1.1
Host: 127.0.0.1:18765
Accept-Encoding: identity
Content-Type: application/json
User-Agent: aws-cli/1.45.11 md/Botocore#1.43.11 ua/2.1 os/linux#6.18.44-fc-v669 md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython m/b,N,Z,D,g cfg/retry-mode#legacy botocore/1.43.11
X-Amz-Date: 20261122T103523Z
Authorization: AWS4-HMAC-SHA256 Credential=AKIDCLITEST/20261122/us-east-1/ses/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=996590abdc0d87f2a491590035007bfad48720765f442280d7b54f7b6246731f
amz-sdk-invocation-id: d792765e-9d4c-48f8-b440-b4dbc0953827
amz-sdk-request: attempt=1
Content-Length: 126`,
			`{"Content": {"Raw": {"Data": "RnJvbTogc2VuZGVyQGV4YW1wbGUuY29tfFRvOiB0b0BleGFtcGxlLmNvbXxTdWJqZWN0OiByYXd8fHJhdyBib2R5fA=="}}}`},
		{"aws CLI v2 sesv2 send-email raw (inline)", `POST /v2/email/outbound-emails HTTP/1.1
Host: 127.0.0.1:18765
Accept-Encoding: identity
Content-Type: application/json
User-Agent: aws-cli/2.9.19 Python/3.11.2 Linux/6.18.44-fc-v669 source/x86_64.debian.12 prompt/off command/sesv2.send-email
X-Amz-Date: 20261122T103525Z
Authorization: AWS4-HMAC-SHA256 Credential=AKIDCLITEST/20261122/us-east-1/ses/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=65290b7054001160e61328469e489f10c973433e4fe69d58e8a4c29f1b57caf4
Content-Length: 82`,
			`{"Content": {"Raw": {"Data": "RnJvbTogYUBleGFtcGxlLmNvbQpTdWJqZWN0OiB4Cgpib2R5"}}}`},
		{"@aws-sdk/client-sesv2 SendEmail", `POST /v2/email/outbound-emails HTTP/1.1
content-type: application/json
content-length: 183
x-amz-user-agent: aws-sdk-js/3.1168.0
user-agent: aws-sdk-js/3.1168.0 ua/2.1 os/linux#6.18.44-fc-v669 lang/js md/nodejs#20.20.2 api/sesv2#3.1168.0 m/N,E,e
host: 127.0.0.1:18765
amz-sdk-invocation-id: 12b4c1c5-7886-4db0-beb5-449b70e2f746
amz-sdk-request: attempt=1; max=3
x-amz-date: 20261122T103626Z
x-amz-content-sha256: 935a9bfd7661448383da6b85de3d089b8c39df2cebdc39a638c51382f97f639e
authorization: AWS4-HMAC-SHA256 Credential=AKIDNODE/20261122/us-east-1/ses/aws4_request, SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-user-agent, Signature=6a892ec34e24689dbf3dd7af724bdc0de6f26db9d2e7771ef11af2d129881dc4
Connection: keep-alive`,
			`{"Content":{"Simple":{"Subject":{"Data":"node sdk"},"Body":{"Text":{"Data":"hi from node"}}}},"FromEmailAddress":"sender@example.com","Destination":{"ToAddresses":["to@example.com"]}}`},
		{"nodemailer SES transport (client-sesv2) SendEmail Raw", `POST /v2/email/outbound-emails HTTP/1.1
content-type: application/json
content-length: 576
x-amz-user-agent: aws-sdk-js/3.1168.0
user-agent: aws-sdk-js/3.1168.0 ua/2.1 os/linux#6.18.44-fc-v669 lang/js md/nodejs#20.20.2 api/sesv2#3.1168.0 m/N,E,e
host: 127.0.0.1:18765
amz-sdk-invocation-id: 3a80628e-377e-48d6-90ed-2cf7d0bde3b0
amz-sdk-request: attempt=1; max=3
x-amz-date: 20261122T103626Z
x-amz-content-sha256: ed93cffb35833d1c53d71931ef4242b0f9974ec09e90dcfdcf1d8ff7faec2527
authorization: AWS4-HMAC-SHA256 Credential=AKIDNODE/20261122/us-east-1/ses/aws4_request, SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-user-agent, Signature=eb08f7f69167adc3b01fc9df20f0a1f7d1c9fec8a72ea7dbdc0a8fb1d0d9b0fc
Connection: keep-alive`,
			`{"Content":{"Raw":{"Data":"RnJvbTogc2VuZGVyQGV4YW1wbGUuY29tDQpUbzogdG9AZXhhbXBsZS5jb20NClN1YmplY3Q6IG5vZGVtYWlsZXIgdmlhIFNFUyB0cmFuc3BvcnQNCk1lc3NhZ2UtSUQ6IDwzNTNiYjI3OS1lN2FlLWI2OWItNjcwNC0yZGQzNmFiOGRlNGJAZXhhbXBsZS5jb20+DQpDb250ZW50LVRyYW5zZmVyLUVuY29kaW5nOiA3Yml0DQpEYXRlOiBTdW4sIDIyIE5vdiAyMDI2IDEwOjM2OjI2ICswMDAwDQpNSU1FLVZlcnNpb246IDEuMA0KQ29udGVudC1UeXBlOiB0ZXh0L3BsYWluOyBjaGFyc2V0PXV0Zi04DQoNCmhlbGxvDQo="}},"FromEmailAddress":"sender@example.com","Destination":{"ToAddresses":["to@example.com"]},"EmailTags":[{"Name":"k","Value":"v"}],"ConfigurationSetName":"cs1"}`},
	}
}
