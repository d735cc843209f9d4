package wire

import (
	"fmt"
	"net/url"
	"strings"
)

type segKind int

const (
	segLiteral segKind = iota
	segLabel
	segGreedy
)

type segment struct {
	kind segKind
	text string // literal text, or the label name
}

type route struct {
	method string
	segs   []segment
	op     *Operation
}

// parseRequestURI splits a model requestUri into segments.
func parseRequestURI(uri string) ([]segment, error) {
	if strings.Contains(uri, "?") {
		return nil, fmt.Errorf("query components in requestUri are not supported")
	}
	if !strings.HasPrefix(uri, "/") {
		return nil, fmt.Errorf("requestUri must start with /")
	}
	parts := strings.Split(uri[1:], "/")
	segs := make([]segment, 0, len(parts))
	for i, p := range parts {
		switch {
		case strings.HasPrefix(p, "{") && strings.HasSuffix(p, "+}"):
			if i != len(parts)-1 {
				return nil, fmt.Errorf("greedy label %s is not last", p)
			}
			segs = append(segs, segment{segGreedy, p[1 : len(p)-2]})
		case strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}"):
			segs = append(segs, segment{segLabel, p[1 : len(p)-1]})
		case strings.ContainsAny(p, "{}"):
			return nil, fmt.Errorf("label %q must fill its whole segment", p)
		default:
			segs = append(segs, segment{segLiteral, p})
		}
	}
	return segs, nil
}

func (m *Model) buildRoutes() error {
	seen := map[string]string{}
	for _, op := range m.opList {
		segs, err := parseRequestURI(op.RequestURI)
		if err != nil {
			return fmt.Errorf("wire: model: %s requestUri %q: %w", op.Name, op.RequestURI, err)
		}
		// Every label must name a uri member of the input.
		for _, s := range segs {
			if s.kind == segLiteral {
				continue
			}
			var found bool
			if op.Input != nil {
				for _, mem := range op.Input.Members {
					if mem.Location == LocationURI && mem.LocationName == s.text {
						found = true
					}
				}
			}
			if !found {
				return fmt.Errorf("wire: model: %s requestUri label {%s} has no uri member", op.Name, s.text)
			}
		}
		var key strings.Builder
		key.WriteString(op.Method)
		for _, s := range segs {
			key.WriteString("/")
			switch s.kind {
			case segLiteral:
				key.WriteString(s.text)
			case segLabel:
				key.WriteString("{}")
			case segGreedy:
				key.WriteString("{+}")
			}
		}
		if other, dup := seen[key.String()]; dup {
			return fmt.Errorf("wire: model: %s and %s have the same route %s", other, op.Name, key.String())
		}
		seen[key.String()] = op.Name
		m.routes = append(m.routes, &route{method: op.Method, segs: segs, op: op})
	}
	return nil
}

// Route finds the operation for an HTTP method and an escaped request path
// (http.Request.URL.EscapedPath()). Path segments are split before they are
// unescaped, so a label holding a percent-encoded ARN ("arn%3Aaws%3A...
// %3Astage%2FAbCd") arrives whole; pathParams maps each label name to its
// unescaped value. A label matches one non-empty segment, a greedy label
// ({name+}) one or more segments. Where several routes match, literal
// segments win over labels, and labels over greedy labels, segment by
// segment from the left. ok is false when no operation has that method and
// path, or the path is not validly escaped.
func (m *Model) Route(method, escapedPath string) (op *Operation, pathParams map[string]string, ok bool) {
	if escapedPath == "" {
		escapedPath = "/"
	}
	if !strings.HasPrefix(escapedPath, "/") {
		return nil, nil, false
	}
	raw := strings.Split(escapedPath[1:], "/")
	parts := make([]string, len(raw))
	for i, r := range raw {
		u, err := url.PathUnescape(r)
		if err != nil {
			return nil, nil, false
		}
		parts[i] = u
	}
	var best *route
	var bestScore []segKind
	for _, rt := range m.routes {
		if rt.method != method {
			continue
		}
		score, matched := rt.match(parts)
		if !matched {
			continue
		}
		if best == nil || better(score, bestScore) {
			best, bestScore = rt, score
		}
	}
	if best == nil {
		return nil, nil, false
	}
	params := map[string]string{}
	for i, s := range best.segs {
		switch s.kind {
		case segLabel:
			params[s.text] = parts[i]
		case segGreedy:
			params[s.text] = strings.Join(parts[i:], "/")
		}
	}
	return best.op, params, true
}

func (rt *route) match(parts []string) ([]segKind, bool) {
	score := make([]segKind, 0, len(rt.segs))
	for i, s := range rt.segs {
		if i >= len(parts) {
			return nil, false
		}
		switch s.kind {
		case segLiteral:
			if parts[i] != s.text {
				return nil, false
			}
		case segLabel:
			if parts[i] == "" {
				return nil, false
			}
		case segGreedy:
			rest := parts[i:]
			if len(rest) == 1 && rest[0] == "" {
				return nil, false
			}
			return append(score, s.kind), true
		}
		score = append(score, s.kind)
	}
	return score, len(parts) == len(rt.segs)
}

// better reports whether score a is more specific than b.
func better(a, b []segKind) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) > len(b)
}
