package gcpfake

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/proto"
)

// The HTTPS load balancer chain of the reference stack: forwarding rule →
// target proxy → URL map → backend service → instance group (+ health
// check), with a managed certificate on the HTTPS proxy. Each link is a
// reference GCP enforces on create and on delete.

func healthCheckKind() *kind {
	return &kind{
		collection: "healthChecks", resource: "healthChecks", scope: "global",
		kindName: "compute#healthCheck", singular: "health_check",
		newMsg:  func() proto.Message { return &computepb.HealthCheck{} },
		prepare: prepareHealthCheck,
	}
}

func instanceGroupKind() *kind {
	return &kind{
		collection: "instanceGroups", resource: "instanceGroups", scope: "zones",
		kindName: "compute#instanceGroup", singular: "instance_group",
		newMsg:  func() proto.Message { return &computepb.InstanceGroup{} },
		prepare: prepareInstanceGroup,
		refs:    instanceGroupRefs,
		decorate: func(s *Server, key string, m proto.Message) {
			m.(*computepb.InstanceGroup).Size = proto.Int32(int32(len(s.st.igMembers[key])))
		},
		deleted: func(c *call, key string, _ proto.Message) { delete(c.s.st.igMembers, key) },
		verbs: map[string]verbFunc{
			"addInstances":    addInstances,
			"removeInstances": removeInstances,
			"setNamedPorts":   setNamedPorts,
		},
		reads: map[string]func(*Server, *call, string, proto.Message) (any, error){
			"listInstances": listGroupInstances,
		},
	}
}

func backendServiceKind() *kind {
	return &kind{
		collection: "backendServices", resource: "backendServices", scope: "global",
		kindName: "compute#backendService", singular: "backend_service",
		newMsg:  func() proto.Message { return &computepb.BackendService{} },
		prepare: prepareBackendService,
		refs: func(_ *state, _ string, m proto.Message) []string {
			bs := m.(*computepb.BackendService)
			out := mapKeys(bs.HealthChecks)
			for _, b := range bs.Backends {
				out = append(out, keyOf(b.GetGroup()))
			}
			return out
		},
		decorate: func(s *Server, key string, m proto.Message) {
			bs := m.(*computepb.BackendService)
			bs.UsedBy = nil
			for _, r := range s.referrers(key) {
				bs.UsedBy = append(bs.UsedBy, &computepb.BackendServiceUsedBy{Reference: proto.String(selfLink(r))})
			}
		},
	}
}

func urlMapKind() *kind {
	return &kind{
		collection: "urlMaps", resource: "urlMaps", scope: "global",
		kindName: "compute#urlMap", singular: "url_map",
		newMsg:  func() proto.Message { return &computepb.UrlMap{} },
		prepare: prepareURLMap,
		refs: func(_ *state, _ string, m proto.Message) []string {
			var out []string
			for _, f := range urlMapServiceFields(m.(*computepb.UrlMap)) {
				out = append(out, keyOf(*f.value))
			}
			return out
		},
	}
}

func targetHTTPProxyKind() *kind {
	return &kind{
		collection: "targetHttpProxies", resource: "targetHttpProxies", scope: "global",
		kindName: "compute#targetHttpProxy", singular: "target_http_proxy",
		newMsg: func() proto.Message { return &computepb.TargetHttpProxy{} },
		prepare: func(c *call, _ string, msg, _ proto.Message) error {
			p := msg.(*computepb.TargetHttpProxy)
			return c.setURLMapRef(&p.UrlMap, "resource.urlMap")
		},
		refs: func(_ *state, _ string, m proto.Message) []string {
			return []string{keyOf(m.(*computepb.TargetHttpProxy).GetUrlMap())}
		},
		verbs: map[string]verbFunc{"setUrlMap": setProxyURLMap},
	}
}

