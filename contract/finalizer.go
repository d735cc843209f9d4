package contract

import (
	"context"
	"time"
)

// RecordingFinalizer finalizes, from what storage holds, the recording of
// destination destinationID of composition compositionID (in bucket,
// under prefix) that was running when its server stopped; ended is when
// that server was last known alive. A recording whose server finishes it
// from its own work files is left to that; finalizing twice writes once.
type RecordingFinalizer func(ctx context.Context, compositionID, destinationID, bucket, prefix string, ended time.Time) error
