package wire

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// PatternOverride replaces a model pattern that, taken literally, rejects
// every value the service accepts. It applies only while the model still
// says exactly From; validation messages keep quoting the model's text.
type PatternOverride struct {
	From, To, Why string
}

// PatternOverrides lists, by shape name, the model patterns enforced in a
// corrected form.
var PatternOverrides = map[string]PatternOverride{
	// ResourceArn (TagResource, UntagResource, ListTagsForResource) allows a
	// single character as resource type ("[a-z-]/"), so no real ARN such as
	// arn:aws:ivs:us-west-2:123456789012:stage/AbCdEf matches it, under
	// full-match or find semantics alike; the service tags stages, so it
	// cannot be enforcing it. The published IVS documentation repeats the
	// typo. Enforced as one or more characters.
	"ResourceArn": {
		From: `arn:aws:ivs:[a-z0-9-]+:[0-9]+:[a-z-]/[a-zA-Z0-9-]+`,
		To:   `arn:aws:ivs:[a-z0-9-]+:[0-9]+:[a-z-]+/[a-zA-Z0-9-]+`,
		Why:  "the model's resource type admits one character only",
	},
	// ParticipantRecordingS3Prefix (Participant.recordingS3Prefix) names a
	// key prefix the service documents as
	// <stageId>/<sessionId>/<participantId>/<timestamp>: the model's
	// pattern leaves out the '/' every such value has. Enforced with it.
	"ParticipantRecordingS3Prefix": {
		From: `[a-zA-Z0-9-]*`,
		To:   `[a-zA-Z0-9/-]*`,
		Why:  "the model's pattern leaves out the '/' of the documented key layout",
	},
}

// compilePattern compiles a model pattern for full-match use (Java's
// Matcher.matches, the semantics AWS applies: "[a-zA-Z0-9-_]*" rejects a
// name with a space in it).
func compilePattern(shape, pattern string) (*regexp.Regexp, error) {
	p := pattern
	if o, ok := PatternOverrides[shape]; ok && o.From == pattern {
		p = o.To
	}
	t, err := TranslatePattern(p)
	if err != nil {
		return nil, fmt.Errorf("wire: model: pattern of %s %q: %w", shape, pattern, err)
	}
	re, err := regexp.Compile(`^(?:` + t + `)$`)
	if err != nil {
		return nil, fmt.Errorf("wire: model: pattern of %s %q (as RE2 %q): %w", shape, pattern, t, err)
	}
	return re, nil
}

// javaDot is Java's "." without DOTALL: anything but a line terminator.
const javaDot = `[^\n\r\x{85}\x{2028}\x{2029}]`

// javaSpace is the content of Java's \s (ASCII whitespace, including the
// vertical tab, which RE2's \s lacks).
const javaSpace = `\t\n\x0B\f\r `