func targetHTTPSProxyKind() *kind {
	return &kind{
		collection: "targetHttpsProxies", resource: "targetHttpsProxies", scope: "global",
		kindName: "compute#targetHttpsProxy", singular: "target_https_proxy",
		newMsg:  func() proto.Message { return &computepb.TargetHttpsProxy{} },
		prepare: prepareHTTPSProxy,
		refs: func(_ *state, _ string, m proto.Message) []string {
			p := m.(*computepb.TargetHttpsProxy)
			return append(mapKeys(p.SslCertificates), keyOf(p.GetUrlMap()))
		},
		verbs: map[string]verbFunc{"setUrlMap": setProxyURLMap, "setSslCertificates": setSslCertificates},
	}
}

func sslCertificateKind() *kind {
	return &kind{
		collection: "sslCertificates", resource: "sslCertificates", scope: "global",
		kindName: "compute#sslCertificate", singular: "ssl_certificate",
		newMsg:  func() proto.Message { return &computepb.SslCertificate{} },
		prepare: prepareSslCertificate,
	}
}

func forwardingRuleKind() *kind {
	return &kind{
		collection: "forwardingRules", resource: "globalForwardingRules", scope: "global",
		kindName: "compute#forwardingRule", singular: "forwarding_rule",
		newMsg:  func() proto.Message { return &computepb.ForwardingRule{} },
		prepare: prepareForwardingRule,
		refs:    forwardingRuleRefs,
		verbs:   map[string]verbFunc{"setTarget": setForwardingRuleTarget, "setLabels": setGlobalLabels},
	}
}

func mapKeys(links []string) []string {
	out := make([]string, 0, len(links))
	for _, l := range links {
		out = append(out, keyOf(l))
	}
	return out
}

func prepareHealthCheck(_ *call, _ string, msg, _ proto.Message) error {
	hc := msg.(*computepb.HealthCheck)
	typ := hc.GetType()
	if typ == "" {
		return errRequired("resource.type")
	}
	// Exactly the sub-object matching type may be set.
	subs := map[string]bool{
		"HTTP": hc.HttpHealthCheck != nil, "HTTPS": hc.HttpsHealthCheck != nil, "HTTP2": hc.Http2HealthCheck != nil,
		"TCP": hc.TcpHealthCheck != nil, "SSL": hc.SslHealthCheck != nil, "GRPC": hc.GrpcHealthCheck != nil,
		"GRPC_WITH_TLS": hc.GrpcTlsHealthCheck != nil,
	}
	for t, set := range subs {
		if set && t != typ {
			return errInvalidField("resource.type", typ, fmt.Sprintf("The health check has a %s configuration that does not match its type.", t))
		}
	}
	defaultInt(&hc.CheckIntervalSec, 5)
	defaultInt(&hc.TimeoutSec, 5)
	defaultInt(&hc.HealthyThreshold, 2)
	defaultInt(&hc.UnhealthyThreshold, 2)
	if hc.GetTimeoutSec() > hc.GetCheckIntervalSec() {
		return errInvalidField("resource.timeoutSec", strconv.Itoa(int(hc.GetTimeoutSec())), "timeoutSec should be less than or equal to checkIntervalSec.")
	}
	switch typ {
	case "HTTP":
		if hc.HttpHealthCheck == nil {
			hc.HttpHealthCheck = &computepb.HTTPHealthCheck{}
		}
		h := hc.HttpHealthCheck
		httpDefaults(&h.Port, &h.PortName, &h.PortSpecification, &h.RequestPath, &h.ProxyHeader, 80)
	case "HTTPS":
		if hc.HttpsHealthCheck == nil {
			hc.HttpsHealthCheck = &computepb.HTTPSHealthCheck{}
		}
		h := hc.HttpsHealthCheck
		httpDefaults(&h.Port, &h.PortName, &h.PortSpecification, &h.RequestPath, &h.ProxyHeader, 443)
	case "HTTP2":
		if hc.Http2HealthCheck == nil {
			hc.Http2HealthCheck = &computepb.HTTP2HealthCheck{}
		}
		h := hc.Http2HealthCheck
		httpDefaults(&h.Port, &h.PortName, &h.PortSpecification, &h.RequestPath, &h.ProxyHeader, 443)
	case "TCP":
		if hc.TcpHealthCheck == nil {
			hc.TcpHealthCheck = &computepb.TCPHealthCheck{}
		}
		h := hc.TcpHealthCheck
		var path *string
		httpDefaults(&h.Port, &h.PortName, &h.PortSpecification, &path, &h.ProxyHeader, 80)
	}
	return nil
}

