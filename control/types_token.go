package control

// ParticipantTokenConfiguration is a token request (CreateStage,
// CreateParticipantToken).
type ParticipantTokenConfiguration struct {
	Duration     *int              `json:"duration,omitempty"`
	UserID       string            `json:"userId,omitempty"`
	Attributes   map[string]string `json:"attributes,omitempty"`
	Capabilities []string          `json:"capabilities,omitempty"`
}

// ParticipantToken is the API's ParticipantToken.
type ParticipantToken struct {
	ParticipantID  string            `json:"participantId"`
	Token          string            `json:"token"`
	UserID         string            `json:"userId,omitempty"`
	Attributes     map[string]string `json:"attributes,omitempty"`
	Duration       int               `json:"duration"`
	Capabilities   []string          `json:"capabilities"`
	ExpirationTime string            `json:"expirationTime"`
}

type createParticipantTokenRequest struct {
	StageARN string `json:"stageArn"`
	ParticipantTokenConfiguration
}

type createParticipantTokenResponse struct {
	ParticipantToken ParticipantToken `json:"participantToken"`
}
