// Package builtin holds the providers airctl ships without any cloud: the
// "terraform" provider (terraform_data) and the "random" provider
// (random_password, random_string, random_id, random_integer). Resource and
// attribute names match Terraform's, so an existing Terraform file that
// uses them loads and plans unchanged.
package builtin

import (
	"github.com/airctl/airctl/provision/provider"
)

// Providers maps each built-in provider's configuration name to a
// constructor. Each call returns a fresh instance, so the engine can
// configure one per provider block or alias.
func Providers() map[string]func() provider.Provider {
	return map[string]func() provider.Provider{
		"terraform": func() provider.Provider { return Terraform() },
		"random":    func() provider.Provider { return Random() },
	}
}

// Terraform returns the built-in "terraform" provider.
func Terraform() *provider.Simple {
	return &provider.Simple{
		Resources: map[string]*provider.Resource{"terraform_data": terraformData()},
	}
}

// Random returns the "random" provider. Values come from crypto/rand.
func Random() *provider.Simple {
	return &provider.Simple{
		Resources: map[string]*provider.Resource{
			"random_password": randomPassword(),
			"random_string":   randomString(),
			"random_id":       randomID(),
			"random_integer":  randomInteger(),
		},
	}
}
