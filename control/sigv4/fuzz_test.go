package sigv4

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseAuthorization: the parser never panics, fails only with an
// IncompleteSignatureException that echoes a bounded part of the header, and
// what it accepts survives being written back in the SDK's layout.
func FuzzParseAuthorization(f *testing.F) {
	for _, seed := range []string{
		"AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/ivs/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=9097cd2d4a752fa46184fa69f0d79f68cfa74d187748977dc668184d215a4e66",
		"AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/ivs/aws4_request,SignedHeaders=host;x-amz-date,Signature=00",
		"AWS4-HMAC-SHA256 Signature=ab, Credential=a/b/c/d/e, SignedHeaders=host, Extra=1",
		"AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/ivs, SignedHeaders=host, Signature=ab",
		"AWS4-HMAC-SHA256 Credential=AKID//us-east-1/ivs/aws4_request, SignedHeaders=host;;x, Signature=ab",
		"AWS4-HMAC-SHA256 Credential=a/b/c/d/e, Credential=a/b/c/d/e, SignedHeaders=host, Signature=ab",
		"AWS4-HMAC-SHA256 garbage",
		"AWS4-HMAC-SHA256",
		"AWS4-HMAC-SHA256 ,,, =, Signature=",
		"Bearer abc",
		"",
		"  \t AWS4-HMAC-SHA256   Credential= a /b/c/d/e ,SignedHeaders=h , Signature=s=s\t",
		"AWS4-HMAC-SHA256 Credential=\xff\xfe/b/c/d/e, SignedHeaders=h, Signature=" + strings.Repeat("é", 600),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, h string) {
		a, e := parseAuthorization(h)
		if e != nil {
			if e.Type != TypeIncompleteSignature || e.Status != 403 || e.Message == "" {
				t.Fatalf("error %+v", e)
			}
			if len(e.Message) > 4*maxEcho+400 {
				t.Fatalf("message of %d bytes", len(e.Message))
			}
			if utf8.ValidString(h) && !utf8.ValidString(e.Message) {
				t.Fatalf("message %q is not UTF-8", e.Message)
			}
			return
		}
		for name, v := range map[string]string{
			"AccessKey": a.AccessKey, "Date": a.Date, "Region": a.Region, "Service": a.Service,
			"Terminator": a.Terminator, "SignedHeaders": a.SignedHeaders, "Signature": a.Signature,
		} {
			if v == "" {
				t.Fatalf("accepted %q with empty %s", h, name)
			}
			if strings.Contains(v, ",") {
				t.Fatalf("accepted %q with ',' in %s %q", h, name, v)
			}
		}
		for _, c := range []string{a.AccessKey, a.Date, a.Region, a.Service, a.Terminator} {
			if strings.Contains(c, "/") {
				t.Fatalf("credential component %q holds '/'", c)
			}
		}
		if strings.Join(a.SignedHeadersList, ";") != a.SignedHeaders {
			t.Fatalf("list %q from %q", a.SignedHeadersList, a.SignedHeaders)
		}
		for _, name := range a.SignedHeadersList {
			if name == "" {
				t.Fatalf("empty header name in %q", a.SignedHeaders)
			}
		}
		again := algorithm + " Credential=" + strings.Join([]string{a.AccessKey, a.Date, a.Region, a.Service, a.Terminator}, "/") +
			", SignedHeaders=" + a.SignedHeaders + ", Signature=" + a.Signature
		b, e := parseAuthorization(again)
		if e != nil {
			t.Fatalf("%q parsed, its rewrite %q did not: %v", h, again, e)
		}
		if b.AccessKey != a.AccessKey || b.Date != a.Date || b.Region != a.Region || b.Service != a.Service ||
			b.Terminator != a.Terminator || b.SignedHeaders != a.SignedHeaders || b.Signature != a.Signature {
			t.Fatalf("%q: %+v, rewritten %q: %+v", h, a, again, b)
		}
	})
}
