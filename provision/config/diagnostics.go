package config

import (
	"fmt"
	"io"

	"github.com/hashicorp/hcl/v2"
)

// WriteDiagnostics renders diagnostics like Terraform: severity, summary,
// file:line:col, the source lines with the range underlined, and the
// detail. files supplies the snippets (Config.Files); width wraps the
// detail text (0: no wrapping); color adds ANSI colours for terminals.
func WriteDiagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics, width uint, color bool) error {
	if err := hcl.NewDiagnosticTextWriter(w, files, width, color).WriteDiagnostics(diags); err != nil {
		return fmt.Errorf("writing diagnostics: %w", err)
	}
	return nil
}

// WriteDiagnostics renders diagnostics with this configuration's sources.
func (c *Config) WriteDiagnostics(w io.Writer, diags hcl.Diagnostics, width uint, color bool) error {
	return WriteDiagnostics(w, c.Files(), diags, width, color)
}
