// Package secrets encrypts values at rest and masks them in output.
//
// A Keyring holds the AES-256-GCM keys of AIRD_ENCRYPTION_KEY (comma-separated,
// base64): the first encrypts, all decrypt, so a key is rotated by putting
// the new key first, re-encrypting (`aird connections rotate-key`) and then
// dropping the old one. Keys never reach the database or the logs: a
// ciphertext names its key by a short fingerprint only.
package secrets

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// EnvKey is the environment variable (set in the env file) holding the keys.
const EnvKey = "AIRD_ENCRYPTION_KEY"

const (
	keySize = 32 // AES-256
	idSize  = 4  // key fingerprint stored in each ciphertext
	// version is the first byte of every ciphertext, so the format can
	// change without guessing.
	version byte = 1
)

// ErrNoKey means AIRD_ENCRYPTION_KEY is not set where a stored secret is needed.
var ErrNoKey = errors.New(EnvKey + " is not set")

// ErrWrongKey means no key of the keyring can decrypt a value: it was
// encrypted with a key that is not (or no longer) in AIRD_ENCRYPTION_KEY.
var ErrWrongKey = errors.New("wrong secret key")

type key struct {
	id   [idSize]byte
	aead cipher.AEAD
}

// Keyring encrypts with its first key and decrypts with any. It is safe
// for concurrent use.
type Keyring struct {
	keys []key
}

// GenerateKey returns a new random key in the form AIRD_ENCRYPTION_KEY takes.
func GenerateKey() string {
	return base64.StdEncoding.EncodeToString(randomBytes(keySize))
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand panics instead)
	return b
}

// FromEnv builds the keyring from AIRD_ENCRYPTION_KEY as getenv reads it. It
// returns nil and no error when the variable is unset, so processes that
// need no stored secret run without one; users of a nil keyring
// (connections.Repo) explain what to set.
func FromEnv(getenv func(string) string) (*Keyring, error) {
	v := getenv(EnvKey)
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	return ParseKeyring(v)
}

// ParseKeyring reads comma-separated base64 keys of 32 bytes each.
func ParseKeyring(s string) (*Keyring, error) {
	var kr Keyring
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		raw, err := decodeKey(part)
		if err != nil {
			return nil, fmt.Errorf("%s: key %d: %w (generate one with `aird connections generate-key`)", EnvKey, i+1, err)
		}
		k, err := newKey(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: key %d: %w", EnvKey, i+1, err)
		}
		kr.keys = append(kr.keys, k)
	}
	return &kr, nil
}

// decodeKey accepts standard and URL-safe base64, padded or not, since
// both are common in env files (Airflow's Fernet keys are URL-safe).
func decodeKey(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("empty key")
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != keySize {
				return nil, fmt.Errorf("key is %d bytes, want %d (base64 of 32 random bytes)", len(b), keySize)
			}
			return b, nil
		}
	}
	return nil, errors.New("key is not base64")
}

func newKey(raw []byte) (key, error) {
	block, err := aes.NewCipher(raw)
	if err != nil {
		return key{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return key{}, err
	}
	var k key
	sum := sha256.Sum256(append([]byte("aird-secret-key-id:"), raw...))
	copy(k.id[:], sum[:])
	k.aead = aead
	return k, nil
}

// Encrypt seals plaintext with the primary key and a random nonce. aad is
// authenticated but not stored (the connection ID), so a ciphertext copied
// to another row fails to decrypt.
//
// Layout: version | key id | nonce | sealed.
func (kr *Keyring) Encrypt(plaintext, aad []byte) []byte {
	k := kr.keys[0]
	nonce := randomBytes(k.aead.NonceSize())
	out := make([]byte, 0, 1+idSize+len(nonce)+len(plaintext)+k.aead.Overhead())
	out = append(out, version)
	out = append(out, k.id[:]...)
	out = append(out, nonce...)
	return k.aead.Seal(out, nonce, plaintext, aad)
}

// Decrypt opens a ciphertext of Encrypt with whichever key sealed it.
// It returns an error wrapping ErrWrongKey when that key is not in the
// keyring, and a corruption error when the key is there but the value
// does not authenticate.
func (kr *Keyring) Decrypt(ciphertext, aad []byte) ([]byte, error) {
	k, rest, err := kr.keyOf(ciphertext)
	if err != nil {
		return nil, err
	}
	n := k.aead.NonceSize()
	if len(rest) < n+k.aead.Overhead() {
		return nil, errors.New("decrypt: ciphertext truncated")
	}
	plain, err := k.aead.Open(nil, rest[:n], rest[n:], aad)
	if err != nil {
		return nil, errors.New("decrypt: the value does not authenticate with its key: it was altered or belongs to another record")
	}
	return plain, nil
}

// keyOf finds the key a ciphertext names and returns the bytes after the
// header.
func (kr *Keyring) keyOf(ciphertext []byte) (key, []byte, error) {
	if len(ciphertext) < 1+idSize || ciphertext[0] != version {
		return key{}, nil, errors.New("decrypt: not a value encrypted by aird (unknown format)")
	}
	id := ciphertext[1 : 1+idSize]
	for _, k := range kr.keys {
		if bytes.Equal(k.id[:], id) {
			return k, ciphertext[1+idSize:], nil
		}
	}
	return key{}, nil, fmt.Errorf("decrypt: %w: the value was encrypted with key %s, which is not in %s; add that key (after the first) and run `aird connections rotate-key`",
		ErrWrongKey, hex.EncodeToString(id), EnvKey)
}

// IsPrimary reports whether ciphertext was sealed with the primary key,
// so rotation can skip values that are already current.
func (kr *Keyring) IsPrimary(ciphertext []byte) bool {
	return len(ciphertext) >= 1+idSize && ciphertext[0] == version &&
		bytes.Equal(ciphertext[1:1+idSize], kr.keys[0].id[:])
}
