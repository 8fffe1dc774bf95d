package google

import (
	"context"
	"fmt"
	"sort"
	"strings"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/zclconf/go-cty/cty"
	"google.golang.org/protobuf/proto"

	"github.com/airctl/airctl/provision/provider"
)

// google_compute_instance. Import ID: projects/P/zones/Z/instances/NAME,
// P/Z/NAME, Z/NAME or NAME. Labels, metadata, tags and
// deletion_protection change in place; machine_type too when
// allow_stopping_for_update = true (the VM is stopped, resized and
// started again, as in Terraform); everything else replaces the VM.

var instanceSchema = &provider.Schema{
	Attributes: map[string]*provider.Attribute{
		"name":                      {Type: cty.String, Required: true, ForceNew: true},
		"machine_type":              {Type: cty.String, Required: true, ForceNew: true},
		"zone":                      {Type: cty.String, Optional: true, Computed: true, ForceNew: true},
		"project":                   {Type: cty.String, Optional: true, Computed: true, ForceNew: true},
		"description":               {Type: cty.String, Optional: true, ForceNew: true},
		"tags":                      {Type: cty.Set(cty.String), Optional: true},
		"labels":                    {Type: cty.Map(cty.String), Optional: true},
		"metadata":                  {Type: cty.Map(cty.String), Optional: true},
		"metadata_startup_script":   {Type: cty.String, Optional: true, ForceNew: true, Description: "Stored as the startup-script metadata key; a change recreates the VM, as in Terraform."},
		"allow_stopping_for_update": {Type: cty.Bool, Optional: true, Description: "Let a machine_type change stop and restart the VM instead of replacing it."},
		"deletion_protection":       {Type: cty.Bool, Optional: true, Computed: true, Default: cty.False},
		"can_ip_forward":            {Type: cty.Bool, Optional: true, Computed: true, Default: cty.False, ForceNew: true},
		"id":                        {Type: cty.String, Computed: true},
		"instance_id":               {Type: cty.String, Computed: true},
		"self_link":                 {Type: cty.String, Computed: true},
		"cpu_platform":              {Type: cty.String, Computed: true},
		"current_status":            {Type: cty.String, Computed: true},
	},
	Blocks: map[string]*provider.NestedBlock{
		"boot_disk": {Nesting: provider.NestingList, MinItems: 1, MaxItems: 1, ForceNew: true, Block: provider.Schema{
			Attributes: map[string]*provider.Attribute{
				"auto_delete": {Type: cty.Bool, Optional: true, Computed: true, Default: cty.True},
				"device_name": {Type: cty.String, Optional: true, Computed: true},
				"source":      {Type: cty.String, Optional: true, Computed: true},
				"mode":        {Type: cty.String, Optional: true, Computed: true},
			},
			Blocks: map[string]*provider.NestedBlock{
				"initialize_params": {Nesting: provider.NestingList, MaxItems: 1, Block: provider.Schema{Attributes: map[string]*provider.Attribute{
					"image":  {Type: cty.String, Optional: true, Computed: true, Description: "Image self_link, projects/P/global/images/…, P/FAMILY or FAMILY."},
					"size":   {Type: cty.Number, Optional: true, Computed: true},
					"type":   {Type: cty.String, Optional: true, Computed: true},
					"labels": {Type: cty.Map(cty.String), Optional: true},
				}}},
			},
		}},
		"attached_disk": {Nesting: provider.NestingList, ForceNew: true, Block: provider.Schema{Attributes: map[string]*provider.Attribute{
			"source":      {Type: cty.String, Required: true},
			"device_name": {Type: cty.String, Optional: true, Computed: true},
			"mode":        {Type: cty.String, Optional: true, Computed: true},
		}}},
		"network_interface": {Nesting: provider.NestingList, MinItems: 1, ForceNew: true, Block: provider.Schema{
			Attributes: map[string]*provider.Attribute{
				"network":            {Type: cty.String, Optional: true, Computed: true},
				"subnetwork":         {Type: cty.String, Optional: true, Computed: true},
				"subnetwork_project": {Type: cty.String, Optional: true, Computed: true},
				"network_ip":         {Type: cty.String, Optional: true, Computed: true},
				"name":               {Type: cty.String, Computed: true},
			},
			Blocks: map[string]*provider.NestedBlock{
				"access_config": {Nesting: provider.NestingList, Block: provider.Schema{Attributes: map[string]*provider.Attribute{
					"nat_ip":       {Type: cty.String, Optional: true, Computed: true},
					"network_tier": {Type: cty.String, Optional: true, Computed: true},
				}}},
			},
		}},
		"service_account": {Nesting: provider.NestingList, MaxItems: 1, ForceNew: true, Block: provider.Schema{Attributes: map[string]*provider.Attribute{
			"email":  {Type: cty.String, Optional: true, Computed: true},
			"scopes": {Type: cty.Set(cty.String), Required: true},
		}}},
	},
}

