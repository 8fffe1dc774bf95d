package operator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"cloud.google.com/go/storage"
	"google.golang.org/api/option"

	"github.com/airctl/airctl/workflow/connections"
)

// NewGCSClient makes a Cloud Storage client. Without a connection it uses
// Application Default Credentials (and STORAGE_EMULATOR_HOST when set).
// A connection's JSON extra may give key_path (a service account key
// file), keyfile_dict (the key itself, as Airflow's google connection
// does) and endpoint (an emulator or private endpoint; without a key it
// is used unauthenticated).
func NewGCSClient(ctx context.Context, conn *connections.Connection) (*storage.Client, error) {
	var opts []option.ClientOption
	if conn != nil && conn.Extra != "" {
		var extra struct {
			KeyPath     string          `json:"key_path"`
			KeyfileDict json.RawMessage `json:"keyfile_dict"`
			Endpoint    string          `json:"endpoint"`
		}
		if err := json.Unmarshal([]byte(conn.Extra), &extra); err != nil {
			return nil, fmt.Errorf("connection %s: extra must be a JSON object with key_path, keyfile_dict or endpoint: %w", conn.ConnID, err)
		}
		opts = gcsOptions(extra.KeyPath, extra.KeyfileDict, extra.Endpoint)
	}
	c, err := storage.NewClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("cloud storage client: %w", err)
	}
	return c, nil
}

func gcsOptions(keyPath string, keyfile json.RawMessage, endpoint string) []option.ClientOption {
	var opts []option.ClientOption
	key := false
	if keyPath != "" {
		opts, key = append(opts, option.WithAuthCredentialsFile(option.ServiceAccount, keyPath)), true
	}
	if len(keyfile) > 0 {
		// Airflow stores keyfile_dict either as an object or as its JSON text.
		var text string
		if json.Unmarshal(keyfile, &text) == nil {
			keyfile = json.RawMessage(text)
		}
		opts, key = append(opts, option.WithAuthCredentialsJSON(option.ServiceAccount, keyfile)), true
	}
	if endpoint != "" {
		opts = append(opts, option.WithEndpoint(endpoint))
		if !key {
			opts = append(opts, option.WithoutAuthentication())
		}
	}
	return opts
}

// gcsClient resolves the optional connection and makes a client.
func gcsClient(ctx context.Context, env *Env, connID string) (*storage.Client, error) {
	conn, err := env.optionalConn(ctx, connID)
	if err != nil {
		return nil, err
	}
	if env.NewGCS != nil {
		return env.NewGCS(ctx, conn)
	}
	return NewGCSClient(ctx, conn)
}

// GCSUpload copies a local file to gs://Bucket/Object; its output is the
// object's gs:// URL.
type GCSUpload struct {
	ConnID, Bucket, Object, Source string
}

// Run uploads the file; the object appears only once complete.
func (u *GCSUpload) Run(ctx context.Context, env *Env) (Result, error) {
	client, err := gcsClient(ctx, env, u.ConnID)
	if err != nil {
		return Result{}, err
	}
	defer client.Close()
	f, err := os.Open(u.Source)
	if err != nil {
		return Result{}, fmt.Errorf("gcs_upload source: %w", err)
	}
	defer f.Close()
	url := "gs://" + u.Bucket + "/" + u.Object
	env.logf("uploading %s to %s", u.Source, url)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel() // an abandoned upload is cancelled, not committed
	w := client.Bucket(u.Bucket).Object(u.Object).NewWriter(wctx)
	n, err := io.Copy(w, f)
	if err != nil {
		return Result{}, fmt.Errorf("upload %s to %s: %w", u.Source, url, err)
	}
	if err := w.Close(); err != nil {
		return Result{}, fmt.Errorf("upload %s to %s: %w", u.Source, url, err)
	}
	env.logf("uploaded %d bytes", n)
	return Result{Output: url}, nil
}

// GCSDownload copies gs://Bucket/Object to a local file; its output is the
// file's path. The file is written under a temporary name and renamed, so
// readers never see a partial download.
type GCSDownload struct {
	ConnID, Bucket, Object, Destination string
}

// Run downloads the object.
func (d *GCSDownload) Run(ctx context.Context, env *Env) (Result, error) {
	client, err := gcsClient(ctx, env, d.ConnID)
	if err != nil {
		return Result{}, err
	}
	defer client.Close()
	url := "gs://" + d.Bucket + "/" + d.Object
	env.logf("downloading %s to %s", url, d.Destination)
	r, err := client.Bucket(d.Bucket).Object(d.Object).NewReader(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("download %s: %w", url, err)
	}
	defer r.Close()
	if err := os.MkdirAll(filepath.Dir(d.Destination), 0o755); err != nil {
		return Result{}, fmt.Errorf("gcs_download destination: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(d.Destination), "."+filepath.Base(d.Destination)+".*")
	if err != nil {
		return Result{}, fmt.Errorf("gcs_download destination: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	n, err := io.Copy(tmp, r)
	if err == nil {
		err = tmp.Close()
	} else {
		tmp.Close()
	}
	if err == nil {
		err = os.Rename(tmp.Name(), d.Destination)
	}
	if err != nil {
		return Result{}, fmt.Errorf("download %s to %s: %w", url, d.Destination, err)
	}
	env.logf("downloaded %d bytes", n)
	return Result{Output: d.Destination}, nil
}

// GCSObjectExists is the gcs_object sensor.
type GCSObjectExists struct {
	ConnID, Bucket, Object string
}

// Poke checks for the object once.
func (g *GCSObjectExists) Poke(ctx context.Context, env *Env) (bool, error) {
	client, err := gcsClient(ctx, env, g.ConnID)
	if err != nil {
		return false, err
	}
	defer client.Close()
	_, err = client.Bucket(g.Bucket).Object(g.Object).Attrs(ctx)
	if errors.Is(err, storage.ErrObjectNotExist) {
		env.logf("not yet: gs://%s/%s does not exist", g.Bucket, g.Object)
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up gs://%s/%s: %w", g.Bucket, g.Object, err)
	}
	return true, nil
}
