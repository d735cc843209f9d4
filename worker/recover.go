package worker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/tessera-media/tessera/output"
)

// Recovery at start-up: what a previous process left under SpoolDir and
// WorkDir is finished. Every recording work folder (a recording that was
// running when the process died) is finalized through its destination's
// spool (output.RecoverRecording), and every spool folder is reopened and
// drained, retrying for ever, until Close; a drained spool's folder is
// removed. Both kinds of folder are named <composition>-<destination>.

// Recover finishes what a previous process left: it finalizes the
// interrupted recordings (their final objects durably spooled before it
// returns) and starts draining every left-over spool in the background.
// Call it once, before compositions start. It returns the first error
// met; the other folders are still handled.
func (w *Worker) Recover() error {
	if w.cfg.SpoolDir == "" || w.cfg.Storage == nil {
		return nil
	}
	var errs []error
	open := map[string]*output.Spool{}
	spool := func(name string) (*output.Spool, error) {
		if sp := open[name]; sp != nil {
			return sp, nil
		}
		so := w.cfg.Spool
		// No bound: what the spool holds is on disk already, and a
		// recovery adds only a segment and the final objects, which
		// must go in.
		so.Name, so.Logger, so.MaxBytes = name, w.log, -1
		sp, err := output.NewSpool(filepath.Join(w.cfg.SpoolDir, name), w.cfg.Storage, so)
		if err != nil {
			return nil, err
		}
		open[name] = sp
		return sp, nil
	}
	works, err := subfolders(w.cfg.WorkDir)
	if err != nil {
		errs = append(errs, err)
	}
	if err := output.RemoveAdoptScratch(w.cfg.WorkDir); err != nil {
		errs = append(errs, fmt.Errorf("worker: recovery: %w", err))
	}
	w.local.Lock()
	defer w.local.Unlock()
	w.local.names = map[string]bool{}
	for _, name := range works {
		w.local.names[name] = true
		sp, err := spool(name)
		if err == nil {
			_, err = output.RecoverRecording(filepath.Join(w.cfg.WorkDir, name), sp, w.log.With("composition_destination", name))
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("worker: recovering recording %s: %w", name, err))
		}
	}
	spools, err := subfolders(w.cfg.SpoolDir)
	if err != nil {
		errs = append(errs, err)
	}
	for _, name := range spools {
		w.local.names[name] = true
		if _, err := spool(name); err != nil {
			errs = append(errs, fmt.Errorf("worker: recovering spool %s: %w", name, err))
		}
	}
	for name, sp := range open {
		w.drain(name, sp)
	}
	return errors.Join(errs...)
}

// subfolders lists the folders in dir (none when dir does not exist).
func subfolders(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("worker: recovery: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// drainer holds the spools Recover reopened until they are empty.
type drainer struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// drain uploads what sp holds, for ever, then closes it (removing its
// folder); Close interrupts it, leaving the rest on disk.
func (w *Worker) drain(name string, sp *output.Spool) {
	st := sp.Stats()
	w.drains.wg.Add(1)
	go func() {
		defer w.drains.wg.Done()
		err := sp.Drain(w.drains.ctx)
		if err == nil && st.Items > 0 {
			w.log.Info("spool left from before: uploaded", "spool", name, "items", st.Items, "bytes", st.Bytes)
		}
		_ = sp.Close()
	}()
}

// Close stops the uploads Recover started; what is not uploaded stays on
// disk for the next start.
func (w *Worker) Close() {
	w.drains.cancel()
	w.drains.wg.Wait()
}

// FinalizeInterrupted is a contract.RecordingFinalizer: the recording of
// a composition that was running when its server stopped, which this
// server did not find among its own work and spool folders (Recover; its
// data directory is another, or was lost), is finalized from storage
// (output.FinalizeFromStorage). Without a storage that lists and reads
// back, it is left as it is.
func (w *Worker) FinalizeInterrupted(ctx context.Context, compositionID, destinationID, bucket, prefix string, ended time.Time) error {
	name := compositionID + "-" + destinationID
	w.local.Lock()
	local := w.local.names[name]
	w.local.Unlock()
	if local {
		return nil // Recover finishes it from the work files
	}
	st, ok := w.cfg.Storage.(output.ListingStorage)
	if !ok {
		w.log.Warn("an interrupted recording cannot be finalized: the storage cannot be read back", "composition_destination", name)
		return nil
	}
	_, err := output.FinalizeFromStorage(ctx, st, bucket, prefix, "the server recording it stopped and its work files are not on this server",
		ended, w.cfg.WorkDir, w.log.With("composition_destination", name))
	return err
}