// httpDefaults fills what GCP fills in an HTTP-like health check: a fixed
// port unless a named port is used, path "/", no proxy header.
func httpDefaults(port **int32, portName, spec, path, proxy **string, defPort int32) {
	if *portName == nil {
		defaultInt(port, defPort)
		setDefault(spec, "USE_FIXED_PORT")
	} else {
		setDefault(spec, "USE_NAMED_PORT")
	}
	if path != nil {
		setDefault(path, "/")
	}
	setDefault(proxy, "NONE")
}

func defaultInt(p **int32, v int32) {
	if *p == nil {
		*p = proto.Int32(v)
	}
}

func prepareInstanceGroup(c *call, _ string, msg, _ proto.Message) error {
	ig := msg.(*computepb.InstanceGroup)
	if ig.GetNetwork() != "" {
		k, err := c.refExisting("resource.network", ig.GetNetwork(), "networks")
		if err != nil {
			return err
		}
		ig.Network = proto.String(selfLink(k))
	}
	if ig.GetSubnetwork() != "" {
		k, err := c.refExisting("resource.subnetwork", ig.GetSubnetwork(), "subnetworks")
		if err != nil {
			return err
		}
		ig.Subnetwork = proto.String(selfLink(k))
	}
	return checkNamedPorts(ig.NamedPorts, "resource.namedPorts")
}

func checkNamedPorts(ports []*computepb.NamedPort, field string) error {
	for i, p := range ports {
		if !nameRE.MatchString(p.GetName()) {
			return errInvalidField(fmt.Sprintf("%s[%d].name", field, i), p.GetName(), "Must be a valid port name.")
		}
		if p.GetPort() < 1 || p.GetPort() > 65535 {
			return errInvalidField(fmt.Sprintf("%s[%d].port", field, i), fmt.Sprint(p.GetPort()), "Must be between 1 and 65535.")
		}
	}
	return nil
}

func instanceGroupRefs(st *state, key string, m proto.Message) []string {
	ig := m.(*computepb.InstanceGroup)
	out := append([]string(nil), st.igMembers[key]...)
	if ig.GetNetwork() != "" {
		out = append(out, keyOf(ig.GetNetwork()))
	}
	if ig.GetSubnetwork() != "" {
		out = append(out, keyOf(ig.GetSubnetwork()))
	}
	return out
}

func addInstances(c *call, key string, next proto.Message) error {
	ig := next.(*computepb.InstanceGroup)
	req := &computepb.InstanceGroupsAddInstancesRequest{}
	if err := c.decodeProto(req); err != nil {
		return err
	}
	members := slices.Clone(c.s.st.igMembers[key])
	for i, ref := range req.Instances {
		field := fmt.Sprintf("resource.instances[%d].instance", i)
		instKey, err := c.refExisting(field, ref.GetInstance(), "instances")
		if err != nil {
			return err
		}
		if zoneKey(instKey) != zoneKey(key) {
			return errInvalidField(field, ref.GetInstance(), "The instance must be in the instance group's zone.")
		}
		if slices.Contains(members, instKey) {
			return newAPIError(400, "memberAlreadyExists", "The resource '%s' is already a member of '%s'", instKey, key)
		}
		nic := c.s.st.compute[instKey].(*computepb.Instance).NetworkInterfaces[0]
		if ig.GetNetwork() == "" {
			// An unmanaged group takes the network of its first instance.
			ig.Network, ig.Subnetwork = nic.Network, nic.Subnetwork
		} else if keyOf(ig.GetNetwork()) != keyOf(nic.GetNetwork()) {
			return errInvalidField(field, ref.GetInstance(), "The instance's network does not match the instance group's network.")
		}
		members = append(members, instKey)
	}
	c.onCommit(func() { c.s.st.igMembers[key] = members })
	return nil
}

