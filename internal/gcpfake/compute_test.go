package gcpfake

import (
	"net/http"
	"strings"
	"testing"
	"time"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/proto"
)

// netFixture creates a custom-mode network with one subnetwork.
func netFixture(t *testing.T, f *fake) {
	t.Helper()
	nets := client(t, f, compute.NewNetworksRESTClient)
	subs := client(t, f, compute.NewSubnetworksRESTClient)
	ctx := t.Context()
	wait(t)(nets.Insert(ctx, &computepb.InsertNetworkRequest{Project: proj, NetworkResource: &computepb.Network{
		Name: proto.String("net"), AutoCreateSubnetworks: proto.Bool(false),
	}}))
	wait(t)(subs.Insert(ctx, &computepb.InsertSubnetworkRequest{Project: proj, Region: reg, SubnetworkResource: &computepb.Subnetwork{
		Name: proto.String("sub"), Network: proto.String("global/networks/net"), IpCidrRange: proto.String("10.10.0.0/24"),
	}}))
}

func vm(name string) *computepb.Instance {
	return &computepb.Instance{
		Name:        proto.String(name),
		MachineType: proto.String("zones/" + zone + "/machineTypes/e2-highmem-2"),
		Disks: []*computepb.AttachedDisk{{
			Boot: proto.Bool(true), AutoDelete: proto.Bool(true),
			InitializeParams: &computepb.AttachedDiskInitializeParams{
				SourceImage: proto.String("projects/debian-cloud/global/images/family/debian-12"),
				DiskSizeGb:  proto.Int64(20),
			},
		}},
		NetworkInterfaces: []*computepb.NetworkInterface{{
			Subnetwork:    proto.String("projects/" + proj + "/regions/" + reg + "/subnetworks/sub"),
			AccessConfigs: []*computepb.AccessConfig{{}},
		}},
		Metadata: &computepb.Metadata{Items: []*computepb.Items{{Key: proto.String("enable-oslogin"), Value: proto.String("TRUE")}}},
		Labels:   map[string]string{"app": "airflow"},
	}
}

