package output

import "fmt"

func errSize(w, h, wantW, wantH int) error {
	return fmt.Errorf("output: frame is %dx%d, want %dx%d", w, h, wantW, wantH)
}
