package wire

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// MaxBodyBytes bounds the request body DecodeRequest reads.
const MaxBodyBytes = 1 << 20

// DecodeRequest reads r's body (at most MaxBodyBytes; more is a 413
// RequestEntityTooLargeException) and decodes it with r's query and headers;
// see DecodeInput. pathParams comes from Route.
func (m *Model) DecodeRequest(op *Operation, pathParams map[string]string, r *http.Request) (map[string]any, *Error) {
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
		if err != nil {
			return nil, m.NewError(SerializationException, "Could not read the request body")
		}
		if len(b) > MaxBodyBytes {
			return nil, &Error{Status: http.StatusRequestEntityTooLarge, Type: "RequestEntityTooLargeException",
				Message: "Request body is larger than " + strconv.Itoa(MaxBodyBytes) + " bytes"}
		}
		body = b
	}
	return m.DecodeInput(op, pathParams, r.URL.Query(), r.Header, body)
}

// DecodeInput decodes and validates an operation's input.
//
// The body must be empty (no input) or one JSON object (a JSON null is a
// ValidationException, as AWS answers); members it does not model are
// ignored. Members bound to the URI (pathParams, keyed
// by label), the query string and headers are read from there and typed per
// the model: a list takes every value of its query key (UntagResource's
// tagKeys=a&tagKeys=b), a scalar the first.
//
// The result maps member names to values: string (string), int64 (integer,
// long), float64 (float, double), bool, time.Time (timestamp), []byte
// (blob), []any (list), map[string]any (map, structure). Absent and null
// members are left out, so a JSON round trip of the result decodes to the
// same value.
//
// A JSON type the model does not allow is a SerializationException (400)
// with Coral's message ("Start of list found where not expected", "class
// java.lang.String can not be converted to an Integer", ...), the first in
// model order. A fractional number for an integer member is truncated
// toward zero, as Coral does; one outside the 32-bit (integer) or 64-bit
// (long) range is a SerializationException. Then every constraint is
// checked and all failures are reported in one ValidationException (400);
// see the package documentation for the messages.
func (m *Model) DecodeInput(op *Operation, pathParams map[string]string, query url.Values, header http.Header, body []byte) (map[string]any, *Error) {
	if op == nil {
		return nil, m.NewError("InternalServerException", "no operation")
	}
	obj, e := parseBody(m, body)
	if e != nil {
		return nil, e
	}
	out := map[string]any{}
	in := op.Input
	if in == nil {
		return out, nil
	}
	d := &decoder{m: m}
	bound := map[string]bool{}
	for _, mem := range in.Members {
		if mem.Location == LocationQueryString && mem.Shape.Type != TypeMap {
			bound[mem.LocationName] = true
		}
	}
	for _, mem := range in.Members {
		var v any
		switch mem.Location {
		case LocationBody:
			v, e = d.value(mem.Shape, obj[mem.LocationName])
		case LocationURI:
			if s, ok := pathParams[mem.LocationName]; ok {
				v, e = d.text(mem.Shape, []string{s})
			}
		case LocationQueryString:
			if mem.Shape.Type == TypeMap {
				v, e = d.textMap(mem.Shape, query, bound)
			} else if vals, ok := query[mem.LocationName]; ok {
				v, e = d.text(mem.Shape, vals)
			}
		case LocationHeader:
			if vals := header.Values(mem.LocationName); len(vals) > 0 {
				if mem.Shape.Type == TypeList {
					var split []string
					for _, hv := range vals {
						for _, p := range strings.Split(hv, ",") {
							split = append(split, strings.TrimSpace(p))
						}
					}
					vals = split
				}
				v, e = d.text(mem.Shape, vals)
			}
		case LocationHeaders:
			if mem.Shape.Type == TypeMap {
				hv := url.Values{}
				for k, vs := range header {
					if len(k) >= len(mem.LocationName) && strings.EqualFold(k[:len(mem.LocationName)], mem.LocationName) {
						hv[k[len(mem.LocationName):]] = vs
					}
				}
				v, e = d.textMap(mem.Shape, hv, nil)
			}
		}
		if e != nil {
			return nil, e
		}
		if v != nil {
			out[mem.Name] = v
		}
	}
	if e := m.Validate(in, out); e != nil {
		return nil, e
	}
	return out, nil
}

