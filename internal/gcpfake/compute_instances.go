package gcpfake

import (
	"fmt"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/proto"
)

func instanceKind() *kind {
	return &kind{
		collection: "instances", resource: "instances", scope: "zones",
		kindName: "compute#instance", singular: "instance",
		newMsg:       func() proto.Message { return &computepb.Instance{} },
		prepare:      prepareInstance,
		refs:         instanceRefs,
		beforeDelete: beforeInstanceDelete,
		deleted:      instanceDeleted,
		verbs: map[string]verbFunc{
			"setMetadata":           setInstanceMetadata,
			"setLabels":             setInstanceLabels,
			"setTags":               setInstanceTags,
			"stop":                  stopInstance,
			"start":                 startInstance,
			"setMachineType":        setInstanceMachineType,
			"setDeletionProtection": setInstanceDeletionProtection,
		},
	}
}

// diskKind serves the boot (and extra) disks instances create, so a
// provider can read the image and size back as Terraform does; disks cannot
// be inserted on their own.
func diskKind() *kind {
	return &kind{
		collection: "disks", resource: "disks", scope: "zones",
		kindName: "compute#disk", singular: "disk", readOnly: true,
		newMsg:   func() proto.Message { return &computepb.Disk{} },
		decorate: decorateDisk,
	}
}

// zoneKey is "projects/p/zones/z" of a zonal resource key.
func zoneKey(key string) string { return strings.Join(strings.Split(key, "/")[:4], "/") }

// regionOfZone maps "us-central1-a" to "us-central1".
func regionOfZone(zone string) string {
	if i := strings.LastIndex(zone, "-"); i > 0 {
		return zone[:i]
	}
	return zone
}

// projectNumber derives a stable 12-digit project number from its id.
func projectNumber(project string) int64 {
	h := fnv.New64a()
	h.Write([]byte(project))
	return 100_000_000_000 + int64(h.Sum64()%899_999_999_999)
}

func prepareInstance(c *call, key string, msg, _ proto.Message) error {
	inst := msg.(*computepb.Instance)
	if err := c.instanceMachineType(key, inst); err != nil {
		return err
	}
	if err := c.instanceDisks(key, inst); err != nil {
		return err
	}
	if err := c.instanceNICs(key, inst); err != nil {
		return err
	}
	if err := c.instanceMetadata(inst); err != nil {
		return err
	}
	if inst.Tags == nil {
		inst.Tags = &computepb.Tags{}
	}
	inst.Tags.Fingerprint = proto.String(c.fingerprint())
	c.instanceDefaults(key, inst)
	return nil
}

func (c *call) instanceMachineType(key string, inst *computepb.Instance) error {
	mt := inst.GetMachineType()
	if mt == "" {
		return errRequired("resource.machineType")
	}
	i := strings.LastIndex(mt, "machineTypes/")
	name := ""
	if i >= 0 {
		name = mt[i+len("machineTypes/"):]
	}
	if i < 0 || !nameRE.MatchString(name) {
		return errInvalidField("resource.machineType", mt, "Invalid URL: a machine type URL such as zones/us-central1-a/machineTypes/e2-medium is required.")
	}
	inst.MachineType = proto.String(selfLink(zoneKey(key) + "/machineTypes/" + name))
	return nil
}

// instanceDisks creates the disks described by initializeParams (the
// response, like GCP's, keeps only the attached disk's source) and checks
// existing disks given by source.
func (c *call) instanceDisks(key string, inst *computepb.Instance) error {
	if len(inst.Disks) == 0 {
		return errInvalidField("resource.disks", "", "At least one boot disk is required.")
	}
	seen := map[string]bool{}
	for i, d := range inst.Disks {
		field := fmt.Sprintf("resource.disks[%d]", i)
		if d.GetBoot() != (i == 0) {
			return errInvalidField(field+".boot", strconv.FormatBool(d.GetBoot()), "The boot disk must be the first disk, and only one disk may be a boot disk.")
		}
		diskKey, err := c.attachDisk(key, inst, i, d, field)
		if err != nil {
			return err
		}
		if seen[diskKey] {
			return errInvalidField(field+".source", d.GetSource(), "The disk is attached twice.")
		}
		seen[diskKey] = true
		d.Source = proto.String(selfLink(diskKey))
		d.InitializeParams = nil
		d.Kind = proto.String("compute#attachedDisk")
		d.Index = proto.Int32(int32(i))
		setDefault(&d.Type, "PERSISTENT")
		setDefault(&d.Mode, "READ_WRITE")
		setDefault(&d.Interface, "SCSI")
		setDefault(&d.DeviceName, fmt.Sprintf("persistent-disk-%d", i))
		if d.AutoDelete == nil {
			d.AutoDelete = proto.Bool(false)
		}
	}
	return nil
}

