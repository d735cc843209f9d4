package bench

import (
	"bufio"
	"os"
	"slices"
	"strings"
)

// simdFlags are the /proc/cpuinfo flags that decide which kernel sets and
// peer code paths a CPU runs.
var simdFlags = []string{"sse4_1", "sse4_2", "avx", "avx2", "fma", "bmi2",
	"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl", "avx512vbmi", "avx512_vbmi2", "avx512_vnni"}

// cpuInfo returns this machine's CPU model and which of simdFlags it has,
// from /proc/cpuinfo (empty where it cannot be read).
func cpuInfo() (model string, flags []string) {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "", nil
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(key) {
		case "model name":
			model = strings.TrimSpace(value)
		case "flags":
			have := strings.Fields(value)
			for _, fl := range simdFlags {
				if slices.Contains(have, fl) {
					flags = append(flags, fl)
				}
			}
			return model, flags
		}
	}
	return model, flags
}