func parseBody(m *Model, body []byte) (map[string]any, *Error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, m.NewError(SerializationException, "Could not parse request body into json: "+err.Error())
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, m.NewError(SerializationException, "Could not parse request body into json: data after the JSON value")
	}
	switch v := v.(type) {
	case map[string]any:
		return v, nil
	case nil:
		return nil, ValidationError(msgNullBody)
	case []any:
		return nil, m.NewError(SerializationException, "Start of list found where not expected")
	}
	return nil, m.NewError(SerializationException, "Expected null")
}

type decoder struct {
	m       *Model
	strict  bool     // report JSON keys the model does not declare
	unknown []string // the keys found, in strict mode
}

func (d *decoder) ser(msg string) *Error { return d.m.NewError(SerializationException, msg) }

// mismatch is the SerializationException for a JSON value of the wrong type.
func (d *decoder) mismatch(sh *Shape, raw any) *Error { return d.ser(mismatchMessage(sh, raw)) }

// value converts a JSON value (as decoded with UseNumber) to the shape's Go
// form. nil stays nil.
func (d *decoder) value(sh *Shape, raw any) (any, *Error) {
	if raw == nil {
		return nil, nil
	}
	switch sh.Type {
	case TypeStructure:
		obj, ok := raw.(map[string]any)
		if !ok {
			return nil, d.mismatch(sh, raw)
		}
		return d.structure(sh, obj, "")
	case TypeList:
		arr, ok := raw.([]any)
		if !ok {
			return nil, d.mismatch(sh, raw)
		}
		out := make([]any, len(arr))
		for i, el := range arr {
			v, e := d.value(sh.Member, el)
			if e != nil {
				return nil, e
			}
			out[i] = v
		}
		return out, nil
	case TypeMap:
		obj, ok := raw.(map[string]any)
		if !ok {
			return nil, d.mismatch(sh, raw)
		}
		out := make(map[string]any, len(obj))
		for _, k := range sortedKeys(obj) {
			v, e := d.value(sh.Value, obj[k])
			if e != nil {
				return nil, e
			}
			out[k] = v
		}
		return out, nil
	case TypeString:
		s, ok := raw.(string)
		if !ok {
			return nil, d.mismatch(sh, raw)
		}
		return s, nil
	case TypeBoolean:
		b, ok := raw.(bool)
		if !ok {
			return nil, d.mismatch(sh, raw)
		}
		return b, nil
	case TypeInteger, TypeLong:
		n, ok := raw.(json.Number)
		if !ok {
			return nil, d.mismatch(sh, raw)
		}
		return d.integer(sh, string(n))
	case TypeFloat, TypeDouble:
		n, ok := raw.(json.Number)
		if !ok {
			return nil, d.mismatch(sh, raw)
		}
		return d.float(sh, string(n))
	case TypeTimestamp:
		switch v := raw.(type) {
		case string:
			return d.timestamp(v)
		case json.Number:
			f, err := strconv.ParseFloat(string(v), 64)
			if err != nil || math.Abs(f) > 1e11 {
				return nil, d.ser("Numeric value (" + string(v) + ") out of range of timestamp")
			}
			sec, frac := math.Modf(f)
			return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC(), nil
		}
		return nil, d.mismatch(sh, raw)
	case TypeBlob:
		s, ok := raw.(string)
		if !ok {
			return nil, d.mismatch(sh, raw)
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, d.ser("'" + s + "' can not be converted to a Blob: invalid Base64")
		}
		return b, nil
	}
	return nil, d.ser("unsupported shape type " + sh.Type)
}

// structure converts the body members of a structure; path is only used to
// name unknown keys in strict mode.
func (d *decoder) structure(sh *Shape, obj map[string]any, path string) (any, *Error) {
	out := map[string]any{}
	if d.strict {
		for _, k := range sortedKeys(obj) {
			if mem := bodyMember(sh, k); mem == nil {
				d.unknown = append(d.unknown, joinPath(path, k))
			}
		}
	}
	for _, mem := range sh.Members {
		if mem.Location != LocationBody {
			continue
		}
		raw := obj[mem.LocationName]
		var v any
		var e *Error
		if d.strict {
			v, e = d.strictValue(mem.Shape, raw, joinPath(path, mem.LocationName))
		} else {
			v, e = d.value(mem.Shape, raw)
		}
		if e != nil {
			return nil, e
		}
		if v != nil {
			out[mem.Name] = v
		}
	}
	return out, nil
}

