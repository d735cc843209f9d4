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
	"unicode"
	"unicode/utf8"
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
// The body must be empty (no input), JSON null, or one JSON object; members
// it does not model are ignored. Members bound to the URI (pathParams, keyed
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
	if msgs := validate(in, out); len(msgs) > 0 {
		return nil, m.NewError("ValidationException", validationMessage(msgs))
	}
	return out, nil
}

// Validate checks a value of the form DecodeInput returns against a shape
// and returns the ValidationException DecodeInput would, or nil.
func (m *Model) Validate(sh *Shape, v map[string]any) *Error {
	if msgs := validate(sh, v); len(msgs) > 0 {
		return m.NewError("ValidationException", validationMessage(msgs))
	}
	return nil
}

// ValidateOutput checks that v, marshalled to JSON, is a valid body for op's
// output: every JSON key is a body member of the output shape (at any
// depth), JSON types match, required members are present, and every
// constraint holds. It is meant for tests of handlers. Members bound to
// headers are not looked for in the body.
func (m *Model) ValidateOutput(op *Operation, v any) error {
	buf, err := json.Marshal(v)
	if err != nil {
		return err
	}
	obj, e := parseBody(m, buf)
	if e != nil {
		return e
	}
	if op.Output == nil {
		if len(obj) > 0 {
			return fmt.Errorf("%s has no output, got %s", op.Name, buf)
		}
		return nil
	}
	d := &decoder{m: m, strict: true}
	out, e := d.structure(op.Output, obj, "")
	if e != nil {
		return e
	}
	if len(d.unknown) > 0 {
		return fmt.Errorf("%s output: members not in the model: %s", op.Name, strings.Join(d.unknown, ", "))
	}
	var msgs []string
	for _, mem := range op.Output.Members {
		if mem.Location != LocationBody {
			continue
		}
		validateMember(mem, out.(map[string]any)[mem.Name], "", &msgs)
	}
	if len(msgs) > 0 {
		return m.NewError("ValidationException", validationMessage(msgs))
	}
	return nil
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
		return map[string]any{}, nil
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
			return nil, d.ser("class java.lang.String can not be converted to an " + javaTarget(sh))
		}
		return d.integer(sh, vals[0])
	case TypeFloat, TypeDouble:
		if _, err := strconv.ParseFloat(vals[0], 64); err != nil {
			return nil, d.ser("class java.lang.String can not be converted to an " + javaTarget(sh))
		}
		return d.float(sh, vals[0])
	case TypeBoolean:
		switch vals[0] {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, d.ser("class java.lang.String can not be converted to an Boolean")
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

// mismatch is Coral's message for a JSON value of the wrong type.
func (d *decoder) mismatch(sh *Shape, raw any) *Error {
	switch raw.(type) {
	case []any:
		return d.ser("Start of list found where not expected")
	case map[string]any:
		return d.ser("Start of structure or map found where not expected.")
	}
	switch sh.Type {
	case TypeList:
		return d.ser("Expected list or null")
	case TypeMap:
		return d.ser("Expected map or null")
	case TypeStructure:
		return d.ser("Expected null")
	case TypeBlob:
		return d.ser("class java.lang." + javaClass(raw) + " can not be converted to a Blob")
	}
	return d.ser("class java.lang." + javaClass(raw) + " can not be converted to an " + javaTarget(sh))
}

// javaClass names the Java class Coral's JSON reader gives a JSON scalar.
func javaClass(raw any) string {
	switch v := raw.(type) {
	case string:
		return "String"
	case bool:
		return "Boolean"
	case json.Number:
		i, err := strconv.ParseInt(string(v), 10, 64)
		switch {
		case err == nil && i >= math.MinInt16 && i <= math.MaxInt16:
			return "Short"
		case err == nil && i >= math.MinInt32 && i <= math.MaxInt32:
			return "Integer"
		case err == nil:
			return "Long"
		case !strings.ContainsAny(string(v), ".eE"):
			return "BigInteger"
		}
		return "Double"
	}
	return "Object"
}

func javaTarget(sh *Shape) string {
	switch sh.Type {
	case TypeString:
		return "String"
	case TypeInteger:
		return "Integer"
	case TypeLong:
		return "Long"
	case TypeFloat:
		return "Float"
	case TypeDouble:
		return "Double"
	case TypeBoolean:
		return "Boolean"
	case TypeTimestamp:
		return "Date"
	}
	return "Object"
}

// Validation.

// MaxListedViolations bounds how many failures one ValidationException
// spells out (the count in front stays the total), so a large body of bad
// list elements cannot produce a message many times its size.
const MaxListedViolations = 100

func validationMessage(msgs []string) string {
	noun := "errors"
	if len(msgs) == 1 {
		noun = "error"
	}
	n := len(msgs)
	if len(msgs) > MaxListedViolations {
		msgs = msgs[:MaxListedViolations]
	}
	return fmt.Sprintf("%d validation %s detected: %s", n, noun, strings.Join(msgs, "; "))
}

// validate checks a decoded structure and returns the violations in model
// order.
func validate(sh *Shape, v map[string]any) []string {
	var msgs []string
	for _, mem := range sh.Members {
		validateMember(mem, v[mem.Name], "", &msgs)
	}
	return msgs
}

func validateMember(mem *Member, v any, path string, msgs *[]string) {
	p := joinPath(path, pathName(mem.Name))
	if v == nil {
		if mem.Required {
			*msgs = append(*msgs, violation(mem.Shape, nil, p, "Member must not be null"))
		}
		return
	}
	validateValue(mem.Shape, v, p, msgs)
}

func validateValue(sh *Shape, v any, path string, msgs *[]string) {
	switch sh.Type {
	case TypeStructure:
		obj, _ := v.(map[string]any)
		for _, mem := range sh.Members {
			validateMember(mem, obj[mem.Name], path, msgs)
		}
	case TypeList:
		arr, _ := v.([]any)
		if c := lengthFailure(sh, len(arr)); c != "" {
			*msgs = append(*msgs, violation(sh, v, path, c))
		}
		if isAggregate(sh.Member) {
			for i, el := range arr {
				p := fmt.Sprintf("%s.%d.member", path, i+1)
				if el == nil {
					*msgs = append(*msgs, violation(sh.Member, nil, p, "Member must not be null"))
					continue
				}
				validateValue(sh.Member, el, p, msgs)
			}
			return
		}
		if c := elementsFailure(sh.Member, arr); c != "" {
			*msgs = append(*msgs, violation(sh, v, path, "Member must satisfy constraint: "+c))
		}
	case TypeMap:
		obj, _ := v.(map[string]any)
		if c := lengthFailure(sh, len(obj)); c != "" {
			*msgs = append(*msgs, violation(sh, v, path, c))
		}
		keys := sortedKeys(obj)
		ks := make([]any, len(keys))
		for i, k := range keys {
			ks[i] = k
		}
		if c := elementsFailure(sh.Key, ks); c != "" {
			*msgs = append(*msgs, violation(sh, v, path, "Map keys must satisfy constraint: "+c))
		}
		if isAggregate(sh.Value) {
			for _, k := range keys {
				p := path + "." + k
				if obj[k] == nil {
					*msgs = append(*msgs, violation(sh.Value, nil, p, "Member must not be null"))
					continue
				}
				validateValue(sh.Value, obj[k], p, msgs)
			}
			return
		}
		vs := make([]any, len(keys))
		for i, k := range keys {
			vs[i] = obj[k]
		}
		if c := elementsFailure(sh.Value, vs); c != "" {
			*msgs = append(*msgs, violation(sh, v, path, "Map value must satisfy constraint: "+c))
		}
	default:
		for _, c := range scalarFailures(sh, v) {
			*msgs = append(*msgs, violation(sh, v, path, c))
		}
	}
}

// elementsFailure checks scalar list elements, map keys or map values as a
// group, the way AWS reports them: once, listing every constraint of the
// element shape (and "Member must not be null" when an element is null).
// It returns "" when all pass.
func elementsFailure(el *Shape, vals []any) string {
	bad, null := false, false
	for _, v := range vals {
		if v == nil {
			null = true
		} else if len(scalarFailures(el, v)) > 0 {
			bad = true
		}
	}
	if !bad && !null {
		return ""
	}
	cs := constraintList(el)
	if null {
		cs = append(cs, "Member must not be null")
	}
	return "[" + strings.Join(cs, ", ") + "]"
}

// scalarFailures returns the failed constraints of a scalar value, in the
// order AWS reports them: enum, pattern, length, range.
func scalarFailures(sh *Shape, v any) []string {
	var out []string
	switch v := v.(type) {
	case string:
		if len(sh.Enum) > 0 && !contains(sh.Enum, v) {
			out = append(out, enumConstraint(sh))
		}
		if sh.re != nil && !sh.re.MatchString(v) {
			out = append(out, patternConstraint(sh))
		}
		if c := lengthFailure(sh, utf8.RuneCountInString(v)); c != "" {
			out = append(out, c)
		}
	case []byte:
		if c := lengthFailure(sh, len(v)); c != "" {
			out = append(out, c)
		}
	case int64:
		if c := rangeFailure(sh, float64(v)); c != "" {
			out = append(out, c)
		}
	case float64:
		f := v
		if sh.Type == TypeFloat {
			f = float64(float32(v)) // Java holds a float member as a Float
		}
		if c := rangeFailure(sh, f); c != "" {
			out = append(out, c)
		}
	}
	return out
}

// constraintList lists every constraint a scalar shape declares, in the
// order AWS lists them in brackets.
func constraintList(sh *Shape) []string {
	var out []string
	if sh.Type == TypeString || sh.Type == TypeBlob {
		if sh.Max != nil {
			out = append(out, "Member must have length less than or equal to "+boundText(sh, sh.Max))
		}
		if sh.Min != nil {
			out = append(out, "Member must have length greater than or equal to "+boundText(sh, sh.Min))
		}
	}
	if sh.Pattern != "" {
		out = append(out, patternConstraint(sh))
	}
	if len(sh.Enum) > 0 {
		out = append(out, enumConstraint(sh))
	}
	if isNumber(sh) {
		if sh.Max != nil {
			out = append(out, "Member must have value less than or equal to "+boundText(sh, sh.Max))
		}
		if sh.Min != nil {
			out = append(out, "Member must have value greater than or equal to "+boundText(sh, sh.Min))
		}
	}
	return out
}

func lengthFailure(sh *Shape, n int) string {
	if sh.Max != nil && float64(n) > sh.Max.Value {
		return "Member must have length less than or equal to " + boundText(sh, sh.Max)
	}
	if sh.Min != nil && float64(n) < sh.Min.Value {
		return "Member must have length greater than or equal to " + boundText(sh, sh.Min)
	}
	return ""
}

func rangeFailure(sh *Shape, f float64) string {
	if sh.Max != nil && f > sh.Max.Value {
		return "Member must have value less than or equal to " + boundText(sh, sh.Max)
	}
	if sh.Min != nil && f < sh.Min.Value {
		return "Member must have value greater than or equal to " + boundText(sh, sh.Min)
	}
	return ""
}

func enumConstraint(sh *Shape) string {
	return "Member must satisfy enum value set: [" + strings.Join(sh.Enum, ", ") + "]"
}

func patternConstraint(sh *Shape) string {
	return "Member must satisfy regular expression pattern: " + sh.Pattern
}

// boundText spells a bound: an integer for lengths and integer types, a
// Java double ("60.0") for float and double shapes.
func boundText(sh *Shape, b *Bound) string {
	if sh.Type == TypeFloat || sh.Type == TypeDouble {
		return javaFloat(b.Value, 64)
	}
	if b.Value == math.Trunc(b.Value) && math.Abs(b.Value) < 1e18 {
		return strconv.FormatInt(int64(b.Value), 10)
	}
	return b.Text
}

// violation formats one failure: "Value '<v>' at '<path>' failed to satisfy
// constraint: <c>", "Value null at ..." for a missing value, and "Value at
// ..." for a sensitive one.
func violation(sh *Shape, v any, path, constraint string) string {
	switch {
	case v == nil:
		return "Value null at '" + path + "' failed to satisfy constraint: " + constraint
	case sh.Sensitive:
		return "Value at '" + path + "' failed to satisfy constraint: " + constraint
	}
	return "Value '" + render(sh, v) + "' at '" + path + "' failed to satisfy constraint: " + constraint
}

const redacted = "*** Sensitive Data Redacted ***"

// render spells a value the way Java's toString would: lists as [a, b],
// maps and structures as {k=v, k2=v2} (map keys sorted, structure members
// in model order), floats as Java floats.
func render(sh *Shape, v any) string {
	if v == nil {
		return "null"
	}
	if sh.Sensitive {
		return redacted
	}
	switch v := v.(type) {
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		bits := 64
		if sh.Type == TypeFloat {
			bits = 32
		}
		return javaFloat(v, bits)
	case time.Time:
		return v.Format(time.RFC3339Nano)
	case []byte:
		return fmt.Sprintf("java.nio.HeapByteBuffer[pos=0 lim=%d cap=%d]", len(v), len(v))
	case []any:
		parts := make([]string, len(v))
		for i, el := range v {
			parts[i] = render(sh.Member, el)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		var parts []string
		if sh.Type == TypeMap {
			for _, k := range sortedKeys(v) {
				parts = append(parts, render(sh.Key, k)+"="+render(sh.Value, v[k]))
			}
		} else {
			for _, mem := range sh.Members {
				if mv, ok := v[mem.Name]; ok && mv != nil {
					parts = append(parts, mem.Name+"="+render(mem.Shape, mv))
				}
			}
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}

// javaFloat formats like Java's Float.toString (bits 32) or
// Double.toString (bits 64): at least one fractional digit, and
// "1.0E-5"-style scientific notation outside [1e-3, 1e7).
func javaFloat(v float64, bits int) string {
	if bits == 32 {
		v = float64(float32(v))
	}
	switch {
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	case math.IsNaN(v):
		return "NaN"
	case v == 0:
		if math.Signbit(v) {
			return "-0.0"
		}
		return "0.0"
	}
	if a := math.Abs(v); a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(v, 'f', -1, bits)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(v, 'e', -1, bits)
	mant, exp, _ := strings.Cut(s, "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	neg := strings.HasPrefix(exp, "-")
	exp = strings.TrimLeft(exp, "+-0")
	if exp == "" {
		exp = "0"
	}
	if neg {
		exp = "-" + exp
	}
	return mant + "E" + exp
}

// pathName is a member's name as Coral writes it in a path: first letter
// lower-cased.
func pathName(name string) string {
	r, n := utf8.DecodeRuneInString(name)
	if r == utf8.RuneError {
		return name
	}
	return string(unicode.ToLower(r)) + name[n:]
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func isAggregate(sh *Shape) bool {
	return sh.Type == TypeStructure || sh.Type == TypeList || sh.Type == TypeMap
}

func isNumber(sh *Shape) bool {
	switch sh.Type {
	case TypeInteger, TypeLong, TypeFloat, TypeDouble:
		return true
	}
	return false
}

func contains(set []string, s string) bool {
	for _, x := range set {
		if x == s {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
