package control

// Participant is the API's Participant.
type Participant struct {
	ParticipantID string            `json:"participantId"`
	UserID        string            `json:"userId,omitempty"`
	State         string            `json:"state"`
	FirstJoinTime string            `json:"firstJoinTime,omitempty"`
	Attributes    map[string]string `json:"attributes,omitempty"`
	Published     bool              `json:"published"`
	Protocol      string            `json:"protocol,omitempty"`
}

// ParticipantSummary is the API's ParticipantSummary.
type ParticipantSummary struct {
	ParticipantID string `json:"participantId"`
	UserID        string `json:"userId,omitempty"`
	State         string `json:"state"`
	FirstJoinTime string `json:"firstJoinTime,omitempty"`
	Published     bool   `json:"published"`
}

// summary is p as ListParticipants shows it.
func (p Participant) summary() ParticipantSummary {
	return ParticipantSummary{ParticipantID: p.ParticipantID, UserID: p.UserID, State: p.State,
		FirstJoinTime: p.FirstJoinTime, Published: p.Published}
}

// ParticipantEvent is the API's Event.
type ParticipantEvent struct {
	Name                string `json:"name"`
	ParticipantID       string `json:"participantId"`
	EventTime           string `json:"eventTime"`
	RemoteParticipantID string `json:"remoteParticipantId,omitempty"`
	ErrorCode           string `json:"errorCode,omitempty"`
}

type disconnectParticipantRequest struct {
	StageARN      string `json:"stageArn"`
	ParticipantID string `json:"participantId"`
	Reason        string `json:"reason"`
}

type listParticipantsRequest struct {
	StageARN          string `json:"stageArn"`
	SessionID         string `json:"sessionId"`
	FilterByUserID    string `json:"filterByUserId"`
	FilterByPublished *bool  `json:"filterByPublished"`
	FilterByState     string `json:"filterByState"`
	listRequest
}

type listParticipantsResponse struct {
	NextToken    string               `json:"nextToken,omitempty"`
	Participants []ParticipantSummary `json:"participants"`
}

type getParticipantRequest struct {
	StageARN      string `json:"stageArn"`
	SessionID     string `json:"sessionId"`
	ParticipantID string `json:"participantId"`
}

type getParticipantResponse struct {
	Participant Participant `json:"participant"`
}

type listParticipantEventsRequest struct {
	StageARN      string `json:"stageArn"`
	SessionID     string `json:"sessionId"`
	ParticipantID string `json:"participantId"`
	listRequest
}

type listParticipantEventsResponse struct {
	Events    []ParticipantEvent `json:"events"`
	NextToken string             `json:"nextToken,omitempty"`
}