func instanceResource(g *gcp) *provider.Resource {
	return &provider.Resource{
		Schema: instanceSchema,
		CustomizePlan: func(ctx context.Context, prior, _ cty.Value, plan *provider.PlanResponse) error {
			if err := g.sameImage(ctx, prior, plan); err != nil {
				return err
			}
			if provider.Bool(plan.Planned, false, "allow_stopping_for_update") {
				// The machine type then changes in place: stop, resize, start.
				var keep []cty.Path
				for _, p := range plan.RequiresReplace {
					if provider.FormatPath(p) != "machine_type" {
						keep = append(keep, p)
					}
				}
				plan.RequiresReplace = keep
			}
			sameForm(plan, prior, "machine_type", "zone",
				"network_interface.*.network", "network_interface.*.subnetwork",
				"boot_disk.0.initialize_params.0.image", "boot_disk.0.initialize_params.0.type",
				"attached_disk.*.source", "service_account.0.scopes")
			return nil
		},
		Create: g.createInstance,
		Read: func(ctx context.Context, cur cty.Value) (cty.Value, error) {
			return g.readInstance(ctx, g.project(cur), g.zone(cur), provider.String(cur, "name"), cur)
		},
		Update:   g.updateInstance,
		Delete:   g.deleteInstance,
		ImportID: g.namedID(func(v cty.Value, name string) string { return instanceID(g.project(v), g.zone(v), name) }),
		Import: func(ctx context.Context, id string) (cty.Value, error) {
			project, zone, name, err := parseID(id, g.settings.project, g.settings.zone, 3)
			if err != nil {
				return cty.NilVal, err
			}
			return g.readInstance(ctx, project, zone, name, cty.NullVal(instanceSchema.ImpliedType()))
		},
	}
}

// zone is the resource's zone, else the provider's.
func (g *gcp) zone(v cty.Value) string {
	if z := provider.String(v, "zone"); z != "" {
		return z
	}
	return g.settings.zone
}

func (g *gcp) createInstance(ctx context.Context, planned cty.Value) (cty.Value, error) {
	c, err := g.computeAPI()
	if err != nil {
		return cty.NilVal, err
	}
	project, zone, name := g.project(planned), g.zone(planned), provider.String(planned, "name")
	if project == "" || zone == "" {
		return cty.NilVal, fmt.Errorf("instance %s: set project and zone in the resource or the provider block", name)
	}
	inst, err := g.instanceFrom(ctx, c, planned, project, zone)
	if err != nil {
		return cty.NilVal, err
	}
	err = g.insert(ctx, "google_compute_instance", instanceID(project, zone, name), func(ctx context.Context) (*compute.Operation, error) {
		return c.instances.Insert(ctx, &computepb.InsertInstanceRequest{Project: project, Zone: zone, InstanceResource: inst})
	})
	if err != nil {
		return createFailed(planned, err)
	}
	v, err := g.readInstance(ctx, project, zone, name, planned)
	if err == nil && v.IsNull() {
		err = fmt.Errorf("instance %s was created but cannot be read back", name)
	}
	if err != nil {
		return nullUnknownsIn(planned), err
	}
	return v, nil
}

func instanceID(project, zone, name string) string {
	return "projects/" + project + "/zones/" + zone + "/instances/" + name
}

