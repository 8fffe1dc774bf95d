package gcs

import (
	"context"
	"errors"
	"io"
	"net/http"

	"cloud.google.com/go/storage"
	"github.com/googleapis/gax-go/v2/apierror"
	"google.golang.org/api/googleapi"
)

// put writes data to name under cond and returns the new generation.
func (b *Backend) put(ctx context.Context, name string, cond storage.Conditions, data []byte) (int64, error) {
	// Cancelling the context is also the documented way to abandon a Writer.
	ctx, cancel := b.callContext(ctx)
	defer cancel()
	w := b.object(name).If(cond).NewWriter(ctx)
	w.ContentType = "application/json"
	// Objects this small go up in one request; the client keeps the bytes
	// buffered, which is what lets it retry the upload.
	_, werr := w.Write(data)
	if werr != nil {
		cancel()
	}
	cerr := w.Close()
	if err := errors.Join(werr, cerr); err != nil {
		return 0, err
	}
	return w.Attrs().Generation, nil
}

// get reads name; storage.ErrObjectNotExist when it is absent.
func (b *Backend) get(ctx context.Context, name string) ([]byte, int64, error) {
	ctx, cancel := b.callContext(ctx)
	defer cancel()
	r, err := b.object(name).NewReader(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, 0, err
	}
	return data, r.Attrs.Generation, nil
}

// isPrecondition reports a 412: the object's generation is not what the
// request required.
func isPrecondition(err error) bool {
	return httpCode(err) == http.StatusPreconditionFailed
}

func httpCode(err error) int {
	var gerr *googleapi.Error
	if errors.As(err, &gerr) {
		return gerr.Code
	}
	var aerr *apierror.APIError
	if errors.As(err, &aerr) {
		return aerr.HTTPCode()
	}
	return 0
}
