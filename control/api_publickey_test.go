package control

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"

	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/internal/testsrv"
)

// appKey is an application's own key pair, made with crypto/ecdsa as any
// IVS application makes one, and its public key in PEM.
type appKey struct {
	priv *ecdsa.PrivateKey
	pem  string
}

func newAppKey(t *testing.T, curve elliptic.Curve) appKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return appKey{priv: priv, pem: publicPEM(t, &priv.PublicKey)}
}

func publicPEM(t *testing.T, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// sign makes a participant token as IVS's guide has applications make
// them: a JWT whose header is {alg ES384, typ JWT, kid: the public key's
// ARN}, signed ES384 (SHA-384, r‖s of 48 bytes each).
func (k appKey) sign(t *testing.T, kid string, claims map[string]any) string {
	t.Helper()
	enc := base64.RawURLEncoding
	h, _ := json.Marshal(map[string]string{"alg": "ES384", "typ": "JWT", "kid": kid})
	p, _ := json.Marshal(claims)
	input := enc.EncodeToString(h) + "." + enc.EncodeToString(p)
	sum := sha512.Sum384([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, k.priv, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 96)
	r.FillBytes(sig[:48])
	s.FillBytes(sig[48:])
	return input + "." + enc.EncodeToString(sig)
}

// stageAndKey creates a stage and imports a new key pair's public key.
func stageAndKey(t *testing.T, c *ivsrealtime.Client) (stage types.Stage, k appKey, kid string) {
	t.Helper()
	ctx := context.Background()
	st, err := c.CreateStage(ctx, &ivsrealtime.CreateStageInput{})
	if err != nil {
		t.Fatal(err)
	}
	k = newAppKey(t, elliptic.P384())
	imp, err := c.ImportPublicKey(ctx, &ivsrealtime.ImportPublicKeyInput{PublicKeyMaterial: aws.String(k.pem)})
	if err != nil {
		t.Fatal(err)
	}
	return *st.Stage, k, *imp.PublicKey.Arn
}

// selfClaims are the claims of IVS's "Distribute Participant Tokens" for a
// participant of stage, valid for an hour.
func selfClaims(stage types.Stage, jti string) map[string]any {
	now := time.Now()
	return map[string]any{
		"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "jti": jti,
		"resource": *stage.Arn, "topic": arnID(*stage.Arn),
		"events_url": "wss://global.events.live-video.net", "whip_url": *stage.Endpoints.Whip,
		"user_id": "carol", "attributes": map[string]string{"seat": "1"},
		"capabilities": map[string]bool{"allow_publish": true, "allow_subscribe": true}, "version": "1.0",
	}
}

func with(c map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// The public key operations: model shapes, fingerprint, tags, paging, the
// quota of 3, refusals of what is not a P-384 public key, persistence.
func TestAPIPublicKeys(t *testing.T) {
	dir := t.TempDir()
	env := startAPI(t, dir, nil)
	ctx := context.Background()
	c := env.client
	k := newAppKey(t, elliptic.P384())
	imp, err := c.ImportPublicKey(ctx, &ivsrealtime.ImportPublicKeyInput{PublicKeyMaterial: aws.String(k.pem),
		Name: aws.String("signer-1"), Tags: map[string]string{"team": "a"}})
	if err != nil {
		t.Fatal(err)
	}
	pk := imp.PublicKey
	if !regexp.MustCompile(`^arn:aws:ivs:us-east-1:123456789012:public-key/[a-zA-Z0-9]{12}$`).MatchString(*pk.Arn) ||
		*pk.Name != "signer-1" || *pk.PublicKeyMaterial != k.pem || pk.Tags["team"] != "a" ||
		!regexp.MustCompile(`^([0-9a-f]{2}:){15}[0-9a-f]{2}$`).MatchString(*pk.Fingerprint) {
		t.Fatalf("imported %+v", pk)
	}
	der, _ := x509.MarshalPKIXPublicKey(&k.priv.PublicKey)
	if *pk.Fingerprint != fingerprint(der) {
		t.Errorf("fingerprint %s, want the MD5 of the DER key", *pk.Fingerprint)
	}
	g, err := c.GetPublicKey(ctx, &ivsrealtime.GetPublicKeyInput{Arn: pk.Arn})
	if err != nil || *g.PublicKey.Fingerprint != *pk.Fingerprint || *g.PublicKey.PublicKeyMaterial != k.pem || g.PublicKey.Tags["team"] != "a" {
		t.Fatalf("GetPublicKey: %v %+v", err, g)
	}
	if _, err := c.TagResource(ctx, &ivsrealtime.TagResourceInput{ResourceArn: pk.Arn, Tags: map[string]string{"env": "test"}}); err != nil {
		t.Fatal(err)
	}

	// The same key again is a conflict; what is not a P-384 public key is
	// refused with a message that says why.
	_, err = c.ImportPublicKey(ctx, &ivsrealtime.ImportPublicKeyInput{PublicKeyMaterial: aws.String(k.pem)})
	wantErr[*types.ConflictException](t, err, http.StatusConflict, "already imported")
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	for _, bad := range []struct{ material, says string }{
		{newAppKey(t, elliptic.P256()).pem, "curve P-256, not P-384"},
		{publicPEM(t, edPub), "Ed25519 key, not an ECDSA P-384 key"},
		{"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "not a valid public key"},
		{"not a key", "publicKeyMaterial"},
	} {
		_, err = c.ImportPublicKey(ctx, &ivsrealtime.ImportPublicKeyInput{PublicKeyMaterial: aws.String(bad.material)})
		wantErr[*types.ValidationException](t, err, http.StatusBadRequest, bad.says)
	}

	// Three keys at most.
	for i := 0; i < 2; i++ {
		if _, err := c.ImportPublicKey(ctx, &ivsrealtime.ImportPublicKeyInput{PublicKeyMaterial: aws.String(newAppKey(t, elliptic.P384()).pem)}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.ImportPublicKey(ctx, &ivsrealtime.ImportPublicKeyInput{PublicKeyMaterial: aws.String(newAppKey(t, elliptic.P384()).pem)})
	wantErr[*types.ServiceQuotaExceededException](t, err, http.StatusPaymentRequired, "at most 3 public keys")

	// Pages of one.
	var arns []string
	var next *string
	for {
		l, err := c.ListPublicKeys(ctx, &ivsrealtime.ListPublicKeysInput{MaxResults: aws.Int32(1), NextToken: next})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range l.PublicKeys {
			arns = append(arns, *s.Arn)
			if *s.Arn == *pk.Arn && (*s.Name != "signer-1" || s.Tags["env"] != "test") {
				t.Errorf("summary %+v", s)
			}
		}
		if next = l.NextToken; next == nil {
			break
		}
	}
	if len(arns) != 3 || arns[0] != *pk.Arn {
		t.Fatalf("listed %v", arns)
	}

	// Kept across a restart; deleted for good.
	env.close()
	env = startAPI(t, dir, nil)
	c = env.client
	if _, err := c.GetPublicKey(ctx, &ivsrealtime.GetPublicKeyInput{Arn: pk.Arn}); err != nil {
		t.Fatalf("after a restart: %v", err)
	}
	if _, err := c.DeletePublicKey(ctx, &ivsrealtime.DeletePublicKeyInput{Arn: pk.Arn}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetPublicKey(ctx, &ivsrealtime.GetPublicKeyInput{Arn: pk.Arn})
	wantErr[*types.ResourceNotFoundException](t, err, http.StatusNotFound, *pk.Arn)
	_, err = c.DeletePublicKey(ctx, &ivsrealtime.DeletePublicKeyInput{Arn: pk.Arn})
	wantErr[*types.ResourceNotFoundException](t, err, http.StatusNotFound, *pk.Arn)
}

// Tokens an application signs with its own imported key publish by WHIP;
// ingest refuses them signed by an unknown key, for another stage,
// expired, without PUBLISH, and once the key is deleted. A restart keeps
// the key. Token exchange follows IVS's rules for self-signed tokens, and
// the participant shows the publisher's client and the exchange.
func TestAPISelfSignedTokens(t *testing.T) {
	dir := t.TempDir()
	env := startAPI(t, dir, nil)
	ctx := context.Background()
	c := env.client
	stage, k, kid := stageAndKey(t, c)
	other, err := c.CreateStage(ctx, &ivsrealtime.CreateStageInput{})
	if err != nil {
		t.Fatal(err)
	}
	publish := func(endpoint, token, ua string) (*publisher.Publisher, error) {
		pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		return publisher.Start(pctx, publisher.Config{WHIP: endpoint, Token: token, UserAgent: ua, NoAudio: true, Logger: quietLogger()})
	}
	refused := func(name, endpoint, token string, code int, reason string) {
		t.Helper()
		p, err := publish(endpoint, token, "")
		if err == nil {
			p.Close(ctx)
			t.Fatalf("%s: published", name)
		}
		var we *publisher.WHIPError
		if !errors.As(err, &we) || we.Status != code || !strings.Contains(we.Reason, reason) {
			t.Errorf("%s: %v, want %d %q", name, err, code, reason)
		}
	}
	base := selfClaims(stage, "self-1")
	refused("unknown key", env.whipURL, k.sign(t, "arn:aws:ivs:us-east-1:123456789012:public-key/notImported1", base), http.StatusUnauthorized, "unknown key")
	refused("another key", env.whipURL, newAppKey(t, elliptic.P384()).sign(t, kid, base), http.StatusUnauthorized, "invalid token signature")
	refused("another stage's endpoint", env.whipURL+"/"+arnID(*other.Stage.Arn), k.sign(t, kid, base), http.StatusForbidden, "another stage")
	refused("a stage that does not exist", env.whipURL, k.sign(t, kid, with(base, "resource", *stage.Arn+"0", "topic", arnID(*stage.Arn)+"0")), http.StatusForbidden, "stage does not exist")
	refused("expired", env.whipURL, k.sign(t, kid, with(base, "iat", time.Now().Add(-2*time.Hour).Unix(), "exp", time.Now().Add(-time.Hour).Unix())), http.StatusUnauthorized, "expired")
	refused("no PUBLISH", env.whipURL, k.sign(t, kid, with(base, "capabilities", map[string]bool{"allow_subscribe": true})), http.StatusForbidden, "PUBLISH")
	refused("version", env.whipURL, k.sign(t, kid, with(base, "version", "2.0")), http.StatusUnauthorized, "version")

	// Accepted, after a restart too; the participant is the token's, its
	// client the publisher's User-Agent, its protocol WHIP.
	env.close()
	env = startAPI(t, dir, nil)
	c = env.client
	const chrome = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.71 Safari/537.36"
	pub, err := publish(env.whipURL, k.sign(t, kid, base), chrome)
	if err != nil {
		t.Fatalf("self-signed token refused: %v", err)
	}
	defer pub.Close(ctx)
	var session string
	testsrv.WaitFor(t, 10*time.Second, "the self-signed participant to publish", func() bool {
		g, err := c.GetStage(ctx, &ivsrealtime.GetStageInput{Arn: stage.Arn})
		if err != nil || g.Stage.ActiveSessionId == nil {
			return false
		}
		session = *g.Stage.ActiveSessionId
		p, err := c.GetParticipant(ctx, &ivsrealtime.GetParticipantInput{StageArn: stage.Arn, SessionId: aws.String(session), ParticipantId: aws.String("self-1")})
		return err == nil && p.Participant.Published
	})
	p, _ := c.GetParticipant(ctx, &ivsrealtime.GetParticipantInput{StageArn: stage.Arn, SessionId: aws.String(session), ParticipantId: aws.String("self-1")})
	if got := p.Participant; *got.UserId != "carol" || got.Attributes["seat"] != "1" || got.Protocol != types.ParticipantProtocolWhip ||
		aws.ToString(got.BrowserName) != "Chrome" || aws.ToString(got.BrowserVersion) != "120.0.6099.71" ||
		aws.ToString(got.OsName) != "macOS" || aws.ToString(got.OsVersion) != "10.15.7" {
		t.Errorf("participant %+v", got)
	}

	// Exchange: a self-signed token may change userId, attributes and
	// capabilities, never the participant, stage or URLs; a token of the
	// server's is not one to exchange for.
	wantExchange := func(token string, code int, reason string) {
		t.Helper()
		err := pub.ExchangeToken(ctx, token)
		var we *publisher.WHIPError
		if !errors.As(err, &we) || we.Status != code || !strings.Contains(we.Reason, reason) {
			t.Errorf("exchange: %v, want %d %q", err, code, reason)
		}
	}
	wantExchange(k.sign(t, kid, with(base, "jti", "self-2")), http.StatusForbidden, "must keep")
	wantExchange(k.sign(t, kid, with(base, "whip_url", "http://elsewhere/whip")), http.StatusForbidden, "must keep")
	svc, err := c.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{StageArn: stage.Arn, UserId: aws.String("carol")})
	if err != nil {
		t.Fatal(err)
	}
	wantExchange(*svc.ParticipantToken.Token, http.StatusForbidden, "only for another self-signed token")
	exp := time.Now().Add(2 * time.Hour).Truncate(time.Second)
	if err := pub.ExchangeToken(ctx, k.sign(t, kid, with(base, "user_id", "carol-2", "attributes", map[string]string{"seat": "2"}, "exp", exp.Unix()))); err != nil {
		t.Fatalf("exchange: %v", err)
	}
	var exchanged *types.Event
	testsrv.WaitFor(t, 10*time.Second, "the TOKEN_EXCHANGED event", func() bool {
		ev, err := c.ListParticipantEvents(ctx, &ivsrealtime.ListParticipantEventsInput{StageArn: stage.Arn, SessionId: aws.String(session), ParticipantId: aws.String("self-1")})
		if err != nil {
			return false
		}
		for i, e := range ev.Events {
			if e.Name == types.EventNameTokenExchanged {
				exchanged = &ev.Events[i]
			}
		}
		return exchanged != nil
	})
	prev, next := exchanged.PreviousToken, exchanged.NewToken
	if prev == nil || next == nil || *prev.UserId != "carol" || prev.Attributes["seat"] != "1" || *next.UserId != "carol-2" ||
		next.Attributes["seat"] != "2" || !next.ExpirationTime.Equal(exp) || len(next.Capabilities) != 2 {
		t.Errorf("TOKEN_EXCHANGED %+v previous %+v new %+v", exchanged, prev, next)
	}
	p, _ = c.GetParticipant(ctx, &ivsrealtime.GetParticipantInput{StageArn: stage.Arn, SessionId: aws.String(session), ParticipantId: aws.String("self-1")})
	if *p.Participant.UserId != "carol-2" || p.Participant.Attributes["seat"] != "2" {
		t.Errorf("participant after the exchange %+v", p.Participant)
	}

	// Deleted: the connected participant stays, new tokens are refused.
	if _, err := c.DeletePublicKey(ctx, &ivsrealtime.DeletePublicKeyInput{Arn: aws.String(kid)}); err != nil {
		t.Fatal(err)
	}
	refused("deleted key", env.whipURL, k.sign(t, kid, selfClaims(stage, "self-3")), http.StatusUnauthorized, "unknown key")

	// An exchange that takes PUBLISH away ends the publishing session.
	k2 := newAppKey(t, elliptic.P384())
	imp2, err := c.ImportPublicKey(ctx, &ivsrealtime.ImportPublicKeyInput{PublicKeyMaterial: aws.String(k2.pem)})
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.ExchangeToken(ctx, k2.sign(t, *imp2.PublicKey.Arn, with(base, "capabilities", map[string]bool{"allow_subscribe": true}))); err != nil {
		t.Fatalf("exchange without PUBLISH: %v", err)
	}
	select {
	case <-pub.Done():
	case <-time.After(15 * time.Second):
		t.Fatal("still publishing after an exchange took PUBLISH away")
	}
}

// Headless Chromium publishes with a self-signed token; the participant
// shows the browser and OS its User-Agent names.
func TestAPISelfSignedChromium(t *testing.T) {
	page := testsrv.StartWHIPPage(t)
	env := startAPI(t, t.TempDir(), nil)
	ctx := context.Background()
	c := env.client
	stage, k, kid := stageAndKey(t, c)
	page.Publish(t, testsrv.PublishParams{WHIP: env.whipURL, Token: k.sign(t, kid, selfClaims(stage, "browser-1")), ID: "browser-1"})
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := page.WaitStatus(wctx, "browser-1", "connected"); err != nil {
		t.Fatal(err)
	}
	var p *types.Participant
	testsrv.WaitFor(t, 10*time.Second, "the browser participant to publish", func() bool {
		g, err := c.GetStage(ctx, &ivsrealtime.GetStageInput{Arn: stage.Arn})
		if err != nil || g.Stage.ActiveSessionId == nil {
			return false
		}
		got, err := c.GetParticipant(ctx, &ivsrealtime.GetParticipantInput{StageArn: stage.Arn, SessionId: g.Stage.ActiveSessionId, ParticipantId: aws.String("browser-1")})
		if err != nil || !got.Participant.Published {
			return false
		}
		p = got.Participant
		return true
	})
	if aws.ToString(p.BrowserName) != "Chrome" || !regexp.MustCompile(`^\d+\.`).MatchString(aws.ToString(p.BrowserVersion)) ||
		aws.ToString(p.OsName) != "Linux" || p.Protocol != types.ParticipantProtocolWhip || *p.UserId != "carol" {
		t.Errorf("participant %+v", p)
	}
	if r, err := page.Unpublish("browser-1"); err != nil || r.HTTPStatus != 200 {
		t.Errorf("unpublish: %v %+v", err, r)
	}
}
