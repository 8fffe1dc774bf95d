package secrets

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func mustKeyring(t *testing.T, keys ...string) *Keyring {
	t.Helper()
	kr, err := ParseKeyring(strings.Join(keys, ","))
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func TestEncryptDecrypt(t *testing.T) {
	kr := mustKeyring(t, GenerateKey())
	plain := []byte(`{"password":"hunter2"}`)
	a := kr.Encrypt(plain, []byte("conn-a"))
	b := kr.Encrypt(plain, []byte("conn-a"))
	if bytes.Equal(a, b) {
		t.Error("two encryptions of one value are equal: the nonce is not random")
	}
	if bytes.Contains(a, []byte("hunter2")) {
		t.Error("ciphertext contains the plaintext")
	}
	got, err := kr.Decrypt(a, []byte("conn-a"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, plain) {
		t.Errorf("decrypted %q, want %q", got, plain)
	}
	if !kr.IsPrimary(a) {
		t.Error("IsPrimary = false for a value sealed with the primary key")
	}
}

func TestDecryptRejectsTamperingAndOtherRecords(t *testing.T) {
	kr := mustKeyring(t, GenerateKey())
	ct := kr.Encrypt([]byte("secret"), []byte("conn-a"))
	if _, err := kr.Decrypt(ct, []byte("conn-b")); err == nil || errors.Is(err, ErrWrongKey) {
		t.Errorf("decrypt with another record's aad: err = %v, want an authentication error", err)
	}
	bad := bytes.Clone(ct)
	bad[len(bad)-1] ^= 1
	if _, err := kr.Decrypt(bad, []byte("conn-a")); err == nil || !strings.Contains(err.Error(), "altered") {
		t.Errorf("decrypt of a flipped bit: err = %v, want it named as altered", err)
	}
	for _, junk := range [][]byte{nil, []byte("plain text"), ct[:8]} {
		if _, err := kr.Decrypt(junk, []byte("conn-a")); err == nil {
			t.Errorf("decrypt %q succeeded", junk)
		}
	}
}

func TestWrongKey(t *testing.T) {
	ct := mustKeyring(t, GenerateKey()).Encrypt([]byte("secret"), nil)
	_, err := mustKeyring(t, GenerateKey()).Decrypt(ct, nil)
	if !errors.Is(err, ErrWrongKey) {
		t.Fatalf("err = %v, want ErrWrongKey", err)
	}
	if !strings.Contains(err.Error(), EnvKey) {
		t.Errorf("error %q does not say which setting to fix (%s)", err, EnvKey)
	}
}

func TestRotation(t *testing.T) {
	oldKey, newKey := GenerateKey(), GenerateKey()
	old := mustKeyring(t, oldKey)
	ct := old.Encrypt([]byte("secret"), nil)

	both := mustKeyring(t, newKey, oldKey)
	if both.IsPrimary(ct) {
		t.Error("a value of the old key counts as current after rotation")
	}
	plain, err := both.Decrypt(ct, nil)
	if err != nil {
		t.Fatalf("old value with old key second: %v", err)
	}
	re := both.Encrypt(plain, nil)
	if !both.IsPrimary(re) {
		t.Error("re-encrypted value is not under the new key")
	}
	if _, err := mustKeyring(t, newKey).Decrypt(re, nil); err != nil {
		t.Errorf("after dropping the old key: %v", err)
	}
	if _, err := mustKeyring(t, newKey).Decrypt(ct, nil); !errors.Is(err, ErrWrongKey) {
		t.Errorf("old value without the old key: err = %v, want ErrWrongKey", err)
	}
}

func TestParseKeyring(t *testing.T) {
	urlSafe := "_-8" + strings.Repeat("A", 40) // 43 chars of URL-safe base64: 32 bytes
	if _, err := ParseKeyring(urlSafe + "="); err != nil {
		t.Errorf("URL-safe key: %v", err)
	}
	if _, err := ParseKeyring(" " + GenerateKey() + " , " + GenerateKey()); err != nil {
		t.Errorf("keys with spaces: %v", err)
	}
	for in, want := range map[string]string{
		"not base64!!":                   "not base64",
		"c2hvcnQ=":                       "5 bytes",
		GenerateKey() + ",":              "key 2: empty key",
		GenerateKey() + ",," + "c2hvcnQ": "key 2",
	} {
		_, err := ParseKeyring(in)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), EnvKey) {
			t.Errorf("ParseKeyring(%q) err = %v, want it to contain %q and %s", in, err, want, EnvKey)
		}
	}
}

func TestFromEnv(t *testing.T) {
	if kr, err := FromEnv(func(string) string { return "" }); kr != nil || err != nil {
		t.Errorf("unset key: %v, %v; want nil, nil", kr, err)
	}
	if _, err := FromEnv(func(string) string { return "short" }); err == nil || !strings.Contains(err.Error(), EnvKey) {
		t.Errorf("bad key: err = %v, want it to name %s", err, EnvKey)
	}
	k := GenerateKey()
	kr, err := FromEnv(func(name string) string {
		if name == EnvKey {
			return k
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	if !kr.IsPrimary(mustKeyring(t, k).Encrypt([]byte("x"), nil)) {
		t.Error("FromEnv did not use the variable's key")
	}
}
