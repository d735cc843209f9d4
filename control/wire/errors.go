package wire

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// Error is an API error as the service returns it: an HTTP status, the
// error type (an exception shape of the model, or SerializationException
// and the like, which AWS returns without modelling them), a message, and
// any further members of the error shape by member name (body members go
// into the JSON body, header-bound members into their headers).
type Error struct {
	Status  int
	Type    string
	Message string
	Fields  map[string]any
}

func (e *Error) Error() string {
	if e.Message == "" {
		return e.Type
	}
	return e.Type + ": " + e.Message
}

// Error types AWS returns that the model does not declare.
const (
	// SerializationException: the body is no JSON object, or a member has
	// the wrong JSON type (Coral's deserialization failure).
	SerializationException = "SerializationException"
	// UnknownOperationException: no operation has that method and path.
	UnknownOperationException = "UnknownOperationException"
	// ThrottlingException: the caller is over its request rate (429). The
	// SDKs know it as a throttling error and retry it with backoff.
	ThrottlingException = "ThrottlingException"
)

var unmodeledStatus = map[string]int{
	SerializationException:    http.StatusBadRequest,
	UnknownOperationException: http.StatusNotFound,
	ThrottlingException:       http.StatusTooManyRequests,
}

// Messages AWS sends with errors it does not model.
const (
	// MsgRateExceeded is AWS's message with a ThrottlingException.
	MsgRateExceeded = "Rate exceeded"
	// msgNullBody answers a body that is JSON null.
	msgNullBody = "The request body must be a JSON object, not null."
)

// NewError makes an error of type typ with the status the model gives the
// exception shape of that name (error.httpStatusCode). A type the model does
// not declare gets 400, or 404 for UnknownOperationException and 429 for
// ThrottlingException.
func (m *Model) NewError(typ, message string) *Error {
	status := http.StatusBadRequest
	if s := m.shapes[typ]; s != nil && s.Exception {
		status = s.HTTPStatus
	} else if st, ok := unmodeledStatus[typ]; ok {
		status = st
	}
	return &Error{Status: status, Type: typ, Message: message}
}

// One constructor for every exception shape the model declares; the status
// comes from the model (the tests check that every exception shape has
// one). They use the embedded model.

// ValidationError is a ValidationException (400): the input breaks a
// constraint of the model. DecodeInput builds its messages.
func ValidationError(message string) *Error {
	return MustModel().NewError("ValidationException", message)
}

// AccessDenied is an AccessDeniedException (403).
func AccessDenied(message string) *Error {
	return MustModel().NewError("AccessDeniedException", message)
}

// ResourceNotFound is a ResourceNotFoundException (404).
func ResourceNotFound(message string) *Error {
	return MustModel().NewError("ResourceNotFoundException", message)
}

// Conflict is a ConflictException (409).
func Conflict(message string) *Error {
	return MustModel().NewError("ConflictException", message)
}

// ServiceQuotaExceeded is a ServiceQuotaExceededException (402).
func ServiceQuotaExceeded(message string) *Error {
	return MustModel().NewError("ServiceQuotaExceededException", message)
}

// InternalServer is an InternalServerException (500).
func InternalServer(message string) *Error {
	return MustModel().NewError("InternalServerException", message)
}

// PendingVerification is a PendingVerification error (403).
func PendingVerification(message string) *Error {
	return MustModel().NewError("PendingVerification", message)
}

// SerializationError is a SerializationException (400, not in the model).
func SerializationError(message string) *Error {
	return MustModel().NewError(SerializationException, message)
}

// Throttling is a ThrottlingException (429, not in the model) with AWS's
// message, "Rate exceeded".
func Throttling() *Error {
	return MustModel().NewError(ThrottlingException, MsgRateExceeded)
}

// UnknownOperation is an UnknownOperationException (404, not in the model)
// for a request no operation routes.
func UnknownOperation(method, escapedPath string) *Error {
	return MustModel().NewError(UnknownOperationException, "No operation matches "+method+" "+escapedPath)
}

// WriteError writes e as the embedded model's rest-json error; see
// (*Model).WriteError.
func WriteError(w http.ResponseWriter, e *Error) { MustModel().WriteError(w, e) }

// WriteError writes e as a rest-json error response: the status (e.Status,
// else the model's status for e.Type, else 500), the header
// X-Amzn-Errortype: <Type> (which the AWS SDKs and CLI read the error type
// from), Content-Type: application/json, and a JSON body with "message"
// and, when e.Type's shape declares them, "exceptionMessage" (both holding
// e.Message; the ivsrealtime SDK types read ExceptionMessage, botocore and
// generic SDK errors read message). Fields named after header-bound members
// of the shape are written to those headers; other fields go into the body
// under the member's JSON name (or the field name for undeclared ones). A
// nil e writes a bare InternalServerException.
func (m *Model) WriteError(w http.ResponseWriter, e *Error) {
	if e == nil {
		e = m.NewError("InternalServerException", "")
	}
	status := e.Status
	var shape *Shape
	if s := m.shapes[e.Type]; s != nil && s.Exception {
		shape = s
	}
	if status == 0 {
		status = http.StatusInternalServerError
		if shape != nil {
			status = shape.HTTPStatus
		}
	}
	h := w.Header()
	body := map[string]any{"message": e.Message}
	declared := map[string]bool{}
	if shape != nil {
		for _, mem := range shape.Members {
			declared[mem.Name] = true
			v, given := e.Fields[mem.Name]
			switch mem.Location {
			case LocationHeader:
				if given && !strings.EqualFold(mem.LocationName, "x-amzn-ErrorType") {
					h.Set(mem.LocationName, headerString(v))
				}
			case LocationBody:
				switch {
				case given:
					body[mem.LocationName] = v
				case (mem.Name == "message" || mem.Name == "exceptionMessage") && mem.Shape.Type == TypeString:
					body[mem.LocationName] = e.Message
				}
			}
		}
	}
	for k, v := range e.Fields {
		if !declared[k] {
			body[k] = v
		}
	}
	buf, err := json.Marshal(body)
	if err != nil {
		buf, _ = json.Marshal(map[string]any{"message": e.Message})
	}
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-Errortype", e.Type)
	h.Set("Content-Length", strconv.Itoa(len(buf)))
	w.WriteHeader(status)
	_, _ = w.Write(buf)
}

func headerString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case nil:
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return strings.Trim(string(b), `"`)
}

// WriteJSON writes v as a JSON response body with the given status and
// Content-Type: application/json; a nil v writes {}. If v cannot be
// marshalled it writes an InternalServerException instead.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	buf := []byte("{}")
	if v != nil {
		var err error
		if buf, err = json.Marshal(v); err != nil {
			WriteError(w, InternalServer("could not encode the response"))
			return
		}
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(buf)))
	w.WriteHeader(status)
	_, _ = w.Write(buf)
}