func TestInstanceLifecycle(t *testing.T) {
	f := startFake(t, Options{ExternalIP: "192.0.2.7"})
	netFixture(t, f)
	insts := client(t, f, compute.NewInstancesRESTClient)
	disks := client(t, f, compute.NewDisksRESTClient)
	nets := client(t, f, compute.NewNetworksRESTClient)
	ctx := t.Context()

	wait(t)(insts.Insert(ctx, &computepb.InsertInstanceRequest{Project: proj, Zone: zone, InstanceResource: vm("vm")}))
	get := &computepb.GetInstanceRequest{Project: proj, Zone: zone, Instance: "vm"}
	inst, err := insts.Get(ctx, get)
	if err != nil {
		t.Fatal(err)
	}
	nic := inst.GetNetworkInterfaces()[0]
	switch {
	case inst.GetStatus() != "RUNNING":
		t.Errorf("status %q", inst.GetStatus())
	case inst.GetId() == 0 || inst.GetCreationTimestamp() == "":
		t.Errorf("id/creationTimestamp not filled: %v", inst)
	case inst.GetSelfLink() != "https://www.googleapis.com/compute/v1/projects/p1/zones/us-central1-a/instances/vm":
		t.Errorf("selfLink %q", inst.GetSelfLink())
	case nic.GetAccessConfigs()[0].GetNatIP() != "192.0.2.7":
		t.Errorf("natIP %q", nic.GetAccessConfigs()[0].GetNatIP())
	case nic.GetNetworkIP() != "10.10.0.2":
		t.Errorf("networkIP %q", nic.GetNetworkIP())
	case !strings.HasSuffix(nic.GetNetwork(), "/global/networks/net"):
		t.Errorf("network %q", nic.GetNetwork())
	case !strings.HasSuffix(inst.GetMachineType(), "/zones/us-central1-a/machineTypes/e2-highmem-2"):
		t.Errorf("machineType %q", inst.GetMachineType())
	}
	disk, err := disks.Get(ctx, &computepb.GetDiskRequest{Project: proj, Zone: zone, Disk: "vm"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(disk.GetSourceImage(), "debian-12-bookworm") || disk.GetSizeGb() != 20 || len(disk.GetUsers()) != 1 {
		t.Errorf("boot disk %v", disk)
	}

	_, err = insts.Insert(ctx, &computepb.InsertInstanceRequest{Project: proj, Zone: zone, InstanceResource: vm("vm")})
	wantErr(t, "duplicate insert", err, http.StatusConflict, "alreadyExists")
	_, err = insts.Get(ctx, &computepb.GetInstanceRequest{Project: proj, Zone: zone, Instance: "nope"})
	wantErr(t, "get missing", err, http.StatusNotFound, "notFound")

	// Metadata and labels use fingerprints for optimistic locking.
	stale := &computepb.Metadata{Fingerprint: proto.String("c3RhbGU="), Items: []*computepb.Items{{Key: proto.String("k"), Value: proto.String("v")}}}
	_, err = insts.SetMetadata(ctx, &computepb.SetMetadataInstanceRequest{Project: proj, Zone: zone, Instance: "vm", MetadataResource: stale})
	wantErr(t, "stale metadata fingerprint", err, http.StatusPreconditionFailed, "conditionNotMet")
	fresh := proto.Clone(stale).(*computepb.Metadata)
	fresh.Fingerprint = inst.GetMetadata().Fingerprint
	wait(t)(insts.SetMetadata(ctx, &computepb.SetMetadataInstanceRequest{Project: proj, Zone: zone, Instance: "vm", MetadataResource: fresh}))
	wait(t)(insts.SetLabels(ctx, &computepb.SetLabelsInstanceRequest{Project: proj, Zone: zone, Instance: "vm",
		InstancesSetLabelsRequestResource: &computepb.InstancesSetLabelsRequest{Labels: map[string]string{"app": "aird"}, LabelFingerprint: inst.LabelFingerprint}}))
	inst, err = insts.Get(ctx, get)
	if err != nil {
		t.Fatal(err)
	}
	if inst.GetMetadata().GetItems()[0].GetKey() != "k" || inst.GetLabels()["app"] != "aird" {
		t.Errorf("metadata/labels not updated: %v %v", inst.GetMetadata(), inst.GetLabels())
	}

	// The network is in use by the subnetwork and the instance.
	_, err = nets.Delete(ctx, &computepb.DeleteNetworkRequest{Project: proj, Network: "net"})
	wantErr(t, "delete used network", err, http.StatusBadRequest, "resourceInUseByAnotherResource")

	wait(t)(insts.Delete(ctx, &computepb.DeleteInstanceRequest{Project: proj, Zone: zone, Instance: "vm"}))
	_, err = disks.Get(ctx, &computepb.GetDiskRequest{Project: proj, Zone: zone, Disk: "vm"})
	wantErr(t, "auto-deleted boot disk", err, http.StatusNotFound, "")
}

func TestInstanceReferencesChecked(t *testing.T) {
	f := startFake(t, Options{})
	insts := client(t, f, compute.NewInstancesRESTClient)
	ctx := t.Context()
	_, err := insts.Insert(ctx, &computepb.InsertInstanceRequest{Project: proj, Zone: zone, InstanceResource: vm("vm")})
	wantErr(t, "missing subnetwork", err, http.StatusNotFound, "notFound")

	i := vm("vm")
	i.NetworkInterfaces[0].Subnetwork = nil // the default network exists implicitly
	i.Disks[0].InitializeParams.SourceImage = proto.String("projects/debian-cloud/global/images/family/debian-99")
	_, err = insts.Insert(ctx, &computepb.InsertInstanceRequest{Project: proj, Zone: zone, InstanceResource: i})
	wantErr(t, "missing image family", err, http.StatusNotFound, "notFound")

	i.Disks[0].InitializeParams.SourceImage = proto.String("debian-12")
	_, err = insts.Insert(ctx, &computepb.InsertInstanceRequest{Project: proj, Zone: zone, InstanceResource: i})
	wantErr(t, "bare image name", err, http.StatusBadRequest, "invalid")

	i.Disks[0].InitializeParams.SourceImage = proto.String("projects/debian-cloud/global/images/family/debian-12")
	wait(t)(insts.Insert(ctx, &computepb.InsertInstanceRequest{Project: proj, Zone: zone, InstanceResource: i}))
}

// lbStack builds the reference front door: health check, instance group
// with the VM, backend service, URL maps (service and HTTP→HTTPS redirect),
// managed certificate, both proxies, a global address and two forwarding
// rules.
type lbClients struct {
	insts *compute.InstancesClient
	hcs   *compute.HealthChecksClient
	igs   *compute.InstanceGroupsClient
	bss   *compute.BackendServicesClient
	ums   *compute.UrlMapsClient
	certs *compute.SslCertificatesClient
	https *compute.TargetHttpsProxiesClient
	http  *compute.TargetHttpProxiesClient
	addrs *compute.GlobalAddressesClient
	frs   *compute.GlobalForwardingRulesClient
}

func newLBClients(t *testing.T, f *fake) lbClients {
	return lbClients{
		insts: client(t, f, compute.NewInstancesRESTClient),
		hcs:   client(t, f, compute.NewHealthChecksRESTClient),
		igs:   client(t, f, compute.NewInstanceGroupsRESTClient),
		bss:   client(t, f, compute.NewBackendServicesRESTClient),
		ums:   client(t, f, compute.NewUrlMapsRESTClient),
		certs: client(t, f, compute.NewSslCertificatesRESTClient),
		https: client(t, f, compute.NewTargetHttpsProxiesRESTClient),
		http:  client(t, f, compute.NewTargetHttpProxiesRESTClient),
		addrs: client(t, f, compute.NewGlobalAddressesRESTClient),
		frs:   client(t, f, compute.NewGlobalForwardingRulesRESTClient),
	}
}

func TestLoadBalancerChain(t *testing.T) {
	f := startFake(t, Options{})
	netFixture(t, f)
	c := newLBClients(t, f)
	ctx := t.Context()
	wait(t)(c.insts.Insert(ctx, &computepb.InsertInstanceRequest{Project: proj, Zone: zone, InstanceResource: vm("vm")}))

	wait(t)(c.hcs.Insert(ctx, &computepb.InsertHealthCheckRequest{Project: proj, HealthCheckResource: &computepb.HealthCheck{
		Name: proto.String("hc"), Type: proto.String("HTTP"),
		HttpHealthCheck: &computepb.HTTPHealthCheck{RequestPath: proto.String("/health"), Port: proto.Int32(80)},
	}}))
	wait(t)(c.igs.Insert(ctx, &computepb.InsertInstanceGroupRequest{Project: proj, Zone: zone, InstanceGroupResource: &computepb.InstanceGroup{
		Name: proto.String("ig"), NamedPorts: []*computepb.NamedPort{{Name: proto.String("http"), Port: proto.Int32(80)}},
	}}))
	wait(t)(c.igs.AddInstances(ctx, &computepb.AddInstancesInstanceGroupRequest{Project: proj, Zone: zone, InstanceGroup: "ig",
		InstanceGroupsAddInstancesRequestResource: &computepb.InstanceGroupsAddInstancesRequest{
			Instances: []*computepb.InstanceReference{{Instance: proto.String("zones/" + zone + "/instances/vm")}},
		}}))
	ig, err := c.igs.Get(ctx, &computepb.GetInstanceGroupRequest{Project: proj, Zone: zone, InstanceGroup: "ig"})
	if err != nil {
		t.Fatal(err)
	}
	if ig.GetSize() != 1 || !strings.HasSuffix(ig.GetNetwork(), "/networks/net") {
		t.Errorf("instance group size %d network %q", ig.GetSize(), ig.GetNetwork())
	}
	wait(t)(c.igs.SetNamedPorts(ctx, &computepb.SetNamedPortsInstanceGroupRequest{Project: proj, Zone: zone, InstanceGroup: "ig",
		InstanceGroupsSetNamedPortsRequestResource: &computepb.InstanceGroupsSetNamedPortsRequest{
			Fingerprint: ig.Fingerprint, NamedPorts: []*computepb.NamedPort{{Name: proto.String("http"), Port: proto.Int32(8080)}},
		}}))
	members := c.igs.ListInstances(ctx, &computepb.ListInstancesInstanceGroupsRequest{Project: proj, Zone: zone, InstanceGroup: "ig",
		InstanceGroupsListInstancesRequestResource: &computepb.InstanceGroupsListInstancesRequest{InstanceState: proto.String("ALL")}})
	m, err := members.Next()
	if err != nil || !strings.HasSuffix(m.GetInstance(), "/instances/vm") || m.GetNamedPorts()[0].GetPort() != 8080 {
		t.Fatalf("listInstances: %v %v", m, err)
	}

	bs := &computepb.BackendService{
		Name: proto.String("bs"), Protocol: proto.String("HTTP"), PortName: proto.String("http"),
		HealthChecks: []string{"projects/" + proj + "/global/healthChecks/hc"},
		Backends:     []*computepb.Backend{{Group: proto.String("zones/" + zone + "/instanceGroups/missing")}},
	}
	_, err = c.bss.Insert(ctx, &computepb.InsertBackendServiceRequest{Project: proj, BackendServiceResource: bs})
	wantErr(t, "backend on a missing group", err, http.StatusNotFound, "notFound")
	bs.Backends[0].Group = ig.SelfLink
	wait(t)(c.bss.Insert(ctx, &computepb.InsertBackendServiceRequest{Project: proj, BackendServiceResource: bs}))
	got, err := c.bss.Get(ctx, &computepb.GetBackendServiceRequest{Project: proj, BackendService: "bs"})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetFingerprint() == "" || got.GetTimeoutSec() != 30 || got.GetLoadBalancingScheme() != "EXTERNAL" {
		t.Errorf("backend service defaults: %v", got)
	}
	patch := &computepb.BackendService{TimeoutSec: proto.Int32(60), Fingerprint: proto.String("c3RhbGU=")}
	_, err = c.bss.Patch(ctx, &computepb.PatchBackendServiceRequest{Project: proj, BackendService: "bs", BackendServiceResource: patch})
	wantErr(t, "stale fingerprint", err, http.StatusPreconditionFailed, "conditionNotMet")
	patch.Fingerprint = got.Fingerprint
	wait(t)(c.bss.Patch(ctx, &computepb.PatchBackendServiceRequest{Project: proj, BackendService: "bs", BackendServiceResource: patch}))
	got, _ = c.bss.Get(ctx, &computepb.GetBackendServiceRequest{Project: proj, BackendService: "bs"})
	if got.GetTimeoutSec() != 60 || len(got.GetBackends()) != 1 {
		t.Errorf("patch merged wrongly: %v", got)
	}

	wait(t)(c.ums.Insert(ctx, &computepb.InsertUrlMapRequest{Project: proj, UrlMapResource: &computepb.UrlMap{
		Name: proto.String("web"), DefaultService: got.SelfLink,
	}}))
	wait(t)(c.ums.Insert(ctx, &computepb.InsertUrlMapRequest{Project: proj, UrlMapResource: &computepb.UrlMap{
		Name: proto.String("redirect"), DefaultUrlRedirect: &computepb.HttpRedirectAction{HttpsRedirect: proto.Bool(true), StripQuery: proto.Bool(false)},
	}}))
	wait(t)(c.certs.Insert(ctx, &computepb.InsertSslCertificateRequest{Project: proj, SslCertificateResource: &computepb.SslCertificate{
		Name: proto.String("cert"), Type: proto.String("MANAGED"),
		Managed: &computepb.SslCertificateManagedSslCertificate{Domains: []string{"airflow.example.com"}},
	}}))
	wait(t)(c.https.Insert(ctx, &computepb.InsertTargetHttpsProxyRequest{Project: proj, TargetHttpsProxyResource: &computepb.TargetHttpsProxy{
		Name: proto.String("https"), UrlMap: proto.String("global/urlMaps/redirect"), SslCertificates: []string{"global/sslCertificates/cert"},
	}}))
	// setUrlMap and setSslCertificates live at paths without /global/.
	wait(t)(c.https.SetUrlMap(ctx, &computepb.SetUrlMapTargetHttpsProxyRequest{Project: proj, TargetHttpsProxy: "https",
		UrlMapReferenceResource: &computepb.UrlMapReference{UrlMap: proto.String("global/urlMaps/web")}}))
	wait(t)(c.https.SetSslCertificates(ctx, &computepb.SetSslCertificatesTargetHttpsProxyRequest{Project: proj, TargetHttpsProxy: "https",
		TargetHttpsProxiesSetSslCertificatesRequestResource: &computepb.TargetHttpsProxiesSetSslCertificatesRequest{SslCertificates: []string{"global/sslCertificates/cert"}}}))
	wait(t)(c.http.Insert(ctx, &computepb.InsertTargetHttpProxyRequest{Project: proj, TargetHttpProxyResource: &computepb.TargetHttpProxy{
		Name: proto.String("http"), UrlMap: proto.String("global/urlMaps/redirect"),
	}}))
	wait(t)(c.addrs.Insert(ctx, &computepb.InsertGlobalAddressRequest{Project: proj, AddressResource: &computepb.Address{Name: proto.String("ip")}}))
	addr, err := c.addrs.Get(ctx, &computepb.GetGlobalAddressRequest{Project: proj, Address: "ip"})
	if err != nil || addr.GetAddress() == "" || addr.GetStatus() != "RESERVED" {
		t.Fatalf("address: %v %v", addr, err)
	}
	wait(t)(c.frs.Insert(ctx, &computepb.InsertGlobalForwardingRuleRequest{Project: proj, ForwardingRuleResource: &computepb.ForwardingRule{
		Name: proto.String("https"), Target: proto.String("global/targetHttpsProxies/https"), IPAddress: addr.SelfLink, PortRange: proto.String("443"),
	}}))
	wait(t)(c.frs.Insert(ctx, &computepb.InsertGlobalForwardingRuleRequest{Project: proj, ForwardingRuleResource: &computepb.ForwardingRule{
		Name: proto.String("http"), Target: proto.String("global/targetHttpProxies/http"), IPAddress: addr.Address, PortRange: proto.String("80"),
	}}))
	fr, err := c.frs.Get(ctx, &computepb.GetGlobalForwardingRuleRequest{Project: proj, ForwardingRule: "https"})
	if err != nil || fr.GetIPAddress() != addr.GetAddress() || fr.GetPortRange() != "443-443" {
		t.Fatalf("forwarding rule: %v %v", fr, err)
	}
	addr, _ = c.addrs.Get(ctx, &computepb.GetGlobalAddressRequest{Project: proj, Address: "ip"})
	if addr.GetStatus() != "IN_USE" || len(addr.GetUsers()) != 2 {
		t.Errorf("address users %v status %s", addr.GetUsers(), addr.GetStatus())
	}
	got, _ = c.bss.Get(ctx, &computepb.GetBackendServiceRequest{Project: proj, BackendService: "bs"})
	if len(got.GetUsedBy()) != 1 {
		t.Errorf("backend service usedBy %v", got.GetUsedBy())
	}
	wait(t)(c.frs.SetTarget(ctx, &computepb.SetTargetGlobalForwardingRuleRequest{Project: proj, ForwardingRule: "http",
		TargetReferenceResource: &computepb.TargetReference{Target: proto.String("global/targetHttpProxies/http")}}))

	// Everything still referenced refuses deletion, as GCP does.
	inUse := map[string]error{}
	_, inUse["instance in group"] = c.insts.Delete(ctx, &computepb.DeleteInstanceRequest{Project: proj, Zone: zone, Instance: "vm"})
	_, inUse["health check"] = c.hcs.Delete(ctx, &computepb.DeleteHealthCheckRequest{Project: proj, HealthCheck: "hc"})
	_, inUse["instance group"] = c.igs.Delete(ctx, &computepb.DeleteInstanceGroupRequest{Project: proj, Zone: zone, InstanceGroup: "ig"})
	_, inUse["backend service"] = c.bss.Delete(ctx, &computepb.DeleteBackendServiceRequest{Project: proj, BackendService: "bs"})
	_, inUse["url map"] = c.ums.Delete(ctx, &computepb.DeleteUrlMapRequest{Project: proj, UrlMap: "web"})
	_, inUse["certificate"] = c.certs.Delete(ctx, &computepb.DeleteSslCertificateRequest{Project: proj, SslCertificate: "cert"})
	_, inUse["https proxy"] = c.https.Delete(ctx, &computepb.DeleteTargetHttpsProxyRequest{Project: proj, TargetHttpsProxy: "https"})
	_, inUse["address"] = c.addrs.Delete(ctx, &computepb.DeleteGlobalAddressRequest{Project: proj, Address: "ip"})
	for what, err := range inUse {
		wantErr(t, "delete "+what, err, http.StatusBadRequest, "resourceInUseByAnotherResource")
	}

	// In dependency order, the whole stack goes.
	wait(t)(c.frs.Delete(ctx, &computepb.DeleteGlobalForwardingRuleRequest{Project: proj, ForwardingRule: "https"}))
	wait(t)(c.frs.Delete(ctx, &computepb.DeleteGlobalForwardingRuleRequest{Project: proj, ForwardingRule: "http"}))
	wait(t)(c.addrs.Delete(ctx, &computepb.DeleteGlobalAddressRequest{Project: proj, Address: "ip"}))
	wait(t)(c.https.Delete(ctx, &computepb.DeleteTargetHttpsProxyRequest{Project: proj, TargetHttpsProxy: "https"}))
	wait(t)(c.http.Delete(ctx, &computepb.DeleteTargetHttpProxyRequest{Project: proj, TargetHttpProxy: "http"}))
	wait(t)(c.certs.Delete(ctx, &computepb.DeleteSslCertificateRequest{Project: proj, SslCertificate: "cert"}))
	wait(t)(c.ums.Delete(ctx, &computepb.DeleteUrlMapRequest{Project: proj, UrlMap: "web"}))
	wait(t)(c.ums.Delete(ctx, &computepb.DeleteUrlMapRequest{Project: proj, UrlMap: "redirect"}))
	wait(t)(c.bss.Delete(ctx, &computepb.DeleteBackendServiceRequest{Project: proj, BackendService: "bs"}))
	wait(t)(c.hcs.Delete(ctx, &computepb.DeleteHealthCheckRequest{Project: proj, HealthCheck: "hc"}))
	wait(t)(c.igs.RemoveInstances(ctx, &computepb.RemoveInstancesInstanceGroupRequest{Project: proj, Zone: zone, InstanceGroup: "ig",
		InstanceGroupsRemoveInstancesRequestResource: &computepb.InstanceGroupsRemoveInstancesRequest{
			Instances: []*computepb.InstanceReference{{Instance: proto.String("zones/" + zone + "/instances/vm")}},
		}}))
	wait(t)(c.insts.Delete(ctx, &computepb.DeleteInstanceRequest{Project: proj, Zone: zone, Instance: "vm"}))
	wait(t)(c.igs.Delete(ctx, &computepb.DeleteInstanceGroupRequest{Project: proj, Zone: zone, InstanceGroup: "ig"}))
}

func TestURLMapFingerprintAndValidation(t *testing.T) {
	f := startFake(t, Options{})
	ums := client(t, f, compute.NewUrlMapsRESTClient)
	ctx := t.Context()
	_, err := ums.Insert(ctx, &computepb.InsertUrlMapRequest{Project: proj, UrlMapResource: &computepb.UrlMap{
		Name: proto.String("web"), DefaultService: proto.String("global/backendServices/missing"),
	}})
	wantErr(t, "missing default service", err, http.StatusNotFound, "notFound")
	_, err = ums.Insert(ctx, &computepb.InsertUrlMapRequest{Project: proj, UrlMapResource: &computepb.UrlMap{Name: proto.String("web")}})
	wantErr(t, "no default", err, http.StatusBadRequest, "invalid")
	redirect := &computepb.HttpRedirectAction{HttpsRedirect: proto.Bool(true)}
	wait(t)(ums.Insert(ctx, &computepb.InsertUrlMapRequest{Project: proj, UrlMapResource: &computepb.UrlMap{Name: proto.String("web"), DefaultUrlRedirect: redirect}}))
	um, err := ums.Get(ctx, &computepb.GetUrlMapRequest{Project: proj, UrlMap: "web"})
	if err != nil {
		t.Fatal(err)
	}
	if um.GetDefaultUrlRedirect().GetRedirectResponseCode() != "MOVED_PERMANENTLY_DEFAULT" {
		t.Errorf("redirect defaults: %v", um.GetDefaultUrlRedirect())
	}
	um.Description = proto.String("changed")
	wait(t)(ums.Update(ctx, &computepb.UpdateUrlMapRequest{Project: proj, UrlMap: "web", UrlMapResource: um}))
	// The same (now stale) fingerprint again is refused.
	_, err = ums.Update(ctx, &computepb.UpdateUrlMapRequest{Project: proj, UrlMap: "web", UrlMapResource: um})
	wantErr(t, "stale url map update", err, http.StatusPreconditionFailed, "conditionNotMet")
}

func TestImages(t *testing.T) {
	f := startFake(t, Options{})
	images := client(t, f, compute.NewImagesRESTClient)
	ctx := t.Context()
	img, err := images.GetFromFamily(ctx, &computepb.GetFromFamilyImageRequest{Project: "debian-cloud", Family: "debian-12"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(img.GetName(), "debian-12-") || img.GetStatus() != "READY" || img.GetSelfLink() == "" {
		t.Errorf("image %v", img)
	}
	byName, err := images.Get(ctx, &computepb.GetImageRequest{Project: "debian-cloud", Image: img.GetName()})
	if err != nil || byName.GetId() != img.GetId() {
		t.Fatalf("get by name: %v %v", byName, err)
	}
	_, err = images.GetFromFamily(ctx, &computepb.GetFromFamilyImageRequest{Project: "debian-cloud", Family: "debian-99"})
	wantErr(t, "missing family", err, http.StatusNotFound, "notFound")
}

// A stepped clock shows operations RUNNING, then DONE, with no sleeping.
func TestOperationLatency(t *testing.T) {
	clk := newClock()
	f := startFake(t, Options{Clock: clk.Now, Latency: &Latency{Default: time.Minute}})
	nets := client(t, f, compute.NewNetworksRESTClient)
	insts := client(t, f, compute.NewInstancesRESTClient)
	ctx := t.Context()

	op, err := insts.Insert(ctx, &computepb.InsertInstanceRequest{Project: proj, Zone: zone, InstanceResource: &computepb.Instance{
		Name: proto.String("vm"), MachineType: proto.String("zones/" + zone + "/machineTypes/e2-small"),
		Disks: []*computepb.AttachedDisk{{Boot: proto.Bool(true), InitializeParams: &computepb.AttachedDiskInitializeParams{
			SourceImage: proto.String("projects/debian-cloud/global/images/family/debian-12")}}},
		NetworkInterfaces: []*computepb.NetworkInterface{{}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if op.Done() || op.Proto().GetStatus() != computepb.Operation_RUNNING || op.Proto().GetZone() == "" {
		t.Fatalf("new zonal op: %v", op.Proto())
	}
	if err := op.Poll(ctx); err != nil || op.Done() {
		t.Fatalf("poll before the latency: done=%v err=%v", op.Done(), err)
	}
	inst, err := insts.Get(ctx, &computepb.GetInstanceRequest{Project: proj, Zone: zone, Instance: "vm"})
	if err != nil || inst.GetStatus() != "PROVISIONING" {
		t.Fatalf("instance during insert: %v %v", inst.GetStatus(), err)
	}
	clk.Advance(time.Minute)
	if err := op.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if op.Proto().GetProgress() != 100 || op.Proto().GetEndTime() == "" {
		t.Errorf("done op: %v", op.Proto())
	}
	inst, _ = insts.Get(ctx, &computepb.GetInstanceRequest{Project: proj, Zone: zone, Instance: "vm"})
	if inst.GetStatus() != "RUNNING" {
		t.Errorf("instance after insert: %s", inst.GetStatus())
	}

	// A global operation, and a regional one for a subnetwork.
	gop, err := nets.Insert(ctx, &computepb.InsertNetworkRequest{Project: proj, NetworkResource: &computepb.Network{
		Name: proto.String("net"), AutoCreateSubnetworks: proto.Bool(false)}})
	if err != nil || !strings.Contains(gop.Proto().GetSelfLink(), "/global/operations/") {
		t.Fatalf("global op: %v %v", gop.Proto(), err)
	}
	clk.Advance(time.Minute)
	if err := gop.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	subs := client(t, f, compute.NewSubnetworksRESTClient)
	rop, err := subs.Insert(ctx, &computepb.InsertSubnetworkRequest{Project: proj, Region: reg, SubnetworkResource: &computepb.Subnetwork{
		Name: proto.String("sub"), Network: proto.String("global/networks/net"), IpCidrRange: proto.String("10.0.0.0/24")}})
	if err != nil || rop.Proto().GetRegion() == "" {
		t.Fatalf("regional op: %v %v", rop.Proto(), err)
	}
	clk.Advance(time.Minute)
	if err := rop.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}

// POST …/operations/{op}/wait blocks until the operation is done.
func TestOperationWaitEndpoint(t *testing.T) {
	f := startFake(t, Options{Latency: &Latency{Default: 30 * time.Millisecond}})
	nets := client(t, f, compute.NewNetworksRESTClient)
	ops := client(t, f, compute.NewGlobalOperationsRESTClient)
	ctx := t.Context()
	op, err := nets.Insert(ctx, &computepb.InsertNetworkRequest{Project: proj, NetworkResource: &computepb.Network{
		Name: proto.String("net"), AutoCreateSubnetworks: proto.Bool(true)}})
	if err != nil {
		t.Fatal(err)
	}
	done, err := ops.Wait(ctx, &computepb.WaitGlobalOperationRequest{Project: proj, Operation: op.Name()})
	if err != nil || done.GetStatus() != computepb.Operation_DONE {
		t.Fatalf("wait: %v %v", done, err)
	}
	_, err = ops.Get(ctx, &computepb.GetGlobalOperationRequest{Project: proj, Operation: "operation-missing"})
	wantErr(t, "missing operation", err, http.StatusNotFound, "notFound")
}

func TestManagedCertificateProvisioning(t *testing.T) {
	clk := newClock()
	f := startFake(t, Options{Clock: clk.Now, Latency: &Latency{CertProvisioning: 20 * time.Minute}})
	certs := client(t, f, compute.NewSslCertificatesRESTClient)
	ctx := t.Context()
	wait(t)(certs.Insert(ctx, &computepb.InsertSslCertificateRequest{Project: proj, SslCertificateResource: &computepb.SslCertificate{
		Name: proto.String("cert"), Type: proto.String("MANAGED"),
		Managed: &computepb.SslCertificateManagedSslCertificate{Domains: []string{"a.example.com"}},
	}}))
	get := &computepb.GetSslCertificateRequest{Project: proj, SslCertificate: "cert"}
	cert, err := certs.Get(ctx, get)
	if err != nil || cert.GetManaged().GetStatus() != "PROVISIONING" || cert.GetManaged().GetDomainStatus()["a.example.com"] != "PROVISIONING" {
		t.Fatalf("new managed cert: %v %v", cert, err)
	}
	clk.Advance(20 * time.Minute)
	cert, _ = certs.Get(ctx, get)
	if cert.GetManaged().GetStatus() != "ACTIVE" || cert.GetExpireTime() == "" || cert.GetSubjectAlternativeNames()[0] != "a.example.com" {
		t.Fatalf("provisioned cert: %v", cert)
	}
	_, err = certs.Insert(ctx, &computepb.InsertSslCertificateRequest{Project: proj, SslCertificateResource: &computepb.SslCertificate{
		Name: proto.String("bad"), Type: proto.String("MANAGED"), Managed: &computepb.SslCertificateManagedSslCertificate{},
	}})
	wantErr(t, "managed cert without domains", err, http.StatusBadRequest, "invalid")
}

func TestFirewallAndAddressDefaults(t *testing.T) {
	f := startFake(t, Options{})
	fws := client(t, f, compute.NewFirewallsRESTClient)
	ctx := t.Context()
	fw := &computepb.Firewall{Name: proto.String("ssh"), Allowed: []*computepb.Allowed{{IPProtocol: proto.String("tcp"), Ports: []string{"22"}}}}
	wait(t)(fws.Insert(ctx, &computepb.InsertFirewallRequest{Project: proj, FirewallResource: fw}))
	got, err := fws.Get(ctx, &computepb.GetFirewallRequest{Project: proj, Firewall: "ssh"})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetDirection() != "INGRESS" || got.GetPriority() != 1000 || got.GetSourceRanges()[0] != "0.0.0.0/0" ||
		!strings.HasSuffix(got.GetNetwork(), "/global/networks/default") {
		t.Errorf("firewall defaults: %v", got)
	}
	// The discovery document marks name required on firewalls.patch.
	_, err = fws.Patch(ctx, &computepb.PatchFirewallRequest{Project: proj, Firewall: "ssh", FirewallResource: &computepb.Firewall{
		SourceRanges: []string{"203.0.113.0/24"}}})
	wantErr(t, "firewall patch without name", err, http.StatusBadRequest, "required")
	wait(t)(fws.Patch(ctx, &computepb.PatchFirewallRequest{Project: proj, Firewall: "ssh", FirewallResource: &computepb.Firewall{
		Name: proto.String("ssh"), SourceRanges: []string{"203.0.113.0/24"}}}))
	got, _ = fws.Get(ctx, &computepb.GetFirewallRequest{Project: proj, Firewall: "ssh"})
	if got.GetSourceRanges()[0] != "203.0.113.0/24" || got.GetAllowed()[0].GetPorts()[0] != "22" {
		t.Errorf("firewall after patch: %v", got)
	}
	fw.Name, fw.Direction = proto.String("bad"), proto.String("SIDEWAYS")
	_, err = fws.Insert(ctx, &computepb.InsertFirewallRequest{Project: proj, FirewallResource: fw})
	wantErr(t, "bad direction enum", err, http.StatusBadRequest, "direction")
}

func TestInstanceVerbs(t *testing.T) {
	f := startFake(t, Options{})
	netFixture(t, f)
	insts := client(t, f, compute.NewInstancesRESTClient)
	ctx := t.Context()
	wait(t)(insts.Insert(ctx, &computepb.InsertInstanceRequest{Project: proj, Zone: zone, InstanceResource: vm("vm")}))
	get := func() *computepb.Instance {
		inst, err := insts.Get(ctx, &computepb.GetInstanceRequest{Project: proj, Zone: zone, Instance: "vm"})
		if err != nil {
			t.Fatal(err)
		}
		return inst
	}
	inst := get()
	wait(t)(insts.SetTags(ctx, &computepb.SetTagsInstanceRequest{Project: proj, Zone: zone, Instance: "vm",
		TagsResource: &computepb.Tags{Items: []string{"http-server"}, Fingerprint: inst.GetTags().Fingerprint}}))
	_, err := insts.SetTags(ctx, &computepb.SetTagsInstanceRequest{Project: proj, Zone: zone, Instance: "vm",
		TagsResource: &computepb.Tags{Items: []string{"x"}, Fingerprint: inst.GetTags().Fingerprint}})
	wantErr(t, "stale tags fingerprint", err, http.StatusPreconditionFailed, "conditionNotMet")

	machine := &computepb.InstancesSetMachineTypeRequest{MachineType: proto.String("zones/" + zone + "/machineTypes/e2-standard-4")}
	_, err = insts.SetMachineType(ctx, &computepb.SetMachineTypeInstanceRequest{Project: proj, Zone: zone, Instance: "vm", InstancesSetMachineTypeRequestResource: machine})
	wantErr(t, "machine type of a running VM", err, http.StatusBadRequest, "invalid")
	wait(t)(insts.Stop(ctx, &computepb.StopInstanceRequest{Project: proj, Zone: zone, Instance: "vm"}))
	if get().GetStatus() != "TERMINATED" {
		t.Errorf("after stop: %s", get().GetStatus())
	}
	wait(t)(insts.SetMachineType(ctx, &computepb.SetMachineTypeInstanceRequest{Project: proj, Zone: zone, Instance: "vm", InstancesSetMachineTypeRequestResource: machine}))
	wait(t)(insts.Start(ctx, &computepb.StartInstanceRequest{Project: proj, Zone: zone, Instance: "vm"}))
	inst = get()
	if inst.GetStatus() != "RUNNING" || !strings.HasSuffix(inst.GetMachineType(), "/e2-standard-4") || inst.GetTags().GetItems()[0] != "http-server" {
		t.Errorf("after start: %s %s %v", inst.GetStatus(), inst.GetMachineType(), inst.GetTags())
	}

	wait(t)(insts.SetDeletionProtection(ctx, &computepb.SetDeletionProtectionInstanceRequest{Project: proj, Zone: zone, Resource: "vm", DeletionProtection: proto.Bool(true)}))
	_, err = insts.Delete(ctx, &computepb.DeleteInstanceRequest{Project: proj, Zone: zone, Instance: "vm"})
	wantErr(t, "protected instance", err, http.StatusBadRequest, "resourceIsProtected")
}
