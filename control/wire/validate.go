package wire

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Validate checks a value of the form DecodeInput returns against a shape
// and returns the ValidationException DecodeInput would, or nil.
func (m *Model) Validate(sh *Shape, v map[string]any) *Error {
	if msgs := validate(sh, v); len(msgs) > 0 {
		return m.validationError(msgs)
	}
	return nil
}

// validationError is the ValidationException listing the violations msgs.
func (m *Model) validationError(msgs []string) *Error {
	return m.NewError("ValidationException", validationMessage(msgs))
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
		return m.validationError(msgs)
	}
	return nil
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
