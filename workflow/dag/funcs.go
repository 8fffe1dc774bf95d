package dag

import (
	"github.com/zclconf/go-cty/cty/function"

	"github.com/airctl/airctl/internal/hclfuncs"
)

// functions returns the functions DAG expressions may call: the same pure
// functions as airctl configurations, with Terraform's names and semantics.
// It is built per load instead of kept in a package variable: the map is
// then never shared beyond the DAGs of one load, which only read it.
func functions() map[string]function.Function {
	return hclfuncs.Pure()
}
