package control

// Stage is the API's Stage.
type Stage struct {
	ARN             string            `json:"arn"`
	Name            string            `json:"name"`
	ActiveSessionID string            `json:"activeSessionId,omitempty"`
	Tags            map[string]string `json:"tags"`
	Endpoints       StageEndpoints    `json:"endpoints"`
	// AutoParticipantRecording is stored with its defaults and echoed.
	AutoParticipantRecording AutoParticipantRecordingConfiguration `json:"autoParticipantRecordingConfiguration"`
}

// StageEndpoints are where participants connect; whip is Tessera's WHIP
// endpoint.
type StageEndpoints struct {
	Events string `json:"events,omitempty"`
	WHIP   string `json:"whip,omitempty"`
	RTMP   string `json:"rtmp,omitempty"`
	RTMPS  string `json:"rtmps,omitempty"`
}

// StageSummary is the API's StageSummary.
type StageSummary struct {
	ARN             string            `json:"arn"`
	Name            string            `json:"name"`
	ActiveSessionID string            `json:"activeSessionId,omitempty"`
	Tags            map[string]string `json:"tags"`
}

// summary is st as ListStages shows it.
func (st Stage) summary() StageSummary {
	return StageSummary{ARN: st.ARN, Name: st.Name, ActiveSessionID: st.ActiveSessionID, Tags: st.Tags}
}

type createStageRequest struct {
	Name                                  string                                 `json:"name"`
	ParticipantTokenConfigurations        []ParticipantTokenConfiguration        `json:"participantTokenConfigurations"`
	Tags                                  map[string]string                      `json:"tags"`
	AutoParticipantRecordingConfiguration *AutoParticipantRecordingConfiguration `json:"autoParticipantRecordingConfiguration"`
}

type createStageResponse struct {
	ParticipantTokens []ParticipantToken `json:"participantTokens"`
	Stage             Stage              `json:"stage"`
}

type updateStageRequest struct {
	ARN                                   string                                 `json:"arn"`
	Name                                  *string                                `json:"name"`
	AutoParticipantRecordingConfiguration *AutoParticipantRecordingConfiguration `json:"autoParticipantRecordingConfiguration"`
}

// noParticipantRecording is why autoParticipantRecordingConfiguration is
// refused by a server without Config.ParticipantRecorders.
const noParticipantRecording = "participants are not recorded individually"

// stageResponse is GetStage's and UpdateStage's output.
type stageResponse struct {
	Stage Stage `json:"stage"`
}

type listStagesResponse struct {
	NextToken string         `json:"nextToken,omitempty"`
	Stages    []StageSummary `json:"stages"`
}
