package gcpfake

import (
	"bytes"
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// mergePatch applies an RFC 7386 JSON merge patch, the semantics GCP
// documents for PATCH: objects merge recursively, arrays and scalars
// replace, null deletes.
func mergePatch(dst, patch map[string]any) map[string]any {
	if dst == nil {
		dst = map[string]any{}
	}
	for k, v := range patch {
		switch pv := v.(type) {
		case nil:
			delete(dst, k)
		case map[string]any:
			cur, _ := dst[k].(map[string]any)
			dst[k] = mergePatch(cur, pv)
		default:
			dst[k] = v
		}
	}
	return dst
}

// toMap round-trips a value through JSON into a generic map (numbers as
// json.Number, so 64-bit values survive).
func toMap(v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("gcpfake: encoding %T: %v", v, err))
	}
	return bytesToMap(b)
}

func bytesToMap(b []byte) map[string]any {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		panic(fmt.Sprintf("gcpfake: decoding own JSON: %v", err))
	}
	return m
}

// fromMap decodes a generic map into v.
func fromMap(m map[string]any, v any) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func protoToMap(m proto.Message) map[string]any {
	b, err := protojson.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("gcpfake: encoding %T: %v", m, err))
	}
	return bytesToMap(b)
}

func mapToProto(v map[string]any, m proto.Message) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return protojson.Unmarshal(b, m)
}
