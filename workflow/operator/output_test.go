package operator_test

import (
	"io"
	"strings"
	"testing"

	"github.com/airctl/airctl/workflow/operator"
	"github.com/airctl/airctl/workflow/store"
)

func TestLastLine(t *testing.T) {
	cases := []struct {
		name   string
		writes []string
		want   string
	}{
		{"empty", nil, ""},
		{"one line", []string{"42\n"}, "42"},
		{"unterminated", []string{"a\nb"}, "b"},
		{"trailing blank lines", []string{"a\nresult\n\n  \n"}, "result"},
		{"split across writes", []string{"fir", "st\nsec", "ond", "\r\n"}, "second"},
	}
	for _, c := range cases {
		var l operator.LastLine
		for _, w := range c.writes {
			if _, err := io.WriteString(&l, w); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := l.Line(); err != nil || got != c.want {
			t.Errorf("%s: got %q %v, want %q", c.name, got, err, c.want)
		}
	}
}

func TestOutputSizeLimit(t *testing.T) {
	var l operator.LastLine
	big := strings.Repeat("x", store.MaxTaskOutputSize+1)
	_, _ = io.WriteString(&l, "small\n"+big[:1000])
	_, _ = io.WriteString(&l, big[1000:]+"\n")
	if _, err := l.Line(); err == nil || !strings.Contains(err.Error(), "longer than the 64 KiB output limit") {
		t.Errorf("long last line: err = %v", err)
	}
	var ok operator.LastLine
	_, _ = io.WriteString(&ok, big+"\nshort\n")
	if got, err := ok.Line(); err != nil || got != "short" {
		t.Errorf("a long line followed by a short one: %q %v", got, err)
	}
	if err := operator.CheckOutputSize(int64(len(big))); err == nil || !strings.Contains(err.Error(), "is 65537 bytes, over the 64 KiB limit") {
		t.Errorf("CheckOutputSize(limit+1) = %v", err)
	}
	if err := operator.CheckOutputSize(store.MaxTaskOutputSize); err != nil {
		t.Errorf("CheckOutputSize(limit) = %v", err)
	}
}
