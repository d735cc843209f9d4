package output

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tessera-media/tessera/internal/durable"
)

// RecoveredRecording is what RecoverRecording made of a recording a crash
// interrupted.
type RecoveredRecording struct {
	Name     string        // the destination, as the recording named it
	Segments int           // segments the VOD playlist lists
	Salvaged bool          // the segment being written was kept (its complete frames)
	Lost     []string      // segments not recorded (file names)
	Duration time.Duration // of the listed segments
}

// RecoverRecording finishes a recording whose process died, from its work
// folder dir (RecordingConfig.WorkDir), through sp — the spool the
// recording used, reopened, so that its backlog goes to storage before
// what this adds. It lists as recorded every segment the journal knows
// that storage has or the spool held when it opened, spools complete segments
// that never reached the spool, and salvages the segment being written
// (SalvageSegment: its complete frames or whole fragments) or counts it lost. Then
// it spools the VOD media playlist (#EXT-X-ENDLIST, exactly those
// segments; for fragmented MP4 the initialization section before it), the
// multivariant playlist and events/recording-failed.json
// (RECORDING_ENDED_WITH_FAILURE, the reason and what was lost, the end
// being the last time the folder was written), and removes the folder.
// Thumbnails already spooled or stored are kept as they are. Repeating it
// after a crash half-way is safe.
//
// A folder without a valid manifest (the crash came before the recording
// started) is removed, and the zero result returned.
func RecoverRecording(dir string, sp *Spool, log *slog.Logger) (RecoveredRecording, error) {
	if log == nil {
		log = slog.Default()
	}
	m, err := readManifest(dir)
	if err != nil {
		log.Warn("recording recovery: no usable manifest; removing the folder", "dir", dir, "err", err)
		return RecoveredRecording{}, os.RemoveAll(dir)
	}
	log = log.With("destination", m.Name)
	res := RecoveredRecording{Name: m.Name}
	j, err := readJournal(dir)
	if err != nil {
		return res, fmt.Errorf("output: recovering %s: %w", dir, err)
	}
	if j.codecs != "" {
		m.Codecs = j.codecs
	}
	keys, info := m.keys(), m.info()
	ended := lastWrite(dir, m.StartedAt)

	// Files left in the folder: complete segments the spool never took,
	// and the segment being written.
	known := map[int]bool{}
	for _, s := range j.segments {
		known[s.seq] = true
	}
	c := m.Container
	var inProgress []int
	for _, seq := range segmentFiles(dir, c.ext()) {
		if !known[seq] {
			inProgress = append(inProgress, seq)
		}
	}
	for _, seq := range inProgress {
		path := filepath.Join(dir, c.segmentName(seq))
		d, ok, err := SalvageSegment(path, m.Streams)
		if err != nil || !ok {
			log.Warn("recording recovery: the segment being written holds no complete frame; it is lost", "segment", seq, "err", err)
			_ = os.Remove(path)
			res.Lost = append(res.Lost, c.segmentName(seq))
			continue
		}
		res.Salvaged = true
		j.segments = append(j.segments, segment{seq: seq, duration: d, disc: j.gaps[seq]})
		if err := appendJournal(dir, seq, d); err != nil {
			return res, fmt.Errorf("output: recovering %s: %w", dir, err)
		}
	}
	slices.SortFunc(j.segments, func(a, b segment) int { return a.seq - b.seq })

	// The initialization section goes (again) before what lists it: the
	// crash may have come before the recording spooled it.
	if init := filepath.Join(dir, initSegment); c.fmp4() && fileExists(init) {
		b, err := os.ReadFile(init)
		if err == nil {
			err = sp.Enqueue(m.Bucket, keys.init(), b, "", nil)
		}
		if err != nil {
			return res, fmt.Errorf("output: recovering %s: %w", dir, err)
		}
	}
	pl := mediaPlaylist{container: c, target: m.TargetSegment, ended: true}
	for _, s := range j.segments {
		key := keys.segment(s.seq)
		path := filepath.Join(dir, c.segmentName(s.seq))
		switch {
		case j.uploaded[s.seq] || sp.Recovered(m.Bucket, key):
		case fileExists(path):
			if err := sp.EnqueueFile(m.Bucket, key, path, "", nil); err != nil {
				return res, fmt.Errorf("output: recovering %s: %w", dir, err)
			}
		default:
			res.Lost = append(res.Lost, c.segmentName(s.seq))
			continue
		}
		pl.segments = append(pl.segments, s)
	}
	res.Segments, res.Duration = len(pl.segments), pl.duration()

	msg := "the server stopped while recording (recovered at start-up)"
	if len(res.Lost) > 0 {
		msg += "; segments lost: " + strings.Join(res.Lost, ", ")
	}
	var objects []spoolObject
	if len(pl.segments) > 0 {
		objects = append(objects, spoolObject{keys.playlist(), pl.render()}, spoolObject{keys.multivariant(), multivariant(keys.r)})
	}
	objects = append(objects, spoolObject{keys.failed(), info.event(RecordingEndedWithFailure, msg, m.StartedAt, ended, res.Duration)})
	for _, o := range objects {
		if err := sp.Enqueue(m.Bucket, o.key, o.data, "", nil); err != nil {
			return res, fmt.Errorf("output: recovering %s: %w", dir, err)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return res, fmt.Errorf("output: recovering %s: %w", dir, err)
	}
	_ = durable.Sync(filepath.Dir(dir))
	log.Warn("recording finalized after the server stopped while recording",
		"segments", res.Segments, "salvaged", res.Salvaged, "lost", len(res.Lost), "duration", res.Duration.Round(time.Millisecond))
	return res, nil
}

// spoolObject is an object to spool.
type spoolObject struct {
	key  string
	data []byte
}

// appendJournal records a salvaged segment in dir's journal.
func appendJournal(dir string, seq int, d time.Duration) error {
	f, err := os.OpenFile(filepath.Join(dir, journalFile), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	j := &journal{f: f}
	defer j.close()
	// A torn last line would hide this one: start on a fresh line.
	if info, err := f.Stat(); err == nil && info.Size() > 0 {
		if _, err := f.Write([]byte("\n")); err != nil {
			return err
		}
	}
	return j.segment(seq, d)
}

// segmentFiles lists the N<ext> files in dir, by N.
func segmentFiles(dir, ext string) []int {
	entries, _ := os.ReadDir(dir)
	var seqs []int
	for _, e := range entries {
		base, ok := strings.CutSuffix(e.Name(), ext)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		if seq, err := strconv.Atoi(base); err == nil && seq >= 0 {
			seqs = append(seqs, seq)
		}
	}
	slices.Sort(seqs)
	return seqs
}

// lastWrite is the latest modification time in dir (not before since):
// about when the recording last made progress.
func lastWrite(dir string, since time.Time) time.Time {
	t := since
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.ModTime().After(t) {
			t = info.ModTime()
		}
	}
	return t
}

func fileExists(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular()
}
