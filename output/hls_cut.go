package output

import "time"

// cutBefore reports whether the segment that began at start ends before a
// video keyframe at t. Keyframes arrive every keyint; the segment is cut at
// the last keyframe that keeps it within target, so every segment lasts at
// most target (plus the jitter of one frame), and at least one keyframe
// interval when the interval exceeds the target.
func cutBefore(start, t, target, keyint time.Duration) bool {
	return t > start && t-start+keyint > target
}
