package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRunHelpVersionAndUnknown(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"--help"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "Usage: airctl") {
		t.Fatalf("--help: code %d, out %q", code, out.String())
	}
	out.Reset()
	if code := run([]string{"version"}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "airctl ") {
		t.Fatalf("version: code %d, out %q", code, out.String())
	}
	if code := run([]string{"bogus"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), `unknown command "bogus"`) {
		t.Fatalf("bogus: code %d, err %q", code, errOut.String())
	}
}