// instanceFrom builds the insert request body from the planned state.
func (g *gcp) instanceFrom(ctx context.Context, c *computeClients, v cty.Value, project, zone string) (*computepb.Instance, error) {
	region := zone[:max(strings.LastIndexByte(zone, '-'), 0)]
	inst := &computepb.Instance{
		Name:               proto.String(provider.String(v, "name")),
		MachineType:        proto.String(zonalRef(project, zone, "machineTypes", provider.String(v, "machine_type"))),
		Labels:             provider.StringMap(v, "labels"),
		Metadata:           &computepb.Metadata{Items: metadataItems(v)},
		DeletionProtection: proto.Bool(provider.Bool(v, false, "deletion_protection")),
		CanIpForward:       proto.Bool(provider.Bool(v, false, "can_ip_forward")),
	}
	if d := provider.String(v, "description"); d != "" {
		inst.Description = proto.String(d)
	}
	if tags := strs(v, "tags"); len(tags) > 0 {
		inst.Tags = &computepb.Tags{Items: tags}
	}
	boot := &computepb.AttachedDisk{
		Boot:       proto.Bool(true),
		AutoDelete: proto.Bool(provider.Bool(v, true, "boot_disk", "0", "auto_delete")),
	}
	if dn := provider.String(v, "boot_disk", "0", "device_name"); dn != "" {
		boot.DeviceName = proto.String(dn)
	}
	if src := provider.String(v, "boot_disk", "0", "source"); src != "" {
		boot.Source = proto.String(zonalRef(project, zone, "disks", src))
	} else {
		image, err := g.resolveImage(ctx, c, project, provider.String(v, "boot_disk", "0", "initialize_params", "0", "image"))
		if err != nil {
			return nil, err
		}
		ip := &computepb.AttachedDiskInitializeParams{SourceImage: proto.String(image), Labels: provider.StringMap(v, "boot_disk", "0", "initialize_params", "0", "labels")}
		if n, ok := provider.Int(v, "boot_disk", "0", "initialize_params", "0", "size"); ok {
			ip.DiskSizeGb = proto.Int64(n)
		}
		if t := provider.String(v, "boot_disk", "0", "initialize_params", "0", "type"); t != "" {
			ip.DiskType = proto.String(zonalRef(project, zone, "diskTypes", t))
		}
		boot.InitializeParams = ip
	}
	inst.Disks = append(inst.Disks, boot)
	for _, d := range elems(v, "attached_disk") {
		ad := &computepb.AttachedDisk{Source: proto.String(zonalRef(project, zone, "disks", provider.String(d, "source")))}
		if dn := provider.String(d, "device_name"); dn != "" {
			ad.DeviceName = proto.String(dn)
		}
		if m := provider.String(d, "mode"); m != "" {
			ad.Mode = proto.String(m)
		}
		inst.Disks = append(inst.Disks, ad)
	}
	for _, n := range elems(v, "network_interface") {
		nic := &computepb.NetworkInterface{}
		if net := provider.String(n, "network"); net != "" {
			nic.Network = proto.String(globalRef(project, "networks", net))
		}
		if sub := provider.String(n, "subnetwork"); sub != "" {
			subProject := provider.String(n, "subnetwork_project")
			if subProject == "" {
				subProject = project
			}
			nic.Subnetwork = proto.String(regionalRef(subProject, region, "subnetworks", sub))
		}
		if ip := provider.String(n, "network_ip"); ip != "" {
			nic.NetworkIP = proto.String(ip)
		}
		for _, a := range elems(n, "access_config") {
			ac := &computepb.AccessConfig{Name: proto.String("External NAT"), Type: proto.String("ONE_TO_ONE_NAT")}
			if ip := provider.String(a, "nat_ip"); ip != "" {
				ac.NatIP = proto.String(ip)
			}
			if t := provider.String(a, "network_tier"); t != "" {
				ac.NetworkTier = proto.String(t)
			}
			nic.AccessConfigs = append(nic.AccessConfigs, ac)
		}
		inst.NetworkInterfaces = append(inst.NetworkInterfaces, nic)
	}
	for _, sa := range elems(v, "service_account") {
		email := provider.String(sa, "email")
		if email == "" {
			email = "default"
		}
		var scopes []string
		for _, s := range strs(sa, "scopes") {
			scopes = append(scopes, expandScope(s))
		}
		inst.ServiceAccounts = append(inst.ServiceAccounts, &computepb.ServiceAccount{Email: proto.String(email), Scopes: scopes})
	}
	return inst, nil
}

// metadataItems are metadata plus metadata_startup_script, sorted by key
// so that requests are reproducible.
func metadataItems(v cty.Value) []*computepb.Items {
	md := provider.StringMap(v, "metadata")
	if s := provider.GetAttr(v, "metadata_startup_script"); s.IsKnown() && !s.IsNull() {
		if md == nil {
			md = map[string]string{}
		}
		md["startup-script"] = s.AsString()
	}
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	items := make([]*computepb.Items, 0, len(keys))
	for _, k := range keys {
		items = append(items, &computepb.Items{Key: proto.String(k), Value: proto.String(md[k])})
	}
	return items
}

