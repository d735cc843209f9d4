package wire

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// embeddedModel is the AWS API model of the Amazon IVS Real-Time service
// (ivs-realtime, API version 2020-07-14), copied unmodified from botocore
// 1.43.11 (botocore/data/ivs-realtime/2020-07-14/service-2.json.gz,
// https://github.com/boto/botocore). botocore, and this file with it, is
// licensed under the Apache License, Version 2.0
// (http://www.apache.org/licenses/LICENSE-2.0); Copyright Amazon.com, Inc.
// or its affiliates. Replace the file to follow a newer model; the tests
// name what the package expects of it.
//
//go:embed ivs-realtime-2020-07-14.service-2.json.gz
var embeddedModel []byte

// extensionModel holds Tessera's own operations (CreateViewerToken,
// UpdateComposition) and their shapes, in the same botocore form; Load
// merges them into the IVS model, refusing any name IVS's model has.
//
//go:embed tessera-extensions.json
var extensionModel []byte

// Shape types, as the model spells them.
const (
	TypeStructure = "structure"
	TypeList      = "list"
	TypeMap       = "map"
	TypeString    = "string"
	TypeInteger   = "integer"
	TypeLong      = "long"
	TypeFloat     = "float"
	TypeDouble    = "double"
	TypeBoolean   = "boolean"
	TypeTimestamp = "timestamp"
	TypeBlob      = "blob"
)

// Member locations, as the model spells them. The empty location is the
// JSON body.
const (
	LocationBody        = ""
	LocationURI         = "uri"
	LocationQueryString = "querystring"
	LocationHeader      = "header"
	LocationHeaders     = "headers" // a map bound to every header with a prefix
	LocationStatusCode  = "statusCode"
)

// Model is the parsed API model. It is immutable after Load and safe for
// concurrent use.
type Model struct {
	Metadata Metadata

	operations map[string]*Operation
	opList     []*Operation
	shapes     map[string]*Shape
	routes     []*route
}

// Metadata is the model's service metadata.
type Metadata struct {
	APIVersion       string `json:"apiVersion"`
	EndpointPrefix   string `json:"endpointPrefix"`
	Protocol         string `json:"protocol"`
	ServiceFullName  string `json:"serviceFullName"`
	ServiceID        string `json:"serviceId"`
	SigningName      string `json:"signingName"`
	SignatureVersion string `json:"signatureVersion"`
	UID              string `json:"uid"`
}

// Operation is one API operation.
type Operation struct {
	Name         string
	Method       string // HTTP method
	RequestURI   string // as in the model, e.g. "/tags/{resourceArn}"
	ResponseCode int    // HTTP status of a successful response
	Input        *Shape // nil when the operation takes no input
	Output       *Shape // nil when the operation returns no output
	Errors       []*Shape
	// Extension marks Tessera's own operations, which IVS does not have.
	Extension bool
}

// Shape is one shape of the model. Fields that do not apply to a shape's
// type are zero.
type Shape struct {
	Name string
	Type string // one of the Type constants

	// Structures.
	Members []*Member // in the model's declaration order

	// Lists (Member) and maps (Key, Value).
	Member *Shape
	Key    *Shape
	Value  *Shape

	// Constraints. Min and Max bound a string's length in characters, a
	// list's or map's number of entries, or a number's value.
	Min     *Bound
	Max     *Bound
	Enum    []string // allowed values, in the model's order
	Pattern string   // the model's (Java) regular expression; "" for none

	Sensitive       bool
	TimestampFormat string

	// Error shapes.
	Exception  bool
	Fault      bool // a server-side error
	HTTPStatus int  // error.httpStatusCode

	memberIndex map[string]*Member
	re          *regexp.Regexp // full-match RE2 translation of Pattern
}

// Bound is a min or max constraint as the model states it.
type Bound struct {
	Value float64
	Text  string // the number as written in the model
}

// Member is one member of a structure.
type Member struct {
	Name             string
	Shape            *Shape
	Required         bool
	Location         string // one of the Location constants
	LocationName     string // the label, query key, header or JSON key; defaults to Name
	IdempotencyToken bool
}

