package sigv4

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Sign signs r, whose body is body, as accessKey with secret for service
// in region at now, with the SDK's own signer: the request a Verifier
// holding the same credentials accepts (one node of a cluster calling
// another on a caller's behalf).
func Sign(r *http.Request, body []byte, accessKey, secret, service, region string, now time.Time) error {
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	r.Header.Set("X-Amz-Content-Sha256", hash)
	creds := aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secret}
	return v4.NewSigner().SignHTTP(context.Background(), creds, r, hash, service, region, now)
}