// resolveImage turns Terraform's image forms into a URL: a self_link or
// projects/… path as is; "P/X" or "X" is image X of project P (default
// the provider's), or else the newest image of family X.
func (g *gcp) resolveImage(ctx context.Context, c *computeClients, project, image string) (string, error) {
	if image == "" {
		return "", fmt.Errorf("boot_disk: set initialize_params.image or source")
	}
	if strings.Contains(image, "projects/") || strings.HasPrefix(image, "global/") {
		return image, nil
	}
	imgProject, name := project, image
	if i := strings.IndexByte(image, '/'); i >= 0 {
		imgProject, name = image[:i], image[i+1:]
	}
	img, found, err := get(ctx, g, "read image "+image, func(ctx context.Context) (*computepb.Image, error) {
		return c.images.Get(ctx, &computepb.GetImageRequest{Project: imgProject, Image: name})
	})
	if err != nil {
		return "", err
	}
	if found {
		return img.GetSelfLink(), nil
	}
	img, found, err = get(ctx, g, "read image family "+image, func(ctx context.Context) (*computepb.Image, error) {
		return c.images.GetFromFamily(ctx, &computepb.GetFromFamilyImageRequest{Project: imgProject, Family: name})
	})
	if err != nil {
		return "", err
	}
	if !found {
		return "", fmt.Errorf("image %q: no image or image family of that name in project %s", image, imgProject)
	}
	return img.GetSelfLink(), nil
}

// scopeAliases are gcloud's short scope names, which Terraform accepts.
var scopeAliases = map[string]string{
	"compute-ro": "compute.readonly", "compute-rw": "compute",
	"storage-ro": "devstorage.read_only", "storage-rw": "devstorage.read_write", "storage-full": "devstorage.full_control",
	"logging-write": "logging.write", "monitoring-write": "monitoring.write", "monitoring": "monitoring",
	"userinfo-email": "userinfo.email", "sql-admin": "sqlservice.admin", "cloud-platform": "cloud-platform",
}

func expandScope(s string) string {
	if strings.Contains(s, "/") {
		return s
	}
	if a, ok := scopeAliases[s]; ok {
		s = a
	}
	return "https://www.googleapis.com/auth/" + s
}

// readInstance refreshes an instance; null when gone.
func (g *gcp) readInstance(ctx context.Context, project, zone, name string, prior cty.Value) (cty.Value, error) {
	c, err := g.computeAPI()
	if err != nil {
		return cty.NilVal, err
	}
	inst, found, err := get(ctx, g, "read instance "+name, func(ctx context.Context) (*computepb.Instance, error) {
		return c.instances.Get(ctx, &computepb.GetInstanceRequest{Project: project, Zone: zone, Instance: name})
	})
	if err != nil || !found {
		return cty.NullVal(instanceSchema.ImpliedType()), err
	}
	boot, attached, err := g.instanceDisks(ctx, c, inst, prior)
	if err != nil {
		return cty.NilVal, err
	}
	md := map[string]string{}
	script := cty.NullVal(cty.String)
	priorScript := provider.GetAttr(prior, "metadata_startup_script")
	for _, it := range inst.GetMetadata().GetItems() {
		// startup-script belongs to metadata_startup_script when that is
		// how the state has it, and on import (the common way to set it).
		if it.GetKey() == "startup-script" && (!priorScript.IsNull() || prior.IsNull()) {
			script = cty.StringVal(it.GetValue())
			continue
		}
		md[it.GetKey()] = it.GetValue()
	}
	tags := cty.NullVal(cty.Set(cty.String))
	if len(inst.GetTags().GetItems()) > 0 || !provider.GetAttr(prior, "tags").IsNull() {
		tags = strSet(inst.GetTags().GetItems())
	}
	return provider.ObjectWith(instanceSchema, map[string]cty.Value{
		"name":                      cty.StringVal(inst.GetName()),
		"machine_type":              cty.StringVal(lastSegment(inst.GetMachineType())),
		"zone":                      cty.StringVal(lastSegment(inst.GetZone())),
		"project":                   cty.StringVal(project),
		"description":               optStr(inst.GetDescription()),
		"tags":                      tags,
		"labels":                    labelsVal(prior, "labels", inst.GetLabels()),
		"metadata":                  labelsVal(prior, "metadata", md),
		"metadata_startup_script":   script,
		"allow_stopping_for_update": provider.GetAttr(prior, "allow_stopping_for_update"),
		"deletion_protection":       cty.BoolVal(inst.GetDeletionProtection()),
		"can_ip_forward":            cty.BoolVal(inst.GetCanIpForward()),
		"id":                        cty.StringVal(instanceID(project, lastSegment(inst.GetZone()), inst.GetName())),
		"instance_id":               cty.StringVal(fmt.Sprint(inst.GetId())),
		"self_link":                 cty.StringVal(inst.GetSelfLink()),
		"cpu_platform":              cty.StringVal(inst.GetCpuPlatform()),
		"current_status":            cty.StringVal(inst.GetStatus()),
		"boot_disk":                 boot,
		"attached_disk":             attached,
		"network_interface":         nicsVal(inst, prior),
		"service_account":           serviceAccountVal(inst, prior),
	}), nil
}

