package hclfuncs

import (
	"errors"
	"fmt"
	"math/big"
	"net"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// The CIDR functions are implemented here on math/big rather than through a
// dependency: they are a few lines each and must handle IPv6 (128-bit)
// arithmetic, which is exactly what big.Int is for.

func networkFunctions() map[string]function.Function {
	return map[string]function.Function{
		"cidrhost":    cidrHostFunc(),
		"cidrnetmask": cidrNetmaskFunc(),
		"cidrsubnet":  cidrSubnetFunc(),
	}
}

func cidrSubnetFunc() function.Function {
	return function.New(&function.Spec{
		Description: "Calculates a subnet address within the given IP network prefix.",
		Params: []function.Parameter{
			{Name: "prefix", Type: cty.String},
			{Name: "newbits", Type: cty.Number},
			{Name: "netnum", Type: cty.Number},
		},
		Type: function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			network, err := parseCIDR(args[0].AsString())
			if err != nil {
				return cty.NilVal, err
			}
			newbits, err := wholeNumber(args[1], "newbits")
			if err != nil {
				return cty.NilVal, err
			}
			netnum, err := wholeNumber(args[2], "netnum")
			if err != nil {
				return cty.NilVal, err
			}
			subnet, err := subnetOf(network, newbits, netnum)
			if err != nil {
				return cty.NilVal, err
			}
			return cty.StringVal(subnet.String()), nil
		},
	})
}

func cidrHostFunc() function.Function {
	return function.New(&function.Spec{
		Description: "Calculates a full host IP address within the given IP network prefix; negative numbers count from the end.",
		Params: []function.Parameter{
			{Name: "prefix", Type: cty.String},
			{Name: "hostnum", Type: cty.Number},
		},
		Type: function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			network, err := parseCIDR(args[0].AsString())
			if err != nil {
				return cty.NilVal, err
			}
			hostnum, err := wholeNumber(args[1], "hostnum")
			if err != nil {
				return cty.NilVal, err
			}
			ip, err := hostOf(network, hostnum)
			if err != nil {
				return cty.NilVal, err
			}
			return cty.StringVal(ip.String()), nil
		},
	})
}

func cidrNetmaskFunc() function.Function {
	return function.New(&function.Spec{
		Description: "Converts an IPv4 address prefix in CIDR notation into a subnet mask address.",
		Params:      []function.Parameter{{Name: "prefix", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			network, err := parseCIDR(args[0].AsString())
			if err != nil {
				return cty.NilVal, err
			}
			if len(network.IP) != net.IPv4len {
				return cty.NilVal, errors.New("only IPv4 networks have a netmask")
			}
			return cty.StringVal(net.IP(network.Mask).String()), nil
		},
	})
}

func parseCIDR(s string) (*net.IPNet, error) {
	_, network, err := net.ParseCIDR(s)
	if err != nil {
		return nil, fmt.Errorf("invalid CIDR expression: %w", err)
	}
	if v4 := network.IP.To4(); v4 != nil {
		network.IP = v4 // keep IPv4 at 4 bytes so bit arithmetic uses 32 bits
	}
	return network, nil
}

func wholeNumber(v cty.Value, name string) (*big.Int, error) {
	f := v.AsBigFloat()
	if !f.IsInt() {
		return nil, fmt.Errorf("%s must be a whole number", name)
	}
	i, _ := f.Int(nil)
	return i, nil
}

// subnetOf extends network's prefix by newbits and selects subnet netnum.
func subnetOf(network *net.IPNet, newbits, netnum *big.Int) (*net.IPNet, error) {
	ones, bits := network.Mask.Size()
	if newbits.Sign() < 0 {
		return nil, errors.New("newbits must not be negative")
	}
	if !newbits.IsInt64() || int64(ones)+newbits.Int64() > int64(bits) {
		return nil, fmt.Errorf("insufficient address space to extend prefix of %d by %s", ones, newbits)
	}
	newOnes := ones + int(newbits.Int64())
	limit := new(big.Int).Lsh(big.NewInt(1), uint(newOnes-ones))
	if netnum.Sign() < 0 || netnum.Cmp(limit) >= 0 {
		return nil, fmt.Errorf("prefix extension of %d does not accommodate a subnet numbered %s", newOnes-ones, netnum)
	}
	base := new(big.Int).SetBytes(network.IP)
	base.Or(base, new(big.Int).Lsh(netnum, uint(bits-newOnes)))
	return &net.IPNet{IP: intToIP(base, len(network.IP)), Mask: net.CIDRMask(newOnes, bits)}, nil
}

// hostOf returns address number hostnum of network; negative numbers count
// back from the last address (-1 is the broadcast address of IPv4 nets).
func hostOf(network *net.IPNet, hostnum *big.Int) (net.IP, error) {
	ones, bits := network.Mask.Size()
	size := new(big.Int).Lsh(big.NewInt(1), uint(bits-ones))
	n := new(big.Int).Set(hostnum)
	if n.Sign() < 0 {
		n.Add(n, size)
	}
	if n.Sign() < 0 || n.Cmp(size) >= 0 {
		return nil, fmt.Errorf("prefix of %d does not accommodate a host numbered %s", ones, hostnum)
	}
	base := new(big.Int).SetBytes(network.IP)
	return intToIP(base.Or(base, n), len(network.IP)), nil
}

func intToIP(i *big.Int, size int) net.IP {
	ip := make(net.IP, size)
	i.FillBytes(ip)
	return ip
}