func (c *call) attachDisk(key string, inst *computepb.Instance, i int, d *computepb.AttachedDisk, field string) (string, error) {
	if d.GetSource() != "" {
		diskKey, err := c.refExisting(field+".source", d.GetSource(), "disks")
		if err != nil {
			return "", err
		}
		if users := c.s.referrers(diskKey); len(users) > 0 && users[0] != key {
			return "", errInUse("disk", diskKey, users[0])
		}
		disk := c.s.st.compute[diskKey].(*computepb.Disk)
		d.DiskSizeGb = disk.SizeGb
		return diskKey, nil
	}
	ip := d.GetInitializeParams()
	if ip == nil || ip.GetSourceImage() == "" {
		return "", errRequired(field + ".initializeParams.sourceImage")
	}
	img, err := c.resolveImage(field+".initializeParams.sourceImage", ip.GetSourceImage())
	if err != nil {
		return "", err
	}
	name := ip.GetDiskName()
	if name == "" {
		name = inst.GetName()
		if i > 0 {
			name = fmt.Sprintf("%s-%d", name, i)
		}
	}
	diskKey := zoneKey(key) + "/disks/" + name
	if _, exists := c.s.st.compute[diskKey]; exists {
		return "", errAlreadyExists(diskKey)
	}
	size := ip.GetDiskSizeGb()
	if size == 0 {
		size = img.GetDiskSizeGb()
	}
	if size < img.GetDiskSizeGb() {
		return "", errInvalidField(field+".initializeParams.diskSizeGb", strconv.FormatInt(size, 10),
			fmt.Sprintf("Requested disk size cannot be smaller than the image size (%d GB)", img.GetDiskSizeGb()))
	}
	diskType := ip.GetDiskType()
	if j := strings.LastIndex(diskType, "diskTypes/"); j >= 0 {
		diskType = diskType[j+len("diskTypes/"):]
	}
	if diskType == "" {
		diskType = "pd-standard"
	}
	disk := &computepb.Disk{
		Name: proto.String(name), SizeGb: proto.Int64(size),
		Type:          proto.String(selfLink(zoneKey(key) + "/diskTypes/" + diskType)),
		SourceImage:   img.SelfLink,
		SourceImageId: proto.String(strconv.FormatUint(img.GetId(), 10)),
		Status:        proto.String("READY"), Labels: ip.GetLabels(),
		Architecture: img.Architecture, Licenses: img.Licenses,
		PhysicalBlockSizeBytes: proto.Int64(4096),
	}
	c.setCommon(kindByCollection("disks"), diskKey, disk, c.s.st.nextID(), computeTime(c.now))
	c.also(diskKey, disk)
	d.DiskSizeGb = proto.Int64(size)
	d.Architecture = img.Architecture
	d.Licenses = img.Licenses
	return diskKey, nil
}

func (c *call) instanceNICs(key string, inst *computepb.Instance) error {
	if len(inst.NetworkInterfaces) == 0 {
		return errInvalidField("resource.networkInterfaces", "", "At least one network interface is required.")
	}
	region := regionOfZone(c.params["zone"])
	for i, nic := range inst.NetworkInterfaces {
		field := fmt.Sprintf("resource.networkInterfaces[%d]", i)
		netKey, subKey, err := c.nicNetwork(field, region, nic)
		if err != nil {
			return err
		}
		nic.Network = proto.String(selfLink(netKey))
		nic.Subnetwork = proto.String(selfLink(subKey))
		nic.Name = proto.String(fmt.Sprintf("nic%d", i))
		nic.Kind = proto.String("compute#networkInterface")
		nic.Fingerprint = proto.String(c.fingerprint())
		setDefault(&nic.StackType, "IPV4_ONLY")
		if nic.GetNetworkIP() == "" {
			ip, err := c.s.allocateIP(subKey)
			if err != nil {
				return err
			}
			nic.NetworkIP = proto.String(ip)
		}
		for _, ac := range nic.AccessConfigs {
			setDefault(&ac.Type, "ONE_TO_ONE_NAT")
			setDefault(&ac.Name, "External NAT")
			setDefault(&ac.NetworkTier, "PREMIUM")
			setDefault(&ac.NatIP, c.s.opts.ExternalIP)
			ac.Kind = proto.String("compute#accessConfig")
		}
	}
	return nil
}