// instanceDisks reads the boot disk's image, size and type from the disk
// itself: an instance GET does not return initializeParams.
func (g *gcp) instanceDisks(ctx context.Context, c *computeClients, inst *computepb.Instance, prior cty.Value) (boot, attached cty.Value, err error) {
	bootSchema := instanceSchema.Blocks["boot_disk"].Block
	boot = blocks(instanceSchema, "boot_disk")
	var att []map[string]cty.Value
	priorAtt := elems(prior, "attached_disk")
	for _, d := range inst.GetDisks() {
		if !d.GetBoot() {
			src := cty.StringVal(d.GetSource())
			if i := len(att); i < len(priorAtt) {
				src = keepRef(provider.GetAttr(priorAtt[i], "source"), d.GetSource())
			}
			att = append(att, map[string]cty.Value{"source": src, "device_name": cty.StringVal(d.GetDeviceName()), "mode": cty.StringVal(d.GetMode())})
			continue
		}
		pb := provider.GetAttr(prior, "boot_disk", "0")
		params := blocks(&bootSchema, "initialize_params")
		disk, found, err := get(ctx, g, "read boot disk "+d.GetSource(), func(ctx context.Context) (*computepb.Disk, error) {
			return c.disks.Get(ctx, &computepb.GetDiskRequest{Project: relParts(d.GetSource(), 1), Zone: relParts(d.GetSource(), 3), Disk: lastSegment(d.GetSource())})
		})
		if err != nil {
			return cty.NilVal, cty.NilVal, err
		}
		source := keepRef(provider.GetAttr(pb, "source"), d.GetSource())
		if found && (len(elems(pb, "initialize_params")) > 0 || provider.GetAttr(pb, "source").IsNull()) {
			// The configuration created the disk from an image: show the
			// image in the form it was given when it is the same one.
			image := keepRef(provider.GetAttr(pb, "initialize_params", "0", "image"), disk.GetSourceImage())
			if pi := provider.String(pb, "initialize_params", "0", "image"); pi != "" && !strings.Contains(pi, "projects/") && disk.GetSourceImage() != "" {
				image = cty.StringVal(pi) // a family or short name: cannot tell, keep it
			}
			params = blocks(&bootSchema, "initialize_params", map[string]cty.Value{
				"image":  image,
				"size":   cty.NumberIntVal(disk.GetSizeGb()),
				"type":   cty.StringVal(lastSegment(disk.GetType())),
				"labels": labelsVal(provider.GetAttr(pb, "initialize_params", "0"), "labels", disk.GetLabels()),
			})
		}
		boot = blocks(instanceSchema, "boot_disk", map[string]cty.Value{
			"auto_delete":       cty.BoolVal(d.GetAutoDelete()),
			"device_name":       cty.StringVal(d.GetDeviceName()),
			"source":            source,
			"mode":              cty.StringVal(d.GetMode()),
			"initialize_params": params,
		})
	}
	return boot, blocks(instanceSchema, "attached_disk", att...), nil
}

// relParts is segment i of a URL's projects/… path ("" if absent).
func relParts(url string, i int) string {
	parts := strings.Split(relPath(url), "/")
	if i < len(parts) {
		return parts[i]
	}
	return ""
}