func removeInstances(c *call, key string, _ proto.Message) error {
	req := &computepb.InstanceGroupsRemoveInstancesRequest{}
	if err := c.decodeProto(req); err != nil {
		return err
	}
	members := slices.Clone(c.s.st.igMembers[key])
	for i, ref := range req.Instances {
		instKey, err := c.ref(fmt.Sprintf("resource.instances[%d].instance", i), ref.GetInstance(), "instances")
		if err != nil {
			return err
		}
		j := slices.Index(members, instKey)
		if j < 0 {
			return newAPIError(400, "memberNotFound", "The resource '%s' is not a member of '%s'", instKey, key)
		}
		members = slices.Delete(members, j, j+1)
	}
	c.onCommit(func() { c.s.st.igMembers[key] = members })
	return nil
}

func setNamedPorts(c *call, _ string, next proto.Message) error {
	ig := next.(*computepb.InstanceGroup)
	req := &computepb.InstanceGroupsSetNamedPortsRequest{}
	if err := c.decodeProto(req); err != nil {
		return err
	}
	// The fingerprint is optional here; a stale one is refused.
	if req.GetFingerprint() != "" && req.GetFingerprint() != ig.GetFingerprint() {
		return errConditionNotMet("Supplied fingerprint does not match current fingerprint.")
	}
	if err := checkNamedPorts(req.NamedPorts, "resource.namedPorts"); err != nil {
		return err
	}
	ig.NamedPorts = req.NamedPorts
	return nil
}

// listGroupInstances serves the listInstances POST. Its body is not
// validated: the Go REST client sends the whole request message there.
func listGroupInstances(s *Server, _ *call, key string, m proto.Message) (any, error) {
	ig := m.(*computepb.InstanceGroup)
	resp := &computepb.InstanceGroupsListInstances{
		Kind:     proto.String("compute#instanceGroupsListInstances"),
		Id:       proto.String(selfLink(key) + "/listInstances"),
		SelfLink: proto.String(selfLink(key) + "/listInstances"),
		Items:    []*computepb.InstanceWithNamedPorts{},
	}
	for _, instKey := range s.st.igMembers[key] {
		inst, _ := s.st.compute[instKey].(*computepb.Instance)
		resp.Items = append(resp.Items, &computepb.InstanceWithNamedPorts{
			Instance: proto.String(selfLink(instKey)), Status: proto.String(inst.GetStatus()), NamedPorts: ig.NamedPorts,
		})
	}
	return resp, nil
}

func prepareBackendService(c *call, _ string, msg, _ proto.Message) error {
	bs := msg.(*computepb.BackendService)
	setDefault(&bs.Protocol, "HTTP")
	setDefault(&bs.LoadBalancingScheme, "EXTERNAL")
	setDefault(&bs.SessionAffinity, "NONE")
	if slices.Contains([]string{"HTTP", "HTTPS", "HTTP2"}, bs.GetProtocol()) {
		setDefault(&bs.PortName, "http")
	}
	defaultInt(&bs.Port, 80)
	defaultInt(&bs.TimeoutSec, 30)
	defaultInt(&bs.AffinityCookieTtlSec, 0)
	if bs.ConnectionDraining == nil {
		bs.ConnectionDraining = &computepb.ConnectionDraining{DrainingTimeoutSec: proto.Int32(0)}
	}
	if bs.EnableCDN == nil {
		bs.EnableCDN = proto.Bool(false)
	}
	if len(bs.HealthChecks) > 1 {
		return errInvalidField("resource.healthChecks", strings.Join(bs.HealthChecks, ","), "At most one health check may be specified.")
	}
	for i, hc := range bs.HealthChecks {
		k, err := c.refExisting(fmt.Sprintf("resource.healthChecks[%d]", i), hc, "healthChecks")
		if err != nil {
			return err
		}
		bs.HealthChecks[i] = selfLink(k)
	}
	if len(bs.Backends) > 0 && len(bs.HealthChecks) == 0 {
		return errInvalidField("resource.healthChecks", "", "A health check is required for backend services with instance group backends.")
	}
	seen := map[string]bool{}
	for i, b := range bs.Backends {
		field := fmt.Sprintf("resource.backends[%d].group", i)
		k, err := c.refExisting(field, b.GetGroup(), "instanceGroups")
		if err != nil {
			return err
		}
		if seen[k] {
			return errInvalidField(field, b.GetGroup(), "Duplicate backend group.")
		}
		seen[k] = true
		b.Group = proto.String(selfLink(k))
		setDefault(&b.BalancingMode, "UTILIZATION")
		if b.CapacityScaler == nil {
			b.CapacityScaler = proto.Float32(1)
		}
		if b.GetBalancingMode() == "UTILIZATION" && b.MaxUtilization == nil {
			b.MaxUtilization = proto.Float32(0.8)
		}
	}
	return nil
}