// strictValue is value that also reports unknown keys in nested structures.
func (d *decoder) strictValue(sh *Shape, raw any, path string) (any, *Error) {
	switch sh.Type {
	case TypeStructure:
		if obj, ok := raw.(map[string]any); ok {
			return d.structure(sh, obj, path)
		}
	case TypeList:
		if arr, ok := raw.([]any); ok {
			out := make([]any, len(arr))
			for i, el := range arr {
				v, e := d.strictValue(sh.Member, el, fmt.Sprintf("%s.%d", path, i+1))
				if e != nil {
					return nil, e
				}
				out[i] = v
			}
			return out, nil
		}
	case TypeMap:
		if obj, ok := raw.(map[string]any); ok {
			out := make(map[string]any, len(obj))
			for _, k := range sortedKeys(obj) {
				v, e := d.strictValue(sh.Value, obj[k], path+"."+k)
				if e != nil {
					return nil, e
				}
				out[k] = v
			}
			return out, nil
		}
	}
	return d.value(sh, raw)
}

func bodyMember(sh *Shape, key string) *Member {
	for _, mem := range sh.Members {
		if mem.Location == LocationBody && mem.LocationName == key {
			return mem
		}
	}
	return nil
}

// text converts URI, query or header values.
func (d *decoder) text(sh *Shape, vals []string) (any, *Error) {
	if len(vals) == 0 {
		return nil, nil
	}
	switch sh.Type {
	case TypeList:
		out := make([]any, len(vals))
		for i, s := range vals {
			v, e := d.text(sh.Member, []string{s})
			if e != nil {
				return nil, e
			}
			out[i] = v
		}
		return out, nil
	case TypeString:
		return vals[0], nil
	case TypeInteger, TypeLong:
		if _, err := strconv.ParseFloat(vals[0], 64); err != nil {
			return nil, d.ser(notConvertible("String", sh))
		}
		return d.integer(sh, vals[0])
	case TypeFloat, TypeDouble:
		if _, err := strconv.ParseFloat(vals[0], 64); err != nil {
			return nil, d.ser(notConvertible("String", sh))
		}
		return d.float(sh, vals[0])
	case TypeBoolean:
		switch vals[0] {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, d.ser(notConvertible("String", sh))
	case TypeTimestamp:
		if f, err := strconv.ParseFloat(vals[0], 64); err == nil {
			return d.value(sh, json.Number(strconv.FormatFloat(f, 'f', -1, 64)))
		}
		if t, err := http.ParseTime(vals[0]); err == nil {
			return t.UTC(), nil
		}
		return d.timestamp(vals[0])
	case TypeBlob:
		return d.value(sh, vals[0])
	}
	return nil, d.ser("Start of structure or map found where not expected.")
}

// textMap collects the query parameters (or prefixed headers) not bound to
// other members into a map shape.
func (d *decoder) textMap(sh *Shape, vals url.Values, bound map[string]bool) (any, *Error) {
	out := map[string]any{}
	for k, vs := range vals {
		if bound[k] || len(vs) == 0 {
			continue
		}
		if sh.Value.Type != TypeList {
			vs = vs[:1]
		}
		v, e := d.text(sh.Value, vs)
		if e != nil {
			return nil, e
		}
		out[k] = v
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func (d *decoder) integer(sh *Shape, s string) (any, *Error) {
	lo, hi, name := int64(math.MinInt32), int64(math.MaxInt32), "int"
	if sh.Type == TypeLong {
		lo, hi, name = math.MinInt64, math.MaxInt64, "long"
	}
	outOfRange := d.ser(fmt.Sprintf("Numeric value (%s) out of range of %s (%d - %d)", s, name, lo, hi))
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		if i < lo || i > hi {
			return nil, outOfRange
		}
		return i, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, outOfRange
	}
	t := math.Trunc(f)
	// float64(hi)+1 is exact for int and rounds to 2^63 for long: compare
	// with >= in both cases.
	if t < float64(lo) || t >= float64(hi)+1 {
		return nil, outOfRange
	}
	return int64(t), nil
}

func (d *decoder) float(sh *Shape, s string) (any, *Error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, d.ser("Numeric value (" + s + ") out of range of " + strings.ToLower(javaTarget(sh)))
	}
	return f, nil
}

func (d *decoder) timestamp(s string) (any, *Error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return nil, d.ser("Invalid timestamp: '" + s + "'")
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
