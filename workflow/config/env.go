package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// applyEnv sets every key that has an AIRD_<SECTION>_<KEY> variable, found
// by walking the hcl tags so new keys need no extra code.
func applyEnv(c *Config, getenv func(string) string) error {
	root := reflect.ValueOf(c).Elem()
	for i := range root.NumField() {
		section := tagName(root.Type().Field(i))
		sv := root.Field(i)
		for j := range sv.NumField() {
			key := tagName(sv.Type().Field(j))
			name := "AIRD_" + strings.ToUpper(section+"_"+key)
			raw := getenv(name)
			if raw == "" {
				continue
			}
			if err := setField(sv.Field(j), raw); err != nil {
				return fmt.Errorf("environment %s=%q: %w", name, raw, err)
			}
		}
	}
	return nil
}

func tagName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("hcl"), ",")
	return name
}

func setField(f reflect.Value, raw string) error {
	switch f.Kind() {
	case reflect.String:
		f.SetString(raw)
	case reflect.Int:
		n, err := strconv.Atoi(raw)
		if err != nil {
			return fmt.Errorf("want a whole number: %w", err)
		}
		f.SetInt(int64(n))
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("want true or false: %w", err)
		}
		f.SetBool(b)
	case reflect.Pointer: // *bool
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("want true or false: %w", err)
		}
		f.Set(reflect.ValueOf(&b))
	case reflect.Slice: // []string, comma-separated
		var parts []string
		for _, p := range strings.Split(raw, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		f.Set(reflect.ValueOf(parts))
	default:
		return fmt.Errorf("unsupported setting type %s", f.Kind())
	}
	return nil
}
