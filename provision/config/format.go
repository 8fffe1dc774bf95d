package config

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// Format returns src in canonical HCL layout (alignment of =, indentation,
// spacing), for airctl fmt. Source with syntax errors is refused rather
// than reformatted, because hclwrite is lenient and could rearrange broken
// input into something misleading. The error wraps hcl.Diagnostics.
func Format(src []byte) ([]byte, error) {
	return FormatFile("<input>", src)
}

// FormatFile is Format with the filename used in syntax error positions.
func FormatFile(filename string, src []byte) ([]byte, error) {
	if _, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos); diags.HasErrors() {
		return nil, fmt.Errorf("cannot format %s: %w", filename, diags)
	}
	return hclwrite.Format(src), nil
}
