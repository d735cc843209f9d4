package output

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/internal/durable"
)

// A recording in progress keeps, in its work folder, what a start-up after
// a crash needs to finish it (RecoverRecording):
//
//	recording.json   the manifest, written durably when the recording starts
//	segments.log     the journal, one JSON line appended and synced per event:
//	                 {"seg":N,"d":ns}  segment N (N.ts, or N.mp4) is complete, d long, and about to be spooled
//	                 {"up":N}          storage has segment N
//	                 {"codecs":"…"}    the rendition's CODECS, learnt from the first keyframe (video without a global header)
//	N.ts, N.mp4      the segment being written (or a complete one not yet spooled)
//	init.mp4         fragmented MP4's initialization section (kept: salvage reads the fragments with it)
//
// The folder is removed once the recording's final objects are in its
// spool. A line a crash cut short is ignored.
const (
	manifestFile = "recording.json"
	journalFile  = "segments.log"
)

// recordingManifest describes a recording well enough to finalize it
// without the process that started it.
type recordingManifest struct {
	Version       int              `json:"v"`
	Name          string           `json:"name"`
	Bucket        string           `json:"bucket"`
	Prefix        string           `json:"prefix"`
	StageARN      string           `json:"stageArn"`
	StartedAt     time.Time        `json:"startedAt"`
	TargetSegment time.Duration    `json:"targetSegment"`
	Width         int              `json:"width"`
	Height        int              `json:"height"`
	FrameRate     float64          `json:"frameRate"`
	Bandwidth     int              `json:"bandwidth"`
	Codecs        string           `json:"codecs"`
	Container     SegmentContainer `json:"container,omitempty"`
	Sequential    bool             `json:"thumbnailsSequential,omitempty"`
	Latest        bool             `json:"thumbnailLatest,omitempty"`
	SessionID     string           `json:"sessionId,omitempty"`     // a participant's recording
	ParticipantID string           `json:"participantId,omitempty"` // a participant's recording
	Streams       []av.StreamInfo  `json:"streams"`
}

func (m recordingManifest) rendition() rendition {
	return rendition{width: m.Width, height: m.Height, frameRate: m.FrameRate, bandwidth: m.Bandwidth, codecs: m.Codecs, container: m.Container,
		individual: m.ParticipantID != ""}
}

func (m recordingManifest) keys() recordingKeys {
	return recordingKeys{prefix: m.Prefix, r: m.rendition()}
}

func (m recordingManifest) info() recordingInfo {
	return recordingInfo{stageARN: m.StageARN, sessionID: m.SessionID, participant: m.ParticipantID, r: m.rendition(), sequential: m.Sequential, latest: m.Latest}
}

func readManifest(dir string) (recordingManifest, error) {
	var m recordingManifest
	b, err := os.ReadFile(filepath.Join(dir, manifestFile))
	if err == nil {
		err = json.Unmarshal(b, &m)
	}
	if err == nil && m.Version != 1 {
		err = fmt.Errorf("unknown format version %d", m.Version)
	}
	if err == nil && !m.Container.valid() {
		err = fmt.Errorf("unknown segment container %q", m.Container)
	}
	if err == nil && len(m.Streams) == 0 {
		err = errors.New("no streams")
	}
	return m, err
}

// journalEntry is one line of segments.log.
type journalEntry struct {
	Seg      *int          `json:"seg,omitempty"`
	Duration time.Duration `json:"d,omitempty"`
	Up       *int          `json:"up,omitempty"`
	Codecs   string        `json:"codecs,omitempty"`
	Gap      *int          `json:"gap,omitempty"` // the segment follows a gap
}

// journal appends entries to segments.log, each synced before it returns.
// After a failure (reported once) it appends nothing more.
type journal struct {
	mu     sync.Mutex
	f      *os.File
	failed bool
}

// createJournal writes the manifest and opens an empty journal in dir.
func createJournal(dir string, m recordingManifest) (*journal, error) {
	if err := durable.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	if err := durable.WriteFile(filepath.Join(dir, manifestFile), b, 0o600); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, journalFile), os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	if err := durable.Sync(dir); err != nil {
		f.Close()
		return nil, err
	}
	return &journal{f: f}, nil
}

// segment records that segment seq is complete and d long.
func (j *journal) segment(seq int, d time.Duration) error {
	return j.append(journalEntry{Seg: &seq, Duration: d})
}

// gap records that segment seq follows a gap.
func (j *journal) gap(seq int) error { return j.append(journalEntry{Gap: &seq}) }

// codecs records the rendition's CODECS.
func (j *journal) codecs(c string) error { return j.append(journalEntry{Codecs: c}) }

// uploaded records that storage has segment seq.
func (j *journal) uploaded(seq int) error { return j.append(journalEntry{Up: &seq}) }

func (j *journal) append(e journalEntry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.failed || j.f == nil {
		return nil
	}
	if _, err = j.f.Write(append(b, '\n')); err == nil {
		err = j.f.Sync()
	}
	if err != nil {
		j.failed = true
		return fmt.Errorf("recording journal (a crash now loses the recording's end): %w", err)
	}
	return nil
}

func (j *journal) close() {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f != nil {
		j.f.Close()
		j.f = nil
	}
}

// journalState is what a journal says: the complete segments in order,
// which of them storage has, and the CODECS if they were learnt.
type journalState struct {
	segments []segment
	uploaded map[int]bool
	gaps     map[int]bool // segments that follow a gap
	codecs   string
}

// readJournal reads dir's journal, ignoring a partial last line.
func readJournal(dir string) (journalState, error) {
	st := journalState{uploaded: map[int]bool{}, gaps: map[int]bool{}}
	b, err := os.ReadFile(filepath.Join(dir, journalFile))
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	seen := map[int]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e journalEntry
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue // torn by a crash
		}
		switch {
		case e.Seg != nil && !seen[*e.Seg]:
			seen[*e.Seg] = true
			st.segments = append(st.segments, segment{seq: *e.Seg, duration: e.Duration})
		case e.Up != nil:
			st.uploaded[*e.Up] = true
		case e.Codecs != "":
			st.codecs = e.Codecs
		case e.Gap != nil:
			st.gaps[*e.Gap] = true
		}
	}
	for i := range st.segments {
		st.segments[i].disc = st.gaps[st.segments[i].seq]
	}
	return st, nil
}
