package google

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"
	"google.golang.org/api/option"

	"github.com/airctl/airctl/provision/provider"
)

var providerSchema = &provider.Schema{Attributes: map[string]*provider.Attribute{
	"project":                 {Type: cty.String, Optional: true, Description: "Default project; env GOOGLE_PROJECT."},
	"region":                  {Type: cty.String, Optional: true, Description: "Default region; env GOOGLE_REGION."},
	"zone":                    {Type: cty.String, Optional: true, Description: "Default zone; env GOOGLE_ZONE."},
	"credentials":             {Type: cty.String, Optional: true, Sensitive: true, Description: "Service account key file path or JSON; default: Application Default Credentials."},
	"compute_custom_endpoint": {Type: cty.String, Optional: true, Description: "Compute API endpoint; env GOOGLE_COMPUTE_CUSTOM_ENDPOINT."},
	"sql_custom_endpoint":     {Type: cty.String, Optional: true, Description: "Cloud SQL Admin endpoint; env GOOGLE_SQL_CUSTOM_ENDPOINT."},
	"storage_custom_endpoint": {Type: cty.String, Optional: true, Description: "Cloud Storage endpoint; env GOOGLE_STORAGE_CUSTOM_ENDPOINT."},
	// Accepted so that Terraform files carrying them load; airctl ignores them.
	"user_project_override": {Type: cty.Bool, Optional: true},
	"billing_project":       {Type: cty.String, Optional: true},
	"default_labels":        {Type: cty.Map(cty.String), Optional: true},
}}

// settings is the provider configuration after env fallbacks.
type settings struct {
	project, region, zone, credentials string
	computeEndpoint, sqlEndpoint       string
	storageEndpoint                    string
}

func readSettings(cfg cty.Value, getenv func(string) string) settings {
	if getenv == nil {
		getenv = os.Getenv
	}
	get := func(attr, env string) string {
		if v := provider.String(cfg, attr); v != "" {
			return v
		}
		if env == "" {
			return ""
		}
		return getenv(env)
	}
	s := settings{
		project:         get("project", "GOOGLE_PROJECT"),
		region:          get("region", "GOOGLE_REGION"),
		zone:            get("zone", "GOOGLE_ZONE"),
		credentials:     get("credentials", "GOOGLE_CREDENTIALS"),
		computeEndpoint: get("compute_custom_endpoint", "GOOGLE_COMPUTE_CUSTOM_ENDPOINT"),
		sqlEndpoint:     get("sql_custom_endpoint", "GOOGLE_SQL_CUSTOM_ENDPOINT"),
		storageEndpoint: get("storage_custom_endpoint", "GOOGLE_STORAGE_CUSTOM_ENDPOINT"),
	}
	if s.project == "" {
		s.project = getenv("GOOGLE_CLOUD_PROJECT")
	}
	return s
}

// computeEndpoint turns a Terraform-style compute endpoint (ending in
// /compute/v1/) into what the apiv1 REST clients take: scheme and host,
// since they append /compute/v1/ themselves.
func computeEndpoint(e string) string {
	e = strings.TrimSuffix(e, "/")
	e = strings.TrimSuffix(e, "/compute/v1")
	return strings.TrimSuffix(e, "/")
}

// sqlEndpoint is the sqladmin base path, which must end in "/" and must
// not carry the v1/ that the client adds to every path.
func sqlEndpoint(e string) string {
	e = strings.TrimSuffix(e, "/")
	e = strings.TrimSuffix(e, "/v1")
	return e + "/"
}

// storageEndpoint is the storage base path, ending in /storage/v1/.
func storageEndpoint(e string) string {
	e = strings.TrimSuffix(e, "/")
	if !strings.HasSuffix(e, "/storage/v1") {
		e += "/storage/v1"
	}
	return e + "/"
}

