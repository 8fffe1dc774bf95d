package gcpfake

import (
	"fmt"
	"net/netip"
	"strings"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/proto"
)

func networkKind() *kind {
	return &kind{
		collection: "networks", resource: "networks", scope: "global",
		kindName: "compute#network", singular: "network",
		newMsg:   func() proto.Message { return &computepb.Network{} },
		prepare:  prepareNetwork,
		decorate: decorateNetwork,
	}
}

func subnetworkKind() *kind {
	return &kind{
		collection: "subnetworks", resource: "subnetworks", scope: "regions",
		kindName: "compute#subnetwork", singular: "subnetwork",
		newMsg:  func() proto.Message { return &computepb.Subnetwork{} },
		prepare: prepareSubnetwork,
		refs: func(_ *state, _ string, m proto.Message) []string {
			return []string{keyOf(m.(*computepb.Subnetwork).GetNetwork())}
		},
	}
}

func firewallKind() *kind {
	return &kind{
		collection: "firewalls", resource: "firewalls", scope: "global",
		kindName: "compute#firewall", singular: "firewall",
		newMsg:  func() proto.Message { return &computepb.Firewall{} },
		prepare: prepareFirewall,
		refs: func(_ *state, _ string, m proto.Message) []string {
			return []string{keyOf(m.(*computepb.Firewall).GetNetwork())}
		},
	}
}

func addressKind() *kind {
	return &kind{
		collection: "addresses", resource: "globalAddresses", scope: "global",
		kindName: "compute#address", singular: "address",
		newMsg:  func() proto.Message { return &computepb.Address{} },
		prepare: prepareAddress,
		refs: func(_ *state, _ string, m proto.Message) []string {
			if n := m.(*computepb.Address).GetNetwork(); n != "" {
				return []string{keyOf(n)}
			}
			return nil
		},
		decorate: decorateAddress,
		verbs:    map[string]verbFunc{"setLabels": setGlobalLabels},
	}
}

func prepareNetwork(c *call, key string, msg, old proto.Message) error {
	n := msg.(*computepb.Network)
	if n.IPv4Range != nil {
		return errInvalidField("resource.IPv4Range", n.GetIPv4Range(), "Legacy networks cannot be created.")
	}
	if n.AutoCreateSubnetworks == nil {
		if old == nil {
			return errInvalidField("resource.autoCreateSubnetworks", "", "Must be set to create a VPC network (legacy networks cannot be created).")
		}
		n.AutoCreateSubnetworks = old.(*computepb.Network).AutoCreateSubnetworks
	}
	if old != nil && n.GetAutoCreateSubnetworks() != old.(*computepb.Network).GetAutoCreateSubnetworks() {
		return errInvalidField("resource.autoCreateSubnetworks", fmt.Sprint(n.GetAutoCreateSubnetworks()), "Use switchToCustomMode to change the subnet mode.")
	}
	if n.RoutingConfig == nil {
		n.RoutingConfig = &computepb.NetworkRoutingConfig{}
	}
	setDefault(&n.RoutingConfig.RoutingMode, "REGIONAL")
	setDefault(&n.NetworkFirewallPolicyEnforcementOrder, "AFTER_CLASSIC_FIREWALL")
	if n.Mtu == nil {
		n.Mtu = proto.Int32(1460)
	}
	n.SelfLinkWithId = proto.String(selfLink(fmt.Sprintf("projects/%s/global/networks/%d", c.project(), n.GetId())))
	return nil
}

func decorateNetwork(s *Server, key string, m proto.Message) {
	n := m.(*computepb.Network)
	n.Subnetworks = nil
	for _, r := range s.referrers(key) {
		if keyCollection(r) == "subnetworks" {
			n.Subnetworks = append(n.Subnetworks, selfLink(r))
		}
	}
}