// TranslatePattern rewrites a Java (java.util.regex) regular expression into
// RE2 syntax with the same meaning, or reports a construct it cannot carry
// over (look-around, back references, possessive quantifiers, atomic groups,
// nested or intersected classes, and Java-only escapes). It does not anchor
// the result.
//
// What changes: "." becomes "anything but \n, \r, U+0085, U+2028, U+2029";
// \s becomes [\t\n\x0B\f\r ]; \uXXXX becomes \x{XXXX}; \e becomes \x1B;
// inside classes, literal '-', '[', ']', '^', '\' and '&' are escaped so RE2
// cannot read them as syntax. \d, \w, \b and their negations mean ASCII in
// both dialects and are kept.
func TranslatePattern(p string) (string, error) {
	rs := []rune(p)
	var b strings.Builder
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch c {
		case '\\':
			if i+1 >= len(rs) {
				return "", fmt.Errorf("trailing backslash")
			}
			if rs[i+1] == 'Q' {
				end := indexRunes(rs[i+2:], `\E`)
				var lit string
				if end < 0 {
					lit = string(rs[i+2:])
					i = len(rs)
				} else {
					lit = string(rs[i+2 : i+2+end])
					i += 2 + end + 1
				}
				b.WriteString(regexp.QuoteMeta(lit))
				continue
			}
			s, n, err := translateEscape(rs[i+1:], false)
			if err != nil {
				return "", err
			}
			b.WriteString(s)
			i += n
		case '[':
			s, n, err := translateClass(rs[i:])
			if err != nil {
				return "", err
			}
			b.WriteString(s)
			i += n - 1
		case '.':
			b.WriteString(javaDot)
		case '(':
			if i+1 < len(rs) && rs[i+1] == '?' {
				rest := string(rs[i+2:])
				switch {
				case strings.HasPrefix(rest, ":"):
				case strings.HasPrefix(rest, "="), strings.HasPrefix(rest, "!"),
					strings.HasPrefix(rest, "<="), strings.HasPrefix(rest, "<!"):
					return "", fmt.Errorf("look-around is not supported by RE2")
				case strings.HasPrefix(rest, ">"):
					return "", fmt.Errorf("atomic groups are not supported by RE2")
				case strings.HasPrefix(rest, "<"):
					// named group: RE2 accepts (?<name>...) too
				default:
					// inline flags: RE2 knows i, m, s and U with the same meaning
					j := i + 2
					for j < len(rs) && rs[j] != ')' && rs[j] != ':' {
						switch rs[j] {
						case 'i', 'm', 's', 'U', '-':
						default:
							return "", fmt.Errorf("inline flag %q is not supported", rs[j])
						}
						j++
					}
				}
			}
			b.WriteRune(c)
		case '*', '+', '?':
			b.WriteRune(c)
			if i+1 < len(rs) && rs[i+1] == '+' {
				return "", fmt.Errorf("possessive quantifiers are not supported by RE2")
			}
		case '{':
			end := i + 1
			for end < len(rs) && rs[end] != '}' {
				end++
			}
			if end >= len(rs) {
				return "", fmt.Errorf("unterminated repetition")
			}
			b.WriteString(string(rs[i : end+1]))
			i = end
			if i+1 < len(rs) && rs[i+1] == '+' {
				return "", fmt.Errorf("possessive quantifiers are not supported by RE2")
			}
		default:
			b.WriteRune(c)
		}
	}
	return b.String(), nil
}

func indexRunes(rs []rune, sub string) int { return runeIndex(rs, []rune(sub)) }

func runeIndex(rs, sub []rune) int {
outer:
	for i := 0; i+len(sub) <= len(rs); i++ {
		for j := range sub {
			if rs[i+j] != sub[j] {
				continue outer
			}
		}
		return i
	}
	return -1
}

// translateEscape translates the escape whose first rune after the
// backslash is rs[0]. It returns the RE2 text, how many runes it consumed
// after the backslash, and, for class members, whether the result is a
// single literal rune (lit >= 0) that can bound a range.
func translateEscape(rs []rune, inClass bool) (string, int, error) {
	s, n, _, err := translateEscapeLit(rs, inClass)
	return s, n, err
}

