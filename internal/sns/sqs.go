package sns

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"sesame/internal/seserr"
)

// Deliveries to sqs subscriptions: the SNS envelope (or the bare message
// with RawMessageDelivery) sent to an SQS-compatible queue with
// aws-sdk-go-v2's SQS client, so AWS SQS, ElasticMQ, goaws or LocalStack
// all serve. The queue's URL comes from GetQueueUrl by name and owner.

// Queues sends a message body to the SQS queue an ARN names.
type Queues interface {
	SendMessage(ctx context.Context, queueARN, body string) error
}

// SQSConfig says how sesame reaches SQS.
type SQSConfig struct {
	// Endpoint is the SQS API's base URL (e.g. "http://127.0.0.1:9324" for
	// ElasticMQ, "https://sqs.eu-west-1.amazonaws.com" for AWS's); "" = no
	// SQS: sqs subscriptions are refused, never sent to AWS by default.
	Endpoint string
	// AccessKeyID and SecretAccessKey sign the requests; empty = the AWS
	// SDK's default chain (environment, shared files, instance role).
	AccessKeyID     string
	SecretAccessKey string
}

// queueARN is a parsed arn:aws:sqs:REGION:ACCOUNT:NAME.
type queueARN struct{ region, account, name string }

func parseQueueARN(s string) (queueARN, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sqs" || parts[3] == "" || parts[4] == "" || !validQueueName(parts[5]) {
		return queueARN{}, seserr.SNSInvalidParameter("SQS endpoint ARN")
	}
	if strings.HasSuffix(parts[5], ".fifo") {
		// AWS's own text says "Invalid parameter:" twice (recorded).
		return queueARN{}, seserr.SNSInvalidParameter("Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics")
	}
	return queueARN{region: parts[3], account: parts[4], name: parts[5]}, nil
}

// validQueueName: SQS's 1–80 characters of [A-Za-z0-9_-], ".fifo" allowed at the end.
func validQueueName(n string) bool {
	n = strings.TrimSuffix(n, ".fifo")
	if n == "" || len(n) > 75 {
		return false
	}
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// enqueueSQS sends one prepared body to the subscription's queue; every
// failure is retried (a queue that is down, missing or refusing comes back
// within the retry period or the message is dropped then).
func (s *Service) enqueueSQS(ctx context.Context, p *pending, body []byte) outcome {
	if s.queues == nil { // subscribed before [sns] sqs_endpoint was emptied
		return outcome{reason: "no SQS endpoint: set [sns] sqs_endpoint"}
	}
	if err := s.queues.SendMessage(ctx, p.Endpoint, string(body)); err != nil {
		return outcome{reason: err.Error()}
	}
	return outcome{ok: true}
}

// sqsQueues is Queues over aws-sdk-go-v2's SQS client: one client per
// region, made on first use, and a cache of queue URLs.
type sqsQueues struct {
	cfg SQSConfig

	mu      sync.Mutex
	base    *aws.Config
	clients map[string]*sqs.Client
	urls    map[string]string
}

// NewSQSQueues returns Queues that reach SQS as cfg says. Nothing is
// resolved until the first message (the default credential chain may look
// for an instance role).
func NewSQSQueues(cfg SQSConfig) Queues {
	return &sqsQueues{cfg: cfg, clients: map[string]*sqs.Client{}, urls: map[string]string{}}
}

func (q *sqsQueues) client(ctx context.Context, region string) (*sqs.Client, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if c := q.clients[region]; c != nil {
		return c, nil
	}
	if q.base == nil {
		var base aws.Config
		if q.cfg.AccessKeyID != "" {
			base = aws.Config{Credentials: credentials.NewStaticCredentialsProvider(q.cfg.AccessKeyID, q.cfg.SecretAccessKey, "")}
		} else {
			var err error
			if base, err = awsconfig.LoadDefaultConfig(ctx); err != nil {
				return nil, fmt.Errorf("sns: sqs credentials: %w", err)
			}
		}
		q.base = &base
	}
	c := sqs.NewFromConfig(*q.base, func(o *sqs.Options) {
		o.Region = region
		if q.cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(q.cfg.Endpoint)
		}
		// The durable queue retries, with its own backoff and order.
		o.Retryer = aws.NopRetryer{}
	})
	q.clients[region] = c
	return c, nil
}

func (q *sqsQueues) url(ctx context.Context, c *sqs.Client, arn string, a queueARN) (string, error) {
	q.mu.Lock()
	u := q.urls[arn]
	q.mu.Unlock()
	if u != "" {
		return u, nil
	}
	out, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(a.name), QueueOwnerAWSAccountId: aws.String(a.account)})
	if err != nil {
		return "", fmt.Errorf("sns: sqs queue %s: %w", arn, err)
	}
	u = aws.ToString(out.QueueUrl)
	q.mu.Lock()
	q.urls[arn] = u
	q.mu.Unlock()
	return u, nil
}

// SendMessage sends body to the queue arn names.
func (q *sqsQueues) SendMessage(ctx context.Context, arn, body string) error {
	a, err := parseQueueARN(arn)
	if err != nil {
		return fmt.Errorf("sns: sqs endpoint %s: %w", arn, err)
	}
	c, err := q.client(ctx, a.region)
	if err != nil {
		return err
	}
	u, err := q.url(ctx, c, arn, a)
	if err != nil {
		return err
	}
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(u), MessageBody: aws.String(body)}); err != nil {
		var gone *types.QueueDoesNotExist
		if errors.As(err, &gone) {
			// Deleted (and perhaps made again under another URL): ask again next time.
			q.mu.Lock()
			delete(q.urls, arn)
			q.mu.Unlock()
		}
		return fmt.Errorf("sns: sqs send to %s: %w", arn, err)
	}
	return nil
}
