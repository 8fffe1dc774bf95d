//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package local

import (
	"errors"
	"os"
)

func errNoFlock() error {
	return errors.New("the local state backend needs flock(2), which this platform lacks: use the gcs backend")
}

func tryFlock(*os.File) (bool, error) { return false, errNoFlock() }

func unflock(*os.File) error { return errNoFlock() }
