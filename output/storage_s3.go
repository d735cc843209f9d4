package output

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// S3Config configures an S3Storage. Only Region is needed for AWS itself
// with credentials given; everything else has a default.
type S3Config struct {
	// Endpoint is the base URL of an S3-compatible service
	// ("http://127.0.0.1:9000", "https://s3.example.net"); empty means AWS.
	Endpoint string
	// Region signs the requests (default "us-east-1").
	Region string
	// PathStyle addresses buckets as <endpoint>/<bucket>/<key> instead of
	// <bucket>.<endpoint>/<key>; most S3-compatible services need it.
	PathStyle bool
	// Static credentials. Without an access key and without Credentials,
	// requests are sent unsigned.
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	// Credentials, when set, replaces the static credentials (for instance
	// the SDK's default chain).
	Credentials aws.CredentialsProvider
	// RequestTimeout bounds one Put, from the first byte sent to the answer
	// (default 60 s).
	RequestTimeout time.Duration
	// HTTPClient sends the requests (default: the SDK's client).
	HTTPClient *http.Client
}

// S3Storage is a Storage speaking the S3 API (aws-sdk-go-v2). Every object
// is written with the canned ACL bucket-owner-full-control, so that the
// owner of a bucket shared with Tessera's account owns the recording, as
// with IVS. A Put is one attempt: the SDK does not retry (Spool does, with
// its own backoff), and it computes no optional checksums, which not every
// S3-compatible service understands.
type S3Storage struct {
	client  *s3.Client
	timeout time.Duration
}

// NewS3Storage returns an S3Storage for cfg.
func NewS3Storage(cfg S3Config) (*S3Storage, error) {
	if cfg.SecretAccessKey != "" && cfg.AccessKeyID == "" {
		return nil, errors.New("output: s3 storage: secret access key without an access key id")
	}
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	var creds aws.CredentialsProvider = aws.AnonymousCredentials{}
	switch {
	case cfg.Credentials != nil:
		creds = cfg.Credentials
	case cfg.AccessKeyID != "":
		creds = credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken)
	}
	timeout := cfg.RequestTimeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	opts := s3.Options{
		Region:                     region,
		Credentials:                creds,
		UsePathStyle:               cfg.PathStyle,
		Retryer:                    aws.NopRetryer{},
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	if cfg.Endpoint != "" {
		opts.BaseEndpoint = aws.String(cfg.Endpoint)
	}
	if cfg.HTTPClient != nil {
		opts.HTTPClient = cfg.HTTPClient
	}
	return &S3Storage{client: s3.New(opts), timeout: timeout}, nil
}

// Put implements Storage with one PutObject request.
func (s *S3Storage) Put(ctx context.Context, bucket, key string, body io.ReadSeeker, size int64, contentType string) error {
	if err := ValidateObjectName(bucket, key); err != nil {
		return err
	}
	if contentType == "" {
		contentType = ContentTypeFor(key)
	}
	if _, err := body.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("output: put s3://%s/%s: rewind: %w", bucket, key, err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	in := &s3.PutObjectInput{
		Bucket:      aws.String(bucket),
		Key:         aws.String(key),
		Body:        body,
		ContentType: aws.String(contentType),
		ACL:         types.ObjectCannedACLBucketOwnerFullControl,
	}
	if size >= 0 {
		in.ContentLength = aws.Int64(size)
	}
	if _, err := s.client.PutObject(ctx, in); err != nil {
		return fmt.Errorf("output: put s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}
