package control

import "time"

// The wire types, named and shaped as in the ivs-realtime model, one file
// per resource (types_*.go beside api_*.go). Resources (Stage,
// Composition, ...) are also the documents the store keeps. Requests
// (xxxRequest) carry an operation's input as the model validated it;
// responses (xxxResponse) are its output body. Timestamps are RFC 3339 UTC
// strings; optional members are pointers or omitempty and lists are never
// null, so that responses carry exactly what IVS sends. Response members are
// declared in the order of their JSON names.

// arnRequest names one resource (Get*, Delete*, StopComposition).
type arnRequest struct {
	ARN string `json:"arn"`
}

// listRequest is the paging of a List* request.
type listRequest struct {
	NextToken  string `json:"nextToken"`
	MaxResults int    `json:"maxResults"`
}

// empty is the body of operations without output members: {}.
type empty struct{}

// timestamp spells t as the API does; the zero time is "".
func timestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