func prepareSubnetwork(c *call, key string, msg, old proto.Message) error {
	sub := msg.(*computepb.Subnetwork)
	if sub.GetNetwork() == "" {
		return errRequired("resource.network")
	}
	netKey, err := c.refExisting("resource.network", sub.GetNetwork(), "networks")
	if err != nil {
		return err
	}
	sub.Network = proto.String(selfLink(netKey))
	prefix, err := netip.ParsePrefix(sub.GetIpCidrRange())
	if err != nil || !prefix.Addr().Is4() || prefix.Masked() != prefix || prefix.Bits() > 29 {
		return errInvalidField("resource.ipCidrRange", sub.GetIpCidrRange(), "Must be a valid IPv4 CIDR range of at most /29, with no host bits set.")
	}
	if old != nil {
		o := old.(*computepb.Subnetwork)
		if keyOf(o.GetNetwork()) != netKey || o.GetIpCidrRange() != sub.GetIpCidrRange() {
			return errInvalid("Invalid value for field 'resource': the network and ipCidrRange of a subnetwork cannot be changed by patch.")
		}
	}
	if other := c.s.overlappingSubnet(key, netKey, prefix); other != "" {
		return errInvalidField("resource.ipCidrRange", sub.GetIpCidrRange(),
			fmt.Sprintf("Invalid IPCidrRange: %s conflicts with existing subnetwork '%s'.", prefix, other))
	}
	sub.GatewayAddress = proto.String(prefix.Addr().Next().String())
	setDefault(&sub.Purpose, "PRIVATE")
	setDefault(&sub.StackType, "IPV4_ONLY")
	setDefault(&sub.PrivateIpv6GoogleAccess, "DISABLE_GOOGLE_ACCESS")
	if sub.PrivateIpGoogleAccess == nil {
		sub.PrivateIpGoogleAccess = proto.Bool(false)
	}
	return nil
}

// overlappingSubnet names a subnetwork of the same network whose range
// overlaps prefix, as GCP refuses overlapping ranges within a VPC.
func (s *Server) overlappingSubnet(self, netKey string, prefix netip.Prefix) string {
	for k, m := range s.st.compute {
		other, ok := m.(*computepb.Subnetwork)
		if !ok || k == self || keyOf(other.GetNetwork()) != netKey {
			continue
		}
		if p, err := netip.ParsePrefix(other.GetIpCidrRange()); err == nil && p.Overlaps(prefix) {
			return k
		}
	}
	return ""
}

func prepareFirewall(c *call, _ string, msg, _ proto.Message) error {
	fw := msg.(*computepb.Firewall)
	network := fw.GetNetwork()
	if network == "" {
		network = "global/networks/default"
	}
	netKey, err := c.refExisting("resource.network", network, "networks")
	if err != nil {
		return err
	}
	fw.Network = proto.String(selfLink(netKey))
	if (len(fw.Allowed) == 0) == (len(fw.Denied) == 0) {
		return errInvalidField("resource", "", "Exactly one of allowed or denied must be specified.")
	}
	for i, a := range fw.Allowed {
		if a.GetIPProtocol() == "" {
			return errRequired(fmt.Sprintf("resource.allowed[%d].IPProtocol", i))
		}
	}
	for i, d := range fw.Denied {
		if d.GetIPProtocol() == "" {
			return errRequired(fmt.Sprintf("resource.denied[%d].IPProtocol", i))
		}
	}
	setDefault(&fw.Direction, "INGRESS")
	if fw.Priority == nil {
		fw.Priority = proto.Int32(1000)
	}
	if p := fw.GetPriority(); p < 0 || p > 65535 {
		return errInvalidField("resource.priority", fmt.Sprint(p), "Must be between 0 and 65535.")
	}
	switch fw.GetDirection() {
	case "INGRESS":
		if len(fw.SourceRanges) == 0 && len(fw.SourceTags) == 0 && len(fw.SourceServiceAccounts) == 0 {
			fw.SourceRanges = []string{"0.0.0.0/0"}
		}
	case "EGRESS":
		if len(fw.SourceTags) > 0 {
			return errInvalidField("resource.sourceTags", strings.Join(fw.SourceTags, ","), "Source tags cannot be set for EGRESS firewalls.")
		}
		if len(fw.DestinationRanges) == 0 {
			fw.DestinationRanges = []string{"0.0.0.0/0"}
		}
	}
	if fw.LogConfig == nil {
		fw.LogConfig = &computepb.FirewallLogConfig{Enable: proto.Bool(false)}
	}
	if fw.Disabled == nil {
		fw.Disabled = proto.Bool(false)
	}
	return nil
}