func translateEscapeLit(rs []rune, inClass bool) (out string, n int, lit rune, err error) {
	c := rs[0]
	switch c {
	case 's':
		if inClass {
			return javaSpace, 1, -1, nil
		}
		return "[" + javaSpace + "]", 1, -1, nil
	case 'S':
		if inClass {
			return "", 0, -1, fmt.Errorf(`\S inside a class is not supported`)
		}
		return "[^" + javaSpace + "]", 1, -1, nil
	case 'd', 'D', 'w', 'W':
		return `\` + string(c), 1, -1, nil
	case 'b', 'B', 'A', 'z':
		if inClass {
			return "", 0, -1, fmt.Errorf(`\%c inside a class`, c)
		}
		return `\` + string(c), 1, -1, nil
	case 't':
		return `\t`, 1, '\t', nil
	case 'n':
		return `\n`, 1, '\n', nil
	case 'r':
		return `\r`, 1, '\r', nil
	case 'f':
		return `\f`, 1, '\f', nil
	case 'a':
		return `\a`, 1, '\a', nil
	case 'e':
		return `\x1B`, 1, 0x1B, nil
	case 'x':
		if len(rs) >= 2 && rs[1] == '{' {
			end := runeIndex(rs, []rune("}"))
			if end < 0 {
				return "", 0, -1, fmt.Errorf(`unterminated \x{`)
			}
			v, err := hexRune(rs[2:end])
			if err != nil {
				return "", 0, -1, err
			}
			return fmt.Sprintf(`\x{%X}`, v), end + 1, v, nil
		}
		if len(rs) < 3 {
			return "", 0, -1, fmt.Errorf(`short \x escape`)
		}
		v, err := hexRune(rs[1:3])
		if err != nil {
			return "", 0, -1, err
		}
		return fmt.Sprintf(`\x{%X}`, v), 3, v, nil
	case 'u':
		if len(rs) < 5 {
			return "", 0, -1, fmt.Errorf(`short \u escape`)
		}
		v, err := hexRune(rs[1:5])
		if err != nil {
			return "", 0, -1, err
		}
		return fmt.Sprintf(`\x{%X}`, v), 5, v, nil
	case 'p', 'P':
		name, n := "", 1
		if len(rs) >= 2 && rs[1] == '{' {
			end := runeIndex(rs, []rune("}"))
			if end < 0 {
				return "", 0, -1, fmt.Errorf(`unterminated \p{`)
			}
			name, n = string(rs[2:end]), end+1
		} else if len(rs) >= 2 {
			name, n = string(rs[1]), 2
		}
		name = strings.TrimPrefix(name, "Is")
		if _, ok := unicode.Categories[name]; !ok {
			if _, ok := unicode.Scripts[name]; !ok {
				return "", 0, -1, fmt.Errorf(`unicode class \%c{%s} has no RE2 equivalent`, c, name)
			}
		}
		return `\` + string(c) + "{" + name + "}", n, -1, nil
	}
	if c < unicode.MaxASCII && !unicode.IsLetter(c) && !unicode.IsDigit(c) {
		// an escaped metacharacter or punctuation: a literal
		return `\` + string(c), 1, c, nil
	}
	return "", 0, -1, fmt.Errorf(`escape \%c is not supported`, c)
}

func hexRune(h []rune) (rune, error) {
	v, err := strconv.ParseUint(string(h), 16, 32)
	if err != nil || v > unicode.MaxRune {
		return 0, fmt.Errorf("bad hexadecimal escape %q", string(h))
	}
	return rune(v), nil
}

// translateClass translates the character class starting at rs[0] == '['.
// It returns the RE2 text and the number of runes consumed.
func translateClass(rs []rune) (string, int, error) {
	var b strings.Builder
	b.WriteByte('[')
	i := 1
	if i < len(rs) && rs[i] == '^' {
		b.WriteByte('^')
		i++
	}
	if i < len(rs) && rs[i] == ']' {
		return "", 0, fmt.Errorf("a class starting with ']' is ambiguous")
	}
	items := 0
	// atom reads one class member at rs[i]: a literal rune (lit >= 0) or a
	// predefined class (lit < 0).
	atom := func() (text string, lit rune, err error) {
		c := rs[i]
		switch {
		case c == '\\':
			if i+1 >= len(rs) {
				return "", -1, fmt.Errorf("trailing backslash in class")
			}
			s, n, l, err := translateEscapeLit(rs[i+1:], true)
			if err != nil {
				return "", -1, err
			}
			i += 1 + n
			if l >= 0 {
				return classLiteral(l), l, nil
			}
			return s, -1, nil
		case c == '[':
			return "", -1, fmt.Errorf("nested classes are not supported")
		case c == '&' && i+1 < len(rs) && rs[i+1] == '&':
			return "", -1, fmt.Errorf("class intersection is not supported")
		}
		i++
		return classLiteral(c), c, nil
	}
	for {
		if i >= len(rs) {
			return "", 0, fmt.Errorf("unterminated class")
		}
		if rs[i] == ']' {
			if items == 0 {
				return "", 0, fmt.Errorf("empty class")
			}
			b.WriteByte(']')
			return b.String(), i + 1, nil
		}
		text, lo, err := atom()
		if err != nil {
			return "", 0, err
		}
		items++
		// A range: a literal, '-', and a literal that is not the closing ']'.
		if lo >= 0 && i+1 < len(rs) && rs[i] == '-' && rs[i+1] != ']' {
			i++
			_, hi, err := atom()
			if err != nil {
				return "", 0, err
			}
			if hi < 0 {
				return "", 0, fmt.Errorf("range ending in a class")
			}
			if hi < lo {
				return "", 0, fmt.Errorf("illegal range %q-%q", lo, hi)
			}
			b.WriteString(classLiteral(lo) + "-" + classLiteral(hi))
			continue
		}
		b.WriteString(text)
	}
}

// classLiteral spells one rune as a literal inside an RE2 class.
func classLiteral(r rune) string {
	switch {
	case r < 0x20 || r == 0x7F || !unicode.IsPrint(r):
		return fmt.Sprintf(`\x{%X}`, r)
	case r < unicode.MaxASCII && !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != ' ':
		return `\` + string(r)
	}
	return string(r)
}