type serviceField struct {
	name  string
	value *string
}

// urlMapServiceFields lists every backend service reference in a URL map.
func urlMapServiceFields(um *computepb.UrlMap) []serviceField {
	var out []serviceField
	add := func(name string, p *string) {
		if p != nil && *p != "" {
			out = append(out, serviceField{name, p})
		}
	}
	add("resource.defaultService", um.DefaultService)
	for i, pm := range um.PathMatchers {
		f := fmt.Sprintf("resource.pathMatchers[%d]", i)
		add(f+".defaultService", pm.DefaultService)
		for j, pr := range pm.PathRules {
			add(fmt.Sprintf("%s.pathRules[%d].service", f, j), pr.Service)
		}
		for j, rr := range pm.RouteRules {
			add(fmt.Sprintf("%s.routeRules[%d].service", f, j), rr.Service)
		}
	}
	return out
}

func prepareURLMap(c *call, _ string, msg, _ proto.Message) error {
	um := msg.(*computepb.UrlMap)
	hasService, hasRedirect := um.GetDefaultService() != "", um.DefaultUrlRedirect != nil
	switch {
	case hasService && hasRedirect:
		return errInvalidField("resource.defaultUrlRedirect", "", "defaultService and defaultUrlRedirect cannot both be set.")
	case !hasService && !hasRedirect && um.DefaultRouteAction == nil:
		return errInvalidField("resource", "", "A URL map needs a defaultService, a defaultUrlRedirect or a defaultRouteAction.")
	}
	if r := um.DefaultUrlRedirect; r != nil {
		setDefault(&r.RedirectResponseCode, "MOVED_PERMANENTLY_DEFAULT")
		if r.StripQuery == nil {
			r.StripQuery = proto.Bool(false)
		}
		if r.HttpsRedirect == nil {
			r.HttpsRedirect = proto.Bool(false)
		}
	}
	for _, f := range urlMapServiceFields(um) {
		k, err := c.refExisting(f.name, *f.value, "backendServices", "backendBuckets")
		if err != nil {
			return err
		}
		*f.value = selfLink(k)
	}
	matchers := map[string]bool{}
	for _, pm := range um.PathMatchers {
		matchers[pm.GetName()] = true
	}
	for i, hr := range um.HostRules {
		if !matchers[hr.GetPathMatcher()] {
			return errInvalidField(fmt.Sprintf("resource.hostRules[%d].pathMatcher", i), hr.GetPathMatcher(), "The path matcher does not exist in this URL map.")
		}
	}
	return nil
}

func (c *call) setURLMapRef(p **string, field string) error {
	if *p == nil || **p == "" {
		return errRequired(field)
	}
	k, err := c.refExisting(field, **p, "urlMaps")
	if err != nil {
		return err
	}
	*p = proto.String(selfLink(k))
	return nil
}

func prepareHTTPSProxy(c *call, _ string, msg, _ proto.Message) error {
	p := msg.(*computepb.TargetHttpsProxy)
	if err := c.setURLMapRef(&p.UrlMap, "resource.urlMap"); err != nil {
		return err
	}
	if err := c.setCertRefs(p.SslCertificates, "resource.sslCertificates"); err != nil {
		return err
	}
	if len(p.SslCertificates) == 0 && p.GetCertificateMap() == "" {
		return errRequired("resource.sslCertificates")
	}
	setDefault(&p.QuicOverride, "NONE")
	return nil
}