// Global external addresses come from a range that looks like Google's.
const externalPool = "34.120.0.0/16"

func prepareAddress(c *call, key string, msg, _ proto.Message) error {
	a := msg.(*computepb.Address)
	setDefault(&a.AddressType, "EXTERNAL")
	setDefault(&a.IpVersion, "IPV4")
	pool := externalPool
	switch a.GetAddressType() {
	case "EXTERNAL":
		setDefault(&a.NetworkTier, "PREMIUM")
		if a.GetNetwork() != "" {
			return errInvalidField("resource.network", a.GetNetwork(), "Network may only be set for INTERNAL addresses.")
		}
	case "INTERNAL":
		if a.GetPurpose() == "" {
			return errRequired("resource.purpose")
		}
		netKey, err := c.refExisting("resource.network", a.GetNetwork(), "networks")
		if err != nil {
			return err
		}
		a.Network = proto.String(selfLink(netKey))
		if a.PrefixLength == nil && a.GetPurpose() == "VPC_PEERING" {
			a.PrefixLength = proto.Int32(16)
		}
		pool = "10.200.0.0/16"
	}
	if a.GetIpVersion() != "IPV4" {
		return errInvalidField("resource.ipVersion", a.GetIpVersion(), "gcpfake allocates IPv4 addresses only.")
	}
	if a.GetAddress() == "" {
		ip, err := nextFreeIP(pool, 1, c.s.usedExternalIPs())
		if err != nil {
			return err
		}
		a.Address = proto.String(ip)
	} else if _, err := netip.ParseAddr(a.GetAddress()); err != nil {
		return errInvalidField("resource.address", a.GetAddress(), "Must be an IP address.")
	}
	a.Status = proto.String("RESERVED")
	return nil
}

func decorateAddress(s *Server, key string, m proto.Message) {
	a := m.(*computepb.Address)
	a.Users = nil
	for _, r := range s.referrers(key) {
		a.Users = append(a.Users, selfLink(r))
	}
	a.Status = proto.String("RESERVED")
	if len(a.Users) > 0 {
		a.Status = proto.String("IN_USE")
	}
}

func setGlobalLabels(c *call, _ string, next proto.Message) error {
	req := &computepb.GlobalSetLabelsRequest{}
	if err := c.decodeProto(req); err != nil {
		return err
	}
	if err := checkFingerprint(getStr(next, "label_fingerprint"), req.GetLabelFingerprint()); err != nil {
		return err
	}
	switch r := next.(type) {
	case *computepb.Address:
		r.Labels = req.Labels
	case *computepb.ForwardingRule:
		r.Labels = req.Labels
	}
	setStr(next, "label_fingerprint", c.fingerprint())
	return nil
}

// usedExternalIPs collects the addresses already handed out (reserved
// addresses and forwarding rules' IPs).
func (s *Server) usedExternalIPs() map[string]bool {
	used := map[string]bool{}
	for _, m := range s.st.compute {
		switch r := m.(type) {
		case *computepb.Address:
			used[r.GetAddress()] = true
		case *computepb.ForwardingRule:
			used[r.GetIPAddress()] = true
		}
	}
	return used
}

// nextFreeIP returns the first address of cidr, skipping the first skip
// addresses and the last two (GCP reserves them), that is not in used.
func nextFreeIP(cidr string, skip int, used map[string]bool) (string, error) {
	prefix, err := netip.ParsePrefix(cidr)
	if err != nil {
		return "", fmt.Errorf("bad range %s: %w", cidr, err)
	}
	addr := prefix.Masked().Addr()
	for range skip {
		addr = addr.Next()
	}
	for ; prefix.Contains(addr); addr = addr.Next() {
		last := addr.Next()
		if !prefix.Contains(last) || !prefix.Contains(last.Next()) {
			break
		}
		if !used[addr.String()] {
			return addr.String(), nil
		}
	}
	return "", newAPIError(409, "IP_SPACE_EXHAUSTED", "IP space of '%s' is exhausted.", cidr)
}