func nicsVal(inst *computepb.Instance, prior cty.Value) cty.Value {
	nicSchema := instanceSchema.Blocks["network_interface"].Block
	priorNICs := elems(prior, "network_interface")
	var objs []map[string]cty.Value
	for i, n := range inst.GetNetworkInterfaces() {
		pn := cty.NullVal(nicSchema.ImpliedType())
		if i < len(priorNICs) {
			pn = priorNICs[i]
		}
		var acs []map[string]cty.Value
		for _, ac := range n.GetAccessConfigs() {
			acs = append(acs, map[string]cty.Value{"nat_ip": optStr(ac.GetNatIP()), "network_tier": optStr(ac.GetNetworkTier())})
		}
		objs = append(objs, map[string]cty.Value{
			"network":            keepRef(provider.GetAttr(pn, "network"), n.GetNetwork()),
			"subnetwork":         keepRef(provider.GetAttr(pn, "subnetwork"), n.GetSubnetwork()),
			"subnetwork_project": optStr(relParts(n.GetSubnetwork(), 1)),
			"network_ip":         optStr(n.GetNetworkIP()),
			"name":               cty.StringVal(n.GetName()),
			"access_config":      blocks(&nicSchema, "access_config", acs...),
		})
	}
	return blocks(instanceSchema, "network_interface", objs...)
}

func serviceAccountVal(inst *computepb.Instance, prior cty.Value) cty.Value {
	var objs []map[string]cty.Value
	priorScopes := strs(prior, "service_account", "0", "scopes")
	for _, sa := range inst.GetServiceAccounts() {
		var scopes []string
		for _, s := range sa.GetScopes() {
			form := s
			for _, p := range priorScopes {
				if expandScope(p) == s {
					form = p
				}
			}
			scopes = append(scopes, form)
		}
		objs = append(objs, map[string]cty.Value{"email": cty.StringVal(sa.GetEmail()), "scopes": strSet(scopes)})
	}
	return blocks(instanceSchema, "service_account", objs...)
}

func (g *gcp) updateInstance(ctx context.Context, prior, planned cty.Value) (cty.Value, error) {
	c, err := g.computeAPI()
	if err != nil {
		return cty.NilVal, err
	}
	project, zone, name := g.project(prior), g.zone(prior), provider.String(prior, "name")
	// current reads the instance again on every attempt: each set* call
	// needs the fingerprint of what it replaces.
	current := func(ctx context.Context) (*computepb.Instance, error) {
		return c.instances.Get(ctx, &computepb.GetInstanceRequest{Project: project, Zone: zone, Instance: name})
	}
	if provider.Changed(prior, planned, "labels") {
		err := g.call(ctx, "set labels of instance "+name, func(ctx context.Context) (*compute.Operation, error) {
			inst, err := current(ctx)
			if err != nil {
				return nil, err
			}
			return c.instances.SetLabels(ctx, &computepb.SetLabelsInstanceRequest{Project: project, Zone: zone, Instance: name,
				InstancesSetLabelsRequestResource: &computepb.InstancesSetLabelsRequest{Labels: provider.StringMap(planned, "labels"), LabelFingerprint: inst.LabelFingerprint}})
		})
		if err != nil {
			return cty.NilVal, err
		}
	}
	if provider.Changed(prior, planned, "metadata") {
		err := g.call(ctx, "set metadata of instance "+name, func(ctx context.Context) (*compute.Operation, error) {
			inst, err := current(ctx)
			if err != nil {
				return nil, err
			}
			return c.instances.SetMetadata(ctx, &computepb.SetMetadataInstanceRequest{Project: project, Zone: zone, Instance: name,
				MetadataResource: &computepb.Metadata{Items: metadataItems(planned), Fingerprint: inst.GetMetadata().Fingerprint}})
		})
		if err != nil {
			return cty.NilVal, err
		}
	}
	if provider.Changed(prior, planned, "tags") {
		err := g.call(ctx, "set tags of instance "+name, func(ctx context.Context) (*compute.Operation, error) {
			inst, err := current(ctx)
			if err != nil {
				return nil, err
			}
			return c.instances.SetTags(ctx, &computepb.SetTagsInstanceRequest{Project: project, Zone: zone, Instance: name,
				TagsResource: &computepb.Tags{Items: strs(planned, "tags"), Fingerprint: inst.GetTags().Fingerprint}})
		})
		if err != nil {
			return cty.NilVal, err
		}
	}
	if provider.Changed(prior, planned, "machine_type") {
		if err := g.resizeInstance(ctx, c, project, zone, name, provider.String(planned, "machine_type")); err != nil {
			return cty.NilVal, err
		}
	}
	if provider.Changed(prior, planned, "deletion_protection") {
		err := g.call(ctx, "set deletion protection of instance "+name, func(ctx context.Context) (*compute.Operation, error) {
			return c.instances.SetDeletionProtection(ctx, &computepb.SetDeletionProtectionInstanceRequest{Project: project, Zone: zone, Resource: name,
				DeletionProtection: proto.Bool(provider.Bool(planned, false, "deletion_protection"))})
		})
		if err != nil {
			return cty.NilVal, err
		}
	}
	v, err := g.readInstance(ctx, project, zone, name, planned)
	if err == nil && v.IsNull() {
		err = fmt.Errorf("instance %s disappeared during the update; run plan again to recreate it", name)
	}
	return v, err
}