// nicNetwork resolves a network interface's network and subnetwork. An
// auto-mode network (or the implicit default one) has a subnetwork named
// after it in every region, which the fake does not store.
func (c *call) nicNetwork(field, region string, nic *computepb.NetworkInterface) (netKey, subKey string, err error) {
	if nic.GetSubnetwork() != "" {
		subKey, err = c.refExisting(field+".subnetwork", nic.GetSubnetwork(), "subnetworks")
		if err != nil {
			return "", "", err
		}
		if strings.Split(subKey, "/")[3] != region {
			return "", "", errInvalidField(field+".subnetwork", nic.GetSubnetwork(), "Subnetwork must be in the same region as the instance.")
		}
		netKey = keyOf(c.s.st.compute[subKey].(*computepb.Subnetwork).GetNetwork())
		if nic.GetNetwork() != "" {
			if given, err := c.ref(field+".network", nic.GetNetwork(), "networks"); err != nil || given != netKey {
				return "", "", errInvalidField(field+".network", nic.GetNetwork(), "The subnetwork does not belong to this network.")
			}
		}
		return netKey, subKey, nil
	}
	network := nic.GetNetwork()
	if network == "" {
		network = "global/networks/default"
	}
	netKey, err = c.refExisting(field+".network", network, "networks")
	if err != nil {
		return "", "", err
	}
	if net, ok := c.s.st.compute[netKey].(*computepb.Network); ok && !net.GetAutoCreateSubnetworks() {
		return "", "", errInvalidField(field+".subnetwork", "", "Subnetwork should be specified for custom subnetmode network")
	}
	parts := strings.Split(netKey, "/")
	return netKey, "projects/" + parts[1] + "/regions/" + region + "/subnetworks/" + parts[4], nil
}

// allocateIP hands out the next free address of a subnetwork (after the
// network address and the gateway, as GCP does).
func (s *Server) allocateIP(subKey string) (string, error) {
	cidr := "10.128.0.0/20" // auto-mode range of us-central1
	if sub, ok := s.st.compute[subKey].(*computepb.Subnetwork); ok {
		cidr = sub.GetIpCidrRange()
	}
	used := map[string]bool{}
	for _, m := range s.st.compute {
		if inst, ok := m.(*computepb.Instance); ok {
			for _, nic := range inst.NetworkInterfaces {
				if keyOf(nic.GetSubnetwork()) == subKey {
					used[nic.GetNetworkIP()] = true
				}
			}
		}
	}
	return nextFreeIP(cidr, 2, used)
}

func (c *call) instanceMetadata(inst *computepb.Instance) error {
	if inst.Metadata == nil {
		inst.Metadata = &computepb.Metadata{}
	}
	return c.fillMetadata(inst.Metadata, "resource.metadata")
}

func (c *call) fillMetadata(md *computepb.Metadata, field string) error {
	seen := map[string]bool{}
	for i, it := range md.Items {
		if seen[it.GetKey()] {
			return errInvalidField(fmt.Sprintf("%s.items[%d].key", field, i), it.GetKey(), "Duplicate metadata key.")
		}
		seen[it.GetKey()] = true
	}
	md.Kind = proto.String("compute#metadata")
	md.Fingerprint = proto.String(c.fingerprint())
	return nil
}