// clientOptions are the options for one API: its endpoint, and
// credentials unless the endpoint is plain http (a local fake, which
// needs none, and where sending a token would leak it).
func (s settings) clientOptions(endpoint string) ([]option.ClientOption, error) {
	var opts []option.ClientOption
	if endpoint != "" {
		opts = append(opts, option.WithEndpoint(endpoint))
		if strings.HasPrefix(endpoint, "http://") {
			return append(opts, option.WithoutAuthentication()), nil
		}
	}
	c := strings.TrimSpace(s.credentials)
	if c == "" {
		return opts, nil // Application Default Credentials, found by the client
	}
	data := []byte(c)
	if !strings.HasPrefix(c, "{") {
		var err error
		if data, err = os.ReadFile(c); err != nil {
			return nil, fmt.Errorf("credentials: %w; give a key file or its JSON, or unset it to use Application Default Credentials", err)
		}
	}
	typ, err := credentialsType(data)
	if err != nil {
		return nil, err
	}
	return append(opts, option.WithAuthCredentialsJSON(typ, data)), nil
}

// credentialsType reads the "type" of a credentials JSON. The client
// libraries want it named up front, so that a file of an unexpected kind
// (which could point token requests anywhere) is refused, not trusted.
func credentialsType(data []byte) (option.CredentialsType, error) {
	var f struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return "", fmt.Errorf("credentials are not valid JSON: %w", err)
	}
	switch f.Type {
	case "service_account":
		return option.ServiceAccount, nil
	case "authorized_user":
		return option.AuthorizedUser, nil
	case "impersonated_service_account":
		return option.ImpersonatedServiceAccount, nil
	case "external_account":
		return option.ExternalAccount, nil
	}
	return "", fmt.Errorf("credentials of type %q are not supported; use a service account key, authorized_user credentials (gcloud auth application-default login) or workload identity federation", f.Type)
}

// configure reads the provider block and builds the API clients. Building
// a client does not call the API, so a configuration that is never applied
// (validate, plan of no google resources) costs nothing.
func (g *gcp) configure(ctx context.Context, cfg cty.Value) error {
	s := readSettings(cfg, g.getenv)
	g.settings = s
	if g.retry.initial == 0 {
		g.retry = defaultRetry
	}
	var errs []error
	var err error
	if g.compute, err = newComputeClients(ctx, s); err != nil {
		errs = append(errs, fmt.Errorf("compute client: %w", err))
	}
	if g.sql, err = newSQLService(ctx, s); err != nil {
		errs = append(errs, fmt.Errorf("cloud SQL client: %w", err))
	}
	if g.storage, err = newStorageClient(ctx, s); err != nil {
		errs = append(errs, fmt.Errorf("storage client: %w", err))
	}
	return errors.Join(errs...)
}

// defaultRetry is the policy for real GCP: 429/5xx/connection errors are
// retried with jittered exponential backoff for up to five minutes.
var defaultRetry = retryPolicy{initial: 500 * time.Millisecond, max: 15 * time.Second, deadline: 5 * time.Minute}

// Cloud SQL has no wait method, so its operations are polled, at a
// fraction of the time they have run so far: the poll that sees one DONE
// comes at most 1/sqlPollFraction past its end whatever its length (a
// user insert of seconds, an instance create of ten minutes), where a
// doubling interval could add almost the whole operation again. A long
// operation is polled about 85 times in its first 30 s, then every
// sqlPollMax.
const (
	sqlPollMin      = 25 * time.Millisecond
	sqlPollMax      = 2 * time.Second
	sqlPollFraction = 16
)

// sqlPollWait sleeps until the next poll of something started at start.
func (g *gcp) sqlPollWait(ctx context.Context, start time.Time) error {
	floor := sqlPollMin
	if g.retry.initial > 0 {
		floor = min(floor, g.retry.initial)
	}
	return sleepCtx(ctx, min(max(time.Since(start)/sqlPollFraction, floor), sqlPollMax))
}