func (c *call) setCertRefs(certs []string, field string) error {
	if len(certs) > 15 {
		return errInvalidField(field, "", "At most 15 SSL certificates may be attached to a proxy.")
	}
	for i, cert := range certs {
		k, err := c.refExisting(fmt.Sprintf("%s[%d]", field, i), cert, "sslCertificates")
		if err != nil {
			return err
		}
		certs[i] = selfLink(k)
	}
	return nil
}

func setProxyURLMap(c *call, _ string, next proto.Message) error {
	req := &computepb.UrlMapReference{}
	if err := c.decodeProto(req); err != nil {
		return err
	}
	if err := c.setURLMapRef(&req.UrlMap, "resource.urlMap"); err != nil {
		return err
	}
	setStr(next, "url_map", req.GetUrlMap())
	return nil
}

func setSslCertificates(c *call, _ string, next proto.Message) error {
	req := &computepb.TargetHttpsProxiesSetSslCertificatesRequest{}
	if err := c.decodeProto(req); err != nil {
		return err
	}
	if len(req.SslCertificates) == 0 {
		return errRequired("resource.sslCertificates")
	}
	if err := c.setCertRefs(req.SslCertificates, "resource.sslCertificates"); err != nil {
		return err
	}
	next.(*computepb.TargetHttpsProxy).SslCertificates = req.SslCertificates
	return nil
}

func prepareSslCertificate(c *call, key string, msg, _ proto.Message) error {
	cert := msg.(*computepb.SslCertificate)
	if cert.GetType() == "" {
		cert.Type = proto.String("SELF_MANAGED")
		if cert.Managed != nil {
			cert.Type = proto.String("MANAGED")
		}
	}
	if cert.GetType() == "SELF_MANAGED" {
		return selfManagedCert(cert)
	}
	if cert.GetCertificate() != "" || cert.GetPrivateKey() != "" {
		return errInvalidField("resource.certificate", "", "A MANAGED certificate cannot carry a certificate or private key.")
	}
	domains := cert.GetManaged().GetDomains()
	if len(domains) == 0 || len(domains) > 100 {
		return errInvalidField("resource.managed.domains", strings.Join(domains, ","), "Between 1 and 100 domains are required.")
	}
	cert.Managed.Status = proto.String("PROVISIONING")
	cert.Managed.DomainStatus = map[string]string{}
	for _, d := range domains {
		cert.Managed.DomainStatus[d] = "PROVISIONING"
	}
	if d := c.s.latency.CertProvisioning; d > 0 {
		c.later(doCertActive, key, c.now.Add(d))
	} else {
		activateCert(cert, c.now)
	}
	return nil
}

// activateCert is the end of managed provisioning. Real GCP also needs DNS
// pointing at the load balancer; the fake only waits.
func activateCert(cert *computepb.SslCertificate, at time.Time) {
	m := cert.GetManaged()
	if m == nil || m.GetStatus() == "ACTIVE" {
		return
	}
	m.Status = proto.String("ACTIVE")
	for d := range m.DomainStatus {
		m.DomainStatus[d] = "ACTIVE"
	}
	cert.SubjectAlternativeNames = slices.Clone(m.Domains)
	cert.ExpireTime = proto.String(computeTime(at.Add(90 * 24 * time.Hour)))
}

// selfManagedCert checks the PEM certificate and fills what GCP derives
// from it; the private key is never returned.
func selfManagedCert(cert *computepb.SslCertificate) error {
	if cert.GetCertificate() == "" {
		return errRequired("resource.certificate")
	}
	if cert.GetPrivateKey() == "" {
		return errRequired("resource.privateKey")
	}
	block, _ := pem.Decode([]byte(cert.GetCertificate()))
	if block == nil {
		return errInvalidField("resource.certificate", "", "The SSL certificate could not be parsed.")
	}
	x, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return errInvalidField("resource.certificate", "", "The SSL certificate could not be parsed: "+err.Error())
	}
	if k, _ := pem.Decode([]byte(cert.GetPrivateKey())); k == nil {
		return errInvalidField("resource.privateKey", "", "The private key could not be parsed.")
	}
	cert.PrivateKey = nil
	cert.ExpireTime = proto.String(computeTime(x.NotAfter))
	cert.SubjectAlternativeNames = x.DNSNames
	return nil
}