func (c *call) instanceDefaults(key string, inst *computepb.Instance) {
	if inst.Scheduling == nil {
		inst.Scheduling = &computepb.Scheduling{}
	}
	sch := inst.Scheduling
	setDefault(&sch.OnHostMaintenance, "MIGRATE")
	setDefault(&sch.ProvisioningModel, "STANDARD")
	if sch.AutomaticRestart == nil {
		sch.AutomaticRestart = proto.Bool(true)
	}
	if sch.Preemptible == nil {
		sch.Preemptible = proto.Bool(false)
	}
	project := strings.Split(key, "/")[1]
	for _, sa := range inst.ServiceAccounts {
		if sa.GetEmail() == "" || sa.GetEmail() == "default" {
			sa.Email = proto.String(fmt.Sprintf("%d-compute@developer.gserviceaccount.com", projectNumber(project)))
		}
	}
	if inst.CanIpForward == nil {
		inst.CanIpForward = proto.Bool(false)
	}
	if inst.DeletionProtection == nil {
		inst.DeletionProtection = proto.Bool(false)
	}
	inst.CpuPlatform = proto.String("Intel Broadwell")
	inst.StartRestricted = proto.Bool(false)
	inst.LastStartTimestamp = proto.String(computeTime(c.now))
	inst.Status = proto.String("RUNNING")
	if c.latency() > 0 {
		// GCP shows PROVISIONING (then STAGING) until the insert is done.
		inst.Status = proto.String("PROVISIONING")
		c.later(doInstanceRunning, key, c.doneAt())
	}
}

func instanceRefs(_ *state, _ string, m proto.Message) []string {
	inst := m.(*computepb.Instance)
	var out []string
	for _, nic := range inst.NetworkInterfaces {
		out = append(out, keyOf(nic.GetNetwork()), keyOf(nic.GetSubnetwork()))
	}
	for _, d := range inst.Disks {
		out = append(out, keyOf(d.GetSource()))
	}
	return out
}

func beforeInstanceDelete(_ *call, key string, m proto.Message) error {
	if m.(*computepb.Instance).GetDeletionProtection() {
		return newAPIError(http.StatusBadRequest, "resourceIsProtected",
			"Invalid resource usage: 'Resource cannot be deleted if it's protected against deletion.': '%s'", key)
	}
	return nil
}

// instanceDeleted removes the disks marked autoDelete, as GCP does.
func instanceDeleted(c *call, _ string, m proto.Message) {
	for _, d := range m.(*computepb.Instance).Disks {
		if d.GetAutoDelete() {
			delete(c.s.st.compute, keyOf(d.GetSource()))
		}
	}
}

func decorateDisk(s *Server, key string, m proto.Message) {
	disk := m.(*computepb.Disk)
	disk.Users = nil
	for _, u := range s.referrers(key) {
		disk.Users = append(disk.Users, selfLink(u))
	}
}

func setInstanceMetadata(c *call, _ string, next proto.Message) error {
	inst := next.(*computepb.Instance)
	md := &computepb.Metadata{}
	if err := c.decodeProto(md); err != nil {
		return err
	}
	if err := checkFingerprint(inst.GetMetadata().GetFingerprint(), md.GetFingerprint()); err != nil {
		return err
	}
	if err := c.fillMetadata(md, "resource"); err != nil {
		return err
	}
	inst.Metadata = md
	return nil
}

func setInstanceLabels(c *call, _ string, next proto.Message) error {
	inst := next.(*computepb.Instance)
	req := &computepb.InstancesSetLabelsRequest{}
	if err := c.decodeProto(req); err != nil {
		return err
	}
	if err := checkFingerprint(inst.GetLabelFingerprint(), req.GetLabelFingerprint()); err != nil {
		return err
	}
	inst.Labels = req.Labels
	inst.LabelFingerprint = proto.String(c.fingerprint())
	return nil
}

func setInstanceTags(c *call, _ string, next proto.Message) error {
	inst := next.(*computepb.Instance)
	tags := &computepb.Tags{}
	if err := c.decodeProto(tags); err != nil {
		return err
	}
	if err := checkFingerprint(inst.GetTags().GetFingerprint(), tags.GetFingerprint()); err != nil {
		return err
	}
	tags.Fingerprint = proto.String(c.fingerprint())
	inst.Tags = tags
	return nil
}

func stopInstance(c *call, _ string, next proto.Message) error {
	inst := next.(*computepb.Instance)
	inst.Status = proto.String("TERMINATED")
	inst.LastStopTimestamp = proto.String(computeTime(c.now))
	return nil
}

func startInstance(c *call, _ string, next proto.Message) error {
	inst := next.(*computepb.Instance)
	inst.Status = proto.String("RUNNING")
	inst.LastStartTimestamp = proto.String(computeTime(c.now))
	return nil
}

func setInstanceMachineType(c *call, key string, next proto.Message) error {
	inst := next.(*computepb.Instance)
	req := &computepb.InstancesSetMachineTypeRequest{}
	if err := c.decodeProto(req); err != nil {
		return err
	}
	if inst.GetStatus() != "TERMINATED" {
		return errInvalid("Invalid resource usage: 'Instance %s must be stopped before its machine type can be changed.'", inst.GetName())
	}
	inst.MachineType = req.MachineType
	return c.instanceMachineType(key, inst)
}