func (g *gcp) deleteInstance(ctx context.Context, prior cty.Value) error {
	c, err := g.computeAPI()
	if err != nil {
		return err
	}
	project, zone, name := g.project(prior), g.zone(prior), provider.String(prior, "name")
	if provider.Bool(prior, false, "deletion_protection") {
		return fmt.Errorf("instance %s has deletion_protection = true: set it to false and apply before destroying", name)
	}
	return g.remove(ctx, "delete instance "+name, func(ctx context.Context) (*compute.Operation, error) {
		return c.instances.Delete(ctx, &computepb.DeleteInstanceRequest{Project: project, Zone: zone, Instance: name})
	})
}

// sameImage keeps the prior image URL when the configuration names the
// same image in a short form ("debian-cloud/debian-12", a family): the
// state only holds the URL after an import or a refresh, and comparing
// the strings would replace the VM for nothing. A family that has moved
// on to a newer image does show as a change, as in Terraform.
func (g *gcp) sameImage(ctx context.Context, prior cty.Value, plan *provider.PlanResponse) error {
	path := []string{"boot_disk", "0", "initialize_params", "0", "image"}
	pv, nv := provider.GetAttr(prior, path...), provider.GetAttr(plan.Planned, path...)
	if prior.IsNull() || pv.IsNull() || !nv.IsKnown() || nv.IsNull() || pv.RawEquals(nv) ||
		strings.Contains(nv.AsString(), "projects/") || !strings.Contains(pv.AsString(), "projects/") {
		return nil
	}
	c, err := g.computeAPI()
	if err != nil {
		return err
	}
	resolved, err := g.resolveImage(ctx, c, g.project(prior), nv.AsString())
	if err != nil {
		return fmt.Errorf("boot_disk.initialize_params.image: %w", err)
	}
	if sameRef(pv.AsString(), resolved) {
		plan.Planned = setPath(plan.Planned, path, pv)
	}
	return nil
}

// resizeInstance stops the VM, sets its machine type and starts it again.
// If the resize fails the VM is started anyway, so that a bad machine type
// does not leave it down.
func (g *gcp) resizeInstance(ctx context.Context, c *computeClients, project, zone, name, machineType string) error {
	err := g.call(ctx, "stop instance "+name, func(ctx context.Context) (*compute.Operation, error) {
		return c.instances.Stop(ctx, &computepb.StopInstanceRequest{Project: project, Zone: zone, Instance: name})
	})
	if err != nil {
		return err
	}
	resizeErr := g.call(ctx, "set machine type of instance "+name, func(ctx context.Context) (*compute.Operation, error) {
		return c.instances.SetMachineType(ctx, &computepb.SetMachineTypeInstanceRequest{Project: project, Zone: zone, Instance: name,
			InstancesSetMachineTypeRequestResource: &computepb.InstancesSetMachineTypeRequest{MachineType: proto.String(zonalRef(project, zone, "machineTypes", machineType))}})
	})
	startErr := g.call(ctx, "start instance "+name, func(ctx context.Context) (*compute.Operation, error) {
		return c.instances.Start(ctx, &computepb.StartInstanceRequest{Project: project, Zone: zone, Instance: name})
	})
	if resizeErr != nil {
		return resizeErr
	}
	return startErr
}
