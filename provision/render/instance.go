package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/airctl/airctl/provision/provider"
	"github.com/airctl/airctl/provision/state"
)

// Instance writes one resource instance as `airctl state show` does:
// "# addr:" and an HCL block with four-space indentation, nested blocks as
// blocks (with the schema; sch may be nil), sensitive values hidden.
func Instance(w io.Writer, addr state.Address, sch *provider.Schema, v cty.Value) error {
	kind := "resource"
	if addr.Mode == state.Data {
		kind = "data"
	}
	lines := []string{"# " + addr.String() + ":", fmt.Sprintf("%s %q %q {", kind, addr.Type, addr.Name)}
	// The plan renderer with the same value on both sides shows every
	// member without a change symbol; its layout is indented for symbols,
	// which state show does not have, so four columns come off.
	b := body{o: Options{}}
	for _, l := range b.render(sch, v, v, 1, cty.Path{}, showAll) {
		lines = append(lines, strings.TrimPrefix(l, "    "))
	}
	lines = append(lines, "}")
	_, err := io.WriteString(w, strings.Join(lines, "\n")+"\n")
	return err
}