func setInstanceDeletionProtection(c *call, _ string, next proto.Message) error {
	on := c.query("deletionProtection") != "false"
	next.(*computepb.Instance).DeletionProtection = proto.Bool(on)
	return nil
}

// Public images served for the google_compute_image data source and for
// instances' initializeParams.sourceImage.
type imageEntry struct{ project, name, family string }

var imageCatalogue = []imageEntry{
	{"debian-cloud", "debian-12-bookworm-v20260114", "debian-12"},
	{"debian-cloud", "debian-11-bullseye-v20260114", "debian-11"},
	{"ubuntu-os-cloud", "ubuntu-2404-noble-amd64-v20260115", "ubuntu-2404-lts-amd64"},
	{"ubuntu-os-cloud", "ubuntu-2204-jammy-v20260115", "ubuntu-2204-lts"},
	{"cos-cloud", "cos-117-18613-164-4", "cos-117-lts"},
}

func (e imageEntry) image() *computepb.Image {
	key := "projects/" + e.project + "/global/images/" + e.name
	h := fnv.New64a()
	h.Write([]byte(key))
	license := selfLink("projects/" + e.project + "/global/licenses/" + e.family)
	return &computepb.Image{
		Kind: proto.String("compute#image"), Id: proto.Uint64(idBase + h.Sum64()%idBase),
		Name: proto.String(e.name), Family: proto.String(e.family), SelfLink: proto.String(selfLink(key)),
		CreationTimestamp: proto.String("2026-01-14T12:00:00.000-08:00"),
		Status:            proto.String("READY"), SourceType: proto.String("RAW"),
		DiskSizeGb: proto.Int64(10), ArchiveSizeBytes: proto.Int64(1_300_000_000),
		Architecture: proto.String("X86_64"), Licenses: []string{license},
		StorageLocations: []string{"us", "eu", "asia"}, LabelFingerprint: proto.String("42WmSpB8rSM="),
	}
}

func findImage(project, name, family string) *computepb.Image {
	for _, e := range imageCatalogue {
		if e.project == project && (e.name == name || (family != "" && e.family == family)) {
			return e.image()
		}
	}
	return nil
}

// resolveImage accepts the URL forms GCP takes for sourceImage:
// projects/P/global/images/NAME, …/images/family/FAMILY, or global/… for the
// caller's project, with or without the https://…/compute/v1/ prefix.
func (c *call) resolveImage(field, value string) (*computepb.Image, error) {
	v := keyOf(value)
	if strings.HasPrefix(v, "global/") {
		v = "projects/" + c.project() + "/" + v
	}
	parts := strings.Split(v, "/")
	if len(parts) < 5 || parts[0] != "projects" || parts[2] != "global" || parts[3] != "images" {
		return nil, errInvalidField(field, value, "The URL is malformed.")
	}
	var img *computepb.Image
	switch {
	case len(parts) == 5:
		img = findImage(parts[1], parts[4], "")
	case len(parts) == 6 && parts[4] == "family":
		img = findImage(parts[1], "", parts[5])
	}
	if img == nil {
		return nil, errResourceNotFound(v)
	}
	return img, nil
}

func (s *Server) getImage(c *call) (any, error) {
	if img := findImage(c.project(), c.params["image"], ""); img != nil {
		return img, nil
	}
	return nil, errResourceNotFound("projects/" + c.project() + "/global/images/" + c.params["image"])
}

func (s *Server) getImageFromFamily(c *call) (any, error) {
	if img := findImage(c.project(), "", c.params["family"]); img != nil {
		return img, nil
	}
	return nil, errResourceNotFound("projects/" + c.project() + "/global/images/family/" + c.params["family"])
}

func (s *Server) listImages(c *call) (any, error) {
	var items []proto.Message
	for _, e := range imageCatalogue {
		if e.project == c.project() {
			items = append(items, e.image())
		}
	}
	return listResponse("compute#imageList", selfLink("projects/"+c.project()+"/global/images"), items)
}

// setDefault sets an optional string field left unset by the caller.
func setDefault(p **string, v string) {
	if *p == nil || **p == "" {
		*p = proto.String(v)
	}
}
