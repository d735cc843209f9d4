package wire

// The messages of AWS's service framework (Coral), spelled as its Java code
// spells them; the package documentation lists them.

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// mismatchMessage is Coral's message for a JSON value of the wrong type.
func mismatchMessage(sh *Shape, raw any) string {
	switch raw.(type) {
	case []any:
		return "Start of list found where not expected"
	case map[string]any:
		return "Start of structure or map found where not expected."
	}
	switch sh.Type {
	case TypeList:
		return "Expected list or null"
	case TypeMap:
		return "Expected map or null"
	case TypeStructure:
		return "Expected null"
	}
	return notConvertible(javaClass(raw), sh)
}

// notConvertible is Coral's message for a value of a Java class (String,
// Integer, ...) that a member of shape sh cannot take.
func notConvertible(class string, sh *Shape) string {
	if sh.Type == TypeBlob {
		return "class java.lang." + class + " can not be converted to a Blob"
	}
	return "class java.lang." + class + " can not be converted to an " + javaTarget(sh)
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
