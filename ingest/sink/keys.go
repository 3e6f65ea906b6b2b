package sink

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/calore-crm/calore/ingest/pii"
	"github.com/calore-crm/calore/postgres"
)

// KeyStore reads the data keys of sealed personal fields by key id
// (postgres.Store.DataKeys, docs/gdpr.md); a kid it does not return was
// destroyed by an erasure.
type KeyStore interface {
	DataKeys(ctx context.Context, kids []int64) (map[int64]postgres.DataKey, error)
}

// keyTTL is how long the sink keeps a data key it has read. An erasure the
// sink applies forgets the erased people's keys at once; the TTL bounds how
// long another sink process of the same deployment holds them.
const keyTTL = 5 * time.Minute

// maxCachedKeys bounds the cache; past it the cache starts again empty.
const maxCachedKeys = 1 << 20

// keyring caches data keys for the background decoders. Safe for
// concurrent use.
type keyring struct {
	store    KeyStore
	wrapper  *pii.Wrapper // nil: keys stored in clear
	logger   *slog.Logger
	min, max time.Duration // retry delays while PostgreSQL fails

	mu   sync.Mutex
	keys map[int64]cachedKey
}

type cachedKey struct {
	secret []byte // nil: destroyed (for good: kids are never reused)
	person int64
	until  time.Time
}

// get returns the secrets of kids that still exist. It asks PostgreSQL for
// those not cached, retrying with capped backoff while it fails: a field is
// stored as erased only when its key is known to be gone, never because the
// key store was unreachable. It fails only when ctx is cancelled.
func (k *keyring) get(ctx context.Context, kids []int64) (map[int64][]byte, error) {
	out := make(map[int64][]byte, len(kids))
	var miss []int64
	now := time.Now()
	k.mu.Lock()
	for _, id := range kids {
		if c, ok := k.keys[id]; ok && (c.secret == nil || now.Before(c.until)) {
			if c.secret != nil {
				out[id] = c.secret
			}
			continue
		}
		miss = append(miss, id)
	}
	k.mu.Unlock()
	if len(miss) == 0 || k.store == nil {
		return out, nil
	}
	var found map[int64]postgres.DataKey
	delay := k.min
	for {
		var err error
		if found, err = k.store.DataKeys(ctx, miss); err == nil {
			// a key this process cannot unwrap is not a destroyed key:
			// retried (and logged) like an unreachable store
			if err = k.unwrap(found); err == nil {
				break
			}
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		k.logger.WarnContext(ctx, "read data keys failed; retrying", "keys", len(miss), "retry_in", delay, "err", err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, k.max)
	}
	until := time.Now().Add(keyTTL)
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.keys)+len(miss) > maxCachedKeys {
		k.keys = nil
	}
	if k.keys == nil {
		k.keys = map[int64]cachedKey{}
	}
	for _, id := range miss {
		dk, ok := found[id]
		if !ok {
			k.keys[id] = cachedKey{}
			continue
		}
		k.keys[id] = cachedKey{secret: dk.Secret, person: dk.PersonID, until: until}
		out[id] = dk.Secret
	}
	return out, nil
}

// unwrap replaces wrapped secrets by the keys themselves.
func (k *keyring) unwrap(found map[int64]postgres.DataKey) error {
	for id, dk := range found {
		secret, err := k.wrapper.Unwrap(dk.PersonID, dk.Secret)
		if err != nil {
			return fmt.Errorf("data key %d: %w", id, err)
		}
		dk.Secret = secret
		found[id] = dk
	}
	return nil
}

// forget drops the cached keys of erased people.
func (k *keyring) forget(people []int64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	erased := map[int64]bool{}
	for _, p := range people {
		erased[p] = true
	}
	for id, c := range k.keys {
		if c.secret != nil && erased[c.person] {
			k.keys[id] = cachedKey{}
		}
	}
}