func prepareForwardingRule(c *call, key string, msg, old proto.Message) error {
	fr := msg.(*computepb.ForwardingRule)
	if fr.GetTarget() == "" {
		return errRequired("resource.target")
	}
	t, err := c.refExisting("resource.target", fr.GetTarget(), "targetHttpProxies", "targetHttpsProxies")
	if err != nil {
		return err
	}
	fr.Target = proto.String(selfLink(t))
	setDefault(&fr.IPProtocol, "TCP")
	setDefault(&fr.LoadBalancingScheme, "EXTERNAL")
	setDefault(&fr.NetworkTier, "PREMIUM")
	if err := c.forwardingRulePorts(fr, keyCollection(t)); err != nil {
		return err
	}
	if old != nil {
		fr.IPAddress = old.(*computepb.ForwardingRule).IPAddress
		return nil
	}
	return c.forwardingRuleAddress(key, fr)
}

// forwardingRulePorts normalises portRange ("443" → "443-443") and applies
// the classic external load balancer's port rules.
func (c *call) forwardingRulePorts(fr *computepb.ForwardingRule, targetCollection string) error {
	https := targetCollection == "targetHttpsProxies"
	pr := fr.GetPortRange()
	if pr == "" {
		pr = map[bool]string{true: "443", false: "80"}[https]
	}
	lo, hi, ok := strings.Cut(pr, "-")
	if !ok {
		hi = lo
	}
	if lo != hi {
		return errInvalidField("resource.portRange", pr, "A port range is not allowed for a target proxy: give a single port.")
	}
	allowed := map[bool][]string{true: {"443"}, false: {"80", "8080"}}[https]
	if fr.GetLoadBalancingScheme() == "EXTERNAL" && !slices.Contains(allowed, lo) {
		return errInvalidField("resource.portRange", pr, fmt.Sprintf("Port must be one of %s for this target.", strings.Join(allowed, ", ")))
	}
	fr.PortRange = proto.String(lo + "-" + lo)
	return nil
}

// forwardingRuleAddress resolves IPAddress: a reserved address's URL
// becomes its IP (GCP stores the literal), an empty one gets an ephemeral
// IP, and an IP:port pair already taken is refused.
func (c *call) forwardingRuleAddress(key string, fr *computepb.ForwardingRule) error {
	ip := fr.GetIPAddress()
	switch _, perr := netip.ParseAddr(ip); {
	case ip == "":
		var err error
		if ip, err = nextFreeIP(externalPool, 1, c.s.usedExternalIPs()); err != nil {
			return err
		}
	case perr != nil:
		k, err := c.refExisting("resource.IPAddress", ip, "addresses")
		if err != nil {
			return err
		}
		ip = c.s.st.compute[k].(*computepb.Address).GetAddress()
	}
	fr.IPAddress = proto.String(ip)
	for k, m := range c.s.st.compute {
		other, ok := m.(*computepb.ForwardingRule)
		if ok && k != key && other.GetIPAddress() == ip && other.GetPortRange() == fr.GetPortRange() {
			return errInvalidField("resource.IPAddress", ip, "Specified IP address is in-use and would result in a conflict.")
		}
	}
	return nil
}

func forwardingRuleRefs(st *state, key string, m proto.Message) []string {
	fr := m.(*computepb.ForwardingRule)
	out := []string{keyOf(fr.GetTarget())}
	project := strings.Split(key, "/")[1]
	for k, r := range st.compute {
		if a, ok := r.(*computepb.Address); ok && a.GetAddress() == fr.GetIPAddress() && strings.Split(k, "/")[1] == project {
			out = append(out, k)
		}
	}
	return out
}

func setForwardingRuleTarget(c *call, _ string, next proto.Message) error {
	fr := next.(*computepb.ForwardingRule)
	req := &computepb.TargetReference{}
	if err := c.decodeProto(req); err != nil {
		return err
	}
	t, err := c.refExisting("resource.target", req.GetTarget(), "targetHttpProxies", "targetHttpsProxies")
	if err != nil {
		return err
	}
	fr.Target = proto.String(selfLink(t))
	return c.forwardingRulePorts(fr, keyCollection(t))
}
