//go:build !unix

package dag

import "time"

// processCPU is not measured off unix; the metric then reads zero.
func processCPU() time.Duration { return 0 }
