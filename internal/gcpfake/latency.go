package gcpfake

import (
	"maps"
	"time"
)

// Latency says how long each long-running operation stays PENDING/RUNNING
// before it is DONE. The resource change itself is visible at once (as with
// GCP, where a GET during a create already shows the resource, in a
// PROVISIONING or PENDING_CREATE state); only the operation, and the states
// that follow it, wait.
type Latency struct {
	// Default applies to operations not listed in Methods.
	Default time.Duration
	// Methods maps a discovery method id ("sql.instances.insert",
	// "compute.backendServices.patch", …) to its operation's duration.
	Methods map[string]time.Duration
	// CertProvisioning is how long a MANAGED SSL certificate stays
	// PROVISIONING before it is ACTIVE.
	CertProvisioning time.Duration
}

// For returns the operation duration of a method id.
func (l *Latency) For(method string) time.Duration {
	if l == nil {
		return 0
	}
	if d, ok := l.Methods[method]; ok {
		return d
	}
	return l.Default
}

// Scaled returns a copy with every duration multiplied by f.
func (l *Latency) Scaled(f float64) *Latency {
	scale := func(d time.Duration) time.Duration { return time.Duration(float64(d) * f) }
	out := &Latency{Default: scale(l.Default), CertProvisioning: scale(l.CertProvisioning), Methods: map[string]time.Duration{}}
	for k, v := range l.Methods {
		out.Methods[k] = scale(v)
	}
	return out
}

// InstantLatency completes every operation in the response that starts it:
// the Go clients' op.Wait then returns after one poll, without sleeping.
func InstantLatency() *Latency { return &Latency{} }

// FastLatency is the default: operations take milliseconds, enough for
// callers to see PENDING/RUNNING and poll, with Cloud SQL creates kept the
// slowest as in reality.
func FastLatency() *Latency {
	return &Latency{
		Default: 10 * time.Millisecond,
		Methods: map[string]time.Duration{
			"compute.instances.insert": 50 * time.Millisecond,
			"sql.instances.insert":     200 * time.Millisecond,
			"sql.instances.patch":      50 * time.Millisecond,
			"sql.instances.update":     50 * time.Millisecond,
			"sql.instances.delete":     50 * time.Millisecond,
		},
		CertProvisioning: 200 * time.Millisecond,
	}
}

// realisticSeconds are typical GCP durations, in seconds, of the operations
// the reference stack runs (observed ranges vary; these are medians).
var realisticSeconds = map[string]float64{
	"compute.instances.insert":                20,
	"compute.instances.delete":                45,
	"compute.instances.start":                 20,
	"compute.instances.stop":                  30,
	"compute.instances.setMetadata":           5,
	"compute.instances.setLabels":             5,
	"compute.instances.setTags":               5,
	"compute.networks.insert":                 25,
	"compute.networks.delete":                 30,
	"compute.subnetworks.insert":              20,
	"compute.subnetworks.delete":              20,
	"compute.globalAddresses.insert":          5,
	"compute.globalAddresses.delete":          5,
	"compute.sslCertificates.insert":          5,
	"compute.sslCertificates.delete":          5,
	"compute.instanceGroups.addInstances":     5,
	"compute.backendServices.insert":          15,
	"compute.backendServices.patch":           20,
	"compute.backendServices.update":          20,
	"compute.backendServices.delete":          15,
	"compute.globalForwardingRules.insert":    20,
	"compute.globalForwardingRules.delete":    20,
	"compute.globalForwardingRules.setTarget": 15,
	"sql.instances.insert":                    540,
	"sql.instances.patch":                     60,
	"sql.instances.update":                    60,
	"sql.instances.delete":                    120,
	"sql.databases.insert":                    10,
	"sql.databases.delete":                    10,
	"sql.users.insert":                        8,
	"sql.users.update":                        8,
	"sql.users.delete":                        8,
}

// RealisticCompression is how much RealisticLatency compresses real time.
const RealisticCompression = 60

// RealisticLatency keeps the ratios of real GCP operation durations (a
// Cloud SQL create is ~27× a VM create) but compresses time 60× so a
// benchmark of a full stack runs in seconds: a 9-minute SQL create takes 9 s,
// a 20-second VM create 333 ms. Use Scaled(RealisticCompression) for real time.
func RealisticLatency() *Latency {
	l := &Latency{
		Default:          10 * time.Second,
		Methods:          map[string]time.Duration{},
		CertProvisioning: 20 * time.Minute,
	}
	for k, s := range realisticSeconds {
		l.Methods[k] = time.Duration(s * float64(time.Second))
	}
	return l.Scaled(1.0 / RealisticCompression)
}

// clone copies l so later changes by the caller do not race the server.
func (l *Latency) clone() *Latency {
	if l == nil {
		return FastLatency()
	}
	c := *l
	c.Methods = maps.Clone(l.Methods)
	return &c
}
