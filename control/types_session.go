package control

// StageSession is the API's StageSession (and StageSessionSummary, which
// has the same members). EndTime is empty while the session is active.
type StageSession struct {
	SessionID string `json:"sessionId"`
	StartTime string `json:"startTime,omitempty"`
	EndTime   string `json:"endTime,omitempty"`
}

// storedSession is a stage session's stored document: the API's shape and,
// while nobody is connected, since when (the session ends
// Timeouts.SessionEnd after that).
type storedSession struct {
	StageSession
	IdleSince string `json:"idleSince,omitempty"`
}

// Stored states of a stage session.
const (
	sessionActive = "ACTIVE"
	sessionEnded  = "ENDED"
)

type getStageSessionRequest struct {
	StageARN  string `json:"stageArn"`
	SessionID string `json:"sessionId"`
}

type getStageSessionResponse struct {
	StageSession StageSession `json:"stageSession"`
}

type listStageSessionsRequest struct {
	StageARN string `json:"stageArn"`
	listRequest
}

type listStageSessionsResponse struct {
	StageSessions []StageSession `json:"stageSessions"`
	NextToken     string         `json:"nextToken,omitempty"`
}
