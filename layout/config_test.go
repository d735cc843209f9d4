package layout

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestWithDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"no layout is the default grid", `{}`,
			`{"grid":{"omitStoppedVideo":false,"videoAspectRatio":"VIDEO","gridGap":2}}`},
		{"grid defaults", `{"grid":{}}`,
			`{"grid":{"omitStoppedVideo":false,"videoAspectRatio":"VIDEO","gridGap":2}}`},
		{"grid keeps given values", `{"grid":{"gridGap":0,"videoAspectRatio":"AUTO","videoFillMode":"FILL","featuredParticipantAttribute":"f","omitStoppedVideo":true}}`,
			`{"grid":{"featuredParticipantAttribute":"f","omitStoppedVideo":true,"videoAspectRatio":"AUTO","videoFillMode":"FILL","gridGap":0}}`},
		{"pip defaults", `{"pip":{}}`,
			`{"pip":{"omitStoppedVideo":false,"videoFillMode":"COVER","gridGap":0,"pipBehavior":"STATIC","pipOffset":0,"pipPosition":"BOTTOM_RIGHT"}}`},
		{"pip keeps given values", `{"pip":{"pipWidth":300,"pipPosition":"TOP_LEFT","pipBehavior":"DYNAMIC","pipOffset":8,"gridGap":4}}`,
			`{"pip":{"omitStoppedVideo":false,"videoFillMode":"COVER","gridGap":4,"pipBehavior":"DYNAMIC","pipOffset":8,"pipPosition":"TOP_LEFT","pipWidth":300}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Config
			if err := json.Unmarshal([]byte(tt.in), &c); err != nil {
				t.Fatal(err)
			}
			orig, _ := json.Marshal(c)
			got, _ := json.Marshal(c.WithDefaults())
			if string(got) != tt.want {
				t.Errorf("WithDefaults(%s)\n got %s\nwant %s", tt.in, got, tt.want)
			}
			if again, _ := json.Marshal(c); string(again) != string(orig) {
				t.Errorf("WithDefaults modified its receiver: %s → %s", orig, again)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	long := strings.Repeat("a", 129)
	tests := []struct {
		name string
		in   Config
		want []string // expected "field: constraint prefix" pairs
	}{
		{"empty is valid", Config{}, nil},
		{"full grid is valid", Config{Grid: &GridConfig{FeaturedParticipantAttribute: "is-featured_1", VideoAspectRatio: AspectPortrait,
			VideoFillMode: Contain, GridGap: intp(0), ParticipantOrderAttribute: strings.Repeat("z", 128)}}, nil},
		{"full pip is valid", Config{Pip: &PipConfig{PipParticipantAttribute: "pip", PipBehavior: Dynamic, PipOffset: intp(0),
			PipPosition: TopLeft, PipWidth: intp(1), PipHeight: intp(1), GridGap: intp(0), VideoFillMode: Fill}}, nil},
		{"negative grid gap", Config{Grid: &GridConfig{GridGap: intp(-1)}},
			[]string{"Value '-1' at 'layout.grid.gridGap' failed to satisfy constraint: Member must have value greater than or equal to 0"}},
		{"unknown aspect", Config{Grid: &GridConfig{VideoAspectRatio: "WIDE"}},
			[]string{"Value 'WIDE' at 'layout.grid.videoAspectRatio' failed to satisfy constraint: Member must satisfy enum value set: [AUTO, VIDEO, SQUARE, PORTRAIT]"}},
		{"lowercase fill mode", Config{Grid: &GridConfig{VideoFillMode: "cover"}},
			[]string{"Value 'cover' at 'layout.grid.videoFillMode' failed to satisfy constraint: Member must satisfy enum value set: [FILL, COVER, CONTAIN]"}},
		{"attribute pattern", Config{Grid: &GridConfig{FeaturedParticipantAttribute: "has space"}},
			[]string{"Value 'has space' at 'layout.grid.featuredParticipantAttribute' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9-_]*"}},
		{"attribute length", Config{Grid: &GridConfig{ParticipantOrderAttribute: long}},
			[]string{"at 'layout.grid.participantOrderAttribute' failed to satisfy constraint: Member must have length less than or equal to 128"}},
		{"pip bounds", Config{Pip: &PipConfig{PipWidth: intp(0), PipHeight: intp(-4), PipOffset: intp(-1), GridGap: intp(-2)}},
			[]string{"at 'layout.pip.gridGap'", "at 'layout.pip.pipOffset'", "Value '0' at 'layout.pip.pipWidth' failed to satisfy constraint: Member must have value greater than or equal to 1", "at 'layout.pip.pipHeight'"}},
		{"pip enums", Config{Pip: &PipConfig{PipPosition: "CENTER", PipBehavior: "FLOAT", PipParticipantAttribute: "a/b"}},
			[]string{"at 'layout.pip.pipParticipantAttribute'", "at 'layout.pip.pipBehavior' failed to satisfy constraint: Member must satisfy enum value set: [STATIC, DYNAMIC]",
				"at 'layout.pip.pipPosition' failed to satisfy constraint: Member must satisfy enum value set: [TOP_LEFT, TOP_RIGHT, BOTTOM_LEFT, BOTTOM_RIGHT]"}},
		{"grid and pip together", Config{Grid: &GridConfig{}, Pip: &PipConfig{}},
			[]string{"at 'layout' failed to satisfy constraint: Member must set only one of grid or pip"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.in.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var ve ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate() = %v, want a ValidationError", err)
			}
			if len(ve) != len(tt.want) {
				t.Fatalf("Validate() found %d errors, want %d: %v", len(ve), len(tt.want), err)
			}
			for i, w := range tt.want {
				if !strings.Contains(ve[i].Error(), w) {
					t.Errorf("error %d = %q, want it to contain %q", i, ve[i].Error(), w)
				}
			}
			prefix := "1 validation error detected: "
			if len(ve) > 1 {
				prefix = fmt.Sprintf("%d validation errors detected: ", len(ve))
			}
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("message %q does not start with %q", err.Error(), prefix)
			}
		})
	}
}

// Values Validate rejects never break Arrange: they fall back to defaults.
func TestResolveFallsBackOnInvalid(t *testing.T) {
	bad := Config{Grid: &GridConfig{GridGap: intp(-8), VideoAspectRatio: "WIDE", VideoFillMode: "STRETCH"}}
	want := Arrange(Size{1280, 720}, Config{}, people(4))
	got := Arrange(Size{1280, 720}, bad, people(4))
	if len(got) != len(want) {
		t.Fatalf("got %d slots, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("slot %d = %+v, want default %+v", i, got[i], want[i])
		}
	}
	badPip := Config{Pip: &PipConfig{PipPosition: "CENTER", PipBehavior: "FLOAT", PipOffset: intp(-4), PipWidth: intp(-1)}}
	wantPip := Arrange(Size{1280, 720}, Config{Pip: &PipConfig{}}, people(2))
	gotPip := Arrange(Size{1280, 720}, badPip, people(2))
	if byID(gotPip)["p2"] != byID(wantPip)["p2"] {
		t.Errorf("invalid pip settings: %+v, want the default window %+v", byID(gotPip)["p2"], byID(wantPip)["p2"])
	}
}
