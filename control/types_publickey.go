package control

// PublicKey is the API's PublicKey.
type PublicKey struct {
	ARN               string            `json:"arn"`
	Name              string            `json:"name"`
	PublicKeyMaterial string            `json:"publicKeyMaterial"`
	Fingerprint       string            `json:"fingerprint"`
	Tags              map[string]string `json:"tags"`
}

// PublicKeySummary is the API's PublicKeySummary.
type PublicKeySummary struct {
	ARN  string            `json:"arn"`
	Name string            `json:"name"`
	Tags map[string]string `json:"tags"`
}

type importPublicKeyRequest struct {
	PublicKeyMaterial string            `json:"publicKeyMaterial"`
	Name              string            `json:"name"`
	Tags              map[string]string `json:"tags"`
}

// publicKeyResponse is ImportPublicKey's and GetPublicKey's output.
type publicKeyResponse struct {
	PublicKey PublicKey `json:"publicKey"`
}

type listPublicKeysResponse struct {
	NextToken  string             `json:"nextToken,omitempty"`
	PublicKeys []PublicKeySummary `json:"publicKeys"`
}
