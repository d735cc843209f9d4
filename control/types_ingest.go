package control

// IngestConfiguration is the API's IngestConfiguration. State is computed
// on every read (ACTIVE while its stream key publishes); the API never
// sends redundantIngestCredentials, as redundant ingest is refused.
type IngestConfiguration struct {
	ARN             string            `json:"arn"`
	Attributes      map[string]string `json:"attributes,omitempty"`
	IngestProtocol  string            `json:"ingestProtocol"`
	Name            string            `json:"name"`
	ParticipantID   string            `json:"participantId"`
	RedundantIngest bool              `json:"redundantIngest"`
	StageARN        string            `json:"stageArn"`
	State           string            `json:"state"`
	StreamKey       string            `json:"streamKey"`
	Tags            map[string]string `json:"tags"`
	UserID          string            `json:"userId"`
}

// storedIngestConfiguration is an ingest configuration's stored document:
// the API's IngestConfiguration (its state left empty) and insecureIngest,
// which the API does not echo.
type storedIngestConfiguration struct {
	IngestConfiguration
	InsecureIngest bool `json:"insecureIngest"`
}

// IngestConfigurationSummary is the API's IngestConfigurationSummary.
type IngestConfigurationSummary struct {
	ARN             string `json:"arn"`
	IngestProtocol  string `json:"ingestProtocol"`
	Name            string `json:"name"`
	ParticipantID   string `json:"participantId"`
	RedundantIngest bool   `json:"redundantIngest"`
	StageARN        string `json:"stageArn"`
	State           string `json:"state"`
	UserID          string `json:"userId"`
}

// summary is c as ListIngestConfigurations shows it.
func (c IngestConfiguration) summary() IngestConfigurationSummary {
	return IngestConfigurationSummary{ARN: c.ARN, IngestProtocol: c.IngestProtocol, Name: c.Name, ParticipantID: c.ParticipantID,
		RedundantIngest: c.RedundantIngest, StageARN: c.StageARN, State: c.State, UserID: c.UserID}
}

type createIngestConfigurationRequest struct {
	Name           string            `json:"name"`
	StageARN       string            `json:"stageArn"`
	UserID         string            `json:"userId"`
	Attributes     map[string]string `json:"attributes"`
	IngestProtocol string            `json:"ingestProtocol"`
	InsecureIngest bool              `json:"insecureIngest"`
	// Refused when true: redundant ingest is not supported.
	RedundantIngest bool              `json:"redundantIngest"`
	Tags            map[string]string `json:"tags"`
}

type updateIngestConfigurationRequest struct {
	ARN string `json:"arn"`
	// StageARN, when present, attaches the configuration to a stage ("":
	// detaches it); absent, the stage stays.
	StageARN *string `json:"stageArn"`
	// Refused when true: redundant ingest is not supported.
	RedundantIngest bool `json:"redundantIngest"`
}

type deleteIngestConfigurationRequest struct {
	ARN   string `json:"arn"`
	Force bool   `json:"force"`
}

type listIngestConfigurationsRequest struct {
	FilterByStageARN string `json:"filterByStageArn"`
	FilterByState    string `json:"filterByState"`
	listRequest
}

// ingestConfigurationResponse is the output of CreateIngestConfiguration,
// GetIngestConfiguration and UpdateIngestConfiguration.
type ingestConfigurationResponse struct {
	IngestConfiguration IngestConfiguration `json:"ingestConfiguration"`
}

type listIngestConfigurationsResponse struct {
	IngestConfigurations []IngestConfigurationSummary `json:"ingestConfigurations"`
	NextToken            string                       `json:"nextToken,omitempty"`
}
