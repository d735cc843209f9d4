package wire

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
)

func model(t testing.TB) *Model {
	t.Helper()
	m, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// rawOps reads the operation names straight from the embedded JSON, apart
// from the package's parser.
func rawOps(t *testing.T) map[string]map[string]any {
	b := embeddedModelDoc(t)
	var doc struct {
		Operations map[string]map[string]any `json:"operations"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Operations
}

// embeddedModelDoc is the IVS model's JSON.
func embeddedModelDoc(t *testing.T) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(embeddedModel))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLoad(t *testing.T) {
	m := model(t)
	if m.Metadata.Protocol != "rest-json" || m.Metadata.APIVersion != "2020-07-14" || m.Metadata.SigningName != "ivs" {
		t.Errorf("metadata %+v", m.Metadata)
	}
	raw := rawOps(t)
	ivs := 0
	for _, op := range m.Operations() {
		if op.Extension {
			if raw[op.Name] != nil {
				t.Errorf("extension %s is an IVS operation", op.Name)
			}
			continue
		}
		ivs++
	}
	if ivs != len(raw) || len(raw) < 38 {
		t.Fatalf("%d IVS operations parsed, the model has %d", ivs, len(raw))
	}
	for _, name := range []string{"CreateViewerToken", "UpdateComposition"} {
		if op := m.Operation(name); op == nil || !op.Extension || op.Method != "POST" || op.RequestURI != "/"+name {
			t.Errorf("extension %s: %+v", name, op)
		}
	}
	if _, _, err := merge(embeddedModelDoc(t), []byte(`{"operations":{"StopComposition":{"http":{"method":"POST","requestUri":"/X"}}},"shapes":{}}`)); err == nil {
		t.Error("an extension may redefine an IVS operation")
	}
	if _, _, err := merge(embeddedModelDoc(t), []byte(`{"operations":{},"shapes":{"Composition":{"type":"string"}}}`)); err == nil {
		t.Error("an extension may redefine an IVS shape")
	}
	if first, second := MustModel(), MustModel(); first != second {
		t.Error("MustModel parses more than once")
	}
	sc := m.Operation("StartComposition")
	if sc.Method != "POST" || sc.RequestURI != "/StartComposition" || sc.Input.Name != "StartCompositionRequest" ||
		sc.Output.Name != "StartCompositionResponse" || len(sc.Errors) != 7 {
		t.Errorf("StartComposition %+v", sc)
	}
	var names []string
	for _, mem := range sc.Input.Members {
		names = append(names, mem.Name)
	}
	if got := strings.Join(names, ","); got != "stageArn,idempotencyToken,layout,destinations,tags" {
		t.Errorf("members not in declaration order: %s", got)
	}
	if !sc.Input.MemberByName("stageArn").Required || sc.Input.MemberByName("layout").Required ||
		!sc.Input.MemberByName("idempotencyToken").IdempotencyToken {
		t.Error("required/idempotencyToken flags")
	}
	un := m.Operation("UntagResource").Input
	if mem := un.MemberByName("tagKeys"); mem.Location != LocationQueryString || mem.LocationName != "tagKeys" || mem.Shape.Type != TypeList {
		t.Errorf("tagKeys %+v", mem)
	}
	if mem := un.MemberByName("resourceArn"); mem.Location != LocationURI {
		t.Errorf("resourceArn %+v", mem)
	}
	fr := m.Shape("Framerate")
	if fr.Type != TypeFloat || fr.Min.Value != 1 || fr.Max.Value != 60 {
		t.Errorf("Framerate %+v", fr)
	}
	if v := m.Shape("VideoFillMode"); strings.Join(v.Enum, ",") != "FILL,COVER,CONTAIN" {
		t.Errorf("enum %v", v.Enum)
	}
	if m.Shape("ValidationException").MemberByName("exceptionMessage") == nil {
		t.Error("ValidationException lacks exceptionMessage")
	}
}

func TestParseRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"protocol":   `{"metadata":{"protocol":"json"}}`,
		"undefined":  `{"metadata":{"protocol":"rest-json"},"shapes":{"A":{"type":"list","member":{"shape":"B"}}}}`,
		"lookahead":  `{"metadata":{"protocol":"rest-json"},"shapes":{"A":{"type":"string","pattern":"(?!x)y"}}}`,
		"type":       `{"metadata":{"protocol":"rest-json"},"shapes":{"A":{"type":"bigDecimal"}}}`,
		"label":      `{"metadata":{"protocol":"rest-json"},"shapes":{"I":{"type":"structure","members":{}}},"operations":{"O":{"http":{"method":"GET","requestUri":"/x/{y}"},"input":{"shape":"I"}}}}`,
		"duplicate":  `{"metadata":{"protocol":"rest-json"},"operations":{"O":{"http":{"method":"GET","requestUri":"/x"}},"P":{"http":{"method":"GET","requestUri":"/x"}}}}`,
		"required":   `{"metadata":{"protocol":"rest-json"},"shapes":{"A":{"type":"structure","required":["b"],"members":{}}}}`,
		"not json":   `{`,
		"error list": `{"metadata":{"protocol":"rest-json"},"shapes":{"A":{"type":"structure","members":{}}},"operations":{"O":{"http":{"method":"GET","requestUri":"/x"},"errors":[{"shape":"A"}]}}}`,
	} {
		if _, err := Parse([]byte(doc)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

func TestEveryOperationRoutes(t *testing.T) {
	m := model(t)
	const arn = "arn:aws:ivs:us-west-2:123456789012:stage/AbCd 1%/x"
	for _, op := range m.Operations() {
		path := regexp.MustCompile(`\{[^}]+\}`).ReplaceAllStringFunc(op.RequestURI, func(string) string {
			return url.PathEscape(arn)
		})
		got, params, ok := m.Route(op.Method, path)
		if !ok || got != op {
			t.Errorf("%s %s: routed to %v, %v", op.Method, path, got, ok)
			continue
		}
		for _, l := range regexp.MustCompile(`\{([^}+]+)\+?\}`).FindAllStringSubmatch(op.RequestURI, -1) {
			if params[l[1]] != arn {
				t.Errorf("%s: label %s = %q", op.Name, l[1], params[l[1]])
			}
		}
	}
	for _, c := range []struct{ method, path, op string }{
		{"POST", "/CreateStage", "CreateStage"},
		{"POST", "/StartComposition", "StartComposition"},
		{"GET", "/tags/arn%3Aaws%3Aivs%3Aus-west-2%3A123456789012%3Astage%2FAbCd", "ListTagsForResource"},
		{"POST", "/tags/arn%3Aaws%3Aivs%3Aus-west-2%3A123456789012%3Astage%2FAbCd", "TagResource"},
		{"DELETE", "/tags/arn%3Aaws%3Aivs%3Aus-west-2%3A123456789012%3Astage%2FAbCd", "UntagResource"},
		{"GET", "/tags/arn:aws:ivs:us-west-2:123456789012:stage%2FAbCd", "ListTagsForResource"},
	} {
		op, params, ok := m.Route(c.method, c.path)
		if !ok || op.Name != c.op {
			t.Errorf("%s %s: %v %v", c.method, c.path, op, ok)
			continue
		}
		if strings.HasPrefix(c.path, "/tags/") && params["resourceArn"] != "arn:aws:ivs:us-west-2:123456789012:stage/AbCd" {
			t.Errorf("%s %s: resourceArn %q", c.method, c.path, params["resourceArn"])
		}
	}
	for _, c := range []struct{ method, path string }{
		{"GET", "/CreateStage"},
		{"PUT", "/tags/x"},
		{"POST", "/Nope"},
		{"POST", "/CreateStage/"},
		{"POST", "/createstage"},
		{"GET", "/tags/"},
		{"GET", "/tags"},
		{"GET", "/tags/a/b"},
		{"GET", "/tags/%zz"},
		{"POST", ""},
		{"POST", "CreateStage"},
	} {
		if op, _, ok := m.Route(c.method, c.path); ok {
			t.Errorf("%s %q routed to %s", c.method, c.path, op.Name)
		}
	}
}

func TestRouteGreedyAndPrecedence(t *testing.T) {
	doc := `{"metadata":{"protocol":"rest-json"},
	"shapes":{"S":{"type":"string"},
	  "G":{"type":"structure","members":{"k":{"shape":"S","location":"uri","locationName":"key"}}},
	  "L":{"type":"structure","members":{"b":{"shape":"S","location":"uri","locationName":"bucket"}}}},
	"operations":{
	  "Greedy":{"http":{"method":"GET","requestUri":"/o/{key+}"},"input":{"shape":"G"}},
	  "Label":{"http":{"method":"GET","requestUri":"/o/{bucket}/meta"},"input":{"shape":"L"}},
	  "Literal":{"http":{"method":"GET","requestUri":"/o/list/meta"}}}}`
	m, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/o/a%2Fb/c/d":  "Greedy:key=a/b/c/d",
		"/o/x":          "Greedy:key=x",
		"/o/x/meta":     "Label:bucket=x",
		"/o/list/meta":  "Literal:",
		"/o/list/meta/": "Greedy:key=list/meta/",
	} {
		op, params, ok := m.Route("GET", path)
		if !ok {
			t.Errorf("%s: no route", path)
			continue
		}
		var kv []string
		for k, v := range params {
			kv = append(kv, k+"="+v)
		}
		sort.Strings(kv)
		if got := op.Name + ":" + strings.Join(kv, ","); got != want {
			t.Errorf("%s: %s, want %s", path, got, want)
		}
	}
	if _, _, ok := m.Route("GET", "/o/"); ok {
		t.Error("empty greedy label matched")
	}
}

// patternExamples holds a valid and an invalid value for every pattern in
// the model; a model with a new pattern fails TestPatterns until it has one.
var patternExamples = map[string][2]string{
	"AttributeKey": {"featured_1-x", "a b"},
	"AutoParticipantRecordingStorageConfigurationArn": {"arn:aws:ivs:us-west-2:123456789012:storage-configuration/AbCd1234", "arn:aws:ivs:us-west-2:123456789012:stage/AbCd"},
	"ChannelArn":                       {"arn:aws:ivs:us-west-2:123456789012:channel/AbCd1234", "arn:aws:ivs:us-west-2:123456789012:stage/AbCd"},
	"CompositionArn":                   {"arn:aws:ivs:us-west-2:123456789012:composition/AbCd1234", "arn:aws:ivs:us-west-2:123456789012:composition/"},
	"CompositionClientToken":           {"3f1c-token_1", "a/b"},
	"DestinationConfigurationName":     {"dest-1_a", "a.b"},
	"EncoderConfigurationArn":          {"arn:aws:ivs:us-west-2:123456789012:encoder-configuration/AbCd1234", "arn:aws:ivs:us-west-2:12345678901x:encoder-configuration/AbCd"},
	"EncoderConfigurationName":         {"enc_1", "enc 1"},
	"IngestConfigurationArn":           {"arn:aws:ivs:us-west-2:123456789012:ingest-configuration/AbCd1234", "arn:aws:ivs:US-WEST-2:123456789012:ingest-configuration/AbCd"},
	"IngestConfigurationName":          {"ingest-1", "ingest/1"},
	"IngestConfigurationStageArn":      {"arn:aws:ivs:us-west-2:123456789012:stage/AbCd1234", "x"},
	"PaginationToken":                  {"AbC+/=_-09", "a b"},
	"ParticipantClientAttribute":       {"a-b_c.d,e:f;g h\tx\x0By", "a/b"},
	"ParticipantId":                    {"AbCd-1234", "a_b"},
	"ParticipantRecordingS3BucketName": {"my-bucket.1", "MyBucket"},
	"ParticipantRecordingS3Prefix":     {"AbC-1/st-1/p-1/2024-01-01T12-00-55Z", "a b"},
	"ParticipantTokenId":               {"tok_1-A", "a.b"},
	"PublicKeyArn":                     {"arn:aws:ivs:us-west-2:123456789012:public-key/AbCd1234", "arn:aws:ivs:us-west-2:123456789012:public-key/Ab_Cd"},
	"PublicKeyMaterial": {"-----BEGIN PUBLIC KEY-----\r\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\r\nq2Zx+/=\r\n-----END PUBLIC KEY-----\r\n",
		"comment\n-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----"},
	"PublicKeyName":            {"key-1", "key 1"},
	"ResourceArn":              {"arn:aws:ivs:us-west-2:123456789012:stage/AbCd1234", "arn:aws:s3:::bucket"},
	"S3BucketName":             {"my-bucket.1", "My_Bucket"},
	"StageArn":                 {"arn:aws:ivs:us-west-2:123456789012:stage/AbCd1234", "arn:aws:ivs:us-west-2:123456789012:stage/AbCd\n"},
	"StageName":                {"my-stage_1", "my stage"},
	"StageSessionId":           {"st-AbCdEf1234567", "st-AbCd-f1234567"},
	"StorageConfigurationArn":  {"arn:aws:ivs:us-west-2:123456789012:storage-configuration/AbCd1234", "xarn:aws:ivs:us-west-2:123456789012:storage-configuration/AbCd"},
	"StorageConfigurationName": {"storage_1", "storage:1"},
	"StreamKey":                {"rt_123456789012_us-west-2_AbCdEf12_secret", "sk_us-west-2_abc"},
}

func TestPatterns(t *testing.T) {
	m := model(t)
	seen := map[string]bool{}
	for _, s := range m.Shapes() {
		if s.Pattern == "" {
			continue
		}
		seen[s.Name] = true
		ex, ok := patternExamples[s.Name]
		if !ok {
			t.Errorf("%s: pattern %q has no example", s.Name, s.Pattern)
			continue
		}
		if s.Regexp() == nil {
			t.Errorf("%s: not compiled", s.Name)
			continue
		}
		if !s.Regexp().MatchString(ex[0]) {
			t.Errorf("%s: %q does not match %q (RE2 %s)", s.Name, s.Pattern, ex[0], s.Regexp())
		}
		if s.Regexp().MatchString(ex[1]) {
			t.Errorf("%s: %q matches %q (RE2 %s)", s.Name, s.Pattern, ex[1], s.Regexp())
		}
	}
	for name := range patternExamples {
		if !seen[name] {
			t.Errorf("example for %s, which has no pattern in the model", name)
		}
	}
	// Empty values where the pattern allows them.
	for _, name := range []string{"IngestConfigurationStageArn", "AutoParticipantRecordingStorageConfigurationArn", "StageName", "AttributeKey"} {
		if !m.Shape(name).Regexp().MatchString("") {
			t.Errorf("%s rejects the empty string", name)
		}
	}
}

// TestPatternOverrides: every override still corrects the model's
// pattern; a real value fails the literal pattern (full match, and for
// ResourceArn find semantics too) and passes the enforced one; the
// enforced one still refuses what it should; messages quote the model.
func TestPatternOverrides(t *testing.T) {
	m := model(t)
	for _, c := range []struct {
		shape    string
		real     string   // what the service returns or takes
		accepted []string // more values the enforced pattern accepts
		refused  []string
	}{
		{shape: "ResourceArn", real: "arn:aws:ivs:us-west-2:123456789012:stage/AbCd1234", refused: []string{"nope"}},
		{shape: "ParticipantRecordingS3Prefix", real: "AbCdEf123456/st-XyZ12345/pAbCd1234/2024-01-01T12-00-55Z",
			accepted: []string{""}, refused: []string{"a b"}},
	} {
		s := m.Shape(c.shape)
		o, ok := PatternOverrides[c.shape]
		if !ok || s.Pattern != o.From {
			t.Fatalf("the model's %s pattern changed to %q: review PatternOverrides", c.shape, s.Pattern)
		}
		literal, err := TranslatePattern(o.From)
		if err != nil {
			t.Fatal(err)
		}
		if regexp.MustCompile(`^(?:` + literal + `)$`).MatchString(c.real) {
			t.Errorf("the literal %s pattern accepts %q; the override is no longer needed", c.shape, c.real)
		}
		for _, v := range append([]string{c.real}, c.accepted...) {
			if !s.Regexp().MatchString(v) {
				t.Errorf("%s rejects %q", c.shape, v)
			}
		}
		for _, v := range c.refused {
			if s.Regexp().MatchString(v) {
				t.Errorf("%s accepts %q", c.shape, v)
			}
		}
	}
	// ResourceArn's literal pattern fails a real ARN under find semantics too.
	if regexp.MustCompile(PatternOverrides["ResourceArn"].From).MatchString("arn:aws:ivs:us-west-2:123456789012:stage/AbCd1234") {
		t.Error("the literal ResourceArn pattern finds a real ARN")
	}
	_, e := m.DecodeInput(m.Operation("ListTagsForResource"), map[string]string{"resourceArn": "nope"}, nil, nil, nil)
	want := "1 validation error detected: Value 'nope' at 'resourceArn' failed to satisfy constraint: " +
		"Member must satisfy regular expression pattern: arn:aws:ivs:[a-z0-9-]+:[0-9]+:[a-z-]/[a-zA-Z0-9-]+"
	if e == nil || e.Message != want {
		t.Errorf("got %v\nwant %s", e, want)
	}
}

func TestTranslatePattern(t *testing.T) {
	for _, c := range []struct {
		java      string
		match     []string
		noMatch   []string
		translate string
	}{
		{java: `a.c`, match: []string{"abc", "a c", "a\tc"}, noMatch: []string{"a\nc", "a\rc", "a\u2028c", "a\u0085c"}},
		{java: `[a-z\s]+`, match: []string{"a b", "a\x0Bb", "a\fb"}, noMatch: []string{"A"}},
		{java: `\s`, match: []string{"\x0B"}, noMatch: []string{"\u00a0"}},
		{java: `[a-zA-Z0-9-_]*`, match: []string{"a-_Z9", ""}, noMatch: []string{".", "a b"}, translate: `[a-zA-Z0-9\-\_]*`},
		{java: `[a-z0-9-.]*`, match: []string{"a.b-c"}, noMatch: []string{"/"}},
		{java: `[+-/]`, match: []string{",", "+", "/"}, noMatch: []string{"a"}},
		{java: `[-a]`, match: []string{"-", "a"}, noMatch: []string{"b"}},
		{java: `[^a-c]`, match: []string{"d"}, noMatch: []string{"b"}},
		{java: `[\^\]\\]+`, match: []string{`^]\`}, noMatch: []string{"a"}},
		{java: `\u0041\x42\x{43}`, match: []string{"ABC"}},
		{java: `[\u0041-\u0043]`, match: []string{"B"}, noMatch: []string{"D"}},
		{java: `\p{L}+\p{IsLatin}`, match: []string{"éa"}, noMatch: []string{"1a"}},
		{java: `\Qa.b\E.`, match: []string{"a.bc"}, noMatch: []string{"axbc"}},
		{java: `(?:ab){2}|^$`, match: []string{"abab", ""}, noMatch: []string{"ab"}},
		{java: `(?i)abc`, match: []string{"ABC"}},
		{java: `\d\w\e`, match: []string{"1_\x1b"}, noMatch: []string{"١_\x1b"}},
	} {
		got, err := TranslatePattern(c.java)
		if err != nil {
			t.Errorf("%s: %v", c.java, err)
			continue
		}
		if c.translate != "" && got != c.translate {
			t.Errorf("%s: translated to %s, want %s", c.java, got, c.translate)
		}
		re, err := regexp.Compile(`^(?:` + got + `)$`)
		if err != nil {
			t.Errorf("%s -> %s: %v", c.java, got, err)
			continue
		}
		for _, s := range c.match {
			if !re.MatchString(s) {
				t.Errorf("%s (%s) does not match %q", c.java, got, s)
			}
		}
		for _, s := range c.noMatch {
			if re.MatchString(s) {
				t.Errorf("%s (%s) matches %q", c.java, got, s)
			}
		}
	}
	for _, bad := range []string{`(?=a)`, `(?!a)`, `(?<=a)b`, `(?<!a)b`, `(?>a)`, `a*+`, `a++`, `a{2}+`, `\1`, `[a[b]]`, `[a&&b]`,
		`\p{Alpha}`, `\h`, `\v`, `\R`, `\Z`, `a\`, `[a`, `[]`, `[z-a]`, `\x{zz}`, `\uzzzz`, `(?x)a`, `\k<n>`} {
		if got, err := TranslatePattern(bad); err == nil {
			if _, cerr := regexp.Compile(got); cerr == nil {
				t.Errorf("%s translated to %s without error", bad, got)
			}
		}
	}
}

func TestErrorConstructors(t *testing.T) {
	m := model(t)
	constructors := map[string]func(string) *Error{
		"ValidationException":           ValidationError,
		"AccessDeniedException":         AccessDenied,
		"ResourceNotFoundException":     ResourceNotFound,
		"ConflictException":             Conflict,
		"ServiceQuotaExceededException": ServiceQuotaExceeded,
		"InternalServerException":       InternalServer,
		"PendingVerification":           PendingVerification,
	}
	want := map[string]int{
		"ValidationException": 400, "AccessDeniedException": 403, "ResourceNotFoundException": 404,
		"ConflictException": 409, "ServiceQuotaExceededException": 402, "InternalServerException": 500,
		"PendingVerification": 403,
	}
	shapes := m.ErrorShapes()
	if len(shapes) != len(constructors) {
		t.Errorf("the model has %d error shapes, %d constructors", len(shapes), len(constructors))
	}
	for _, s := range shapes {
		c := constructors[s.Name]
		if c == nil {
			t.Errorf("no constructor for %s", s.Name)
			continue
		}
		e := c("boom")
		if e.Type != s.Name || e.Status != s.HTTPStatus || e.Status != want[s.Name] || e.Message != "boom" {
			t.Errorf("%s: %+v (model status %d)", s.Name, e, s.HTTPStatus)
		}
		if e.Error() != s.Name+": boom" {
			t.Errorf("Error() = %q", e.Error())
		}
	}
	if e := SerializationError("x"); e.Status != 400 || e.Type != "SerializationException" {
		t.Errorf("%+v", e)
	}
	if e := UnknownOperation("GET", "/x"); e.Status != 404 || e.Type != "UnknownOperationException" {
		t.Errorf("%+v", e)
	}
	if e := m.NewError("SomethingElse", ""); e.Status != 400 || e.Error() != "SomethingElse" {
		t.Errorf("%+v", e)
	}
	if http.StatusText(m.Shape("ServiceQuotaExceededException").HTTPStatus) != "Payment Required" {
		t.Error("quota status")
	}
}

// Document is IVS's model (same metadata, every operation and shape as
// written) with the extensions added: it parses into the model Load gives.
func TestDocument(t *testing.T) {
	doc, err := Document()
	if err != nil {
		t.Fatal(err)
	}
	var got, ivs struct {
		Metadata   json.RawMessage            `json:"metadata"`
		Version    string                     `json:"version"`
		Operations map[string]json.RawMessage `json:"operations"`
		Shapes     map[string]json.RawMessage `json:"shapes"`
	}
	if err := json.Unmarshal(doc, &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(embeddedModelDoc(t), &ivs); err != nil {
		t.Fatal(err)
	}
	compact := func(v json.RawMessage) string {
		var b bytes.Buffer
		_ = json.Compact(&b, v)
		return b.String()
	}
	if compact(got.Metadata) != compact(ivs.Metadata) || got.Version != ivs.Version {
		t.Errorf("metadata %s version %s, want IVS's %s %s", got.Metadata, got.Version, ivs.Metadata, ivs.Version)
	}
	for name, v := range ivs.Shapes {
		if a, b := compact(v), compact(got.Shapes[name]); a != b {
			t.Errorf("shape %s changed:\n%s\n%s", name, a, b)
		}
	}
	if len(got.Operations) != len(ivs.Operations)+2 || got.Operations["UpdateComposition"] == nil || got.Operations["CreateViewerToken"] == nil {
		t.Errorf("%d operations, IVS has %d", len(got.Operations), len(ivs.Operations))
	}
	if bytes.Contains(doc, []byte(`\u003c`)) {
		t.Error("HTML escaped")
	}
	m, err := Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	loaded := model(t)
	if len(m.Operations()) != len(loaded.Operations()) || len(m.Shapes()) != len(loaded.Shapes()) {
		t.Errorf("Document parses into %d operations and %d shapes, Load gives %d and %d",
			len(m.Operations()), len(m.Shapes()), len(loaded.Operations()), len(loaded.Shapes()))
	}
	var names []string
	for _, mem := range m.Operation("UpdateComposition").Input.Members {
		names = append(names, mem.Name)
	}
	if strings.Join(names, ",") != "arn,layout" {
		t.Errorf("UpdateComposition input members %v", names)
	}
}
