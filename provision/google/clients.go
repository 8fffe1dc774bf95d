package google

import (
	"context"
	"fmt"
	"sync"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/storage"
	sqladmin "google.golang.org/api/sqladmin/v1"
)

// gcp is the configured provider shared by every resource type.
type gcp struct {
	settings settings
	retry    retryPolicy
	getenv   func(string) string // nil: os.Getenv

	compute *lazy[*computeClients]
	sql     *lazy[*sqladmin.Service]
	storage *lazy[*storage.Client]

	// sqlLocks serialises operations per Cloud SQL instance: Cloud SQL runs
	// one at a time and answers 409 operationInProgress to the next, so a
	// database and a user created in parallel would otherwise contend.
	sqlLocks sync.Map // instance name → *sync.Mutex
}

// lazy builds a client on first use: building one may look up
// credentials, which a run that never touches that API must not need.
type lazy[T any] struct {
	once sync.Once
	make func() (T, error)
	v    T
	err  error
}

func newLazy[T any](f func() (T, error)) *lazy[T] { return &lazy[T]{make: f} }

func (l *lazy[T]) get() (T, error) {
	l.once.Do(func() { l.v, l.err = l.make() })
	return l.v, l.err
}

// computeClients holds one REST client per Compute collection used.
type computeClients struct {
	instances       *compute.InstancesClient
	disks           *compute.DisksClient
	images          *compute.ImagesClient
	addresses       *compute.GlobalAddressesClient
	healthChecks    *compute.HealthChecksClient
	instanceGroups  *compute.InstanceGroupsClient
	backendServices *compute.BackendServicesClient
	urlMaps         *compute.UrlMapsClient
	httpProxies     *compute.TargetHttpProxiesClient
	httpsProxies    *compute.TargetHttpsProxiesClient
	sslCerts        *compute.SslCertificatesClient
	forwardingRules *compute.GlobalForwardingRulesClient
	firewalls       *compute.FirewallsClient
	networks        *compute.NetworksClient
	subnetworks     *compute.SubnetworksClient
	// The operation clients serve waitOp.
	globalOps *compute.GlobalOperationsClient
	regionOps *compute.RegionOperationsClient
	zoneOps   *compute.ZoneOperationsClient
}

func newComputeClients(ctx context.Context, s settings) (*lazy[*computeClients], error) {
	ep := ""
	if s.computeEndpoint != "" {
		ep = computeEndpoint(s.computeEndpoint)
	}
	opts, err := s.clientOptions(ep)
	if err != nil {
		return nil, err
	}
	// The clients outlive this call (they serve the whole run), so they
	// are built with a background context rather than Configure's.
	ctx = context.WithoutCancel(ctx)
	return newLazy(func() (*computeClients, error) {
		c := &computeClients{}
		var err error
		build := func(f func() error) {
			if err == nil {
				err = f()
			}
		}
		build(func() (e error) { c.instances, e = compute.NewInstancesRESTClient(ctx, opts...); return })
		build(func() (e error) { c.images, e = compute.NewImagesRESTClient(ctx, opts...); return })
		build(func() (e error) { c.disks, e = compute.NewDisksRESTClient(ctx, opts...); return })
		build(func() (e error) { c.addresses, e = compute.NewGlobalAddressesRESTClient(ctx, opts...); return })
		build(func() (e error) { c.healthChecks, e = compute.NewHealthChecksRESTClient(ctx, opts...); return })
		build(func() (e error) { c.instanceGroups, e = compute.NewInstanceGroupsRESTClient(ctx, opts...); return })
		build(func() (e error) { c.backendServices, e = compute.NewBackendServicesRESTClient(ctx, opts...); return })
		build(func() (e error) { c.urlMaps, e = compute.NewUrlMapsRESTClient(ctx, opts...); return })
		build(func() (e error) { c.httpProxies, e = compute.NewTargetHttpProxiesRESTClient(ctx, opts...); return })
		build(func() (e error) { c.httpsProxies, e = compute.NewTargetHttpsProxiesRESTClient(ctx, opts...); return })
		build(func() (e error) { c.sslCerts, e = compute.NewSslCertificatesRESTClient(ctx, opts...); return })
		build(func() (e error) {
			c.forwardingRules, e = compute.NewGlobalForwardingRulesRESTClient(ctx, opts...)
			return
		})
		build(func() (e error) { c.firewalls, e = compute.NewFirewallsRESTClient(ctx, opts...); return })
		build(func() (e error) { c.networks, e = compute.NewNetworksRESTClient(ctx, opts...); return })
		build(func() (e error) { c.subnetworks, e = compute.NewSubnetworksRESTClient(ctx, opts...); return })
		build(func() (e error) { c.globalOps, e = compute.NewGlobalOperationsRESTClient(ctx, opts...); return })
		build(func() (e error) { c.regionOps, e = compute.NewRegionOperationsRESTClient(ctx, opts...); return })
		build(func() (e error) { c.zoneOps, e = compute.NewZoneOperationsRESTClient(ctx, opts...); return })
		if err != nil {
			return nil, fmt.Errorf("%w; check the credentials setting or run \"gcloud auth application-default login\"", err)
		}
		return c, nil
	}), nil
}

func newSQLService(ctx context.Context, s settings) (*lazy[*sqladmin.Service], error) {
	ep := ""
	if s.sqlEndpoint != "" {
		ep = sqlEndpoint(s.sqlEndpoint)
	}
	opts, err := s.clientOptions(ep)
	if err != nil {
		return nil, err
	}
	ctx = context.WithoutCancel(ctx)
	return newLazy(func() (*sqladmin.Service, error) {
		svc, err := sqladmin.NewService(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("%w; check the credentials setting or run \"gcloud auth application-default login\"", err)
		}
		return svc, nil
	}), nil
}

func newStorageClient(ctx context.Context, s settings) (*lazy[*storage.Client], error) {
	ep := ""
	if s.storageEndpoint != "" {
		ep = storageEndpoint(s.storageEndpoint)
	}
	opts, err := s.clientOptions(ep)
	if err != nil {
		return nil, err
	}
	ctx = context.WithoutCancel(ctx)
	return newLazy(func() (*storage.Client, error) {
		c, err := storage.NewClient(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("%w; check the credentials setting or run \"gcloud auth application-default login\"", err)
		}
		// One retry policy for every API: ours (see retry.go), so that
		// its deadline and backoff apply here too.
		c.SetRetry(storage.WithPolicy(storage.RetryNever))
		return c, nil
	}), nil
}

// computeAPI, sqlAPI and storageAPI return the clients, built on first use.
func (g *gcp) computeAPI() (*computeClients, error) {
	if g.compute == nil {
		return nil, errNotConfigured
	}
	return g.compute.get()
}

func (g *gcp) sqlAPI() (*sqladmin.Service, error) {
	if g.sql == nil {
		return nil, errNotConfigured
	}
	return g.sql.get()
}

func (g *gcp) storageAPI() (*storage.Client, error) {
	if g.storage == nil {
		return nil, errNotConfigured
	}
	return g.storage.get()
}

// sqlLock returns the mutex for one Cloud SQL instance.
func (g *gcp) sqlLock(instance string) *sync.Mutex {
	m, _ := g.sqlLocks.LoadOrStore(instance, &sync.Mutex{})
	return m.(*sync.Mutex)
}