// MemberByName returns the structure member with that name, or nil.
func (s *Shape) MemberByName(name string) *Member { return s.memberIndex[name] }

// Regexp returns the compiled, full-match RE2 form of the shape's pattern,
// or nil when the shape has none.
func (s *Shape) Regexp() *regexp.Regexp { return s.re }

// Operation returns the operation with that name, or nil.
func (m *Model) Operation(name string) *Operation { return m.operations[name] }

// Operations returns every operation, sorted by name.
func (m *Model) Operations() []*Operation { return append([]*Operation(nil), m.opList...) }

// Shape returns the shape with that name, or nil.
func (m *Model) Shape(name string) *Shape { return m.shapes[name] }

// Shapes returns every shape, sorted by name.
func (m *Model) Shapes() []*Shape {
	out := make([]*Shape, 0, len(m.shapes))
	for _, s := range m.shapes {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ErrorShapes returns the shapes marked as exceptions, sorted by name.
func (m *Model) ErrorShapes() []*Shape {
	var out []*Shape
	for _, s := range m.Shapes() {
		if s.Exception {
			out = append(out, s)
		}
	}
	return out
}

// Load parses the embedded model with Tessera's extensions merged in.
// Every call parses anew; MustModel returns one shared parse.
func Load() (*Model, error) {
	doc, extensions, err := merged()
	if err != nil {
		return nil, err
	}
	return parse(doc, extensions)
}

// Document returns the embedded model with Tessera's extensions merged in
// as one botocore service-2.json document (IVS's metadata, protocol and
// signing name): what `aws configure add-model` takes to make the AWS CLI
// call the extensions too.
func Document() ([]byte, error) {
	doc, _, err := merged()
	return doc, err
}

// merged returns the embedded model with the extensions merged in, and
// the extensions' operation names.
func merged() ([]byte, map[string]bool, error) {
	zr, err := gzip.NewReader(bytes.NewReader(embeddedModel))
	if err != nil {
		return nil, nil, fmt.Errorf("wire: embedded model: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, nil, fmt.Errorf("wire: embedded model: %w", err)
	}
	return merge(raw, extensionModel)
}

var defaultModel = sync.OnceValues(Load)

// MustModel returns the embedded model, parsed once per process; it panics
// if the model cannot be parsed (which the package's tests rule out).
func MustModel() *Model {
	m, err := defaultModel()
	if err != nil {
		panic(err)
	}
	return m
}

// Parse parses a botocore service-2.json document (uncompressed). Load is
// Parse of the embedded model with the extensions; Parse is exported for
// tests and tools.
func Parse(doc []byte) (*Model, error) { return parse(doc, nil) }

// merge adds the operations and shapes of the botocore document ext to
// doc, whose other members (metadata, version, documentation) it keeps,
// refusing any name doc has. It returns the merged document and the names
// of ext's operations.
func merge(doc, ext []byte) ([]byte, map[string]bool, error) {
	var d, e map[string]json.RawMessage
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, nil, fmt.Errorf("wire: model: %w", err)
	}
	if err := json.Unmarshal(ext, &e); err != nil {
		return nil, nil, fmt.Errorf("wire: extension model: %w", err)
	}
	names := map[string]bool{}
	for _, member := range []string{"shapes", "operations"} {
		var into, from map[string]json.RawMessage
		if err := json.Unmarshal(d[member], &into); err != nil {
			return nil, nil, fmt.Errorf("wire: model %s: %w", member, err)
		}
		if e[member] == nil {
			continue
		}
		if err := json.Unmarshal(e[member], &from); err != nil {
			return nil, nil, fmt.Errorf("wire: extension model %s: %w", member, err)
		}
		for name, v := range from {
			if _, ok := into[name]; ok {
				return nil, nil, fmt.Errorf("wire: extension model: %s %s is the model's own", strings.TrimSuffix(member, "s"), name)
			}
			into[name] = v
			if member == "operations" {
				names[name] = true
			}
		}
		d[member] = encode(into)
	}
	return encode(d), names, nil
}

// encode is JSON of m as written in a botocore document: <p> stays <p>.
func encode(m map[string]json.RawMessage) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(m) // raw JSON values that parsed: cannot fail
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// parse parses doc, marking the operations named in extensions Extension.
func parse(doc []byte, extensions map[string]bool) (*Model, error) {
	var rm rawModel
	if err := json.Unmarshal(doc, &rm); err != nil {
		return nil, fmt.Errorf("wire: model: %w", err)
	}
	if rm.Metadata.Protocol != "rest-json" {
		return nil, fmt.Errorf("wire: model protocol %q, want rest-json", rm.Metadata.Protocol)
	}
	m := &Model{
		Metadata:   rm.Metadata,
		operations: map[string]*Operation{},
		shapes:     map[string]*Shape{},
	}
	for name := range rm.Shapes {
		m.shapes[name] = &Shape{Name: name}
	}
	ref := func(from, name string) (*Shape, error) {
		s := m.shapes[name]
		if s == nil {
			return nil, fmt.Errorf("wire: model: %s refers to undefined shape %q", from, name)
		}
		return s, nil
	}
	for name, rs := range rm.Shapes {
		s := m.shapes[name]
		if err := m.buildShape(s, rs, ref); err != nil {
			return nil, err
		}
	}
	for name, ro := range rm.Operations {
		op := &Operation{
			Name:         name,
			Method:       ro.HTTP.Method,
			RequestURI:   ro.HTTP.RequestURI,
			ResponseCode: ro.HTTP.ResponseCode,
			Extension:    extensions[name],
		}
		if op.ResponseCode == 0 {
			op.ResponseCode = 200
		}
		var err error
		if ro.Input != nil {
			if op.Input, err = ref(name+" input", ro.Input.Shape); err != nil {
				return nil, err
			}
		}
		if ro.Output != nil {
			if op.Output, err = ref(name+" output", ro.Output.Shape); err != nil {
				return nil, err
			}
		}
		for _, e := range ro.Errors {
			s, err := ref(name+" errors", e.Shape)
			if err != nil {
				return nil, err
			}
			if !s.Exception {
				return nil, fmt.Errorf("wire: model: %s lists %s as an error, but it is no exception", name, s.Name)
			}
			op.Errors = append(op.Errors, s)
		}
		m.operations[name] = op
		m.opList = append(m.opList, op)
	}
	sort.Slice(m.opList, func(i, j int) bool { return m.opList[i].Name < m.opList[j].Name })
	if err := m.buildRoutes(); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Model) buildShape(s *Shape, rs rawShape, ref func(from, name string) (*Shape, error)) error {
	s.Type = rs.Type
	s.Enum = rs.Enum
	s.Sensitive = rs.Sensitive
	s.TimestampFormat = rs.TimestampFormat
	s.Exception = rs.Exception
	s.Fault = rs.Fault
	if rs.Error != nil {
		s.HTTPStatus = rs.Error.HTTPStatusCode
	}
	if s.Exception && s.HTTPStatus == 0 {
		s.HTTPStatus = 400
		if s.Fault {
			s.HTTPStatus = 500
		}
	}
	var err error
	if s.Min, err = bound(s.Name, "min", rs.Min); err != nil {
		return err
	}
	if s.Max, err = bound(s.Name, "max", rs.Max); err != nil {
		return err
	}
	switch s.Type {
	case TypeStructure:
		required := map[string]bool{}
		for _, r := range rs.Required {
			required[r] = true
		}
		s.memberIndex = map[string]*Member{}
		for _, rm := range rs.Members {
			ms, err := ref(s.Name+"."+rm.name, rm.Shape)
			if err != nil {
				return err
			}
			mem := &Member{
				Name:             rm.name,
				Shape:            ms,
				Required:         required[rm.name],
				Location:         rm.Location,
				LocationName:     rm.LocationName,
				IdempotencyToken: rm.IdempotencyToken,
			}
			if mem.LocationName == "" {
				mem.LocationName = mem.Name
			}
			switch mem.Location {
			case LocationBody, LocationURI, LocationQueryString, LocationHeader, LocationHeaders, LocationStatusCode:
			default:
				return fmt.Errorf("wire: model: %s.%s has unsupported location %q", s.Name, mem.Name, mem.Location)
			}
			s.Members = append(s.Members, mem)
			s.memberIndex[mem.Name] = mem
		}
		for r := range required {
			if s.memberIndex[r] == nil {
				return fmt.Errorf("wire: model: %s requires undeclared member %q", s.Name, r)
			}
		}
	case TypeList:
		if rs.Member == nil {
			return fmt.Errorf("wire: model: list %s has no member", s.Name)
		}
		if s.Member, err = ref(s.Name+".member", rs.Member.Shape); err != nil {
			return err
		}
	case TypeMap:
		if rs.Key == nil || rs.Value == nil {
			return fmt.Errorf("wire: model: map %s lacks key or value", s.Name)
		}
		if s.Key, err = ref(s.Name+".key", rs.Key.Shape); err != nil {
			return err
		}
		if s.Value, err = ref(s.Name+".value", rs.Value.Shape); err != nil {
			return err
		}
	case TypeString:
		if rs.Pattern != nil {
			s.Pattern = *rs.Pattern
			re, err := compilePattern(s.Name, s.Pattern)
			if err != nil {
				return err
			}
			s.re = re
		}
	case TypeInteger, TypeLong, TypeFloat, TypeDouble, TypeBoolean, TypeTimestamp, TypeBlob:
	default:
		return fmt.Errorf("wire: model: shape %s has unsupported type %q", s.Name, s.Type)
	}
	if rs.Pattern != nil && s.Type != TypeString {
		return fmt.Errorf("wire: model: %s shape %s has a pattern", s.Type, s.Name)
	}
	return nil
}

func bound(shape, which string, n *json.Number) (*Bound, error) {
	if n == nil {
		return nil, nil
	}
	f, err := strconv.ParseFloat(string(*n), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, fmt.Errorf("wire: model: %s %s %q: not a number", shape, which, *n)
	}
	return &Bound{Value: f, Text: string(*n)}, nil
}

// The model's JSON, as far as this package reads it.

type rawModel struct {
	Metadata   Metadata                `json:"metadata"`
	Operations map[string]rawOperation `json:"operations"`
	Shapes     map[string]rawShape     `json:"shapes"`
}

type rawOperation struct {
	HTTP struct {
		Method       string `json:"method"`
		RequestURI   string `json:"requestUri"`
		ResponseCode int    `json:"responseCode"`
	} `json:"http"`
	Input  *rawMember  `json:"input"`
	Output *rawMember  `json:"output"`
	Errors []rawMember `json:"errors"`
}

type rawShape struct {
	Type            string         `json:"type"`
	Members         orderedMembers `json:"members"`
	Required        []string       `json:"required"`
	Member          *rawMember     `json:"member"`
	Key             *rawMember     `json:"key"`
	Value           *rawMember     `json:"value"`
	Min             *json.Number   `json:"min"`
	Max             *json.Number   `json:"max"`
	Enum            []string       `json:"enum"`
	Pattern         *string        `json:"pattern"`
	Sensitive       bool           `json:"sensitive"`
	TimestampFormat string         `json:"timestampFormat"`
	Exception       bool           `json:"exception"`
	Fault           bool           `json:"fault"`
	Error           *struct {
		HTTPStatusCode int `json:"httpStatusCode"`
	} `json:"error"`
}

type rawMember struct {
	name             string
	Shape            string `json:"shape"`
	Location         string `json:"location"`
	LocationName     string `json:"locationName"`
	IdempotencyToken bool   `json:"idempotencyToken"`
}

// orderedMembers keeps a structure's members in declaration order, which
// fixes the order of validation messages.
type orderedMembers []rawMember

func (o *orderedMembers) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("members: want an object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := tok.(string)
		var rm rawMember
		if err := dec.Decode(&rm); err != nil {
			return err
		}
		rm.name = name
		*o = append(*o, rm)
	}
	_, err = dec.Token()
	return err
}
